import type { Collection, Filter } from 'mongodb';
import { z } from 'zod';
import { MARKETPLACE_CURRENCY, MARKETPLACES, type MarketplaceName } from '../../../common/marketplaces.ts';
import { bulkWriteInCommands } from '../../../persistence/bulk-write.ts';
import { isDuplicateKeyError } from '../../../persistence/collections.ts';
import {
  pendingId,
  type MarketplaceCollections,
  type MarketplaceListingDoc,
  type MarketplacePendingDoc,
} from '../../../persistence/marketplaces.ts';
import {
  LISTING_SCHEMAS,
  listingKey,
  type AnyListing,
  type StockLevel,
  type PriceLevel,
} from '../../platform/connectors/ports/marketplace.ts';

/**
 * How our products are listed at the marketplaces: the mapping an admin sets
 * with the product (`"marketplaces": {"rozetka": {"itemId": …, "price": …}}`),
 * the SKU an order line's item is ours under, and the stock and prices each
 * marketplace still has to be told. A product's stock is heard from its actor
 * (every commit); what is pending is pushed by the marketplace's push job.
 *
 * Every lookup is by `_id` (the only one FerretDB serves from an index): a
 * listing by `marketplace:sku`, an item's SKU by `marketplace:itemKey`
 * (`marketplace_items`), and what is due from `marketplace_pending`, which
 * holds only what is still to push. Writes name an `_id` and nothing else
 * (a filter with any other condition makes FerretDB read the whole
 * collection): what decides them is read first, and the writes that keep the
 * three in step run one at a time in this process. A crash between two of
 * them leaves a listing whose stock is newer than what was pushed, which the
 * reconciliation finds.
 */

const price = z.number().int().positive().max(1_000_000_000_000);

/** One marketplace's part of `PUT /admin/products/:sku`: its listing fields, and optionally its price (minor units). */
const entrySchema = <M extends MarketplaceName>(marketplace: M) =>
  LISTING_SCHEMAS[marketplace]
    .extend({ price: price.optional() })
    .strict()
    .describe(`${marketplace}: the product's ids there, and its price there in ${MARKETPLACE_CURRENCY[marketplace]} minor units`);

/** `"marketplaces"` of the product body: a marketplace set to null is unlisted. */
export const productMarketplacesSchema = z
  .object({
    rozetka: entrySchema('rozetka').nullable().optional(),
    uzum: entrySchema('uzum').nullable().optional(),
    wildberries: entrySchema('wildberries').nullable().optional(),
    ozon: entrySchema('ozon').nullable().optional(),
  })
  .strict();
export type ProductMarketplaces = z.infer<typeof productMarketplacesSchema>;

/** A listing that cannot be made as asked (400, or 409 for an item listed as another product). */
export class ListingRefused extends Error {
  constructor(
    readonly path: string,
    message: string,
    readonly status: 400 | 409 = 400,
  ) {
    super(message);
  }
}

export interface ListingView {
  marketplace: MarketplaceName;
  listing: Record<string, string | number>;
  price: number | null;
  currency: string;
  pushed: MarketplaceListingDoc['pushed'];
  pending: { stock: boolean; price: boolean };
  refusal: MarketplaceListingDoc['refusal'];
}

export class MarketplaceListings {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly collections: MarketplaceCollections,
    private readonly now: () => number = Date.now,
  ) {}

  /** One write sequence at a time in this process (see the module's note). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Refuses what cannot be listed, before anything is written: a price the marketplace cannot take (one
   * that takes whole units gets a multiple of 100), an item already listed as another product.
   */
  async validate(sku: string, entries: ProductMarketplaces, wholeUnits: (marketplace: MarketplaceName) => boolean): Promise<void> {
    for (const marketplace of MARKETPLACES) {
      const entry = entries[marketplace];
      if (!entry) continue;
      const { price: newPrice, ...fields } = entry;
      if (newPrice !== undefined && wholeUnits(marketplace) && newPrice % 100 !== 0)
        throw new ListingRefused(
          `marketplaces.${marketplace}.price`,
          `${marketplace} takes whole ${MARKETPLACE_CURRENCY[marketplace]}: ${newPrice} minor units is not a whole amount`,
        );
      const itemKey = listingKey(marketplace, LISTING_SCHEMAS[marketplace].parse(fields) as AnyListing);
      const owner = await this.ownerOf(marketplace, itemKey);
      if (owner !== null && owner !== sku) throw takenBy(marketplace, itemKey, owner);
    }
  }

  /**
   * Lists (or unlists, with null) a product at the marketplaces named; those not named keep what they had.
   * `current` is the product's availability now, so a new listing is told its stock at the next push.
   */
  async set(
    sku: string,
    entries: ProductMarketplaces,
    current: { available: number; revision: number },
    wholeUnits: (marketplace: MarketplaceName) => boolean,
  ): Promise<void> {
    await this.validate(sku, entries, wholeUnits);
    await this.exclusive(async () => {
      for (const marketplace of MARKETPLACES) {
        const entry = entries[marketplace];
        if (entry === null) await this.unlist(marketplace, sku);
        else if (entry !== undefined) await this.list(marketplace, sku, entry, current);
      }
    });
  }

  private async list(
    marketplace: MarketplaceName,
    sku: string,
    entry: NonNullable<ProductMarketplaces[MarketplaceName]>,
    current: { available: number; revision: number },
  ): Promise<void> {
    const { listings, sync } = this.collections;
    const at = new Date(this.now());
    const id = `${marketplace}:${sku}`;
    const { price: newPrice, ...fields } = entry;
    const listing = LISTING_SCHEMAS[marketplace].parse(fields) as AnyListing;
    const itemKey = listingKey(marketplace, listing);
    // the item is claimed first: its unique `_id` decides between two products listing it at once
    await this.claimItem(marketplace, itemKey, sku);
    const before = await listings.findOne({ _id: id });
    const listingChanged = !before || JSON.stringify(before.listing) !== JSON.stringify(listing);
    const price = newPrice ?? before?.price ?? null;
    // a new (or moved) listing is told the stock the product has now (or the newer one heard meanwhile)
    const stock =
      before?.stock && before.stock.revision >= current.revision
        ? before.stock
        : { available: current.available, revision: current.revision, changedAt: at };
    await listings.updateOne(
      { _id: id },
      {
        $set: {
          marketplace,
          sku,
          listing: listing as Record<string, string | number>,
          itemKey,
          price,
          updatedAt: at,
          ...(listingChanged ? { stock } : {}),
        },
        $setOnInsert: { pushed: { stock: null, price: null }, refusal: null },
      },
      { upsert: true },
    );
    if (!before) await sync.updateOne({ _id: marketplace }, { $inc: { listings: 1 } }, { upsert: true });
    if (before && before.itemKey !== itemKey) await this.releaseItem(marketplace, before.itemKey, sku);
    if (listingChanged) await this.markStock(marketplace, sku, stock.revision);
    if (price !== null && (price !== before?.price || listingChanged)) await this.markPrice(marketplace, sku, price);
  }

  private async unlist(marketplace: MarketplaceName, sku: string): Promise<void> {
    const { listings, pending, sync } = this.collections;
    const before = await listings.findOne({ _id: `${marketplace}:${sku}` });
    if (!before) return;
    await pending.deleteOne({ _id: pendingId('stock', marketplace, sku) });
    await pending.deleteOne({ _id: pendingId('price', marketplace, sku) });
    const removed = await listings.deleteOne({ _id: before._id });
    if (removed.deletedCount > 0) await sync.updateOne({ _id: marketplace }, { $inc: { listings: -1 } });
    await this.releaseItem(marketplace, before.itemKey, sku);
  }

  /**
   * The SKU the item is listed as, or null. A claim whose listing is not written is another process listing
   * it right now; after a minute, the leftover of a crash between the two writes, and no longer counts.
   */
  private async ownerOf(marketplace: MarketplaceName, itemKey: string): Promise<string | null> {
    const claim = await this.collections.items.findOne({ _id: `${marketplace}:${itemKey}` });
    if (!claim) return null;
    const listing = await this.collections.listings.findOne({ _id: `${marketplace}:${claim.sku}` }, { projection: { itemKey: 1 } });
    if (listing?.itemKey === itemKey) return claim.sku;
    const underWay = (claim.claimedAt?.getTime() ?? 0) > this.now() - CLAIM_LIFETIME_MS;
    return underWay ? claim.sku : null;
  }

  private async claimItem(marketplace: MarketplaceName, itemKey: string, sku: string): Promise<void> {
    const { items } = this.collections;
    const _id = `${marketplace}:${itemKey}`;
    try {
      await items.insertOne({ _id, marketplace, sku, claimedAt: new Date(this.now()) });
      return;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const owner = await this.ownerOf(marketplace, itemKey);
    if (owner !== null && owner !== sku) throw takenBy(marketplace, itemKey, owner);
    // ours already, or a stale claim: taken over
    await items.replaceOne({ _id }, { marketplace, sku, claimedAt: new Date(this.now()) });
  }

  private async releaseItem(marketplace: MarketplaceName, itemKey: string, sku: string): Promise<void> {
    const _id = `${marketplace}:${itemKey}`;
    if ((await this.collections.items.findOne({ _id }))?.sku === sku) await this.collections.items.deleteOne({ _id });
  }

  /** The stock of this listing is due (the newest revision wins). */
  private async markStock(marketplace: MarketplaceName, sku: string, revision: number): Promise<void> {
    await this.collections.pending.updateOne(
      { _id: pendingId('stock', marketplace, sku) },
      { $set: { kind: 'stock', marketplace, sku, price: null, at: new Date(this.now()) }, $max: { revision } },
      { upsert: true },
    );
  }

  private async markPrice(marketplace: MarketplaceName, sku: string, price: number): Promise<void> {
    await this.collections.pending.updateOne(
      { _id: pendingId('price', marketplace, sku) },
      { $set: { kind: 'price', marketplace, sku, price, revision: null, at: new Date(this.now()) } },
      { upsert: true },
    );
  }

  async of(sku: string): Promise<ListingView[]> {
    const { listings, pending } = this.collections;
    const found = await Promise.all(
      MARKETPLACES.map(async (marketplace) => {
        const doc = await listings.findOne({ _id: `${marketplace}:${sku}` });
        if (!doc) return null;
        const [stock, price] = await Promise.all([
          pending.findOne({ _id: pendingId('stock', marketplace, sku) }, { projection: { _id: 1 } }),
          pending.findOne({ _id: pendingId('price', marketplace, sku) }, { projection: { _id: 1 } }),
        ]);
        return {
          marketplace: doc.marketplace,
          listing: doc.listing,
          price: doc.price,
          currency: MARKETPLACE_CURRENCY[doc.marketplace],
          pushed: doc.pushed,
          pending: { stock: stock !== null, price: price !== null },
          refusal: doc.refusal,
        };
      }),
    );
    return found.filter((view) => view !== null);
  }

  /** Our SKU of each item key the marketplace named (keys without a listing are absent). */
  async skusOf(marketplace: MarketplaceName, itemKeys: readonly string[]): Promise<Map<string, string>> {
    const keys = [...new Set(itemKeys)];
    const claims = await readById(
      this.collections.items,
      keys.map((itemKey) => `${marketplace}:${itemKey}`),
    );
    return new Map(keys.flatMap((itemKey, index) => (claims[index] ? [[itemKey, claims[index].sku] as const] : [])));
  }

  /**
   * The stock products have now, newest revision winning: every listing of each product becomes due for a
   * push. A product not listed anywhere costs four `_id` reads.
   */
  async noteStock(levels: ReadonlyArray<{ sku: string; available: number; revision: number }>): Promise<void> {
    if (levels.length === 0) return;
    await this.exclusive(async () => {
      const changedAt = new Date(this.now());
      for (let offset = 0; offset < levels.length; offset += 100) {
        const chunk = levels.slice(offset, offset + 100);
        const candidates = chunk.flatMap((level) => MARKETPLACES.map((marketplace) => ({ marketplace, level })));
        const found = await readById(
          this.collections.listings,
          candidates.map(({ marketplace, level }) => `${marketplace}:${level.sku}`),
        );
        const newer = candidates.filter(({ level }, index) => {
          const doc = found[index];
          return doc !== null && doc !== undefined && (doc.stock?.revision ?? -1) < level.revision;
        });
        if (newer.length === 0) continue;
        // the listing first: a crash before the pending mark leaves a listing newer than it was pushed (reconciled)
        await bulkWriteInCommands(
          this.collections.listings,
          newer.map(({ marketplace, level }) => ({
            updateOne: {
              // by `_id` alone (any other condition makes FerretDB read the whole collection): the read above decided
              filter: { _id: `${marketplace}:${level.sku}` },
              update: { $set: { stock: { available: level.available, revision: level.revision, changedAt } } },
            },
          })),
          { ordered: false },
        );
        await bulkWriteInCommands(
          this.collections.pending,
          newer.map(({ marketplace, level }) => ({
            updateOne: {
              filter: { _id: pendingId('stock', marketplace, level.sku) },
              update: {
                $set: { kind: 'stock' as const, marketplace, sku: level.sku, price: null, at: changedAt },
                $max: { revision: level.revision },
              },
              upsert: true,
            },
          })),
          { ordered: false },
        );
      }
    });
  }

  /**
   * The reconciliation's read of every listing (hourly): a listing whose newest stock or price was never
   * marked due (a crash between the two writes) is marked now, and each marketplace's listings are
   * recounted. A refused value waits for a change, as after the push that was refused.
   */
  async repair(): Promise<{ remarked: number }> {
    const docs = await this.collections.listings.find({}).toArray();
    const counts = new Map<MarketplaceName, number>(MARKETPLACES.map((marketplace) => [marketplace, 0]));
    let remarked = 0;
    await this.exclusive(async () => {
      const { pending, sync } = this.collections;
      for (const doc of docs) {
        counts.set(doc.marketplace, (counts.get(doc.marketplace) ?? 0) + 1);
        const refused = doc.refusal?.kind;
        const stockBehind = doc.stock !== null && refused !== 'stock' && doc.stock.revision > (doc.pushed.stock?.revision ?? -1);
        if (stockBehind && !(await pending.findOne({ _id: pendingId('stock', doc.marketplace, doc.sku) }))) {
          await this.markStock(doc.marketplace, doc.sku, doc.stock?.revision ?? 0);
          remarked += 1;
        }
        const priceBehind = doc.price !== null && refused !== 'price' && doc.price !== doc.pushed.price?.price;
        if (priceBehind && doc.price !== null && !(await pending.findOne({ _id: pendingId('price', doc.marketplace, doc.sku) }))) {
          await this.markPrice(doc.marketplace, doc.sku, doc.price);
          remarked += 1;
        }
      }
      for (const [marketplace, count] of counts)
        await sync.updateOne({ _id: marketplace }, { $set: { listings: count } }, { upsert: true });
    });
    return { remarked };
  }

  /**
   * A database written before items and pending marks were kept apart (every listing claims its item, and
   * what was never pushed is marked due). Runs at start when there are listings but no items; cheap otherwise.
   */
  async adoptOlderListings(): Promise<number> {
    const { items, listings } = this.collections;
    if ((await items.estimatedDocumentCount()) > 0 || (await listings.estimatedDocumentCount()) === 0) return 0;
    const docs = await listings.find({}, { projection: { marketplace: 1, sku: 1, itemKey: 1 } }).toArray();
    for (const doc of docs) {
      await items
        .insertOne({ _id: `${doc.marketplace}:${doc.itemKey}`, marketplace: doc.marketplace, sku: doc.sku })
        .catch((error: unknown) => {
          if (!isDuplicateKeyError(error)) throw error;
        });
    }
    await this.repair();
    return docs.length;
  }

  async listedSkus(): Promise<string[]> {
    return (await this.collections.listings.distinct('sku')) as string[];
  }

  /** What this marketplace still has to be told: the listings with a pending stock or price, as they are now. */
  async due(marketplace: MarketplaceName, limit = 100_000): Promise<{ stock: DueListing[]; prices: DueListing[] }> {
    // in turn with the writes: a listing being written (its stock marked, its price not yet) is read whole
    return this.exclusive(() => this.dueNow(marketplace, limit));
  }

  private async dueNow(marketplace: MarketplaceName, limit: number): Promise<{ stock: DueListing[]; prices: DueListing[] }> {
    const marks = await this.collections.pending.find({ marketplace }).limit(limit).toArray();
    const skus = [...new Set(marks.map((mark) => mark.sku))];
    const found = await readById(
      this.collections.listings,
      skus.map((sku) => `${marketplace}:${sku}`),
    );
    const listings = new Map(found.flatMap((doc) => (doc ? [[doc.sku, doc] as const] : [])));
    const dueOf = (kind: MarketplacePendingDoc['kind']) =>
      marks.flatMap((mark) => {
        const doc = mark.kind === kind ? listings.get(mark.sku) : undefined;
        return doc ? [{ ...doc, mark }] : [];
      });
    return { stock: dueOf('stock'), prices: dueOf('price').filter((doc) => doc.price !== null) };
  }

  stockLevels(docs: readonly MarketplaceListingDoc[]): StockLevel[] {
    return docs.map((doc) => ({ sku: doc.sku, listing: doc.listing as AnyListing, available: Math.max(0, doc.stock?.available ?? 0) }));
  }

  priceLevels(docs: readonly MarketplaceListingDoc[]): PriceLevel[] {
    return docs
      .filter((doc) => doc.price !== null)
      .map((doc) => ({ sku: doc.sku, listing: doc.listing as AnyListing, price: doc.price ?? 0 }));
  }

  /**
   * Records a push: what was taken is no longer due unless it changed meanwhile (a newer revision or price
   * stays due); what was refused is kept with its reason and not retried until it changes again (unless
   * the refusal is a passing one).
   */
  async pushed(
    kind: 'stock' | 'price',
    docs: readonly DueListing[],
    refused: ReadonlyArray<{ sku: string; code: string; message: string; retryable?: boolean }>,
  ): Promise<void> {
    if (docs.length === 0) return;
    const at = new Date(this.now());
    const refusals = new Map(refused.map((r) => [r.sku, r]));
    await this.exclusive(async () => {
      await bulkWriteInCommands(
        this.collections.listings,
        docs.map((doc) => {
          const refusal = refusals.get(doc.sku);
          const told =
            kind === 'stock'
              ? { 'pushed.stock': { available: Math.max(0, doc.stock?.available ?? 0), revision: doc.stock?.revision ?? 0, at } }
              : { 'pushed.price': { price: doc.price ?? 0, at } };
          return {
            updateOne: {
              filter: { _id: doc._id },
              update: {
                $set: refusal ? { refusal: { kind, code: refusal.code, message: refusal.message, at } } : { ...told, refusal: null },
              },
            },
          };
        }),
        { ordered: false },
      );
      // no longer due: what was sent, unless a newer value was marked since (or the refusal will pass)
      const sent = docs.filter((doc) => !refusals.get(doc.sku)?.retryable);
      const marks = await readById(
        this.collections.pending,
        sent.map((doc) => doc.mark._id),
      );
      const done = sent.filter((doc, index) => {
        const mark = marks[index];
        if (!mark) return false;
        return kind === 'stock' ? (mark.revision ?? 0) <= (doc.stock?.revision ?? 0) : mark.price === doc.price;
      });
      if (done.length === 0) return;
      await bulkWriteInCommands(
        this.collections.pending,
        done.map((doc) => ({ deleteOne: { filter: { _id: doc.mark._id } } })),
        { ordered: false },
      );
    });
  }
}

/** Documents by `_id`, in the order asked (null where there is none), a few reads at a time. */
async function readById<T extends { _id: string }>(collection: Collection<T>, ids: readonly string[]): Promise<Array<T | null>> {
  const found: Array<T | null> = [];
  for (let offset = 0; offset < ids.length; offset += 50) {
    const chunk = ids.slice(offset, offset + 50);
    found.push(...(await Promise.all(chunk.map((_id) => collection.findOne({ _id } as Filter<T>) as Promise<T | null>))));
  }
  return found;
}

/** How long an item's claim without its listing is taken for another process's listing under way. */
const CLAIM_LIFETIME_MS = 60_000;

/** A listing due for a push, with the mark that made it due. */
export type DueListing = MarketplaceListingDoc & { mark: MarketplacePendingDoc };

function takenBy(marketplace: MarketplaceName, itemKey: string, sku: string): ListingRefused {
  return new ListingRefused(`marketplaces.${marketplace}`, `${marketplace} item ${itemKey} is listed as ${sku} already`, 409);
}
