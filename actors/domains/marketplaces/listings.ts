import { z } from 'zod';
import { MARKETPLACE_CURRENCY, MARKETPLACES, type MarketplaceName } from '../../../common/marketplaces.ts';
import type { MarketplaceCollections, MarketplaceListingDoc } from '../../../persistence/marketplaces.ts';
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
 * (every commit); what is dirty is pushed by the marketplace's push job.
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
  constructor(
    private readonly collections: MarketplaceCollections,
    private readonly now: () => number = Date.now,
  ) {}

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
      const taken = await this.collections.listings.findOne({ marketplace, itemKey });
      if (taken && taken.sku !== sku)
        throw new ListingRefused(`marketplaces.${marketplace}`, `${marketplace} item ${itemKey} is listed as ${taken.sku} already`, 409);
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
    const at = new Date(this.now());
    for (const marketplace of MARKETPLACES) {
      const entry = entries[marketplace];
      if (entry === undefined) continue;
      const id = `${marketplace}:${sku}`;
      if (entry === null) {
        await this.collections.listings.deleteOne({ _id: id });
        continue;
      }
      const { price: newPrice, ...fields } = entry;
      const listing = LISTING_SCHEMAS[marketplace].parse(fields) as AnyListing;
      const itemKey = listingKey(marketplace, listing);
      const before = await this.collections.listings.findOne({ _id: id });
      const listingChanged = !before || JSON.stringify(before.listing) !== JSON.stringify(listing);
      const priceChanged = newPrice !== undefined && newPrice !== before?.price;
      await this.collections.listings.updateOne(
        { _id: id },
        {
          $set: {
            marketplace,
            sku,
            listing: listing as Record<string, string | number>,
            itemKey,
            ...(newPrice !== undefined ? { price: newPrice } : {}),
            ...(priceChanged || (listingChanged && before?.price !== null && before?.price !== undefined) ? { priceDirty: true } : {}),
            // a new (or moved) listing is told the stock the product has now
            ...(listingChanged
              ? { stock: { available: current.available, revision: current.revision, changedAt: at }, stockDirty: true }
              : {}),
            updatedAt: at,
          },
          $setOnInsert: {
            ...(newPrice === undefined ? { price: null, priceDirty: false } : {}),
            pushed: { stock: null, price: null },
            refusal: null,
          },
        },
        { upsert: true },
      );
    }
  }

  async of(sku: string): Promise<ListingView[]> {
    // by `_id` (`marketplace:sku`): FerretDB serves only `_id` lookups from an index
    const docs = await this.collections.listings
      .find({ _id: { $in: MARKETPLACES.map((marketplace) => `${marketplace}:${sku}`) } })
      .toArray();
    return docs
      .sort((a, b) => MARKETPLACES.indexOf(a.marketplace) - MARKETPLACES.indexOf(b.marketplace))
      .map((doc) => ({
        marketplace: doc.marketplace,
        listing: doc.listing,
        price: doc.price,
        currency: MARKETPLACE_CURRENCY[doc.marketplace],
        pushed: doc.pushed,
        pending: { stock: doc.stockDirty, price: doc.priceDirty },
        refusal: doc.refusal,
      }));
  }

  /** Our SKU of each item key the marketplace named (keys without a listing are absent). */
  async skusOf(marketplace: MarketplaceName, itemKeys: readonly string[]): Promise<Map<string, string>> {
    const docs = await this.collections.listings
      .find({ marketplace, itemKey: { $in: [...new Set(itemKeys)] } }, { projection: { itemKey: 1, sku: 1 } })
      .toArray();
    return new Map(docs.map((doc) => [doc.itemKey, doc.sku]));
  }

  /**
   * The stock products have now, newest revision winning: every listing of each product becomes due for a
   * push. A product not listed anywhere changes nothing.
   */
  async noteStock(levels: ReadonlyArray<{ sku: string; available: number; revision: number }>): Promise<void> {
    if (levels.length === 0) return;
    const changedAt = new Date(this.now());
    await this.collections.listings.bulkWrite(
      // one `_id` per marketplace rather than a filter on `sku`: this runs on every stock change
      levels.flatMap((level) =>
        MARKETPLACES.map((marketplace) => ({
          updateOne: {
            filter: { _id: `${marketplace}:${level.sku}`, $or: [{ stock: null }, { 'stock.revision': { $lt: level.revision } }] },
            update: { $set: { stock: { available: level.available, revision: level.revision, changedAt }, stockDirty: true } },
          },
        })),
      ),
      { ordered: false },
    );
  }

  /** Listings whose product's last heard revision is older than `revision` (the reconciliation after a crash). */
  async staleSkus(revisions: ReadonlyMap<string, number>): Promise<string[]> {
    const docs = await this.collections.listings.find({}, { projection: { sku: 1, stock: 1 } }).toArray();
    return [...new Set(docs.filter((doc) => (revisions.get(doc.sku) ?? 0) > (doc.stock?.revision ?? 0)).map((doc) => doc.sku))];
  }

  async listedSkus(): Promise<string[]> {
    return (await this.collections.listings.distinct('sku')) as string[];
  }

  /** What this marketplace still has to be told. */
  async due(marketplace: MarketplaceName, limit = 100_000): Promise<{ stock: MarketplaceListingDoc[]; prices: MarketplaceListingDoc[] }> {
    const [stock, prices] = await Promise.all([
      this.collections.listings.find({ marketplace, stockDirty: true }).limit(limit).toArray(),
      this.collections.listings.find({ marketplace, priceDirty: true }).limit(limit).toArray(),
    ]);
    return { stock, prices };
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
   * Records a push: what was taken is clean unless it changed meanwhile (a newer revision or price stays
   * due); what was refused is kept with its reason and not retried until it changes again.
   */
  async pushed(
    kind: 'stock' | 'price',
    docs: readonly MarketplaceListingDoc[],
    refused: ReadonlyArray<{ sku: string; code: string; message: string; retryable?: boolean }>,
  ): Promise<void> {
    if (docs.length === 0) return;
    const at = new Date(this.now());
    const refusals = new Map(refused.map((r) => [r.sku, r]));
    await this.collections.listings.bulkWrite(
      docs.map((doc) => {
        const refusal = refusals.get(doc.sku);
        const filter = kind === 'stock' ? { _id: doc._id, 'stock.revision': doc.stock?.revision ?? 0 } : { _id: doc._id, price: doc.price };
        // refused for now (a per-item limit): stays due for the next round
        const clean = refusal?.retryable ? {} : kind === 'stock' ? { stockDirty: false } : { priceDirty: false };
        const told =
          kind === 'stock'
            ? { 'pushed.stock': { available: Math.max(0, doc.stock?.available ?? 0), at } }
            : { 'pushed.price': { price: doc.price ?? 0, at } };
        return {
          updateOne: {
            filter,
            update: {
              $set: refusal
                ? { ...clean, refusal: { kind, code: refusal.code, message: refusal.message, at } }
                : { ...clean, ...told, refusal: null },
            },
          },
        };
      }),
      { ordered: false },
    );
  }
}
