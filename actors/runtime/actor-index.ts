import type { Collection } from 'mongodb';
import type { Logger } from 'winston';
import type { ActorDoc } from '../../persistence/collections.ts';
import type { StateChange } from './runtime.ts';

/**
 * The inspection lists' index, in memory: every actor's type, id, state,
 * tags and times, kept newest first. FerretDB's SQLite backend pushes only
 * `_id` lookups down to SQLite — a filtered, sorted list of 100 000 actors
 * would read and sort every document (seconds) — so the lists are answered
 * from here: loaded once from the `actors` projection, kept current by this
 * process's own commits at once and by other processes' within
 * `refreshMs` (a background read of what changed). About 200 bytes an actor.
 */

export interface IndexedActor {
  key: string;
  type: string;
  id: string;
  state: string;
  status: string;
  tags: string[];
  revision: number;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface ActorQuery {
  type?: string;
  state?: string;
  tag?: string;
  /** id prefix */
  q?: string;
  updatedBefore?: number;
  cursor?: { at: number; key: string };
  /** any further condition */
  where?: (actor: IndexedActor) => boolean;
  limit: number;
}

/** An actor's index entry, from its projection. */
export function indexedOf(doc: Omit<ActorDoc, 'snapshot' | 'runtime'>): IndexedActor {
  return {
    key: doc._id,
    type: doc.type,
    id: doc.id,
    state: doc.state,
    status: doc.status,
    tags: doc.tags ?? [],
    revision: doc.revision,
    version: doc.version,
    createdAt: doc.createdAt.getTime(),
    updatedAt: doc.updatedAt.getTime(),
  };
}

const newestFirst = (a: IndexedActor, b: IndexedActor) => b.updatedAt - a.updatedAt || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0);

export class ActorIndex {
  private readonly byKey = new Map<string, IndexedActor>();
  private sorted: IndexedActor[] | null = null;
  private loaded = false;
  private lastSeen = 0;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly actors: Collection<ActorDoc>,
    private readonly logger: Logger,
    private readonly options: { refreshMs?: number } = {},
  ) {}

  get ready(): boolean {
    return this.loaded;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Loads the index in the background; lists use the database until it is ready. */
  start(): void {
    const began = Date.now();
    this.refreshing = this.read({})
      .then(() => {
        this.loaded = true;
        this.logger.info('actor index loaded', { actors: this.byKey.size, ms: Date.now() - began });
      })
      .catch((error: unknown) => {
        this.logger.warn('actor index could not be loaded; lists read the database', { error: String(error) });
      })
      .finally(() => {
        this.refreshing = null;
      });
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 15_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Resolves when a load or refresh in progress is done. */
  async idle(): Promise<void> {
    await this.refreshing;
  }

  /** A commit of this process: applied at once. */
  note(change: StateChange): void {
    this.upsert({
      key: `${change.type}/${change.id}`,
      type: change.type,
      id: change.id,
      state: change.to,
      status: change.status,
      tags: change.tags,
      revision: change.revision,
      version: change.version,
      createdAt: change.from === null ? change.at : (this.byKey.get(`${change.type}/${change.id}`)?.createdAt ?? change.at),
      updatedAt: change.at,
    });
  }

  /** Other processes' commits, from the projection (written a moment behind their journals). */
  refresh(): Promise<void> {
    if (!this.loaded || this.refreshing) return this.refreshing ?? Promise.resolve();
    this.refreshing = this.read({ updatedAt: { $gte: new Date(this.lastSeen - 5_000) } })
      .catch((error: unknown) => {
        this.logger.warn('actor index refresh failed', { error: String(error) });
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private async read(filter: Record<string, unknown>): Promise<void> {
    const cursor = this.actors.find(filter, { projection: { snapshot: 0, runtime: 0 }, batchSize: 5_000 });
    for await (const doc of cursor) {
      this.upsert(indexedOf(doc));
    }
  }

  private upsert(entry: IndexedActor): void {
    const known = this.byKey.get(entry.key);
    if (known && known.revision > entry.revision) return;
    this.byKey.set(entry.key, entry);
    this.sorted = null;
    if (entry.updatedAt > this.lastSeen) this.lastSeen = entry.updatedAt;
  }

  private ordered(): IndexedActor[] {
    this.sorted ??= [...this.byKey.values()].sort(newestFirst);
    return this.sorted;
  }

  /** Newest first, from after the cursor; `limit` matches at most. */
  query(query: ActorQuery): IndexedActor[] {
    const all = this.ordered();
    let start = 0;
    if (query.cursor) {
      // the first entry strictly after the cursor (binary search on the newest-first order)
      const probe = { updatedAt: query.cursor.at, key: query.cursor.key } as IndexedActor;
      let low = 0;
      let high = all.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (newestFirst(all[mid] as IndexedActor, probe) <= 0) low = mid + 1;
        else high = mid;
      }
      start = low;
    }
    const out: IndexedActor[] = [];
    for (let i = start; i < all.length && out.length < query.limit; i += 1) {
      const a = all[i] as IndexedActor;
      if (query.type && a.type !== query.type) continue;
      if (query.state && a.state !== query.state) continue;
      if (query.tag && !a.tags.includes(query.tag)) continue;
      if (query.q && !a.id.startsWith(query.q)) continue;
      if (query.updatedBefore !== undefined && a.updatedAt >= query.updatedBefore) continue;
      if (query.where && !query.where(a)) continue;
      out.push(a);
    }
    return out;
  }

  /** Actors per state of one machine type. */
  counts(type: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const a of this.byKey.values()) if (a.type === type) counts[a.state] = (counts[a.state] ?? 0) + 1;
    return counts;
  }
}
