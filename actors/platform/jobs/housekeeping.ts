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
      const old = await collections.leases.find({ at: { $lt: cutoff } }).toArray();
      const pending = new Map<string, number>();
      const effectIds = [...new Set(old.flatMap((lease) => (lease.effectId ? [lease.effectId] : [])))];
      for (let i = 0; i < effectIds.length; i += 500) {
        const batch = effectIds.slice(i, i + 500);
        for (const effect of await collections.effects.find({ _id: { $in: batch } }, { projection: { attempts: 1 } }).toArray())
          pending.set(effect._id, effect.attempts + 1);
      }
      // An attempt still pending keeps every generation of its claims: a gap would let two processes claim it.
      const stale = old.filter(
        (lease) => !(lease.until && lease.until.getTime() > now()) && !(lease.effectId && pending.get(lease.effectId) === lease.attempt),
      );
      for (const lease of stale) await collections.leases.deleteOne({ _id: lease._id });
      const [effects, timers] = await Promise.all([collections.effects.countDocuments({}), collections.timers.countDocuments({})]);
      return { staleLeasesRemoved: stale.length, pendingEffects: effects, scheduledTimers: timers };
    },
  };
}
