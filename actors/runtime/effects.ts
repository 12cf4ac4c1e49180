import type { Logger } from 'winston';
import type { AnyMachineModule, EffectInputOf, EffectNameOf, EffectOutputOf } from '../../machines/machine-module.ts';
import type { EffectActors } from './effect-actors.ts';

/** What an effect handler gets besides its input. */
export interface EffectContext {
  /** Stable across retries and restarts: pass it to the external service so the side effect happens once. */
  idempotencyKey: string;
  attempt: number;
  actor: { type: string; id: string };
  signal: AbortSignal;
  logger: Logger;
  /** Other actors, told or created under this effect's key (so a rerun after a crash changes nothing). */
  actors: EffectActors;
}

export type EffectHandler<TInput = unknown, TOutput = unknown> = (input: TInput, context: EffectContext) => Promise<TOutput>;

/** The codes the runtime itself gives a failed effect (a machine may match on them in `onError`). */
export const RUNTIME_EFFECT_ERROR_CODES = {
  /** the handler threw something that is not an EffectError: taken as retryable */
  failed: 'effect_failed',
  /** no answer within the effect time-out: retried with the same idempotency key */
  timeout: 'effect_timeout',
  /** no handler is bound for the invoked src (the registry's boot check makes this rare) */
  notImplemented: 'effect_not_implemented',
} as const;
export type RuntimeEffectErrorCode = (typeof RUNTIME_EFFECT_ERROR_CODES)[keyof typeof RUNTIME_EFFECT_ERROR_CODES];

declare const partnerErrorCodeBrand: unique symbol;

/**
 * A code in one partner's vocabulary: the partner's own (Nova Poshta's
 * numeric "20000200068", Monobank's errCode "FORBIDDEN", LiqPay's
 * "err_payment"), or one its connector gives a request it will not send
 * ("invalid_waybill"). Open, since the partner decides them; branded, so it
 * is made only where it crosses into the hub, by `partnerErrorCode()`, and
 * cannot be mistaken for a code the hub defines (those are literal unions).
 * Comparing it with a literal (`code === 'payment_not_found'`) still compiles.
 */
export type PartnerErrorCode = string & { readonly [partnerErrorCodeBrand]: true };

/** Marks a code as the partner's, at the boundary where it enters the hub. */
export function partnerErrorCode(code: string): PartnerErrorCode {
  return code as PartnerErrorCode;
}

/**
 * A failure an effect reports on purpose. Anything else thrown counts as
 * retryable (network, crash of a dependency). The runtime carries any code
 * to the machine; subclasses narrow it (a ConnectorError's is a kit code or
 * a partner's).
 */
export class EffectError<TCode extends string = string> extends Error {
  constructor(
    readonly code: TCode,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'EffectError';
  }
}

/**
 * Every effect a module's machine invokes, each typed by what the machine
 * declared with `effect<Output, Input>()`: a handler taking other input or
 * resolving with other output does not compile.
 */
export type EffectHandlersOf<TModule extends AnyMachineModule> = {
  readonly [TName in EffectNameOf<TModule>]: EffectHandler<EffectInputOf<TModule, TName>, EffectOutputOf<TModule, TName>>;
};

/** An effect as the worker runs it: input as recorded from the invocation, output stored as JSON. */
export type RecordedEffect = EffectHandler<unknown, unknown>;

/** Handlers bound to one machine type; the registry runs them for that type's invocations only. */
export interface BoundEffects {
  readonly type: string;
  readonly handlers: Readonly<Record<string, RecordedEffect>>;
}

/** Binds the handlers of every effect a machine invokes to that machine. */
export function bindEffects<TModule extends AnyMachineModule>(module: TModule, handlers: EffectHandlersOf<TModule>): BoundEffects {
  const bound: Record<string, RecordedEffect> = {};
  for (const [src, handler] of Object.entries<EffectHandler<never, unknown>>(handlers)) {
    // The worker hands back the input this machine's own invocation of `src` recorded, which is what the
    // handler's binding is typed by: the one place that trusts stored JSON to be the declared input.
    bound[src] = (input, context) => handler(input as never, context);
  }
  return { type: module.type, handlers: bound };
}
