import type { Collection } from 'mongodb';
import { isDuplicateKeyError, type LeaseDoc } from '../../persistence/collections.ts';

/** One process's right to run one attempt of an effect, kept alive while the call is in flight. */
export interface EffectClaim {
  readonly id: string;
  /** Pushes the claim's end `leaseMs` past `now`: the holder is alive and still waiting for its call. */
  renew(now: number): Promise<void>;
  /** Gives the attempt back: the next process to look may run it straight away. */
  release(): Promise<void>;
}

/**
 * Who runs an effect's attempt. A claim is a unique insert keyed by the effect, its attempt and a
 * generation (`effect:<id>#<attempt>/<generation>`), so the database picks one process however the
 * processes' clocks and reads interleave. A holder renews its claim while its call is in flight; a
 * claim whose holder stopped renewing it (a killed process) expires, and the next generation is
 * again a unique insert: exactly one process takes the attempt over.
 *
 * A claim does not say the attempt is still due — a process may have read the effect just before
 * another finished it. The caller looks at the effect again after claiming (DurableWorker.execute).
 */
export class EffectClaims {
  constructor(
    private readonly leases: Collection<LeaseDoc>,
    private readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  async claim(effect: { _id: string; attempts: number }, now: number): Promise<EffectClaim | null> {
    const attempt = effect.attempts + 1;
    for (let generation = 1; ; generation += 1) {
      const id = `effect:${effect._id}#${attempt}/${generation}`;
      try {
        await this.leases.insertOne({
          _id: id,
          owner: this.owner,
          at: new Date(now),
          until: new Date(now + this.leaseMs),
          effectId: effect._id,
          attempt,
        });
        return this.held(id);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const holder = await this.leases.findOne({ _id: id });
      // removed between the insert and this read: its holder just finished or gave it back; look again next time
      if (!holder) return null;
      // every claim has an end (only window leases from before claims lack one, and their ids never match)
      if (holder.until && holder.until.getTime() > now) return null;
    }
  }

  private held(id: string): EffectClaim {
    const { leases, leaseMs } = this;
    return {
      id,
      async renew(now) {
        await leases.updateOne({ _id: id }, { $set: { until: new Date(now + leaseMs) } });
      },
      async release() {
        await leases.deleteOne({ _id: id });
      },
    };
  }
}
