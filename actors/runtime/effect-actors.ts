import type { Logger } from 'winston';
import { AppError } from '../../common/errors.ts';
import type { AnyMachineModule, ContextOf, EventOf, InputOf } from '../../machines/machine-module.ts';
import type { ActorView, CommandOptions } from './views.ts';

/** What an effect may do to other actors: the typed half of the runtime an effect needs, nothing more. */
export interface ActorCommands {
  create<TModule extends AnyMachineModule>(
    module: TModule,
    id: string,
    input: InputOf<TModule>,
    options: CommandOptions,
  ): Promise<{ actor: ActorView<ContextOf<TModule>>; replayed: boolean }>;
  send<TModule extends AnyMachineModule>(
    module: TModule,
    id: string,
    event: EventOf<TModule>,
    options: CommandOptions,
  ): Promise<{ actor: ActorView<ContextOf<TModule>>; replayed: boolean }>;
  get<TModule extends AnyMachineModule>(module: TModule, id: string): Promise<ActorView<ContextOf<TModule>>>;
}

export interface EffectSendOptions {
  /**
   * Told apart from the effect's other commands: the command's idempotency key
   * is `<effect key>:<key>` (the effect key alone when omitted), so a rerun
   * of the effect after a crash repeats nothing.
   */
  key?: string;
  /**
   * `skip`: an actor that does not exist, or no longer accepts the event (it
   * moved on: cancelled, finished), is nothing to tell: the answer is null.
   * `fail` (default): that is an error of the effect.
   */
  ifGone?: 'skip' | 'fail';
}

export interface EffectCreateOptions {
  key?: string;
  /** `skip`: an actor of that id made by someone else is fine (null); `fail` (default): an error. */
  ifExists?: 'skip' | 'fail';
}

/** Other actors as an effect handler sees them: every command keyed under the effect, with its origin recorded. */
export interface EffectActors {
  /** An actor as it is now (migrated, typed), or null when there is none: a read, so nothing is keyed. */
  get<TModule extends AnyMachineModule>(module: TModule, id: string): Promise<ActorView<ContextOf<TModule>> | null>;
  send<TModule extends AnyMachineModule>(
    module: TModule,
    id: string,
    event: EventOf<TModule>,
    options: EffectSendOptions & { ifGone: 'skip' },
  ): Promise<ActorView<ContextOf<TModule>> | null>;
  send<TModule extends AnyMachineModule>(
    module: TModule,
    id: string,
    event: EventOf<TModule>,
    options?: EffectSendOptions,
  ): Promise<ActorView<ContextOf<TModule>>>;
  create<TModule extends AnyMachineModule>(
    module: TModule,
    id: string,
    input: InputOf<TModule>,
    options: EffectCreateOptions & { ifExists: 'skip' },
  ): Promise<ActorView<ContextOf<TModule>> | null>;
  create<TModule extends AnyMachineModule>(
    module: TModule,
    id: string,
    input: InputOf<TModule>,
    options?: EffectCreateOptions,
  ): Promise<ActorView<ContextOf<TModule>>>;
}

const GONE = new Set(['not_found', 'event_not_accepted']);

/** The `actors` an effect handler gets: `commands` under the effect's id as key and origin. */
export function effectActors(commands: ActorCommands, effectId: string, logger: Logger): EffectActors {
  const optionsFor = (key: string | undefined): CommandOptions => ({
    idempotencyKey: key === undefined ? effectId : `${effectId}:${key}`,
    origin: { kind: 'effect', effectId },
  });
  const actors = {
    async get(module: AnyMachineModule, id: string) {
      try {
        return await commands.get(module, id);
      } catch (error) {
        if (error instanceof AppError && error.code === 'not_found') return null;
        throw error;
      }
    },
    async send(module: AnyMachineModule, id: string, event: EventOf<AnyMachineModule>, options: EffectSendOptions = {}) {
      try {
        return (await commands.send(module, id, event, optionsFor(options.key))).actor;
      } catch (error) {
        if (options.ifGone !== 'skip' || !(error instanceof AppError && GONE.has(error.code))) throw error;
        logger.info('event not delivered: the actor is gone or has moved on', {
          to: `${module.type}/${id}`,
          event: event.type,
          reason: error.code,
        });
        return null;
      }
    },
    async create(module: AnyMachineModule, id: string, input: InputOf<AnyMachineModule>, options: EffectCreateOptions = {}) {
      try {
        return (await commands.create(module, id, input, optionsFor(options.key))).actor;
      } catch (error) {
        if (options.ifExists !== 'skip' || !(error instanceof AppError && error.code === 'actor_exists')) throw error;
        logger.info('actor not created: it exists already', { actor: `${module.type}/${id}` });
        return null;
      }
    },
  };
  return actors as EffectActors;
}
