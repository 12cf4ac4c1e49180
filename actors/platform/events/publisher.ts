import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'winston';
import { KeyedQueue } from '../../../common/keyed-queue.ts';
import type { Collections, EventOutboxDoc } from '../../../persistence/collections.ts';
import { LruCache } from '../../runtime/lru.ts';
import { journalId } from '../../runtime/store.ts';

/**
 * Publishes the domain events the runtime records (`event_outbox`) to the JetStream stream `HUB`, at least
 * once, in order per actor, with the commit id as the message id (JetStream drops a repeat within its
 * duplicate window; a subscriber drops a later one by the same `id`).
 *
 * The fast path: the runtime hands each committed event over at once and it is published behind the
 * actor's earlier ones. The sweep: events older than `orphanAfterMs` that are still in the outbox (a process
 * died before publishing them, or NATS was away) are published by whichever process sweeps, each checked
 * against the journal first (an intent whose commit never landed is dropped, not published). Before an
 * event is published, its actor's previous revision is published if it is still waiting, so an actor that
 * moved between processes keeps its order; two processes publishing the same event is a duplicate
 * JetStream drops, never a reordering.
 */

export const EVENTS_STREAM = 'HUB';

export interface DomainEventMessage {
  /** the commit id: unique per event, the message id */
  id: string;
  type: string;
  actorId: string;
  /** the event's name in its module's declaration (also the subject's last token) */
  event: string;
  revision: number;
  occurredAt: string;
  /** the state the transition ended in */
  state: string;
  data: unknown;
}

export interface PublisherOptions {
  collections: Pick<Collections, 'eventOutbox' | 'journal'>;
  logger: Logger;
  /** the machine types: the stream's subjects are `hub.<type>.*` */
  types: readonly string[];
  now?: () => number;
  /** an event this old still in the outbox is taken by the sweep */
  orphanAfterMs?: number;
  /** an intent this old whose commit is not in the journal is dropped (its commit never landed) */
  abandonAfterMs?: number;
  sweepEveryMs?: number;
  /** JetStream's duplicate window: a repeat within it is dropped by the server */
  duplicateWindowMs?: number;
  /** a commit's end → JetStream's acknowledgement of its event, seconds, for events the committing process published (metrics) */
  observeLatency?: (seconds: number) => void;
}

export interface PublisherStats {
  connected: boolean;
  published: number;
  duplicates: number;
  failures: number;
  lastError: string | null;
  lastPublishedAt: string | null;
}

const SWEEP_BATCH = 1000;
const DELETE_BATCH = 200;

export function messageOf(doc: EventOutboxDoc): DomainEventMessage {
  return {
    id: doc._id,
    type: doc.type,
    actorId: doc.actorId,
    event: doc.event,
    revision: doc.revision,
    occurredAt: doc.occurredAt.toISOString(),
    state: doc.state,
    data: JSON.parse(doc.data) as unknown,
  };
}

export class DomainEventPublisher {
  private js: JetStreamClient | null = null;
  private jsm: JetStreamManager | null = null;
  private readonly queues = new KeyedQueue();
  /** actor → the last revision this process saw acknowledged (saves the look-up of its predecessor) */
  private readonly acknowledged = new LruCache<string, number>(50_000);
  private toDelete: string[] = [];
  private deleting: Promise<void> = Promise.resolve();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<unknown> | null = null;
  private stopped = false;
  private readonly stats: PublisherStats = {
    connected: false,
    published: 0,
    duplicates: 0,
    failures: 0,
    lastError: null,
    lastPublishedAt: null,
  };
  private readonly now: () => number;

  constructor(private readonly options: PublisherOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Makes sure the stream exists with this hub's subjects, then publishes from here on. */
  async start(nc: NatsConnection): Promise<void> {
    this.jsm = await jetstreamManager(nc);
    await ensureEventsStream(this.jsm, this.options.types, this.options.duplicateWindowMs ?? 10 * 60_000);
    this.js = jetstream(nc);
    this.stats.connected = true;
    const every = this.options.sweepEveryMs ?? 5_000;
    this.sweepTimer = setInterval(() => void this.sweep().catch(() => undefined), every);
    this.sweepTimer.unref();
  }

  /** The runtime's fast path: an event just committed. */
  committed(doc: EventOutboxDoc): void {
    if (!this.js || this.stopped) return; // the sweep takes it later
    const committedAt = this.now();
    void this.queues.run(doc.actor, () => this.publishInOrder(doc, committedAt)).catch(() => undefined);
  }

  /** Publishes what is left in the outbox past `orphanAfterMs`, checked against the journal. One at a time. */
  sweep(): Promise<unknown> {
    if (!this.sweeping)
      this.sweeping = this.sweepOnce().finally(() => {
        this.sweeping = null;
      });
    return this.sweeping;
  }

  statsNow(): PublisherStats {
    return { ...this.stats };
  }

  /** Events waiting in the outbox (all processes' together) and the age of the oldest, seconds. */
  async lag(): Promise<{ waiting: number; oldestSeconds: number | null }> {
    const { eventOutbox } = this.options.collections;
    const waiting = await eventOutbox.countDocuments({});
    const [oldest] = await eventOutbox
      .find({}, { projection: { occurredAt: 1 } })
      .sort({ occurredAt: 1 })
      .limit(1)
      .toArray();
    return { waiting, oldestSeconds: oldest ? Math.max(0, (this.now() - oldest.occurredAt.getTime()) / 1000) : null };
  }

  async streamInfo() {
    if (!this.jsm) return null;
    const info = await this.jsm.streams.info(EVENTS_STREAM);
    const consumers: Array<{ name: string; pending: number; ackPending: number; redelivered: number }> = [];
    for await (const consumer of this.jsm.consumers.list(EVENTS_STREAM))
      consumers.push({
        name: consumer.name,
        pending: consumer.num_pending,
        ackPending: consumer.num_ack_pending,
        redelivered: consumer.num_redelivered,
      });
    return {
      name: info.config.name,
      subjects: info.config.subjects ?? [],
      messages: info.state.messages,
      bytes: info.state.bytes,
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
      duplicateWindowMs: Math.round((info.config.duplicate_window ?? 0) / 1e6),
      consumers,
    };
  }

  /** Stops taking events; what is in flight finishes and acknowledged events leave the outbox. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.sweeping;
    await this.queues.idle();
    await this.flushDeletes();
    this.js = null;
    this.stats.connected = false;
  }

  private async sweepOnce(): Promise<void> {
    if (!this.js || this.stopped) return;
    const { eventOutbox, journal } = this.options.collections;
    const now = this.now();
    const due = await eventOutbox
      .find({ occurredAt: { $lt: new Date(now - (this.options.orphanAfterMs ?? 10_000)) } })
      .limit(SWEEP_BATCH)
      .toArray();
    const byActor = new Map<string, EventOutboxDoc[]>();
    for (const doc of due) byActor.set(doc.actor, [...(byActor.get(doc.actor) ?? []), doc]);
    const abandonBefore = now - (this.options.abandonAfterMs ?? 60_000);
    await Promise.all(
      [...byActor.values()].map((docs) =>
        this.queues
          .run(docs[0]!.actor, async () => {
            for (const doc of docs.sort((a, b) => a.revision - b.revision)) {
              const entry = await journal.findOne({ _id: journalId(doc.actor, doc.revision) }, { projection: { commitId: 1 } });
              if (entry?.commitId === doc._id) {
                await this.publishInOrder(doc);
                continue;
              }
              // another commit took this revision, or none did in all this time: the intent's commit never landed
              if (entry || doc.occurredAt.getTime() < abandonBefore) this.scheduleDelete(doc._id);
              // else its commit may still be under way: this actor's later events wait for the next sweep
              else break;
            }
          })
          .catch(() => undefined),
      ),
    );
    await this.flushDeletes();
  }

  /** Publishes the actor's previous event first when it is still waiting, then this one. */
  private async publishInOrder(doc: EventOutboxDoc, committedAt?: number): Promise<void> {
    await this.publishPredecessor(doc, 0);
    await this.publish(doc, committedAt);
  }

  private async publishPredecessor(doc: EventOutboxDoc, depth: number): Promise<void> {
    if (doc.revision <= 1 || (this.acknowledged.get(doc.actor) ?? 0) >= doc.revision - 1) return;
    const { journal, eventOutbox } = this.options.collections;
    const previous = await journal.findOne({ _id: journalId(doc.actor, doc.revision - 1) }, { projection: { commitId: 1 } });
    const waiting = previous ? await eventOutbox.findOne({ _id: previous.commitId }) : null;
    if (!waiting) return;
    // a long chain left by a dead process: published from its oldest, without deep recursion
    if (depth < 1000) await this.publishPredecessor(waiting, depth + 1);
    await this.publish(waiting);
  }

  /** `committedAt`: when the commit was done (the fast path), from which the latency to the ack is measured. */
  private async publish(doc: EventOutboxDoc, committedAt?: number): Promise<void> {
    const js = this.js;
    if (!js) throw new Error('not connected to NATS');
    try {
      const ack = await js.publish(doc.subject, JSON.stringify(messageOf(doc)), { msgID: doc._id });
      if (ack.duplicate) this.stats.duplicates += 1;
      else {
        this.stats.published += 1;
        if (committedAt !== undefined) this.options.observeLatency?.(Math.max(0, (this.now() - committedAt) / 1000));
      }
      this.stats.lastPublishedAt = new Date(this.now()).toISOString();
      this.acknowledged.set(doc.actor, Math.max(this.acknowledged.get(doc.actor) ?? 0, doc.revision));
      this.scheduleDelete(doc._id);
    } catch (error) {
      this.stats.failures += 1;
      this.stats.lastError = error instanceof Error ? error.message : String(error);
      this.options.logger.warn('a domain event was not published; it stays in the outbox', {
        actor: doc.actor,
        revision: doc.revision,
        error: this.stats.lastError,
      });
      throw error;
    }
  }

  private scheduleDelete(id: string): void {
    this.toDelete.push(id);
    if (this.toDelete.length >= DELETE_BATCH) void this.flushDeletes();
    else if (this.toDelete.length === 1) setTimeout(() => void this.flushDeletes(), 50).unref();
  }

  /** Acknowledged events leave the outbox in batches (a crash before that republishes them: duplicates JetStream drops). */
  private flushDeletes(): Promise<void> {
    this.deleting = this.deleting.then(async () => {
      const ids = this.toDelete;
      this.toDelete = [];
      if (ids.length === 0) return;
      await this.options.collections.eventOutbox.deleteMany({ _id: { $in: ids } }).catch((error: unknown) => {
        this.options.logger.warn('published events were not removed from the outbox (they will be published again)', {
          error: String(error),
        });
      });
    });
    return this.deleting;
  }
}

/** The stream `HUB` with a subject per machine type, file-backed, created or brought up to date. */
export async function ensureEventsStream(jsm: JetStreamManager, types: readonly string[], duplicateWindowMs: number): Promise<void> {
  const subjects = [...types].sort().map((type) => `hub.${type}.*`);
  const config = { name: EVENTS_STREAM, subjects, storage: 'file' as const, duplicate_window: nanos(duplicateWindowMs) };
  const existing = await jsm.streams.info(EVENTS_STREAM).catch(() => null);
  if (!existing) {
    await jsm.streams.add(config);
    return;
  }
  const current = [...(existing.config.subjects ?? [])].sort();
  if (current.join() !== subjects.join() || existing.config.duplicate_window !== config.duplicate_window)
    await jsm.streams.update(EVENTS_STREAM, { subjects, duplicate_window: config.duplicate_window });
}
