import type { Collections } from '../../../persistence/collections.ts';
import type { JobDefinition } from './registry.ts';

/**
 * Clears what crashed processes leave behind: effect leases from runs that
 * never finished. (Orphaned effect and timer intents are removed by the
 * worker when it meets them; the journal stays the source of truth.)
 */
export function housekeepingJob(collections: Collections, now: () => number): JobDefinition {
  return {
    name: 'runtime-housekeeping',
    description: 'Removes stale effect leases left by processes that died mid-run.',
    every: '10 minutes',
    async run() {
      const cutoff = new Date(now() - 60 * 60_000);
      const stale = await collections.leases.find({ at: { $lt: cutoff } }, { projection: { _id: 1 } }).toArray();
      for (const lease of stale) await collections.leases.deleteOne({ _id: lease._id });
      const [effects, timers] = await Promise.all([collections.effects.countDocuments({}), collections.timers.countDocuments({})]);
      return { staleLeasesRemoved: stale.length, pendingEffects: effects, scheduledTimers: timers };
    },
  };
}
