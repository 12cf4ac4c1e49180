import type { Logger } from 'winston';
import type { MarketplaceCollections } from '../../../persistence/marketplaces.ts';
import type { Marketplace } from '../../platform/connectors/ports/marketplace.ts';
import type { MarketplaceListings } from './listings.ts';

/**
 * Stock and prices out, per marketplace: everything that changed since the
 * last push goes in one round, split by the marketplace into its documented
 * batch size — so a product that changed ten times in the window is pushed
 * once, with its newest value. A round is made at most once per
 * `pushIntervalSeconds` (the debounce); a failed round backs off (doubling,
 * up to ten minutes) and leaves everything due; items the marketplace refused
 * are kept with the reason and not sent again until they change.
 */

export interface PushRun {
  skipped?: 'not_due' | 'backing_off' | 'nothing_due';
  stock: number;
  prices: number;
  calls: number;
  refused: number;
}

const MAX_BACKOFF_MS = 10 * 60_000;

export class StockAndPricePush {
  constructor(
    private readonly deps: {
      listings: MarketplaceListings;
      collections: MarketplaceCollections;
      logger: Logger;
      now: () => number;
    },
  ) {}

  /** One round for this marketplace when due (`force`: now, whatever the interval). */
  async run(marketplace: Marketplace, options: { force?: boolean } = {}): Promise<PushRun> {
    const { collections, listings } = this.deps;
    const name = marketplace.name;
    const now = this.deps.now();
    const sync = await collections.sync.findOne({ _id: name });
    const run: PushRun = { stock: 0, prices: 0, calls: 0, refused: 0 };
    if (!options.force) {
      const last = sync?.push?.lastRunAt?.getTime() ?? 0;
      if (now - last < marketplace.settings().pushIntervalSeconds * 1000 - 500) return { ...run, skipped: 'not_due' };
      if (sync?.push?.retryAt && sync.push.retryAt.getTime() > now) return { ...run, skipped: 'backing_off' };
    }
    const due = await listings.due(name);
    if (due.stock.length === 0 && due.prices.length === 0) return { ...run, skipped: 'nothing_due' };
    await collections.sync.updateOne({ _id: name }, { $set: { 'push.lastRunAt': new Date(now) } }, { upsert: true });
    try {
      if (due.stock.length > 0) {
        const outcome = await marketplace.pushStock(listings.stockLevels(due.stock));
        await listings.pushed('stock', due.stock, outcome.refused);
        run.stock = due.stock.length;
        run.calls += outcome.calls;
        run.refused += outcome.refused.length;
      }
      const priced = due.prices.filter((doc) => doc.price !== null);
      if (priced.length > 0) {
        const outcome = await marketplace.pushPrices(listings.priceLevels(priced));
        await listings.pushed('price', priced, outcome.refused);
        run.prices = priced.length;
        run.calls += outcome.calls;
        run.refused += outcome.refused.length;
      }
    } catch (error) {
      const failures = (sync?.push?.failures ?? 0) + 1;
      const message = error instanceof Error ? error.message : String(error);
      await collections.sync.updateOne(
        { _id: name },
        {
          $set: {
            'push.failures': failures,
            'push.lastError': message,
            'push.retryAt': new Date(this.deps.now() + Math.min(MAX_BACKOFF_MS, 5_000 * 2 ** Math.min(failures - 1, 16))),
          },
          $inc: { 'push.calls': run.calls, 'push.items': run.stock + run.prices },
        },
      );
      this.deps.logger.warn('marketplace push failed; everything stays due', { marketplace: name, error: message, failures });
      throw error;
    }
    await collections.sync.updateOne(
      { _id: name },
      {
        $set: { 'push.lastSuccessAt': new Date(this.deps.now()), 'push.failures': 0, 'push.lastError': null, 'push.retryAt': null },
        $inc: { 'push.calls': run.calls, 'push.items': run.stock + run.prices },
      },
    );
    return run;
  }
}
