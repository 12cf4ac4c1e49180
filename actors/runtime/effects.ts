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
