import type { Db } from 'mongodb';
import type { Logger } from 'winston';
import { isMarketplace, MARKETPLACE_CURRENCY, MARKETPLACES, type MarketplaceName } from '../../../common/marketplaces.ts';
import type { OrderContext } from '../../../machines/order.ts';
import type { OrderPolicy } from '../../../machines/order-rules.ts';
import productModule, { availableUnits, type ProductContext } from '../../../machines/product.ts';
import { ensureMarketplaceIndexes, marketplaceCollections, type MarketplaceCollections } from '../../../persistence/marketplaces.ts';
import type { ReferenceCollections } from '../../../persistence/reference.ts';
import type { AlertSink } from '../../platform/alerts/alerts.ts';
import type { Marketplaces } from '../../platform/connectors/marketplaces.ts';
import { OneRunAtATime } from '../../platform/jobs/one-run-at-a-time.ts';
import type { JobDefinition } from '../../platform/jobs/registry.ts';
import type { ActorRuntime, StateChange } from '../../runtime/runtime.ts';
import { listingKey } from '../../platform/connectors/ports/marketplace.ts';
import { MarketplaceListings } from './listings.ts';
import { OrderImport } from './order-import.ts';
import { MarketplaceStatusOutbox } from './status-outbox.ts';
import { StockAndPricePush } from './stock-push.ts';

/**
 * The marketplace sync, assembled: listings, order import, the status outbox
 * and the stock/price push, with their jobs and the listener that hears every
 * product's stock and every marketplace order's moves as they commit.
 *
 * Jobs: `marketplace-orders:<name>` (one per marketplace; runs when the
 * marketplace is enabled and its `ordersIntervalMinutes` has passed: imports,
 * then asks about cancellations), `marketplace-push` (every 10 s: each enabled
 * marketplace's stock and prices when its `pushIntervalSeconds` has passed,
 * then the statuses due), `marketplace-stock-reconcile` (hourly: re-reads every
 * listed product, for a change whose notice a crash lost).
 */

export interface MarketplaceSyncDeps {
  db: Db;
  runtime: ActorRuntime;
  marketplaces: Marketplaces;
  reference: ReferenceCollections;
  policy: () => OrderPolicy;
  alerts: AlertSink;
  logger: Logger;
  now: () => number;
}

export interface MarketplaceSyncView {
  name: MarketplaceName;
  enabled: boolean;
  currency: string;
  cursor: string | null;
  orders: { lastRunAt: Date | null; lastSuccessAt: Date | null; imported: number; held: number; lastError: string | null };
  push: { lastRunAt: Date | null; lastSuccessAt: Date | null; calls: number; items: number; failures: number; lastError: string | null };
  listings: number;
  pending: { stock: number; prices: number; statuses: number };
  incidents: number;
}

export class MarketplaceSync {
  readonly collections: MarketplaceCollections;
  readonly listings: MarketplaceListings;
  readonly imports: OrderImport;
  readonly outbox: MarketplaceStatusOutbox;
  readonly push: StockAndPricePush;
  private readonly heardStock = new Map<string, { available: number; revision: number }>();
  private readonly movedOrders = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly statusRun: OneRunAtATime<unknown>;

  constructor(private readonly deps: MarketplaceSyncDeps) {
    this.collections = marketplaceCollections(deps.db);
    this.listings = new MarketplaceListings(this.collections, deps.now);
    this.imports = new OrderImport({ ...deps, collections: this.collections, listings: this.listings });
    this.outbox = new MarketplaceStatusOutbox({ ...deps, collections: this.collections });
    this.push = new StockAndPricePush({ ...deps, collections: this.collections, listings: this.listings });
    this.statusRun = new OneRunAtATime(() => this.outbox.run((name) => this.deps.marketplaces.enabled(name)));
  }

  /** The marketplace takes prices in whole units (a price must be a multiple of 100 minor units). */
  wholeUnits(name: MarketplaceName): boolean {
    return this.deps.marketplaces.of(name)?.pricePrecision === 'whole';
  }

  /** At start: the indexes, older listings adopted, and every open order's status record due (what a crash kept from being woken). */
  async start(): Promise<void> {
    await ensureMarketplaceIndexes(this.deps.db);
    await this.listings.adoptOlderListings();
    await this.outbox.wakeAllAtStart();
  }

  /**
   * Every committed transition: a product's availability is noted for its listings, a marketplace order's
   * move makes its status due. Written a moment later in one batch; a crash in that moment is what the
   * hourly reconciliation (stock) and the outbox sweep (statuses) are for.
   */
  readonly observe = (change: StateChange): void => {
    if (change.type === productModule.type) {
      const context = change.context as ProductContext;
      this.heardStock.set(change.id, { available: availableUnits(context), revision: change.revision });
    } else if (change.type === 'order' && isMarketplace((change.context as OrderContext).source)) {
      this.movedOrders.add(change.id);
    } else return;
    this.flushTimer ??= setTimeout(() => void this.flush(), 100);
    this.flushTimer.unref();
  };

  /** Writes what the listener heard (tests and shutdown wait for it). */
  flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const stock = [...this.heardStock.entries()].map(([sku, level]) => ({ sku, ...level }));
    const orders = [...this.movedOrders];
    this.heardStock.clear();
    this.movedOrders.clear();
    this.flushing = this.flushing
      .then(async () => {
        await this.listings.noteStock(stock);
        if (orders.length > 0) {
          await Promise.all(orders.map((id) => this.outbox.wake(id)));
          void this.statusRun
            .run()
            .catch((error: unknown) => this.deps.logger.warn('marketplace statuses failed', { error: String(error) }));
        }
      })
      .catch((error: unknown) => {
        // heard again at the next change, or by the reconciliation
        this.deps.logger.warn('marketplace stock notice could not be written', { error: String(error), products: stock.length });
      });
    return this.flushing;
  }

  /** Re-reads every listed product and notes its availability (newest revision wins): what a crash lost is found. */
  async reconcile(progress: (state: Record<string, unknown>) => void = () => undefined): Promise<{ products: number; remarked: number }> {
    const skus = await this.listings.listedSkus();
    const products = this.deps.runtime.of(productModule);
    const levels: Array<{ sku: string; available: number; revision: number }> = [];
    for (const [index, sku] of skus.entries()) {
      const product = await products.get(sku).catch(() => null);
      if (product) levels.push({ sku, available: availableUnits(product.context), revision: product.revision });
      if (levels.length >= 500) await this.listings.noteStock(levels.splice(0));
      if (index % 1000 === 999) progress({ products: index + 1, of: skus.length });
    }
    await this.listings.noteStock(levels);
    const { remarked } = await this.listings.repair();
    return { products: skus.length, remarked };
  }

  /** Import, then cancellations, then statuses: one marketplace's order round. */
  async importOrders(
    name: MarketplaceName,
    progress: (state: Record<string, unknown>) => void,
    force: boolean,
  ): Promise<Record<string, unknown>> {
    const marketplace = this.deps.marketplaces.enabled(name);
    if (!marketplace) return { skipped: 'not enabled' };
    const now = this.deps.now();
    const sync = await this.collections.sync.findOne({ _id: name });
    const last = sync?.orders?.lastRunAt?.getTime() ?? 0;
    if (!force && now - last < marketplace.settings().ordersIntervalMinutes * 60_000 - 1_000) return { skipped: 'not due' };
    await this.collections.sync.updateOne({ _id: name }, { $set: { 'orders.lastRunAt': new Date(now) } }, { upsert: true });
    try {
      const imported = await this.imports.run(marketplace, progress);
      const cancellations = await this.outbox.checkCancellations(marketplace);
      const statuses = await this.statusRun.run();
      await this.collections.sync.updateOne(
        { _id: name },
        { $set: { 'orders.lastSuccessAt': new Date(this.deps.now()), 'orders.lastError': null } },
      );
      return { ...imported, cancelledThere: cancellations.cancelled, statuses };
    } catch (error) {
      await this.collections.sync.updateOne(
        { _id: name },
        { $set: { 'orders.lastError': error instanceof Error ? error.message : String(error) } },
      );
      throw error;
    }
  }

  /**
   * The marketplace's catalogue (seed 000's catalogue sync): each of its products whose article is one of our
   * SKUs, and that is not listed yet, is listed as that product (and told its stock at the next push). What
   * has no article, or an article we do not sell, is counted and left for a person to map.
   */
  async syncCatalogue(name: MarketplaceName, progress: (state: Record<string, unknown>) => void): Promise<Record<string, unknown>> {
    const marketplace = this.deps.marketplaces.enabled(name);
    if (!marketplace) return { skipped: 'not enabled' };
    const products = this.deps.runtime.of(productModule);
    const outcome = { pages: 0, seen: 0, linked: 0, alreadyListed: 0, unmatched: 0 };
    let cursor: string | null = null;
    do {
      const page = await marketplace.listProducts(cursor);
      outcome.pages += 1;
      for (const item of page.products) {
        outcome.seen += 1;
        const itemKey = listingKey(name, item.listing);
        if ((await this.listings.skusOf(name, [itemKey])).has(itemKey)) {
          outcome.alreadyListed += 1;
          continue;
        }
        const ours = item.sku ? await products.get(item.sku).catch(() => null) : null;
        const listedAlready = ours ? (await this.listings.of(ours.id)).some((listing) => listing.marketplace === name) : true;
        if (!ours || listedAlready) {
          outcome.unmatched += 1;
          continue;
        }
        await this.listings.set(
          ours.id,
          { [name]: item.listing },
          { available: availableUnits(ours.context), revision: ours.revision },
          (marketplaceName) => this.wholeUnits(marketplaceName),
        );
        outcome.linked += 1;
      }
      cursor = page.cursor;
      progress({ marketplace: name, ...outcome });
    } while (cursor !== null && outcome.pages < 10_000);
    return outcome;
  }

  /** Stock and prices of every enabled marketplace that is due, then the statuses due. */
  async pushAll(force: boolean): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const failures: string[] = [];
    for (const name of MARKETPLACES) {
      const marketplace = this.deps.marketplaces.enabled(name);
      if (!marketplace) continue;
      out[name] = await this.push.run(marketplace, { force }).catch((error: unknown) => {
        failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        return { failed: true };
      });
    }
    out.statuses = await this.statusRun.run();
    if (failures.length > 0) throw new Error(`marketplace push failed: ${failures.join('; ')}`);
    return out;
  }

  jobs(): JobDefinition[] {
    return [
      ...MARKETPLACES.map((name): JobDefinition => ({
        name: `marketplace-orders:${name}`,
        description: `imports new ${name} orders (when enabled, every ordersIntervalMinutes) and its cancellations; a manual run imports now`,
        every: '1 minute',
        syncs: name,
        run: ({ progress, trigger }) => this.importOrders(name, progress, trigger === 'manual'),
      })),
      ...MARKETPLACES.map((name): JobDefinition => ({
        name: `marketplace-catalogue:${name}`,
        description: `lists at ${name} (when enabled, daily) each of its products whose article is one of our SKUs; a manual run syncs now`,
        every: '1 day',
        syncs: name,
        run: ({ progress }) => this.syncCatalogue(name, progress),
      })),
      {
        name: 'marketplace-push',
        description:
          "pushes each enabled marketplace's stock and price changes (debounced by pushIntervalSeconds) and the order statuses due",
        every: '10 seconds',
        run: ({ trigger }) => this.pushAll(trigger === 'manual'),
      },
      {
        name: 'marketplace-stock-reconcile',
        description: 're-reads every product listed at a marketplace, so that a stock change whose notice a crash lost is pushed after all',
        every: '1 hour',
        run: ({ progress }) => this.reconcile(progress),
      },
    ];
  }

  async views(): Promise<MarketplaceSyncView[]> {
    const docs = new Map((await this.collections.sync.find({}).toArray()).map((doc) => [doc._id, doc]));
    const views: MarketplaceSyncView[] = [];
    for (const name of MARKETPLACES) {
      const marketplace = this.deps.marketplaces.of(name);
      const doc = docs.get(name);
      // counted in the sync record (a count of the listings would read every one of them)
      const listings = doc?.listings ?? 0;
      const [stock, prices, statuses, incidents] = await Promise.all([
        this.collections.pending.countDocuments({ marketplace: name, kind: 'stock' }),
        this.collections.pending.countDocuments({ marketplace: name, kind: 'price' }),
        this.collections.orders.countDocuments({ marketplace: name, settled: false }),
        this.collections.orders.countDocuments({ marketplace: name, incident: { $ne: null } }),
      ]);
      views.push({
        name,
        enabled: marketplace?.settings().enabled ?? false,
        currency: MARKETPLACE_CURRENCY[name],
        cursor: doc?.cursor ?? null,
        orders: {
          lastRunAt: doc?.orders?.lastRunAt ?? null,
          lastSuccessAt: doc?.orders?.lastSuccessAt ?? null,
          imported: doc?.orders?.imported ?? 0,
          held: doc?.orders?.held ?? 0,
          lastError: doc?.orders?.lastError ?? null,
        },
        push: {
          lastRunAt: doc?.push?.lastRunAt ?? null,
          lastSuccessAt: doc?.push?.lastSuccessAt ?? null,
          calls: doc?.push?.calls ?? 0,
          items: doc?.push?.items ?? 0,
          failures: doc?.push?.failures ?? 0,
          lastError: doc?.push?.lastError ?? null,
        },
        listings,
        pending: { stock, prices, statuses },
        incidents,
      });
    }
    return views;
  }
}
