import type { Collection, Filter } from 'mongodb';
import { AppError, errors } from '../../common/errors.ts';
import type { AnyMachineModule, ContextOf, PersistedSnapshotJson } from '../../machines/machine-module.ts';
import type { ActorDoc } from '../../persistence/collections.ts';
import { indexedOf, type ActorIndex, type IndexedActor } from './actor-index.ts';
import { migrateSnapshot, SnapshotVersionError } from './machine-glue.ts';
import type { ActorView, ActorRuntime } from './runtime.ts';

/** Which actors: every field narrows. Times are half-open ranges: `from` included, `before` excluded. */
export interface ActorFilter {
  type?: string;
  /** any of these states (flattened, e.g. `fulfilment.awaitingShipment`) */
  states?: readonly string[];
  tag?: string;
  idPrefix?: string;
  createdFrom?: Date;
  createdBefore?: Date;
  updatedFrom?: Date;
  updatedBefore?: Date;
}

export type ActorOrder = 'newestUpdated' | 'oldestUpdated' | 'newestCreated' | 'oldestCreated' | 'byId';

export interface ListOptions {
  order?: ActorOrder;
  /** at most this many (all when unset) */
  limit?: number;
  /** `newestUpdated` only: the page after this actor (the last one of the previous page) */
  after?: { updatedAt: Date; key: string };
}

/** An actor in a list: what it is and where it stands, without its context (the index's entry, with dates). */
export type ActorSummary = Omit<IndexedActor, 'createdAt' | 'updatedAt'> & { createdAt: Date; updatedAt: Date };

const SORTS: Record<ActorOrder, Record<string, 1 | -1>> = {
  newestUpdated: { updatedAt: -1, _id: -1 },
  oldestUpdated: { updatedAt: 1, _id: 1 },
  newestCreated: { createdAt: -1, _id: -1 },
  oldestCreated: { createdAt: 1, _id: 1 },
  byId: { id: 1 },
};

/**
 * The one way to find actors other than by id. Lists of summaries come from
 * the in-memory actor index once it is loaded (FerretDB pushes only `_id`
 * lookups down, so a filtered sort of the projection reads every document),
 * else from the projection; views with their context always come from the
 * projection, restored through the machine's migrations and typed by it.
 * Both see this process's latest commits: its projections are flushed first.
 */
export class ActorQueries {
  constructor(
    private readonly deps: {
      runtime: ActorRuntime;
      actors: Collection<ActorDoc>;
      /** the inspection index; lists use the database until it is ready */
      index?: ActorIndex | null;
    },
  ) {}

  /** Summaries (no context), newest updated first by default. */
  async summaries(filter: ActorFilter, options: ListOptions = {}): Promise<ActorSummary[]> {
    const order = options.order ?? 'newestUpdated';
    const { index } = this.deps;
    if (index?.ready && order === 'newestUpdated') return this.fromIndex(index, filter, options);
    await this.deps.runtime.flushProjections();
    const docs = await this.documents(filter, options, { snapshot: 0, runtime: 0 });
    return docs.map(summaryOf);
  }

  /** The actors of one machine with their context, migrated to the machine's version and typed by it. */
  async views<TModule extends AnyMachineModule>(
    module: TModule,
    filter: Omit<ActorFilter, 'type'> = {},
    options: ListOptions = {},
  ): Promise<Array<ActorView<ContextOf<TModule>>>> {
    this.assertRegistered(module);
    await this.deps.runtime.flushProjections();
    const docs = await this.documents({ ...filter, type: module.type }, options);
    // viewOfStored restores through this very module (registered under its type), so the context is its context
    return docs.map((doc) => this.deps.runtime.viewOfStored(doc) as ActorView<ContextOf<TModule>>);
  }

  /**
   * Only the contexts, for jobs that read many actors and need nothing else: migrated
   * like views, without resolving each snapshot against the machine (its cost is most of
   * a view's).
   */
  async contexts<TModule extends AnyMachineModule>(
    module: TModule,
    filter: Omit<ActorFilter, 'type'> = {},
    options: ListOptions = {},
  ): Promise<Array<{ id: string; state: string; context: ContextOf<TModule> }>> {
    this.assertRegistered(module);
    await this.deps.runtime.flushProjections();
    const docs = await this.documents({ ...filter, type: module.type }, options);
    return docs.map((doc) => {
      let migrated: PersistedSnapshotJson;
      try {
        const stored = this.deps.runtime.personalData.openSnapshot(module, JSON.parse(doc.snapshot) as PersistedSnapshotJson);
        migrated = migrateSnapshot(module, doc.version, stored);
      } catch (error) {
        if (error instanceof SnapshotVersionError)
          throw errors.unsupportedVersion(doc._id, error.storedVersion, error.currentVersion, error.reason);
        throw error;
      }
      // migrated to this module's version, whose context it now is
      return { id: doc.id, state: doc.state, context: migrated.context as ContextOf<TModule> };
    });
  }

  /** One actor as last committed, or null when there is none. */
  async find<TModule extends AnyMachineModule>(module: TModule, id: string): Promise<ActorView<ContextOf<TModule>> | null> {
    try {
      return await this.deps.runtime.of(module).get(id);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return null;
      throw error;
    }
  }

  /** How many actors of a type are in each state. */
  async countByState(type: string): Promise<Record<string, number>> {
    if (this.deps.index?.ready) return this.deps.index.counts(type);
    await this.deps.runtime.flushProjections();
    const counts: Record<string, number> = {};
    const docs = await this.deps.actors.find({ type }, { projection: { state: 1 } }).toArray();
    for (const doc of docs) counts[doc.state] = (counts[doc.state] ?? 0) + 1;
    return counts;
  }

  private fromIndex(index: ActorIndex, filter: ActorFilter, options: ListOptions): ActorSummary[] {
    const states = filter.states ? new Set(filter.states) : null;
    const found = index.query({
      ...(filter.type ? { type: filter.type } : {}),
      ...(filter.tag ? { tag: filter.tag } : {}),
      ...(filter.idPrefix ? { q: filter.idPrefix } : {}),
      ...(filter.updatedBefore ? { updatedBefore: filter.updatedBefore.getTime() } : {}),
      ...(options.after ? { cursor: { at: options.after.updatedAt.getTime(), key: options.after.key } } : {}),
      ...(states || filter.createdFrom || filter.createdBefore || filter.updatedFrom
        ? { where: (a: IndexedActor) => matchesIndexed(a, filter, states) }
        : {}),
      limit: options.limit ?? Number.POSITIVE_INFINITY,
    });
    return found.map((a) => ({ ...a, createdAt: new Date(a.createdAt), updatedAt: new Date(a.updatedAt) }));
  }

  private documents(filter: ActorFilter, options: ListOptions, projection?: Record<string, 0>): Promise<ActorDoc[]> {
    let cursor = this.deps.actors
      .find(mongoFilter(filter, options.after), projection ? { projection } : {})
      .sort(SORTS[options.order ?? 'newestUpdated']);
    if (options.limit !== undefined) cursor = cursor.limit(options.limit);
    return cursor.toArray();
  }

  private assertRegistered(module: AnyMachineModule): void {
    this.deps.runtime.of(module);
  }
}

function matchesIndexed(a: IndexedActor, filter: ActorFilter, states: Set<string> | null): boolean {
  if (states && !states.has(a.state)) return false;
  if (filter.createdFrom && a.createdAt < filter.createdFrom.getTime()) return false;
  if (filter.createdBefore && a.createdAt >= filter.createdBefore.getTime()) return false;
  if (filter.updatedFrom && a.updatedAt < filter.updatedFrom.getTime()) return false;
  return true;
}

function mongoFilter(filter: ActorFilter, after: ListOptions['after']): Filter<ActorDoc> {
  const conditions: Filter<ActorDoc>[] = [];
  if (filter.type) conditions.push({ type: filter.type });
  if (filter.states) conditions.push(filter.states.length === 1 ? { state: filter.states[0] } : { state: { $in: [...filter.states] } });
  if (filter.tag) conditions.push({ tags: filter.tag });
  if (filter.idPrefix) conditions.push({ id: { $regex: new RegExp(`^${filter.idPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) } });
  const created: { $gte?: Date; $lt?: Date } = {};
  if (filter.createdFrom) created.$gte = filter.createdFrom;
  if (filter.createdBefore) created.$lt = filter.createdBefore;
  if (created.$gte || created.$lt) conditions.push({ createdAt: created });
  const updated: { $gte?: Date; $lt?: Date } = {};
  if (filter.updatedFrom) updated.$gte = filter.updatedFrom;
  if (filter.updatedBefore) updated.$lt = filter.updatedBefore;
  if (updated.$gte || updated.$lt) conditions.push({ updatedAt: updated });
  if (after) conditions.push({ $or: [{ updatedAt: { $lt: after.updatedAt } }, { updatedAt: after.updatedAt, _id: { $lt: after.key } }] });
  if (conditions.length === 0) return {};
  return conditions.length === 1 ? (conditions[0] as Filter<ActorDoc>) : { $and: conditions };
}

function summaryOf(doc: ActorDoc): ActorSummary {
  return { ...indexedOf(doc), createdAt: doc.createdAt, updatedAt: doc.updatedAt };
}
