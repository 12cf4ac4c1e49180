import {
  fromPromise,
  type AnyStateMachine,
  type ContextFrom,
  type EventFrom,
  type InputFrom,
  type OutputFrom,
  type SnapshotFrom,
  type StateMachine,
} from 'xstate';
import type { ZodType } from 'zod';
import type { RefusalReason } from '../common/errors.ts';

/**
 * The JSON an actor's snapshot is persisted as (XState's persisted snapshot),
 * before it is resolved against a machine definition.
 */
export interface PersistedSnapshotJson {
  status: string;
  value: unknown;
  context: unknown;
  historyValue?: unknown;
  children?: unknown;
  output?: unknown;
  error?: unknown;
  [key: string]: unknown;
}

/** Why a machine refuses an event: a stable code (each module declares its own), a sentence, the figures behind it. */
export type Refusal<TCode extends string = string> = RefusalReason & { code: TCode };

/**
 * Says why the current state refuses an event. The runtime asks only after
 * the machine has refused it (`snapshot.can(event)` is false), so a refusal
 * never decides anything: the guards do.
 *
 * Why a function of the module and not reasons carried by guards: XState's
 * guards answer a boolean, and neither `transition()` nor `can()` tells which
 * guard failed; carrying reasons on guards would mean walking the state
 * nodes' transition definitions and evaluating guards again outside XState.
 * A module function is plain data in, data out, typed by the machine and
 * testable alone. So that guard and reason cannot drift apart, a module
 * writes each rule once, as a function answering a Refusal or null, and its
 * guard is that function answering null.
 */
export type RefusalOf<TMachine extends AnyStateMachine, TCode extends string = string> = (
  snapshot: SnapshotFrom<TMachine>,
  event: EventFrom<TMachine>,
) => Refusal<TCode> | null;

/** Turns a snapshot stored under version `from` into one valid under `from + 1`. */
export type SnapshotMigration = (snapshot: PersistedSnapshotJson) => PersistedSnapshotJson;

/**
 * What every file in `machines/` exports: a pure machine, the name actors of
 * it are stored under, its version, and the migrations that bring snapshots
 * stored by older versions up to date (keyed by the version they start from).
 */
export interface MachineModule<TMachine extends AnyStateMachine = AnyStateMachine> {
  readonly type: string;
  readonly version: number;
  readonly machine: TMachine;
  readonly migrations: Readonly<Record<number, SnapshotMigration>>;
  /** Human description shown in the admin API. */
  readonly description: string;
  /** Validates the input an actor is created with (HTTP answers 400 with the failing paths). */
  readonly inputSchema?: ZodType;
  /** Validates events sent from outside (internal events from effects and timers are not checked). */
  readonly eventSchema?: ZodType;
  /** The actors this one started (an order's payments and shipment), for inspection. */
  readonly children?: (context: ContextFrom<TMachine>) => Array<{ type: string; id: string }>;
  /** How long an actor may stay in a state (ms) before it is listed as an incident. */
  readonly slaMs?: Readonly<Record<string, number>>;
  /** Why an event from outside is refused (answered in `event_not_accepted`'s `details.reason`). */
  readonly refusal?: RefusalOf<TMachine>;
  /**
   * Tags an actor carries because of what it holds rather than where it is (a sale made while the loyalty
   * program was offline): stored, listed and filtered with its states' tags.
   */
  readonly labels?: (context: ContextFrom<TMachine>) => string[];
  /** Which values are personal data (encrypted at rest, masked for viewers, erased on request). */
  readonly personalData?: PersonalDataDeclaration;
  /** What the world outside hears of its actors: every committed transition, as `hub.<type>.<event>`. */
  readonly domainEvents?: DomainEventsDeclaration;
}

/**
 * The domain events of a machine: names the outside world subscribes to, chosen for what happened to the
 * business object (`paid`, `delivered`), not for how the machine is built. Each committed transition is
 * published under the event of the state it ends in (a step within a state publishes that state's event
 * again, with the new revision); every state the machine has belongs to exactly one event (a test checks).
 */
export interface DomainEventsDeclaration {
  readonly events: Readonly<Record<string, { readonly description: string; readonly states: readonly string[] }>>;
  /**
   * The payload's `data`, read from the actor's context through this schema (an object schema drops the
   * keys it does not name): what subscribers need, and never personal data.
   */
  readonly data: ZodType;
}

/**
 * What a personal value is, which decides how it is masked for those who may not read it
 * (`name`: initials, `phone`: country and operator code and the last digits, `email`: the first letter
 * and the domain, `address` and `document` (a tax number, a card): hidden whole). Phones and e-mails are
 * also blind-indexed, so an actor can be found by them without decrypting every actor.
 */
export type PersonalDataKind = 'name' | 'phone' | 'email' | 'address' | 'document';

/**
 * Paths to personal values, dot-separated from the object's root (`customer.phone`); `*` stands for
 * every element of an array or every key of an object (`lines.*.recipient`). A path may end on an
 * object (`delivery.address`): the whole object is one value.
 */
export type PersonalDataPaths = Readonly<Record<string, PersonalDataKind>>;

/** Where a machine's actors hold personal data: the runtime encrypts these values wherever it stores them. */
export interface PersonalDataDeclaration {
  /** paths in the actor's context */
  readonly context: PersonalDataPaths;
  /** paths in the input an actor is created with; unset: the context's (inputs are mostly copied into the context) */
  readonly input?: PersonalDataPaths;
  /** paths in events from outside, by event type */
  readonly events?: Readonly<Record<string, PersonalDataPaths>>;
}

/** Any machine module, whatever its machine (for registries and lists). */
export type AnyMachineModule = MachineModule<AnyStateMachine>;

/** The context an actor of this module holds. */
export type ContextOf<TModule extends AnyMachineModule> = ContextFrom<TModule['machine']>;
/** The events an actor of this module accepts from outside (commands, other actors, jobs). */
export type EventOf<TModule extends AnyMachineModule> = EventFrom<TModule['machine']>;
/** What an actor of this module is created with. */
export type InputOf<TModule extends AnyMachineModule> = InputFrom<TModule['machine']>;

/** The logic a machine declares in `setup({ actors })`, as XState's union of `{ src, logic }`. */
type ProvidedActorsOf<TMachine> =
  TMachine extends StateMachine<
    infer _Context,
    infer _Event,
    infer _Children,
    infer TActor,
    infer _Action,
    infer _Guard,
    infer _Delay,
    infer _StateValue,
    infer _Tag,
    infer _Input,
    infer _Output,
    infer _Emitted,
    infer _Meta,
    infer _Schema,
    infer _TransitionMeta
  >
    ? TActor
    : never;
type EffectLogicOf<TMachine, TName> = Extract<ProvidedActorsOf<TMachine>, { src: TName }>['logic'];

/** The names of the effects a module's machine invokes (its `setup({ actors })` keys). */
export type EffectNameOf<TModule extends AnyMachineModule> = ProvidedActorsOf<TModule['machine']>['src'] & string;
/** The input a named effect is invoked with, as the machine declares it with `effect<Output, Input>()`. */
export type EffectInputOf<TModule extends AnyMachineModule, TName extends EffectNameOf<TModule>> = InputFrom<
  EffectLogicOf<TModule['machine'], TName>
>;
/** The output a named effect must resolve with, as the machine declares it. */
export type EffectOutputOf<TModule extends AnyMachineModule, TName extends EffectNameOf<TModule>> = OutputFrom<
  EffectLogicOf<TModule['machine'], TName>
>;

export function defineMachineModule<TMachine extends AnyStateMachine>(module: MachineModule<TMachine>): MachineModule<TMachine> {
  return module;
}

/**
 * Declares invoked work by its types only. The durable runtime never runs
 * XState's own promise actors: it records the invocation, runs the matching
 * effect handler with an idempotency key, and feeds the result back as
 * `xstate.done.actor.<id>` / `xstate.error.actor.<id>`. The placeholder body
 * only exists so the machine type-checks and can never run by accident.
 */
export function effect<TOutput, TInput>() {
  return fromPromise<TOutput, TInput>(() => Promise.reject(new Error('effects run in the durable runtime, not inside the machine')));
}

/** The shape of `event.error` delivered to `onError` of an invoked effect. */
export interface EffectFailure {
  /**
   * The runtime's own (`effect_failed`, `effect_timeout`, `effect_not_implemented`),
   * a connector kit's (`network_error`, `http_400`, …) or the partner's own: a
   * string here, since it arrives as data; the effect side types them.
   */
  code: string;
  message: string;
  retryable: boolean;
  attempts: number;
}
