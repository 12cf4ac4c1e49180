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
    // the wait counts from now, in the queue of this process as at the lock itself
    const deadline = Date.now() + waitMs;
    const previous = this.queues.get(register) ?? Promise.resolve();
    const mine = this.turn(register, previous, deadline, signal).then(() => this.poll(register, holder, deadline, signal));
    // the next waiter waits for this one and for every one ahead of it (one that gives up early keeps no one waiting longer)
    const tail = Promise.allSettled([previous, mine]);
    this.queues.set(register, tail);
    void tail.finally(() => {
      if (this.queues.get(register) === tail) this.queues.delete(register);
    });
    return mine;
  }

  /** Waits for the waiters ahead in this process, but not past the deadline or an abort. */
  private async turn(register: string, ahead: Promise<unknown>, deadline: number, signal: AbortSignal | null): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const giveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          void this.holderOf(register).then(
            (holder) => reject(new RegisterBusyError(register, holder ?? 'the receipts ahead of it')),
            reject,
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      onAbort = () => reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([ahead.catch(() => undefined), giveUp]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      giveUp.catch(() => undefined);
    }
  }

  async holderOf(register: string): Promise<string | null> {
    return (await this.collection.findOne({ _id: register }))?.holder ?? null;
  }

  /** Gives the register up; a lock held by someone else is left alone. */
  async release(register: string, holder: string): Promise<boolean> {
    return (await this.collection.deleteOne({ _id: register, holder })).deletedCount > 0;
  }

  private async poll(register: string, holder: string, deadline: number, signal: AbortSignal | null): Promise<void> {
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
