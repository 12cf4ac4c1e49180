import { createHash } from 'node:crypto';
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import type { Logger } from 'winston';
import type { AnyMachineModule, PersistedSnapshotJson } from '../../machines/machine-module.ts';
import { bulkWriteInCommands } from '../../persistence/bulk-write.ts';
import { isDuplicateKeyError, type Collections, type JournalDoc } from '../../persistence/collections.ts';
import { hubMetaCollection, MasterKeyError, type HubMetaDoc } from '../../persistence/secret-box.ts';
import { eventPathsOf, personalValuesOf, type PersonalDataSealer } from './personal-data.ts';
import type { MachineRegistry } from './registry.ts';
import { journalId, type ActorStore } from './store.ts';

/**
 * Personal data a hub stored before it sealed any (projections and journal entries in clear, without
 * `personalIndex`) is sealed by the runtime only when the actor is next written; a finished order never
 * is, so it would stay in clear and out of reach of "forget me". This pass seals it once, in the
 * background after the start, for every actor of a machine that declares personal data, and leaves a
 * marker in `hub_meta` when done, so later starts (of any process) skip it.
 *
 * Per actor: the journal newest first, the projection, and revision 1 last, so that revision 1 sealed
 * and indexed is the sign that the actor is done — the runtime indexes every entry it writes, so an
 * actor born sealed is done too. A pass that stops half-way (a crash, a stop) starts again from the
 * first actor, and an actor done before costs one point read.
 *
 * It must not undo a live actor's commit nor an erasure, and FerretDB's conditional updates are not
 * atomic (the filter is checked, then the document written), so each write is built to make that
 * window harmless:
 * - a journal entry is only ever rewritten by this pass or by forgetting; it is updated only while it
 *   still holds the text just read (`snapshot` and `event` in the filter), so an entry erased or sealed
 *   meanwhile is left as it is (and forgetting waits for this pass: `isComplete`);
 * - the projection is updated only at the revision just read; should a commit's projection land
 *   between the filter and the write, the projection now lags the journal, which is checked right after
 *   and mended the way the store mends any lagging projection (it rolls forward from the journal,
 *   whose newer entries the runtime wrote sealed, and writes it again);
 * - an actor in memory needs no eviction: sealing changes what is stored, not what opening it reads.
 * Two processes running it at once do the same work twice, harmlessly.
 */

/** the `hub_meta` document that says the backfill is done */
export const PERSONAL_DATA_BACKFILL_MARKER = 'personal-data-backfill';

/**
 * The marker's id names what was declared when the pass ran: a machine that declares personal data
 * anew, or at new paths, makes a new pass run over what an earlier one left in clear.
 */
export function backfillMarkerId(registry: MachineRegistry): string {
  const declared = registry
    .list()
    .filter((module) => module.personalData)
    .map((module) => [module.type, module.personalData] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  return `${PERSONAL_DATA_BACKFILL_MARKER}:${createHash('sha256').update(JSON.stringify(declared)).digest('hex').slice(0, 12)}`;
}
/** actors fetched per round trip of the scan */
const ACTORS_PER_BATCH = 100;
/** journal entries read (point reads) and written per round */
const ENTRIES_PER_ROUND = 50;
/** a failed actor is logged by key; past this many, only counted */
const FAILURES_LOGGED = 10;

interface BackfillMarkerDoc extends HubMetaDoc {
  completedAt: Date;
  actorsChecked: number;
  actorsSealed: number;
  entriesSealed: number;
}

export interface BackfillCounts {
  /** actors of machines that declare personal data, looked at */
  actorsChecked: number;
  /** of them, actors that held a value in clear */
  actorsSealed: number;
  /** journal entries sealed */
  entriesSealed: number;
  /** actors that could not be sealed (logged); the pass is not complete while there are any */
  failed: number;
}

export interface PersonalDataBackfillOptions {
  collections: Pick<Collections, 'db' | 'actors' | 'journal'>;
  store: ActorStore;
  registry: MachineRegistry;
  sealer: PersonalDataSealer;
  logger: Logger;
  /** a progress line every this many actors (info) */
  progressEvery?: number;
  /** a pass that failed is tried again after this long */
  retryMs?: number;
}

export class PersonalDataBackfill {
  private complete = false;
  private stopping = false;
  private running: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly markers: Collection<BackfillMarkerDoc>;
  private readonly markerId: string;

  constructor(private readonly options: PersonalDataBackfillOptions) {
    this.markers = options.collections.db.collection<BackfillMarkerDoc>(hubMetaCollection.name);
    this.markerId = backfillMarkerId(options.registry);
  }

  /**
   * Whether everything stored before sealing is sealed and indexed, by this process or another;
   * `waitMs`: while this process's pass runs, wait that long for it (a fresh database is done at once).
   */
  async isComplete(waitMs = 0): Promise<boolean> {
    if (this.complete || (await this.markerExists())) return (this.complete = true);
    const running = this.running;
    if (waitMs > 0 && running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    }
    return this.complete;
  }

  /** Runs the pass in the background (the hub serves meanwhile); a pass that fails is tried again later. */
  start(): void {
    if (this.running || this.stopping) return;
    this.running = this.pass().finally(() => {
      this.running = null;
    });
  }

  /** Stops after the actor in hand (the next start goes on). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.running;
  }

  private async markerExists(): Promise<boolean> {
    return (await this.markers.findOne({ _id: this.markerId }, { projection: { _id: 1 } })) !== null;
  }

  private async pass(): Promise<void> {
    const { logger } = this.options;
    const began = Date.now();
    try {
      if (await this.isComplete()) return;
      logger.info('personal data backfill: sealing what was stored before sealing existed');
      const counts = await this.sealAll();
      if (counts === 'stopped' || counts === 'done elsewhere') {
        if (counts === 'done elsewhere') {
          this.complete = true;
          logger.info('personal data backfill finished by another process');
        }
        return;
      }
      if (counts.failed > 0) {
        logger.error('personal data backfill incomplete: some actors could not be sealed; it will be tried again', {
          ...counts,
          retryInMs: this.retryMs,
        });
        this.scheduleRetry();
        return;
      }
      await this.markComplete(counts);
      logger.info('personal data backfill complete', { ...counts, ms: Date.now() - began });
    } catch (error) {
      logger.warn('personal data backfill interrupted; it will be tried again', { error: describeFailure(error), retryInMs: this.retryMs });
      this.scheduleRetry();
    }
  }

  private get retryMs(): number {
    return this.options.retryMs ?? 60_000;
  }

  private scheduleRetry(): void {
    if (this.stopping) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.start();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private async sealAll(): Promise<BackfillCounts | 'stopped' | 'done elsewhere'> {
    const { registry, collections, logger } = this.options;
    const progressEvery = this.options.progressEvery ?? 1_000;
    const counts: BackfillCounts = { actorsChecked: 0, actorsSealed: 0, entriesSealed: 0, failed: 0 };
    const types = registry
      .list()
      .filter((module) => module.personalData)
      .map((module) => module.type);
    if (types.length === 0) return counts;
    // one scan, read a batch at a time (FerretDB filters on anything but `_id` by scanning anyway)
    const cursor = collections.actors.find(
      { type: { $in: types } },
      { projection: { _id: 1, type: 1, revision: 1 }, batchSize: ACTORS_PER_BATCH },
    );
    try {
      for await (const actor of cursor) {
        if (this.stopping) return 'stopped';
        counts.actorsChecked += 1;
        try {
          const sealed = await this.sealActor(registry.get(actor.type), actor._id, actor.revision);
          if (sealed.entries > 0 || sealed.projection) counts.actorsSealed += 1;
          counts.entriesSealed += sealed.entries;
        } catch (error) {
          counts.failed += 1;
          if (counts.failed <= FAILURES_LOGGED)
            logger.warn('personal data backfill: an actor could not be sealed', { actor: actor._id, error: describeFailure(error) });
        }
        if (counts.actorsChecked % progressEvery === 0) {
          logger.info('personal data backfill progress', { ...counts });
          if (await this.markerExists()) return 'done elsewhere';
        }
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
    return counts;
  }

  /** Seals one actor's journal and projection: how many entries held a value in clear, and whether the projection did. */
  private async sealActor(module: AnyMachineModule, key: string, projectedRevision: number): Promise<SealedActor> {
    const { journal } = this.options.collections;
    const first = await journal.findOne({ _id: journalId(key, 1) });
    // revision 1 is written last, indexed even when it holds nothing to seal: indexed and sealed, the actor is done
    const firstUpdates = first ? this.entryUpdate(module, first, true) : [];
    if (first && firstUpdates.length === 0) return { entries: 0, projection: false };
    // the journal may run past the projection (the projection is written after it)
    let newest = projectedRevision;
    while (await this.options.store.isStale(key, newest)) newest += 1;
    let entries = 0;
    for (let high = newest; high >= 2; high -= ENTRIES_PER_ROUND) {
      const low = Math.max(2, high - ENTRIES_PER_ROUND + 1);
      const revisions = Array.from({ length: high - low + 1 }, (_, i) => low + i);
      const read = await Promise.all(revisions.map((revision) => journal.findOne({ _id: journalId(key, revision) })));
      const updates = read.flatMap((entry) => (entry ? this.entryUpdate(module, entry, false) : []));
      await bulkWriteInCommands(
        journal,
        updates.map((update) => update.operation),
      );
      entries += updates.filter((update) => update.seals).length;
    }
    const projection = await this.sealProjection(module, key);
    await bulkWriteInCommands(
      journal,
      firstUpdates.map((update) => update.operation),
    );
    entries += firstUpdates.filter((update) => update.seals).length;
    return { entries, projection };
  }

  /**
   * The update that seals an entry's clear values and indexes it; none when it holds no value in clear
   * (and, for revision 1, is indexed already). Conditional on the text just read (see above).
   */
  private entryUpdate(module: AnyMachineModule, entry: JournalDoc, indexAlways: boolean): EntryUpdate[] {
    const { sealer } = this.options;
    const snapshot = JSON.parse(entry.snapshot) as PersistedSnapshotJson;
    const event = JSON.parse(entry.event) as unknown;
    const seals =
      personalValuesOf(snapshot.context, module.personalData?.context).length > 0 ||
      personalValuesOf(event, eventPathsOf(module, entry.eventType)).length > 0;
    if (!seals && (!indexAlways || Array.isArray(entry.personalIndex))) return [];
    const personalIndex = sealer.indexOfStored(module, snapshot.context);
    const $set: Partial<JournalDoc> = seals
      ? {
          snapshot: JSON.stringify(sealer.sealSnapshot(module, snapshot)),
          event: JSON.stringify(sealer.sealEvent(module, entry.eventType, event)),
          personalIndex,
        }
      : { personalIndex };
    const filter = { _id: entry._id, commitId: entry.commitId, snapshot: entry.snapshot, event: entry.event };
    return [{ seals, operation: { updateOne: { filter, update: { $set } } } }];
  }

  /** Seals the projection when it holds a value in clear; true when it did. */
  private async sealProjection(module: AnyMachineModule, key: string): Promise<boolean> {
    const { collections, sealer, store } = this.options;
    const projection = await collections.actors.findOne({ _id: key });
    if (!projection) return false;
    const snapshot = JSON.parse(projection.snapshot) as PersistedSnapshotJson;
    if (personalValuesOf(snapshot.context, module.personalData?.context).length === 0) return false;
    const written = await collections.actors.updateOne(
      { _id: key, revision: projection.revision, snapshot: projection.snapshot },
      {
        $set: {
          snapshot: JSON.stringify(sealer.sealSnapshot(module, snapshot)),
          personalIndex: sealer.indexOfStored(module, snapshot.context),
        },
      },
    );
    // a commit landed meanwhile: if this write went over its projection, the store's roll-forward rewrites it
    if (await store.isStale(key, projection.revision)) await store.load(key);
    return written.modifiedCount > 0;
  }

  private async markComplete(counts: BackfillCounts): Promise<void> {
    const now = new Date();
    try {
      await this.markers.insertOne({ _id: this.markerId, completedAt: now, updatedAt: now, ...counts });
    } catch (error) {
      // another process finished first: its marker says the same
      if (!isDuplicateKeyError(error)) throw error;
    }
    this.complete = true;
  }
}

interface SealedActor {
  /** journal entries that held a value in clear */
  entries: number;
  /** whether the projection did */
  projection: boolean;
}

interface EntryUpdate {
  /** whether it seals values (else it only indexes) */
  seals: boolean;
  operation: AnyBulkWriteOperation<JournalDoc>;
}

/**
 * What a failure is, for the log, never what the data was: a parse error quotes the text it choked on,
 * which may be a customer's name; a wrong key's message names key ids only.
 */
function describeFailure(error: unknown): string {
  if (error instanceof MasterKeyError) return error.message;
  if (error instanceof Error) return error.name;
  return 'unknown error';
}
