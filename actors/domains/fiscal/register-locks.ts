import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection } from 'mongodb';
import { isDuplicateKeyError } from '../../../persistence/collections.ts';
import type { RegisterLockDoc } from '../../../persistence/devices.ts';

/**
 * Durable ownership of a register by one receipt (or report) at a time
 * (`register_locks`). Waiters of this process queue in the order they came
 * and the head polls the lock; a holder in another process, or one that
 * crashed, is waited out until it is recorded or voided by its own actor.
 */
export class RegisterBusyError extends Error {
  constructor(
    readonly register: string,
    readonly holder: string,
  ) {
    super(`register ${register} is busy with ${holder}`);
    this.name = 'RegisterBusyError';
  }
}

export class RegisterLocks {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly collection: Collection<RegisterLockDoc>,
    private readonly options: { pollMs?: number; now?: () => Date } = {},
  ) {}

  /**
   * Takes the register for `holder` (at once when it holds it already), or
   * throws RegisterBusyError once `waitMs` has passed.
   */
  acquire(register: string, holder: string, waitMs: number, signal: AbortSignal | null): Promise<void> {
    const previous = this.queues.get(register) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => this.poll(register, holder, waitMs, signal));
    this.queues.set(register, mine);
    void mine
      .catch(() => undefined)
      .finally(() => {
        if (this.queues.get(register) === mine) this.queues.delete(register);
      });
    return mine;
  }

  async holderOf(register: string): Promise<string | null> {
    return (await this.collection.findOne({ _id: register }))?.holder ?? null;
  }

  /** Gives the register up; a lock held by someone else is left alone. */
  async release(register: string, holder: string): Promise<boolean> {
    return (await this.collection.deleteOne({ _id: register, holder })).deletedCount > 0;
  }

  private async poll(register: string, holder: string, waitMs: number, signal: AbortSignal | null): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      signal?.throwIfAborted();
      try {
        await this.collection.insertOne({ _id: register, holder, acquiredAt: this.options.now?.() ?? new Date() });
        return;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const current = await this.holderOf(register);
      if (current === holder) return;
      if (current !== null && Date.now() >= deadline) throw new RegisterBusyError(register, current);
      // released meanwhile (current === null): try again at once
      if (current !== null) await sleep(this.options.pollMs ?? 50);
    }
  }
}
