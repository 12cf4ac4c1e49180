import type { EventObject } from 'xstate';
import type { Logger } from 'winston';
import { type Collections, type EffectDoc, type TimerDoc } from '../../persistence/collections.ts';
import type { Clock } from './clock.ts';
import { EffectClaims, type EffectClaim } from './effect-claims.ts';
import { effectActors } from './effect-actors.ts';
import { EffectError, RUNTIME_EFFECT_ERROR_CODES } from './effects.ts';
import type { MachineRegistry } from './registry.ts';
import type { ActorRuntime, CommittedWork } from './runtime.ts';

export interface WorkerOptions {
  runtime: ActorRuntime;
  registry: MachineRegistry;
  collections: Collections;
  logger: Logger;
  clock: Clock;
  ownerId: string;
  pollMs: number;
  maxAttempts: number;
  /** How long one process may hold an effect before another may take it over. */
  leaseMs?: number;
  /** An effect handler running longer than this is aborted and retried. */
  effectTimeoutMs?: number;
  /** An intent whose commit has not landed after this long is an orphan of a crashed or beaten writer. */
  orphanAfterMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  /**
   * Mends projections a crashed process left unwritten (`ActorStore.repairProjections`), at start and then
   * every `projectionRepairEveryMs`; answers how many it mended.
   */
  repairProjections?: (now: number) => Promise<number>;
  projectionRepairEveryMs?: number;
  /** an effect failed for good (its error was delivered to the actor) */
  onEffectFailed?: (effect: EffectDoc, failure: { code: string; message: string; retryable: boolean; attempts: number }) => void;
}

export interface WorkerStatus {
  started: boolean;
  /** Completed polls; the first one is the rehydration after start-up. */
  cycles: number;
  runningEffects: number;
  armedTimers: number;
  lastPollAt: string | null;
  lastPollError: string | null;
}

/**
 * Runs what committed transitions asked for: invoked effects (with the
 * effect id as idempotency key, retried with back-off, results delivered as
 * `xstate.done.actor.*` / `xstate.error.actor.*`) and delayed events (fired
 * when due). Both live in the database, so a restart — or another process —
 * picks up whatever a dead process left. Delivery checks the actor still
 * waits for the result, so a duplicate run changes nothing.
 */
export class DurableWorker {
  private readonly running = new Map<string, Promise<void>>();
  private readonly armed = new Map<string, NodeJS.Timeout>();
  private interval: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private lastRepairAt: number | null = null;
  private stopping = false;
  private readonly status: WorkerStatus = {
    started: false,
    cycles: 0,
    runningEffects: 0,
    armedTimers: 0,
    lastPollAt: null,
    lastPollError: null,
  };
  private readonly leaseMs: number;
  private readonly effectTimeoutMs: number;
  private readonly orphanAfterMs: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly claims: EffectClaims;

  constructor(private readonly options: WorkerOptions) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.claims = new EffectClaims(options.collections.leases, options.ownerId, this.leaseMs);
    this.effectTimeoutMs = options.effectTimeoutMs ?? 20_000;
    this.orphanAfterMs = options.orphanAfterMs ?? 60_000;
    this.backoff = options.backoff ?? { baseMs: 500, maxMs: 60_000 };
  }

  /** Rehydrates (one full poll: overdue timers fire, pending effects resume), then polls on an interval. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.poll();
    this.status.started = true;
    this.interval = setInterval(() => void this.poll(), this.options.pollMs);
    this.interval.unref();
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.interval) clearInterval(this.interval);
    this.interval = null;
    for (const handle of this.armed.values()) clearTimeout(handle);
    this.armed.clear();
    // In-flight effects get a grace period; an abandoned one resumes after restart with the same key.
    const pending = [...this.running.values(), ...(this.polling ? [this.polling] : [])];
    await Promise.race([Promise.allSettled(pending), delay(graceMs)]);
  }

  snapshot(): WorkerStatus {
    return { ...this.status, runningEffects: this.running.size, armedTimers: this.armed.size };
  }

  /** Fast path: work this process just committed starts without waiting for a poll. */
  readonly onCommitted = (work: CommittedWork): void => {
    if (this.stopping) return;
    for (const effect of work.effects) this.runEffect(effect);
    for (const timer of work.timers) this.arm(timer);
  };

  /** One pass over due effects and timers. Overlapping calls share one pass. */
  poll(): Promise<void> {
    if (this.polling) return this.polling;
    this.polling = this.pollOnce().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const now = this.options.clock.now();
    try {
      // These collections hold only what is in flight, so a scan stays small.
      const [effects, timers] = await Promise.all([
        this.options.collections.effects
          .find({ nextAttemptAt: { $lte: new Date(now) } })
          .limit(1000)
          .toArray(),
        this.options.collections.timers
          .find({ dueAt: { $lte: new Date(now + this.options.pollMs) } })
          .limit(5000)
          .toArray(),
      ]);
      for (const effect of effects) this.runEffect(effect);
      for (const timer of timers) this.arm(timer);
      const { repairProjections, projectionRepairEveryMs = 5_000 } = this.options;
      if (repairProjections && (this.lastRepairAt === null || now - this.lastRepairAt >= projectionRepairEveryMs)) {
        this.lastRepairAt = now;
        await repairProjections(now);
      }
      this.status.lastPollError = null;
    } catch (error) {
      this.status.lastPollError = String(error);
      this.options.logger.error('worker poll failed', { error: String(error) });
    } finally {
      this.status.cycles += 1;
      this.status.lastPollAt = new Date(now).toISOString();
    }
  }

  private runEffect(effect: EffectDoc): void {
    if (this.stopping || this.running.has(effect._id)) return;
    const run = this.execute(effect._id)
      .catch((error: unknown) => {
        this.options.logger.error('effect run failed', { effect: effect._id, error: String(error) });
      })
      .finally(() => this.running.delete(effect._id));
    this.running.set(effect._id, run);
  }

  private async execute(effectId: string): Promise<void> {
    const { collections, runtime, clock } = this.options;
    const effect = await collections.effects.findOne({ _id: effectId });
    if (!effect) return; // delivered meanwhile
    const now = clock.now();
    if (effect.nextAttemptAt.getTime() > now) return;
    if (effect.runningUntil && effect.runningUntil.getTime() > now) return;

    // The database picks one process for this attempt, whatever the clocks and reads (effect-claims.ts).
    const claim = await this.claims.claim(effect, now);
    if (!claim) return;
    // Alive: the claim is renewed until what came of the call is recorded, so no other process sends it again
    // meanwhile. The effect's own hint is renewed only while the call runs: after that the outcome writes it.
    let calling = false;
    let renewing: Promise<void> = Promise.resolve();
    const renewal = setInterval(() => {
      renewing = renewing.then(() => this.renew(claim, calling ? effectId : null)).catch(() => undefined);
    }, this.leaseMs / 3);
    renewal.unref();
    try {
      // Claimed: look again. A process may have finished this attempt, or moved it on, just before.
      const current = await collections.effects.findOne({ _id: effectId });
      if (!current || current.attempts !== effect.attempts || current.nextAttemptAt.getTime() > now) return;
      const status = await runtime.effectStatus(current);
      if (status === 'obsolete' || (status === 'uncommitted' && now - current.createdAt.getTime() > this.orphanAfterMs)) {
        await collections.effects.deleteOne({ _id: effectId });
        return;
      }
      if (status === 'uncommitted') return; // its commit may still be landing; look again at the next poll

      calling = true;
      await collections.effects.updateOne({ _id: effectId }, { $set: { runningUntil: new Date(clock.now() + this.leaseMs) } });
      await this.attempt(current, () => {
        calling = false;
        // a renewal's write of the hint must not land after (and undo) the outcome's
        return renewing;
      });
    } finally {
      clearInterval(renewal);
      await renewing;
      await claim.release().catch(() => undefined);
    }
  }

  private async renew(claim: EffectClaim, runningEffectId: string | null): Promise<void> {
    const now = this.options.clock.now();
    await claim.renew(now);
    if (runningEffectId)
      await this.options.collections.effects.updateOne({ _id: runningEffectId }, { $set: { runningUntil: new Date(now + this.leaseMs) } });
  }

  /** Runs one attempt of a claimed effect and records what came of it. */
  private async attempt(effect: EffectDoc, stopRenewing: () => Promise<void>): Promise<void> {
    const { collections, runtime, logger, clock } = this.options;
    const effectId = effect._id;
    const attempt = effect.attempts + 1;
    const handler = this.options.registry.effect(effect.type, effect.src);
    const actor = { type: effect.type, id: effect.actorId };
    const controller = new AbortController();
    const timeout = setTimeout(
      () => controller.abort(new Error(`effect timed out after ${this.effectTimeoutMs} ms`)),
      this.effectTimeoutMs,
    );
    let outcome: { ok: true; output: unknown } | { ok: false; error: EffectError };
    try {
      if (!handler) throw new EffectError(RUNTIME_EFFECT_ERROR_CODES.notImplemented, `no handler for effect "${effect.src}"`, false);
      const effectLogger = logger.child({ effect: effectId, src: effect.src });
      const input = this.options.runtime.personalData.openJson(effect.input);
      const output = await abortable(
        handler(input, {
          idempotencyKey: effectId,
          attempt,
          actor,
          signal: controller.signal,
          logger: effectLogger,
          actors: effectActors(runtime.commands, effectId, effectLogger),
        }),
        controller.signal,
      );
      outcome = { ok: true, output: jsonSafe(output) };
    } catch (error) {
      outcome = {
        ok: false,
        error: controller.signal.aborted
          ? new EffectError(RUNTIME_EFFECT_ERROR_CODES.timeout, `no answer within ${this.effectTimeoutMs} ms`, true)
          : asEffectError(error),
      };
    } finally {
      clearTimeout(timeout);
      await stopRenewing();
    }

    if (outcome.ok) {
      const done: EventObject & { output: unknown } = { type: `xstate.done.actor.${effect.invokeId}`, output: outcome.output };
      const delivered = await runtime.deliverEffectResult(effect, done);
      logger.info('effect completed', { effect: effectId, src: effect.src, attempt, delivered });
      // An applied result's commit removes the record; otherwise it is ours to remove.
      if (delivered !== 'applied') await collections.effects.deleteOne({ _id: effectId });
      return;
    }
    const { error } = outcome;
    if (error.retryable && attempt < this.options.maxAttempts && !this.stopping) {
      const wait = backoffDelay(attempt, this.backoff.baseMs, this.backoff.maxMs);
      await collections.effects.updateOne(
        { _id: effectId },
        {
          $set: {
            attempts: attempt,
            nextAttemptAt: new Date(clock.now() + wait),
            runningUntil: null,
            lastError: { code: error.code, message: error.message },
          },
        },
      );
      logger.warn('effect failed; will retry', { effect: effectId, src: effect.src, attempt, code: error.code, retryInMs: wait });
      this.retryLater(effectId, wait);
      return;
    }
    if (error.retryable && this.stopping) {
      // Shutting down: leave it pending for whoever starts next.
      await collections.effects.updateOne({ _id: effectId }, { $set: { runningUntil: null } });
      return;
    }
    const failure = { code: error.code, message: error.message, retryable: error.retryable, attempts: attempt };
    const failed: EventObject & { error: unknown } = { type: `xstate.error.actor.${effect.invokeId}`, error: failure };
    const delivered = await runtime.deliverEffectResult(effect, failed);
    logger.warn('effect failed for good', { effect: effectId, src: effect.src, attempt, code: error.code, delivered });
    if (delivered === 'applied') this.options.onEffectFailed?.(effect, failure);
    if (delivered !== 'applied') await collections.effects.deleteOne({ _id: effectId });
  }

  private retryLater(effectId: string, waitMs: number): void {
    if (waitMs > this.options.pollMs) return; // the poll will find it
    const handle = setTimeout(() => {
      this.armed.delete(`retry:${effectId}`);
      void this.options.collections.effects.findOne({ _id: effectId }).then((doc) => doc && this.runEffect(doc));
    }, waitMs);
    handle.unref();
    this.armed.set(`retry:${effectId}`, handle);
  }

  private arm(timer: TimerDoc): void {
    if (this.stopping || this.armed.has(timer._id)) return;
    const wait = Math.max(0, timer.dueAt.getTime() - this.options.clock.now());
    if (wait > this.options.pollMs * 2) return; // far away: a later poll arms it
    const handle = setTimeout(() => {
      void this.fire(timer).finally(() => this.armed.delete(timer._id));
    }, wait);
    this.armed.set(timer._id, handle);
  }

  private async fire(timer: TimerDoc): Promise<void> {
    const { runtime, collections, logger, clock } = this.options;
    try {
      const outcome = await runtime.deliverTimer(timer);
      if (outcome === 'uncommitted' && clock.now() - timer.createdAt.getTime() <= this.orphanAfterMs) return;
      await collections.timers.deleteOne({ _id: timer._id });
      logger.debug('timer handled', { timer: timer._id, outcome });
    } catch (error) {
      logger.error('timer delivery failed; it stays scheduled', { timer: timer._id, error: String(error) });
    }
  }
}

function asEffectError(error: unknown): EffectError {
  if (error instanceof EffectError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new EffectError(RUNTIME_EFFECT_ERROR_CODES.failed, message.slice(0, 500), true);
}

/** Exponential back-off with full jitter. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function jsonSafe(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
