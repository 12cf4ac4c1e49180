import { createHash, randomUUID } from 'node:crypto';
import { initialTransition, transition, type AnyMachineSnapshot, type EventObject } from 'xstate';
import type { Logger } from 'winston';
import { KeyedQueue } from '../../common/keyed-queue.ts';
import { AppError, errors } from '../../common/errors.ts';
import type { AnyMachineModule, ContextOf, EventOf, InputOf, MachineModule, PersistedSnapshotJson } from '../../machines/machine-module.ts';
import type {
  ActorDoc,
  EffectDoc,
  EventOutboxDoc,
  JournalDoc,
  JournalOrigin,
  RuntimeMeta as StoredRuntimeMeta,
  TimerDoc,
} from '../../persistence/collections.ts';
import type { Clock } from './clock.ts';
import type { ActorCommands } from './effect-actors.ts';
import { fromRoutedError, type ActorRouter, type EffectRef, type RoutedAnswer, type RoutedCall, type TimerRef } from './actor-routing.ts';
import type { ActorView, CommandOptions, CommandResult } from './views.ts';
import { planWork, type Delivery, type RuntimeMeta } from './durable-work.ts';
import { LruCache } from './lru.ts';
import {
  acceptedEvents,
  flattenStateValue,
  persistSnapshot,
  refusalOf,
  restoreSnapshot,
  SnapshotVersionError,
  tagsOf,
  workOf,
} from './machine-glue.ts';
import type { PersonalDataSealer } from './personal-data.ts';
import { domainEventNameOf, domainEventSubject } from './domain-events.ts';
import type { MachineRegistry } from './registry.ts';
import { actorKey, journalId, type ActorStore, type CommitRequest } from './store.ts';

const toStoredMeta = (meta: RuntimeMeta): StoredRuntimeMeta => ({
  effects: Object.entries(meta.effects).map(([invokeId, effectId]) => ({ invokeId, effectId })),
  timers: Object.entries(meta.timers).map(([sendId, timerId]) => ({ sendId, timerId })),
});

const fromStoredMeta = (stored: StoredRuntimeMeta | undefined): RuntimeMeta => ({
  effects: Object.fromEntries((stored?.effects ?? []).map((e) => [e.invokeId, e.effectId])),
  timers: Object.fromEntries((stored?.timers ?? []).map((t) => [t.sendId, t.timerId])),
});

/** An actor held in memory between events. */
interface LiveActor {
  key: string;
  type: string;
  id: string;
  module: MachineModule;
  revision: number;
  snapshot: AnyMachineSnapshot;
  runtime: RuntimeMeta;
  createdAt: Date;
  updatedAt: Date;
}

export type { ActorView, CommandOptions, CommandResult } from './views.ts';

/** Work committed by a transition that the workers must pick up. */
export interface CommittedWork {
  effects: EffectDoc[];
  timers: TimerDoc[];
}

/** One machine's actors, typed by its module: events, input and context are checked by the compiler. */
export interface ActorHandle<TModule extends AnyMachineModule> {
  readonly module: TModule;
  create(id: string | undefined, input: InputOf<TModule>, options: CommandOptions): Promise<CommandResult<ContextOf<TModule>>>;
  send(id: string, event: EventOf<TModule>, options: CommandOptions): Promise<CommandResult<ContextOf<TModule>>>;
  get(id: string): Promise<ActorView<ContextOf<TModule>>>;
}

/**
 * applied: the event was committed; obsolete: the actor no longer waits for it
 * (its state was left, or it was delivered already); uncommitted: the
 * transition that created it has not landed (yet, or ever).
 */
export type DeliveryOutcome = 'applied' | 'obsolete' | 'uncommitted';

const MAX_COMMIT_ATTEMPTS = 50;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface ActorRuntimeOptions {
  store: ActorStore;
  registry: MachineRegistry;
  logger: Logger;
  clock: Clock;
  cacheSize: number;
  /** seals the personal data machines declare before anything is stored, opens it when read */
  personalData: PersonalDataSealer;
  /** Called after every commit with the effects and timers it created (the workers' fast path). */
  onCommitted?: (work: CommittedWork) => void;
  /** Record each transition's domain event in the outbox, for the publisher (`HUB_EVENTS`). */
  domainEvents?: boolean;
  /** Called after every commit that recorded a domain event (the publisher's fast path). Must not throw. */
  onDomainEvent?: (event: EventOutboxDoc) => void;
  /** Called after every committed transition (alerts on states that need a person, metrics). Must not throw. */
  onTransitioned?: (change: StateChange) => void;
  /** In a hub of several processes: hands each actor's commands to the process that owns it (see actor-routing.ts). */
  router?: ActorRouter;
}

/** Counters of one process's runtime. */
export interface RuntimeCounts {
  /** commits that found their revision taken (a stale cached actor, or a race with another process) */
  revisionConflicts: number;
  /** calls this process handed to the owning process, by how they ended */
  routed: Record<RoutedAnswer['kind'], number>;
  /** calls other processes handed to this one */
  routedHere: number;
  /** projections this process mended from the journal, left unwritten by a process that stopped */
  projectionsRepaired: number;
}

/** One committed transition, as the outside world may want to hear of it. */
export interface StateChange {
  type: string;
  id: string;
  revision: number;
  eventType: string;
  /** null for the creation of the actor */
  from: string | null;
  to: string;
  status: string;
  tags: string[];
  previousTags: string[];
  version: number;
  /** commit time, epoch ms */
  at: number;
  /** the machine's context after the transition (read it, never change it) */
  context: unknown;
}

/**
 * The durable actor runtime. Machines are evaluated with XState's pure
 * `transition()`; each transition is committed as one journal entry whose
 * unique `(actor, revision)` id is the commit point, together with the
 * invocations and delayed events it asked for. Nothing runs before it is
 * persisted, and nothing persisted is lost by a crash.
 */
export class ActorRuntime {
  private readonly cache: LruCache<string, LiveActor>;
  private readonly queues = new KeyedQueue();
  private readonly counts: RuntimeCounts = {
    revisionConflicts: 0,
    routed: { done: 0, failed: 0, undelivered: 0, lost: 0 },
    routedHere: 0,
    projectionsRepaired: 0,
  };

  constructor(private readonly options: ActorRuntimeOptions) {
    this.cache = new LruCache(options.cacheSize);
    options.router?.serve((call) => this.runHere(call));
  }

  get cachedActors(): number {
    return this.cache.size;
  }

  /** What this process counted since it started (metrics). */
  countsNow(): RuntimeCounts {
    return { ...this.counts, routed: { ...this.counts.routed }, projectionsRepaired: this.options.store.projectionsRepaired };
  }

  get registry(): MachineRegistry {
    return this.options.registry;
  }

  get personalData(): PersonalDataSealer {
    return this.options.personalData;
  }

  /**
   * The typed way in: `runtime.of(orderModule).send(id, event)` checks the
   * event against the machine and answers its context typed. The module must
   * be the one registered under its type.
   */
  of<TModule extends AnyMachineModule>(module: TModule): ActorHandle<TModule> {
    if (this.options.registry.get(module.type) !== module) {
      throw new Error(`machine "${module.type}" is registered with another definition than the one asked for`);
    }
    // The registry holds this very module, so what the untyped commands answer is its context.
    return {
      module,
      create: (id, input, options) => this.create(module.type, id, input, options) as Promise<CommandResult<ContextOf<TModule>>>,
      send: (id, event, options) => this.send(module.type, id, event, options) as Promise<CommandResult<ContextOf<TModule>>>,
      get: (id) => this.get(module.type, id) as Promise<ActorView<ContextOf<TModule>>>,
    };
  }

  /** The typed commands effects use to tell other actors (see `effectActors`). */
  readonly commands: ActorCommands = {
    create: (module, id, input, options) => this.of(module).create(id, input, options),
    send: (module, id, event, options) => this.of(module).send(id, event, options),
    get: (module, id) => this.of(module).get(id),
  };

  async create(type: string, id: string | undefined, input: unknown, options: CommandOptions): Promise<CommandResult> {
    const module = this.options.registry.get(type);
    if (module.inputSchema) {
      const parsed = module.inputSchema.safeParse(input);
      if (!parsed.success) throw errors.badRequest(`invalid input for "${type}"`, issuesOf(parsed.error));
      input = parsed.data;
    }
    // Without an explicit id, a retried request must land on the same actor.
    const actorId = id ?? (options.idempotencyKey ? derivedId(type, options.idempotencyKey) : randomUUID());
    if (!ID_PATTERN.test(actorId)) {
      throw errors.badRequest(`actor id must match ${ID_PATTERN}`, [{ path: 'id', message: 'invalid actor id' }]);
    }
    return this.routed(actorKey(type, actorId), { op: 'create', type, id: actorId, input, options }, () =>
      this.createHere(module, actorId, input, options),
    );
  }

  /** `create` with its input parsed and its id chosen, in the process that owns the actor. */
  private createHere(module: MachineModule, actorId: string, input: unknown, options: CommandOptions): Promise<CommandResult> {
    const { type } = module;
    const idem = options.idempotencyKey ? `create:${type}|${options.idempotencyKey}` : undefined;
    const key = actorKey(type, actorId);
    return this.serialise(key, async () => {
      for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt += 1) {
        if (this.cache.get(key)) {
          const replay = idem ? await this.replayOf(idem, options, false) : null;
          if (replay) return replay;
          // the key's record may be missing (a crash right after the commit): revision 1 names its key
          const first = idem ? await this.options.store.journalEntry(key, 1) : null;
          if (first && first.idem === idem) return this.replayEntry(first, options);
          throw errors.actorExists(type, actorId);
        }
        if (attempt > 0) {
          // Revision 1 is taken: by a duplicate of this very request, or by another actor with this id.
          const first = await this.options.store.journalEntry(key, 1);
          if (first) {
            if (idem && first.idem === idem) return this.replayEntry(first, options);
            throw errors.actorExists(type, actorId);
          }
        }
        // No read before writing: the unique journal id of revision 1 tells whether the actor exists.
        const [snapshot, actions] = initialTransition(module.machine, input);
        const result = await this.commit({
          module,
          actor: { key, type, id: actorId },
          previous: null,
          next: snapshot,
          actions,
          delivery: { kind: 'external' },
          eventType: 'xstate.init',
          event: { type: 'xstate.init', input },
          idem,
          options,
        });
        if (!isConflict(result)) return { actor: result, replayed: false };
        if (result.conflict === 'idempotency' && idem) {
          const replay = await this.replayOf(idem, options, true);
          if (replay) return replay;
        }
      }
      throw errors.contention(key);
    });
  }

  async send(type: string, id: string, event: EventObject, options: CommandOptions): Promise<CommandResult> {
    const module = this.options.registry.get(type);
    if (event.type.startsWith('xstate.')) {
      throw errors.badRequest('events named xstate.* are internal to the runtime', [{ path: 'type', message: 'reserved event type' }]);
    }
    if (module.eventSchema) {
      const parsed = module.eventSchema.safeParse(event);
      if (!parsed.success) throw errors.badRequest(`invalid event for "${type}"`, issuesOf(parsed.error));
      event = parsed.data as EventObject;
    }
    return this.routed(actorKey(type, id), { op: 'send', type, id, event, options }, () => this.sendHere(module, id, event, options));
  }

  /** `send` with its event parsed, in the process that owns the actor. */
  private sendHere(module: MachineModule, id: string, event: EventObject, options: CommandOptions): Promise<CommandResult> {
    const key = actorKey(module.type, id);
    const idem = options.idempotencyKey ? `${key}|${options.idempotencyKey}` : undefined;
    return this.serialise(key, async () => {
      // No read of the idempotency record up front: the journal's unique index on the
      // key turns a repeat into a commit conflict, and only then is the first result read.
      let believedRevision: number | null = null;
      // a refusal judged on the cached copy is judged again on the stored one (another process may have moved it on)
      let fresh = false;
      for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt += 1) {
        const actor = await this.current(key, module, fresh);
        if (!actor) {
          const replay = idem ? await this.replayOf(idem, options, false) : null;
          if (replay) return replay;
          throw errors.notFound(`actor ${key}`);
        }
        if (idem && believedRevision !== null && actor.revision > believedRevision) {
          // We lost a race: the entries we missed may be a concurrent duplicate of this request.
          const missed = await this.options.store.readJournal(key, believedRevision, actor.revision - believedRevision);
          const duplicate = missed.find((entry) => entry.idem === idem);
          if (duplicate) return this.replayEntry(duplicate, options);
        }
        let result: ActorView | Conflict;
        try {
          result = await this.apply(actor, event, { kind: 'external' }, { idem, options });
        } catch (error) {
          if (!fresh && error instanceof AppError && error.code === 'event_not_accepted') {
            fresh = true;
            believedRevision = actor.revision;
            continue;
          }
          // A repeat that the state no longer accepts still answers with its first result.
          const replay = idem && error instanceof AppError && error.status < 500 ? await this.replayOf(idem, options, false) : null;
          if (replay) return replay;
          throw error;
        }
        if (!isConflict(result)) return { actor: result, replayed: false };
        if (result.conflict === 'idempotency' && idem) {
          const replay = await this.replayOf(idem, options, true);
          if (replay) return replay;
        }
        believedRevision = actor.revision;
      }
      throw errors.contention(key);
    });
  }

  /** Delivers an effect's result; a result for an invocation the actor no longer waits for is dropped. */
  deliverEffectResult(effect: EffectRef, event: EventObject): Promise<DeliveryOutcome> {
    const key = actorKey(effect.type, effect.actorId);
    return this.routed(key, { op: 'deliverEffect', effect: refOfEffect(effect), event }, () => this.deliverEffectHere(effect, event));
  }

  private deliverEffectHere(effect: EffectRef, event: EventObject): Promise<DeliveryOutcome> {
    return this.deliver(effect.type, effect.actorId, effect.revision, event, {
      kind: 'effect',
      effectId: effect._id,
      invokeId: effect.invokeId,
    });
  }

  deliverTimer(timer: TimerRef): Promise<DeliveryOutcome> {
    const key = actorKey(timer.type, timer.actorId);
    return this.routed(key, { op: 'deliverTimer', timer: refOfTimer(timer) }, () => this.deliverTimerHere(timer));
  }

  private deliverTimerHere(timer: TimerRef): Promise<DeliveryOutcome> {
    return this.deliver(timer.type, timer.actorId, timer.revision, JSON.parse(timer.event) as EventObject, {
      kind: 'timer',
      timerId: timer._id,
      sendId: timer.sendId,
    });
  }

  /** Does the actor still wait for this effect? Checked before running it. */
  effectStatus(effect: EffectRef): Promise<Exclude<DeliveryOutcome, 'applied'> | 'live'> {
    const key = actorKey(effect.type, effect.actorId);
    return this.routed(key, { op: 'effectStatus', effect: refOfEffect(effect) }, () => this.effectStatusHere(effect));
  }

  private effectStatusHere(effect: EffectRef): Promise<Exclude<DeliveryOutcome, 'applied'> | 'live'> {
    const module = this.options.registry.get(effect.type);
    const key = actorKey(effect.type, effect.actorId);
    return this.serialise(key, async () => {
      const actor = await this.current(key, module, true);
      if (actor && actor.snapshot.status === 'active' && actor.runtime.effects[effect.invokeId] === effect._id) return 'live';
      return !actor || actor.revision < effect.revision ? 'uncommitted' : 'obsolete';
    });
  }

  get(type: string, id: string): Promise<ActorView> {
    const module = this.options.registry.get(type);
    return this.routed(actorKey(type, id), { op: 'get', type, id }, () => this.getHere(module, id));
  }

  private getHere(module: MachineModule, id: string): Promise<ActorView> {
    const key = actorKey(module.type, id);
    return this.serialise(key, async () => {
      const actor = await this.current(key, module, true);
      if (!actor) throw errors.notFound(`actor ${key}`);
      return viewOf(actor);
    });
  }

  /** Waits for every queued command to finish (graceful shutdown). */
  async idle(): Promise<void> {
    while (this.queues.size > 0) {
      await this.queues.idle();
    }
    await this.options.store.drain();
  }

  /** Writes the `actors` projection of this process's commits now (lists and jobs that query by state read it). */
  flushProjections(): Promise<void> {
    return this.options.store.drain();
  }

  /**
   * A stored projection as callers see actors: its snapshot brought up to the
   * machine's version by the declared migrations (or refused), never cast.
   */
  viewOfStored(doc: ActorDoc): ActorView {
    return viewOf(liveOfStored(this.options.registry.get(doc.type), doc, this.options.personalData));
  }

  evictAll(): void {
    this.cache.clear();
  }

  /** Drops one actor from memory: its next read loads what is stored (after its stored data was rewritten). */
  evict(type: string, id: string): void {
    this.cache.delete(actorKey(type, id));
  }

  private async deliver(
    type: string,
    id: string,
    createdAtRevision: number,
    event: EventObject,
    delivery: Exclude<Delivery, { kind: 'external' }>,
  ): Promise<DeliveryOutcome> {
    const module = this.options.registry.get(type);
    const key = actorKey(type, id);
    const origin: JournalOrigin =
      delivery.kind === 'effect' ? { kind: 'effect', effectId: delivery.effectId } : { kind: 'timer', timerId: delivery.timerId };
    return this.serialise(key, async () => {
      for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt += 1) {
        const actor = await this.current(key, module, true);
        if (!actor || actor.revision < createdAtRevision) return 'uncommitted';
        const live =
          delivery.kind === 'effect'
            ? actor.runtime.effects[delivery.invokeId] === delivery.effectId
            : actor.runtime.timers[delivery.sendId] === delivery.timerId;
        if (!live || actor.snapshot.status !== 'active') return 'obsolete';
        const result = await this.apply(actor, event, delivery, { idem: undefined, options: { origin } });
        if (!isConflict(result)) return 'applied';
      }
      throw errors.contention(key);
    });
  }

  /** Applies one event to the actor's current revision; a conflict means another writer won (reload and retry). */
  private async apply(
    actor: LiveActor,
    event: EventObject,
    delivery: Delivery,
    extra: { idem: string | undefined; options: CommandOptions },
  ): Promise<ActorView | Conflict> {
    const { snapshot } = actor;
    const state = flattenStateValue(snapshot.value);
    if (delivery.kind === 'external' && (snapshot.status !== 'active' || !snapshot.can(event))) {
      throw errors.eventNotAccepted(state, event.type, acceptedEvents(snapshot), snapshot.status, refusalOf(actor.module, snapshot, event));
    }
    let next: AnyMachineSnapshot;
    let actions: Parameters<typeof workOf>[0];
    try {
      [next, actions] = transition(actor.module.machine, snapshot, event);
    } catch (error) {
      throw errors.machineError(`machine "${actor.type}" failed on ${event.type}: ${(error as Error).message}`);
    }
    return this.commit({
      module: actor.module,
      actor: { key: actor.key, type: actor.type, id: actor.id },
      previous: actor,
      next,
      actions,
      delivery,
      eventType: event.type,
      event,
      idem: extra.idem,
      options: extra.options,
    });
  }

  /** The domain event a transition ending in `state` publishes, by its module's declaration. */
  private domainEventOf(
    module: AnyMachineModule,
    actor: { key: string; type: string; id: string },
    commitId: string,
    revision: number,
    state: string,
    context: unknown,
    at: Date,
  ): EventOutboxDoc {
    const declared = module.domainEvents;
    const event = declared ? (domainEventNameOf(declared, state) ?? 'changed') : 'changed';
    let data: unknown = null;
    if (declared) {
      const parsed = declared.data.safeParse(context);
      if (parsed.success) data = parsed.data;
      // the commit goes on: a subscriber gets the event without its data rather than no event
      else
        this.options.logger.error("a domain event's data does not match its declaration", {
          type: actor.type,
          state,
          issues: parsed.error.issues.slice(0, 3),
        });
    }
    return {
      _id: commitId,
      actor: actor.key,
      type: actor.type,
      actorId: actor.id,
      revision,
      event,
      subject: domainEventSubject(actor.type, event),
      state,
      data: JSON.stringify(data),
      occurredAt: at,
    };
  }

  private notifyDomainEvent(event: EventOutboxDoc): void {
    try {
      this.options.onDomainEvent?.(event);
    } catch (error) {
      this.options.logger.error('a domain event listener failed', { actor: event.actor, error: String(error) });
    }
  }

  /** Builds and writes one revision. Returns a conflict on a lost race (the caller reloads and retries). */
  private async commit(revisionToWrite: RevisionToWrite): Promise<ActorView | Conflict> {
    const { module, previous, next, actions, delivery, eventType, event, idem, options } = revisionToWrite;
    const { key, type, id } = revisionToWrite.actor;
    if (next.status === 'error') {
      throw errors.machineError(`machine "${type}" entered an error state on ${eventType}: ${String(next.error)}`);
    }
    const work = workOf(actions);
    if (work.unsupported.length > 0) {
      throw errors.machineError(`machine "${type}" asked for work the durable runtime cannot keep: ${work.unsupported.join('; ')}`);
    }

    const now = new Date(this.options.clock.now());
    const revision = (previous?.revision ?? 0) + 1;
    const commitId = randomUUID();
    const planned = planWork({
      previous: previous?.runtime ?? null,
      next,
      work,
      delivery,
      commit: { id: commitId, revision, at: now },
      actor: { key, type, id },
    });
    const sealer = this.options.personalData;
    const { meta, newTimers, obsoleteEffects, obsoleteTimers } = planned;
    const newEffects = planned.newEffects.map((effect) => ({ ...effect, input: sealer.sealJson(effect.input) }));

    const persisted = JSON.stringify(sealer.sealSnapshot(module, persistSnapshot(module, next)));
    const personalIndex = module.personalData ? { personalIndex: sealer.indexOf(module, next.context) } : {};
    const to = flattenStateValue(next.value);
    const tags = tagsOf(next, module);
    const entryId = journalId(key, revision);
    const createdAt = previous?.createdAt ?? now;
    const journal: JournalDoc = {
      _id: entryId,
      actor: key,
      revision,
      commitId,
      version: module.version,
      eventType: eventType,
      event: JSON.stringify(sealer.sealEvent(module, eventType, event ?? null)),
      from: previous ? flattenStateValue(previous.snapshot.value) : null,
      to,
      status: next.status,
      tags,
      snapshot: persisted,
      runtime: toStoredMeta(meta),
      ...personalIndex,
      idem: idem ?? entryId,
      requestHash: options.requestHash ?? null,
      origin: options.origin,
      at: now,
      actorCreatedAt: createdAt,
    };
    const actorDoc: ActorDoc = {
      _id: key,
      type,
      id,
      version: module.version,
      revision,
      state: to,
      status: next.status,
      tags,
      snapshot: persisted,
      runtime: toStoredMeta(meta),
      ...personalIndex,
      createdAt,
      updatedAt: now,
    };
    const request: CommitRequest = {
      journal,
      actor: actorDoc,
      newEffects,
      newTimers,
      obsoleteEffects,
      obsoleteTimers,
      idempotency: idem ? { _id: idem, journalId: entryId, createdAt: now } : null,
      domainEvent: this.options.domainEvents
        ? this.domainEventOf(module, { key, type, id }, commitId, revision, to, next.context, now)
        : null,
    };

    const outcome = await this.options.store.commit(request);
    if (!outcome.ok) {
      // Someone else holds this revision (or this key): forget what we believed and start over.
      this.cache.delete(key);
      if (outcome.conflict === 'revision') this.counts.revisionConflicts += 1;
      return { conflict: outcome.conflict };
    }

    const live: LiveActor = {
      key,
      type,
      id,
      module,
      revision,
      snapshot: next,
      runtime: meta,
      createdAt,
      updatedAt: now,
    };
    this.cache.set(key, live);
    if (request.domainEvent) this.notifyDomainEvent(request.domainEvent);
    if (newEffects.length > 0 || newTimers.length > 0) {
      this.options.onCommitted?.({ effects: newEffects, timers: newTimers });
    }
    try {
      this.options.onTransitioned?.({
        type,
        id,
        revision,
        eventType: eventType,
        from: journal.from,
        to,
        status: next.status,
        tags,
        previousTags: previous ? tagsOf(previous.snapshot, module) : [],
        version: module.version,
        at: now.getTime(),
        context: next.context,
      });
    } catch (error) {
      this.options.logger.error('a transition listener failed', { type, id, error: String(error) });
    }
    return viewOf(live);
  }

  /** The first result of an idempotency key, if it was used before. */
  private async replayOf(idem: string, options: CommandOptions, searchJournal: boolean): Promise<CommandResult | null> {
    const entry = await this.options.store.findByIdempotencyKey(idem, searchJournal);
    return entry ? this.replayEntry(entry, options) : null;
  }

  private replayEntry(entry: JournalDoc, options: CommandOptions): CommandResult {
    if (options.requestHash && entry.requestHash && options.requestHash !== entry.requestHash) {
      throw errors.idempotencyKeyReused(options.idempotencyKey ?? entry.idem);
    }
    return { actor: this.viewOfJournal(entry), replayed: true };
  }

  private viewOfJournal(entry: JournalDoc): ActorView {
    const slash = entry.actor.indexOf('/');
    const type = entry.actor.slice(0, slash);
    const id = entry.actor.slice(slash + 1);
    const module = this.options.registry.get(type);
    const stored = JSON.parse(entry.snapshot) as PersistedSnapshotJson;
    const snapshot = restoreSnapshot(module, entry.version, this.options.personalData.openSnapshot(module, stored));
    return viewOf({
      key: entry.actor,
      type,
      id,
      module,
      revision: entry.revision,
      snapshot,
      runtime: fromStoredMeta(entry.runtime),
      createdAt: entry.actorCreatedAt ?? entry.at,
      updatedAt: entry.at,
    });
  }

  /**
   * The actor as last committed. From memory when cached (a cached actor can
   * only be behind if another process wrote it, which the next commit detects);
   * `fresh` adds one point read to catch that case for reads.
   */
  private async current(key: string, module: MachineModule, fresh = false): Promise<LiveActor | null> {
    const cached = this.cache.get(key);
    if (cached && (!fresh || !(await this.options.store.isStale(key, cached.revision)))) return cached;
    const stored = await this.options.store.load(key);
    if (!stored) {
      this.cache.delete(key);
      return null;
    }
    const live = liveOfStored(module, stored.doc, this.options.personalData);
    this.cache.set(key, live);
    return live;
  }

  /**
   * Runs a command here, or hands it to the process that owns the actor and
   * answers what that one answered. A call that never reached the owner runs
   * here; so does one the owner took before it died, when repeating it is
   * harmless (a read, a delivery the actor checks, a command with an
   * idempotency key). Anything else is answered 503: the caller repeats it.
   */
  private async routed<T>(key: string, call: RoutedCall, here: () => Promise<T>): Promise<T> {
    const router = this.options.router;
    if (!router?.isRemote(key)) return here();
    const answer = await router.forward(key, call);
    this.counts.routed[answer.kind] += 1;
    switch (answer.kind) {
      case 'done':
        return answer.value as T;
      case 'failed':
        throw fromRoutedError(answer.error);
      case 'undelivered':
        return here();
      case 'lost':
        if (repeatable(call)) return here();
        throw errors.unavailable(
          `the hub process that held actor ${key} ended while it ran this command; whether it was applied is unknown: ` +
            'read the actor, or send the command again with an Idempotency-Key',
        );
    }
  }

  /** A command another process handed to this one, the actor's owner: run here, never routed again. */
  private runHere(call: RoutedCall): Promise<unknown> {
    this.counts.routedHere += 1;
    switch (call.op) {
      case 'create':
        return this.createHere(this.options.registry.get(call.type), call.id, call.input, call.options);
      case 'send':
        return this.sendHere(this.options.registry.get(call.type), call.id, call.event, call.options);
      case 'get':
        return this.getHere(this.options.registry.get(call.type), call.id);
      case 'deliverEffect':
        return this.deliverEffectHere(call.effect, call.event);
      case 'deliverTimer':
        return this.deliverTimerHere(call.timer);
      case 'effectStatus':
        return this.effectStatusHere(call.effect);
    }
  }

  /** One command at a time per actor within this process; across processes the journal's unique id decides. */
  private serialise<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.queues.run(key, work);
  }
}

/** What `commit` writes as the actor's next revision: the transition, and the event and command that caused it. */
interface RevisionToWrite {
  module: MachineModule;
  /** named apart from `previous`, which a created actor does not have */
  actor: { key: string; type: string; id: string };
  /** the revision this one follows; null when the actor is created */
  previous: LiveActor | null;
  /** the snapshot `transition()` answered, and the actions it asked for (effects, timers, cancels) */
  next: AnyMachineSnapshot;
  actions: Parameters<typeof workOf>[0];
  delivery: Delivery;
  /** journalled as the entry's event */
  eventType: string;
  event: unknown;
  idem: string | undefined;
  options: CommandOptions;
}

interface Conflict {
  conflict: 'revision' | 'idempotency';
}

function isConflict(result: ActorView | Conflict): result is Conflict {
  return 'conflict' in result;
}

/** Restores a stored actor through its machine's migrations; a snapshot that cannot be migrated is refused (409). */
function liveOfStored(module: MachineModule, doc: ActorDoc, personalData: PersonalDataSealer): LiveActor {
  let snapshot: AnyMachineSnapshot;
  try {
    // opened at the paths declared now: a migration that moves personal data moves it opened
    const stored = personalData.openSnapshot(module, JSON.parse(doc.snapshot) as PersistedSnapshotJson);
    snapshot = restoreSnapshot(module, doc.version, stored);
  } catch (error) {
    if (error instanceof SnapshotVersionError) {
      throw errors.unsupportedVersion(doc._id, error.storedVersion, error.currentVersion, error.reason);
    }
    throw error;
  }
  return {
    key: doc._id,
    type: doc.type,
    id: doc.id,
    module,
    revision: doc.revision,
    snapshot,
    runtime: fromStoredMeta(doc.runtime),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

function viewOf(actor: LiveActor): ActorView {
  const { snapshot } = actor;
  const view: ActorView = {
    type: actor.type,
    id: actor.id,
    state: flattenStateValue(snapshot.value),
    value: snapshot.value,
    status: snapshot.status,
    context: snapshot.context,
    tags: tagsOf(snapshot, actor.module),
    accepts: acceptedEvents(snapshot),
    revision: actor.revision,
    version: actor.module.version,
    inFlight: { effects: Object.keys(actor.runtime.effects).sort(), timers: Object.keys(actor.runtime.timers).sort() },
    createdAt: actor.createdAt.toISOString(),
    updatedAt: actor.updatedAt.toISOString(),
  };
  if (snapshot.status === 'done') view.output = snapshot.output;
  return view;
}

function derivedId(type: string, idempotencyKey: string): string {
  return createHash('sha256').update(`${type}\n${idempotencyKey}`).digest('hex').slice(0, 32);
}

function issuesOf(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }) {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** Can a call be run again when it is unknown whether its first run took effect? */
function repeatable(call: RoutedCall): boolean {
  if (call.op === 'create' || call.op === 'send') return call.options.idempotencyKey !== undefined;
  // reads change nothing; a delivery applies only while the actor still waits for that effect or timer
  return true;
}

const refOfEffect = ({ _id, type, actorId, revision, invokeId }: EffectRef): EffectRef => ({ _id, type, actorId, revision, invokeId });
const refOfTimer = ({ _id, type, actorId, revision, sendId, event }: TimerRef): TimerRef => ({
  _id,
  type,
  actorId,
  revision,
  sendId,
  event,
});
