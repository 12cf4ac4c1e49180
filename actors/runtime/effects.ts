import type { Logger } from 'winston';

/** What an effect handler gets besides its input. */
export interface EffectContext {
  /** Stable across retries and restarts: pass it to the external service so the side effect happens once. */
  idempotencyKey: string;
  attempt: number;
  actor: { type: string; id: string };
  signal: AbortSignal;
  logger: Logger;
}

export type EffectHandler<TInput = unknown, TOutput = unknown> = (input: TInput, context: EffectContext) => Promise<TOutput>;

/** A failure an effect reports on purpose. Anything else thrown counts as retryable (network, crash of a dependency). */
export class EffectError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'EffectError';
  }
}

export type EffectHandlers = Readonly<Record<string, EffectHandler<never, unknown>>>;
