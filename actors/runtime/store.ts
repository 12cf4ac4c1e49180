import { randomUUID } from 'node:crypto';
import { MongoBulkWriteError, type AnyBulkWriteOperation, type Collection, type WriteError, type OptionalUnlessRequiredId } from 'mongodb';
import type { Logger } from 'winston';
import {
  isDuplicateKeyError,
  type ActorDoc,
  type Collections,
  type EffectDoc,
  type EventOutboxDoc,
  type IdempotencyDoc,
  type JournalDoc,
  type ProjectionDueDoc,
  type TimerDoc,
} from '../../persistence/collections.ts';
import { MAX_STATEMENTS_PER_COMMAND } from '../../persistence/bulk-write.ts';

export const actorKey = (type: string, id: string): string => `${type}/${id}`;
export const journalId = (key: string, revision: number): string => `${key}#${String(revision).padStart(10, '0')}`;

/** The latest committed revision of an actor as stored (not yet restored into a machine). */
export interface StoredActor {
  doc: ActorDoc;
  /** true when the projection lagged behind the journal and was rolled forward */
  rolledForward: boolean;
}

export interface CommitRequest {
  journal: JournalDoc;
  actor: ActorDoc;
  newEffects: EffectDoc[];
  newTimers: TimerDoc[];
  /** effect/timer records made obsolete by this transition (cleanup only; the commit is what counts) */
  obsoleteEffects: string[];
  obsoleteTimers: string[];
  idempotency: IdempotencyDoc | null;
  /** the domain event to publish once committed (none when publishing is off) */
  domainEvent: EventOutboxDoc | null;
}

export type CommitOutcome = { ok: true } | { ok: false; conflict: 'revision' | 'idempotency' };

class CommitRejected extends Error {
  constructor(
    readonly code: number | undefined,
    message: string,
  ) {
    super(`the database refused the commit: ${message}`);
    this.name = 'CommitRejected';
  }
}

interface PendingCommit {
  request: CommitRequest;
  resolve: (outcome: CommitOutcome) => void;
  reject: (error: unknown) => void;
}

export const MAX_BATCH = 256;

/**
 * Reads and writes actors. Writes are grouped: commits requested while a
 * write is in flight go out together in the next batch (group commit), so the
 * number of database round trips grows with batches, not with events.
 */
export class ActorStore {
  private pending: PendingCommit[] = [];
  private flushing = false;
  private flushScheduled = false;
  private idle: Array<() => void> = [];

  readonly projector: Projector;
  private readonly dueLedger: ProjectionsDue;
  /** names this process's `projections_due` documents */
  private readonly batchTag = randomUUID().slice(0, 8);
  private batchNumber = 0;
  private repairedProjections = 0;

  constructor(
    private readonly collections: Collections,
    private readonly logger: Logger,
    options: { projectionQuietMs?: number } = {},
  ) {
    this.dueLedger = new ProjectionsDue(collections, logger);
    this.projector = new Projector(collections, logger, options.projectionQuietMs ?? 2000, this.dueLedger);
  }

  /** Projections mended from the journal so far (a process died before writing them). */
  get projectionsRepaired(): number {
    return this.repairedProjections;
  }

  /**
   * Mends the projections of batches whose process did not write them within `olderThanMs` (it died, or
   * kept failing): each actor is rolled forward from the journal and written, then the record goes. Any
   * process may do this for any other: a projection written at the journal's head is right whoever writes it.
   */
  async repairProjections(now: number, olderThanMs: number, limit = 100): Promise<number> {
    const stale = await this.collections.projectionsDue
      .find({ at: { $lt: new Date(now - olderThanMs) } })
      .limit(limit)
      .toArray();
    let repaired = 0;
    for (const due of stale) {
      this.dueLedger.forget(due._id);
      const keys = [...new Set(due.actors.map((entry) => entry.key))];
      const rolled: ActorDoc[] = [];
      for (const key of keys) {
        const stored = await this.load(key);
        if (stored?.rolledForward) rolled.push(stored.doc);
      }
      // written over a newer projection, or not at all: the record stays for the next pass
      if (rolled.length > 0 && !(await this.projector.writeNow(rolled))) continue;
      repaired += rolled.length;
      await this.collections.projectionsDue.deleteOne({ _id: due._id });
    }
    if (repaired > 0) {
      this.repairedProjections += repaired;
      this.logger.warn('actor projections repaired from the journal (a process stopped before writing them)', {
        actors: repaired,
        batches: stale.length,
      });
    }
    return repaired;
  }

  /**
   * Projection + any journal entries past it (a crash between the two writes leaves the projection behind).
   * The same crash loses those entries' idempotency records, written beside the projection: they are put
   * back here, so that a repeat the actor's state now refuses still finds its first answer.
   */
  async load(key: string): Promise<StoredActor | null> {
    let doc = await this.collections.actors.findOne({ _id: key });
    let revision = doc?.revision ?? 0;
    const rolled: JournalDoc[] = [];
    for (;;) {
      const next = await this.collections.journal.findOne({ _id: journalId(key, revision + 1) });
      if (!next) break;
      doc = projectionFromJournal(next, doc);
      revision = next.revision;
      rolled.push(next);
    }
    if (!doc) return null;
    if (rolled.length === 0) return { doc, rolledForward: false };
    this.projector.mark(doc);
    const records = rolled.flatMap((entry) => (entry.idem === entry._id ? [] : [idempotencyRecordOf(entry)]));
    if (records.length > 0) await this.retryTransient(() => insertIgnoringDuplicates(this.collections.idempotency, records));
    return { doc, rolledForward: true };
  }

  /** Has anyone committed past `revision`? One point read. */
  async isStale(key: string, revision: number): Promise<boolean> {
    const next = await this.collections.journal.findOne({ _id: journalId(key, revision + 1) }, { projection: { _id: 1 } });
    return next !== null;
  }

  /** Entries after `afterRevision`, oldest first, by point reads (the only fast read on every backend). */
  async readJournal(key: string, afterRevision: number, limit: number): Promise<JournalDoc[]> {
    const revisions = Array.from({ length: Math.max(0, limit) }, (_, i) => afterRevision + 1 + i);
    const entries = await Promise.all(revisions.map((revision) => this.collections.journal.findOne({ _id: journalId(key, revision) })));
    const result: JournalDoc[] = [];
    for (const entry of entries) {
      if (!entry) break;
      result.push(entry);
    }
    return result;
  }

  journalEntry(key: string, revision: number): Promise<JournalDoc | null> {
    return this.collections.journal.findOne({ _id: journalId(key, revision) });
  }

  /**
   * The journal entry that first used an idempotency key. The `_id`-keyed
   * record is the fast path; the journal's unique index is the guarantee, so
   * when the record is missing (a crash right after the commit) the journal is
   * searched and the record repaired.
   */
  async findByIdempotencyKey(idem: string, searchJournal: boolean): Promise<JournalDoc | null> {
    const record = await this.collections.idempotency.findOne({ _id: idem });
    if (record) {
      const entry = await this.collections.journal.findOne({ _id: record.journalId });
      if (entry) return entry;
    }
    if (!searchJournal) return null;
    const entry = await this.collections.journal.findOne({ idem });
    if (entry) {
      await this.collections.idempotency.insertOne(idempotencyRecordOf(entry)).catch((error: unknown) => {
        if (!isDuplicateKeyError(error)) throw error;
      });
    }
    return entry;
  }

  commit(request: CommitRequest): Promise<CommitOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Resolves once every requested commit, and the projections they changed, have been written. */
  async drain(): Promise<void> {
    if (this.flushing || this.pending.length > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.projector.flush();
  }

  private scheduleFlush(): void {
    if (this.flushing || this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate lets every request that arrived in this turn join the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_BATCH);
        await this.writeBatch(batch);
      }
    } finally {
      this.flushing = false;
      const waiters = this.idle.splice(0);
      for (const resolve of waiters) resolve();
    }
  }

  private async retryTransient<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= TRANSIENT_RETRIES || !isTransientWriteError(error)) throw error;
        await sleep(20 * attempt + Math.random() * 30);
      }
    }
  }

  /** One insertMany of journal entries: per-entry results, or a transient failure of the whole call. */
  private async insertJournal(
    entries: JournalDoc[],
  ): Promise<{ kind: 'done'; results: Array<[number, InsertResult]> } | { kind: 'transient'; error: unknown }> {
    try {
      await this.collections.journal.insertMany(entries, { ordered: false });
      return { kind: 'done', results: entries.map((_, i) => [i, 'ok']) };
    } catch (error) {
      const writeErrors = writeErrorsOf(error);
      if (writeErrors.length === 0) {
        if (isTransientWriteError(error) || error instanceof MongoBulkWriteError) return { kind: 'transient', error };
        throw error;
      }
      const byIndex = new Map<number, InsertResult>();
      for (const writeError of writeErrors) {
        byIndex.set(
          writeError.index,
          writeError.code === 11000 ? 'duplicate' : new CommitRejected(writeError.code, writeError.errmsg ?? 'unknown write error'),
        );
      }
      return { kind: 'done', results: entries.map((_, i) => [i, byIndex.get(i) ?? 'ok']) };
    }
  }

  private async writeBatch(batch: PendingCommit[]): Promise<void> {
    const { effects, timers, journal, idempotency, eventOutbox, projectionsDue } = this.collections;
    let dueId: string | null = null;
    try {
      // 1. Intents first: an effect or timer whose commit never lands is an
      //    orphan the workers recognise and delete; a commit whose intents were
      //    lost would be a lost side effect.
      const intentsEffects = batch.flatMap((p) => p.request.newEffects);
      const intentsTimers = batch.flatMap((p) => p.request.newTimers);
      const intentsEvents = batch.flatMap((p) => (p.request.domainEvent ? [p.request.domainEvent] : []));
      //    So is the list of projections to write: a process killed before writing them leaves it behind.
      this.batchNumber += 1;
      const due: ProjectionDueDoc = {
        _id: `${this.batchTag}:${this.batchNumber}`,
        actors: batch.map((p) => ({ key: p.request.actor._id, revision: p.request.actor.revision })),
        at: new Date(),
      };
      dueId = due._id;
      this.dueLedger.open(due);
      await this.retryTransient(() =>
        Promise.all([
          intentsEffects.length > 0 ? insertIgnoringDuplicates(effects, intentsEffects) : null,
          intentsTimers.length > 0 ? insertIgnoringDuplicates(timers, intentsTimers) : null,
          intentsEvents.length > 0 ? insertIgnoringDuplicates(eventOutbox, intentsEvents) : null,
          insertIgnoringDuplicates(projectionsDue, [due]),
        ]),
      );

      // 2. The commit point: unique (actor, revision) and unique idempotency key.
      //    Transient failures (SQLite busy, a dropped connection) are retried;
      //    a retry that meets its own earlier insert (same commitId) counts as done.
      const entries = batch.map((p) => p.request.journal);
      let outcome = await this.insertJournal(entries);
      for (let attempt = 1; outcome.kind === 'transient'; attempt += 1) {
        if (attempt >= TRANSIENT_RETRIES) throw outcome.error;
        this.logger.warn('journal write failed transiently; retrying', { attempt, error: String(outcome.error) });
        await sleep(20 * attempt + Math.random() * 30);
        outcome = await this.insertJournal(entries);
      }
      const failed = new Map<number, 'revision' | 'idempotency' | CommitRejected>();
      for (const [index, result] of outcome.results) {
        if (result === 'ok') continue;
        if (result instanceof CommitRejected) {
          failed.set(index, result);
          continue;
        }
        // A duplicate: ours from an earlier attempt, a lost revision race, or a used idempotency key.
        // FerretDB's message names no index, so the entry holding our id decides.
        const holder = await journal.findOne({ _id: entries[index]!._id }, { projection: { _id: 1, commitId: 1 } });
        if (holder?.commitId === entries[index]!.commitId) continue;
        failed.set(index, holder ? 'revision' : 'idempotency');
      }

      const committed = batch.filter((_, index) => !failed.has(index));
      const lost = batch.filter((_, index) => failed.has(index));

      // 3. Projections and lookups. Failures here lose nothing (loads roll
      //    forward from the journal; idempotency falls back to the journal).
      const followUps: Array<Promise<unknown>> = [];
      if (committed.length > 0) {
        // New actors get their projection now (an insert is cheap); later revisions are
        // coalesced by the projector, because an update costs far more than an insert.
        const created = committed.filter((p) => p.request.journal.revision === 1).map((p) => p.request.actor);
        if (created.length > 0) followUps.push(this.insertCreated(created));
        for (const p of committed) if (p.request.journal.revision > 1) this.projector.mark(p.request.actor);
        const records = committed.flatMap((p) => (p.request.idempotency ? [p.request.idempotency] : []));
        if (records.length > 0) followUps.push(idempotency.insertMany(records, { ordered: false }));
      }
      const obsoleteEffects = [
        ...committed.flatMap((p) => p.request.obsoleteEffects),
        ...lost.flatMap((p) => p.request.newEffects.map((e) => e._id)),
      ];
      const obsoleteTimers = [
        ...committed.flatMap((p) => p.request.obsoleteTimers),
        ...lost.flatMap((p) => p.request.newTimers.map((t) => t._id)),
      ];
      if (obsoleteEffects.length > 0) followUps.push(effects.bulkWrite(deletesById(obsoleteEffects), { ordered: false }));
      if (obsoleteTimers.length > 0) followUps.push(timers.bulkWrite(deletesById(obsoleteTimers), { ordered: false }));
      // a commit that lost its race has no projection to write
      if (lost.length > 0)
        followUps.push(
          this.dueLedger.drop(
            due._id,
            lost.map((p) => p.request.actor._id),
          ),
        );
      const lostEvents = lost.flatMap((p) => (p.request.domainEvent ? [p.request.domainEvent._id] : []));
      if (lostEvents.length > 0) followUps.push(eventOutbox.bulkWrite(deletesById(lostEvents), { ordered: false }));
      const results = await Promise.allSettled(followUps);
      for (const result of results) {
        if (result.status === 'rejected' && !isDuplicateKeyError(result.reason) && !(result.reason instanceof MongoBulkWriteError)) {
          this.logger.warn('post-commit write failed; the journal remains authoritative', { error: String(result.reason) });
        }
      }

      batch.forEach((p, index) => {
        const conflict = failed.get(index);
        if (conflict instanceof CommitRejected) p.reject(conflict);
        else p.resolve(conflict ? { ok: false, conflict } : { ok: true });
      });
    } catch (error) {
      // Whether these commits landed is unknown: the record stays for the repair pass, which reads the journal.
      if (dueId) this.dueLedger.forget(dueId);
      for (const p of batch) p.reject(error);
    }
  }

  /** A new actor's projection is inserted at once; one another process inserted first is as good. */
  private async insertCreated(created: ActorDoc[]): Promise<void> {
    let failed: ActorDoc[] = [];
    try {
      await this.collections.actors.insertMany(created, { ordered: false });
    } catch (error) {
      const writeErrors = writeErrorsOf(error);
      failed = writeErrors.length > 0 ? writeErrors.filter((w) => w.code !== 11000).map((w) => created[w.index]!) : created;
      if (failed.length > 0)
        this.logger.warn('new actor projection not written; will retry', { actors: failed.length, error: String(error) });
    }
    for (const doc of failed) this.projector.mark(doc);
    const unwritten = new Set(failed.map((doc) => doc._id));
    await this.dueLedger.written(created.filter((doc) => !unwritten.has(doc._id)));
  }
}

/**
 * Keeps the `actors` projection (what lists and cold loads read) close to the
 * journal without an update per event — on FerretDB an update costs several
 * times an insert. Write-behind: an actor's latest revision is written once it
 * has been quiet for `quietMs`, once it is `maxLag` revisions behind, and on
 * shutdown. A lagging projection is harmless for correctness: loads roll
 * forward from the journal; lists are only briefly stale.
 */
export class Projector {
  private readonly dirty = new Map<string, { doc: ActorDoc; lastMarked: number; written: number }>();
  private readonly lastWritten = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly collections: Collections,
    private readonly logger: Logger,
    private readonly quietMs: number,
    private readonly due: ProjectionsDue,
    private readonly maxLag = 50,
  ) {}

  get pending(): number {
    return this.dirty.size;
  }

  mark(doc: ActorDoc): void {
    const current = this.dirty.get(doc._id);
    if (current && current.doc.revision >= doc.revision) return;
    const written = current?.written ?? this.lastWritten.get(doc._id) ?? 0;
    this.dirty.set(doc._id, { doc, lastMarked: Date.now(), written });
    if (doc.revision - written >= this.maxLag && !this.running) void this.writeDue();
    this.schedule();
  }

  /** Writes everything marked so far, due or not (drain, shutdown). Gives up after a few failing rounds. */
  async flush(): Promise<void> {
    for (let round = 0; round < 5 && (this.running || this.dirty.size > 0);) {
      if (this.running) {
        await this.running;
        continue;
      }
      await this.writeDue(true);
      round += 1;
    }
  }

  /**
   * Writes these now, beside what is marked (the repair pass). True when every one was written and found at
   * the journal's head; otherwise what is missing is marked, and the caller's record must wait for it.
   */
  async writeNow(docs: ActorDoc[]): Promise<boolean> {
    for (const doc of docs) {
      const marked = this.dirty.get(doc._id);
      if (marked && marked.doc.revision <= doc.revision) this.dirty.delete(doc._id);
    }
    return (await this.writeAll(docs)) === 0;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer || this.dirty.size === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.writeDue().finally(() => this.schedule());
      },
      Math.max(50, Math.min(this.quietMs, 1000)),
    );
    this.timer.unref();
  }

  private writeDue(all = false): Promise<void> {
    if (this.running) return this.running;
    const now = Date.now();
    const due = [...this.dirty.values()].filter(
      (entry) => all || now - entry.lastMarked >= this.quietMs || entry.doc.revision - entry.written >= this.maxLag,
    );
    for (const entry of due) this.dirty.delete(entry.doc._id);
    const running = this.writeAll(due.map((entry) => entry.doc))
      .then(() => undefined)
      .finally(() => {
        this.running = null;
      });
    this.running = running;
    return running;
  }

  /**
   * Writes in chunks; what fails is marked again, and so is the journal's head of what was already behind.
   * Answers how many were not written at the journal's head.
   */
  private async writeAll(docs: ActorDoc[]): Promise<number> {
    let atHead = 0;
    for (let offset = 0; offset < docs.length; offset += MAX_STATEMENTS_PER_COMMAND) {
      const chunk = docs.slice(offset, offset + MAX_STATEMENTS_PER_COMMAND);
      let written = chunk;
      try {
        await this.collections.actors.bulkWrite(
          chunk.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
          { ordered: false },
        );
      } catch (error) {
        // Upsert races with another process leave its copy, which is as good; anything else is retried.
        const writeErrors = writeErrorsOf(error);
        const failed = writeErrors.length > 0 ? writeErrors.filter((w) => w.code !== 11000).map((w) => chunk[w.index]!) : chunk;
        if (failed.length > 0)
          this.logger.warn('actor projection write failed; will retry', { actors: failed.length, error: String(error) });
        for (const doc of failed) this.mark(doc);
        const notWritten = new Set(failed);
        written = chunk.filter((doc) => !notWritten.has(doc));
      }
      for (const doc of written) this.lastWritten.set(doc._id, doc.revision);
      if (this.lastWritten.size > 100_000) this.lastWritten.clear();
      // A projection that overwrote a newer one is owed until that newer one is written again.
      const confirmed = await this.catchUp(written);
      atHead += confirmed.length;
      await this.due.written(confirmed);
    }
    return docs.length - atHead;
  }

  /**
   * Another process may have committed past a copy written here and written its projection first: this
   * write then took the projection back (say to a state without the tag a job looks for), and nothing
   * would load the actor to mend it. So whoever writes last looks at the journal once more and writes
   * again what it missed: the projection ends at the journal's head whatever the order of the writes.
   * Answers the documents found at the head: only those settle their projections_due records (a process
   * killed before its second write leaves its record to the repair pass).
   */
  private async catchUp(docs: ActorDoc[]): Promise<ActorDoc[]> {
    const atHead = await Promise.all(
      docs.map(async (doc) => {
        let latest = doc;
        try {
          for (;;) {
            const next = await this.collections.journal.findOne({ _id: journalId(doc._id, latest.revision + 1) });
            if (!next) break;
            latest = projectionFromJournal(next, latest);
          }
        } catch (error) {
          this.logger.warn('actor projection not checked against the journal', { actor: doc._id, error: String(error) });
          return null;
        }
        if (latest === doc) return doc;
        this.mark(latest);
        return null;
      }),
    );
    return atHead.filter((doc) => doc !== null);
  }
}

/**
 * This process's `projections_due` records and the projections each still waits for. A record is deleted
 * once all of them are written at (or past) the revision its batch committed; what a crash leaves behind
 * is found by `ActorStore.repairProjections`.
 */
class ProjectionsDue {
  private readonly waiting = new Map<string, Map<string, number>>();
  private readonly byActor = new Map<string, Set<string>>();

  constructor(
    private readonly collections: Collections,
    private readonly logger: Logger,
  ) {}

  open(due: ProjectionDueDoc): void {
    const actors = new Map<string, number>();
    for (const { key, revision } of due.actors) actors.set(key, Math.max(revision, actors.get(key) ?? 0));
    this.waiting.set(due._id, actors);
    for (const key of actors.keys()) this.recordsOf(key).add(due._id);
  }

  /** Projections written: records left with nothing to wait for are deleted. */
  async written(docs: ActorDoc[]): Promise<void> {
    const settled: string[] = [];
    for (const doc of docs) {
      for (const id of this.byActor.get(doc._id) ?? []) {
        const actors = this.waiting.get(id);
        const revision = actors?.get(doc._id);
        if (!actors || revision === undefined || revision > doc.revision) continue;
        actors.delete(doc._id);
        this.byActor.get(doc._id)?.delete(id);
        if (actors.size === 0) settled.push(id);
      }
      if (this.byActor.get(doc._id)?.size === 0) this.byActor.delete(doc._id);
    }
    await this.delete(settled);
  }

  /** These actors' commits in the record lost their race: there is nothing of theirs to write. */
  async drop(id: string, keys: string[]): Promise<void> {
    const actors = this.waiting.get(id);
    if (!actors) return;
    for (const key of keys) {
      actors.delete(key);
      this.byActor.get(key)?.delete(id);
      if (this.byActor.get(key)?.size === 0) this.byActor.delete(key);
    }
    if (actors.size === 0) await this.delete([id]);
  }

  /** No longer followed here: the repair pass decides from the journal. */
  forget(id: string): void {
    const actors = this.waiting.get(id);
    if (!actors) return;
    this.waiting.delete(id);
    for (const key of actors.keys()) {
      this.byActor.get(key)?.delete(id);
      if (this.byActor.get(key)?.size === 0) this.byActor.delete(key);
    }
  }

  private recordsOf(key: string): Set<string> {
    let records = this.byActor.get(key);
    if (!records) {
      records = new Set();
      this.byActor.set(key, records);
    }
    return records;
  }

  private async delete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) this.waiting.delete(id);
    // a record left by a failed delete is only work for the repair pass, which finds its projections written
    await this.collections.projectionsDue.bulkWrite(deletesById<ProjectionDueDoc>(ids), { ordered: false }).catch((error: unknown) => {
      this.logger.warn('projections_due records not deleted; the repair pass will', { records: ids.length, error: String(error) });
    });
  }
}

const TRANSIENT_RETRIES = 6;

type InsertResult = 'ok' | 'duplicate' | CommitRejected;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Errors after which the write may simply be tried again. */
export function isTransientWriteError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const text = `${error.name} ${error.message}`;
  return /SQLITE_BUSY|database is locked|MongoNetworkError|MongoNetworkTimeoutError|ECONNRESET|MongoServerSelectionError|InternalError/i.test(
    text,
  );
}

/** The per-document errors of a bulk write (none for any other error). */
function writeErrorsOf(error: unknown): readonly WriteError[] {
  if (!(error instanceof MongoBulkWriteError)) return [];
  const { writeErrors } = error;
  return Array.isArray(writeErrors) ? writeErrors : [writeErrors as WriteError];
}

/** Inserts; documents already there (from an earlier, interrupted attempt) are fine. */
async function insertIgnoringDuplicates<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<void> {
  try {
    // every document here carries its own string `_id`, which the driver's generic type cannot see through
    await collection.insertMany(docs as OptionalUnlessRequiredId<T>[], { ordered: false });
  } catch (error) {
    const writeErrors = writeErrorsOf(error);
    if (writeErrors.length > 0 && writeErrors.every((w) => w.code === 11000)) return;
    throw error;
  }
}

function deletesById<T extends { _id: string }>(ids: string[]): AnyBulkWriteOperation<T>[] {
  return ids.map((id) => ({ deleteOne: { filter: { _id: id } } }) as AnyBulkWriteOperation<T>);
}

/** The fast lookup of an entry's idempotency key (only for entries made under a caller's key). */
function idempotencyRecordOf(entry: JournalDoc): IdempotencyDoc {
  return { _id: entry.idem, journalId: entry._id, createdAt: entry.at };
}

function projectionFromJournal(entry: JournalDoc, previous: ActorDoc | null): ActorDoc {
  const slash = entry.actor.indexOf('/');
  return {
    _id: entry.actor,
    type: entry.actor.slice(0, slash),
    id: entry.actor.slice(slash + 1),
    version: entry.version,
    revision: entry.revision,
    state: entry.to,
    status: entry.status,
    tags: entry.tags,
    snapshot: entry.snapshot,
    runtime: entry.runtime,
    ...(entry.personalIndex ? { personalIndex: entry.personalIndex } : {}),
    createdAt: entry.actorCreatedAt ?? previous?.createdAt ?? entry.at,
    updatedAt: entry.at,
  };
}
