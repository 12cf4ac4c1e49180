import type { Collection } from 'mongodb';
import type { Logger } from 'winston';
import { redact, redactString } from '../../../common/logger.ts';
import { isDuplicateKeyError } from '../../../persistence/collections.ts';
import type { AlertDoc } from '../../../persistence/alerts.ts';

export interface AlertInput {
  kind: string;
  severity?: 'critical' | 'warning';
  integration?: string;
  subject: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Where anything that notices trouble raises it: the alerts, counted by the metrics on the way. */
export interface AlertSink {
  raise(input: AlertInput): Promise<unknown>;
}

export interface AlertView {
  id: string;
  fingerprint: string;
  kind: string;
  severity: 'critical' | 'warning';
  integration: string | null;
  subject: string;
  message: string;
  details: Record<string, unknown>;
  status: AlertDoc['status'];
  count: number;
  firstAt: string;
  lastAt: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  notifiedAt: string | null;
  deliveries: Array<{ channel: string; at: string; ok: boolean; error: string | null; count: number }>;
}

export interface AlertChannel {
  name: string;
  send(alert: AlertView, summary: { repeated: boolean; newOccurrences: number }): Promise<void>;
  close?(): void;
}

export interface AlertFilter {
  status?: AlertDoc['status'];
  kind?: string;
  integration?: string;
  cursor?: string;
  limit?: number;
}

const DELIVERIES_KEPT = 20;

/**
 * Critical errors as alert documents, grouped: while an alert of the same
 * kind, integration and subject is open (or acknowledged), a repeat only
 * counts (`count`, `lastAt`) and the channels hear of it at most once per
 * `renotifyAfterMs`; acknowledged alerts are not re-sent; a resolved one
 * starts a new alert when it happens again. Sending never blocks or fails
 * the caller: a failed channel is recorded and retried by `deliverPending()`.
 */
export class Alerts {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly background = new Set<Promise<void>>();
  private readonly renotifyAfterMs: number;

  constructor(
    private readonly options: {
      collection: Collection<AlertDoc>;
      channels: AlertChannel[];
      logger: Logger;
      now?: () => number;
      renotifyAfterMs?: number;
    },
  ) {
    this.renotifyAfterMs = options.renotifyAfterMs ?? 15 * 60_000;
  }

  /** Records one occurrence; resolves once it is stored (notification runs behind). */
  raise(input: AlertInput): Promise<AlertView> {
    const fingerprint = `${input.kind}|${input.integration ?? '-'}|${input.subject}`;
    return this.oneAtATime(fingerprint, () => this.record(fingerprint, input));
  }

  async list(filter: AlertFilter): Promise<{ alerts: AlertView[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
    const query: Partial<Pick<AlertDoc, 'status' | 'kind' | 'integration'>> = {};
    if (filter.status) query.status = filter.status;
    if (filter.kind) query.kind = filter.kind;
    if (filter.integration) query.integration = filter.integration;
    // Alerts are few (grouped, one per episode): sorting here keeps the query a plain filter on FerretDB.
    const docs = (await this.options.collection.find(query).toArray()).sort(newestFirst);
    let start = 0;
    if (filter.cursor) {
      const after = decodeCursor(filter.cursor);
      start = docs.findIndex((doc) => newestFirst(doc, { lastAt: after.lastAt, _id: after.id } as AlertDoc) > 0);
      if (start < 0) start = docs.length;
    }
    const page = docs.slice(start, start + limit);
    const last = page.at(-1);
    return { alerts: page.map(viewOf), nextCursor: start + limit < docs.length && last ? encodeCursor(last) : null };
  }

  async get(id: string): Promise<AlertView | null> {
    const doc = await this.options.collection.findOne({ _id: id });
    return doc ? viewOf(doc) : null;
  }

  acknowledge(id: string, by: string): Promise<AlertView | null> {
    return this.setStatus(id, { status: 'acknowledged', acknowledgedBy: by, acknowledgedAt: new Date(this.now()) }, ['open']);
  }

  resolve(id: string, by: string): Promise<AlertView | null> {
    return this.setStatus(id, { status: 'resolved', resolvedBy: by, resolvedAt: new Date(this.now()) }, ['open', 'acknowledged']);
  }

  /** Sends again what a channel failed to deliver (the alert-delivery job). */
  async deliverPending(): Promise<{ attempted: number; delivered: number; failed: number }> {
    const pending = await this.options.collection.find({ status: 'open', pendingChannels: { $ne: [] } }).toArray();
    let attempted = 0;
    let delivered = 0;
    let failed = 0;
    for (const doc of pending) {
      const channels = this.options.channels.filter((c) => doc.pendingChannels.includes(c.name));
      if (channels.length === 0) continue;
      const results = await this.notify(doc, channels, {
        repeated: doc.notifiedCount > 0,
        newOccurrences: doc.count - doc.notifiedCount || doc.count,
      });
      attempted += results.length;
      delivered += results.filter((r) => r.ok).length;
      failed += results.filter((r) => !r.ok).length;
    }
    return { attempted, delivered, failed };
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
    await Promise.allSettled([...this.background]);
  }

  private async record(fingerprint: string, input: AlertInput): Promise<AlertView> {
    const { collection } = this.options;
    const now = new Date(this.now());
    const message = redactString(input.message);
    const details = redact(input.details ?? {}) as Record<string, unknown>;
    const open = await collection.findOne({ fingerprint, status: { $in: ['open', 'acknowledged'] } });
    if (open) return this.group(open, message, details, now);

    const doc: AlertDoc = {
      // Episodes of one fingerprint started in the same window share an id, so two processes raising the
      // same new alert at once collide on the unique _id and the loser groups into the winner's.
      _id: `${fingerprint}#${Math.floor(now.getTime() / this.renotifyAfterMs) * this.renotifyAfterMs}`,
      fingerprint,
      kind: input.kind,
      severity: input.severity ?? 'critical',
      integration: input.integration ?? null,
      subject: input.subject,
      message,
      details,
      status: 'open',
      count: 1,
      firstAt: now,
      lastAt: now,
      acknowledgedBy: null,
      acknowledgedAt: null,
      resolvedBy: null,
      resolvedAt: null,
      // Claimed now, before sending, so repeats arriving meanwhile do not send again.
      notifiedAt: this.options.channels.length > 0 ? now : null,
      notifiedCount: this.options.channels.length > 0 ? 1 : 0,
      deliveries: [],
      pendingChannels: [],
    };
    try {
      await collection.insertOne(doc);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await collection.findOne({ _id: doc._id });
      if (existing && existing.status !== 'resolved') return this.group(existing, message, details, now);
      doc._id = `${fingerprint}#${now.getTime()}`; // the window's episode was resolved already: a new one
      await collection.insertOne(doc);
    }
    this.options.logger.error(`alert: ${input.kind}`, { alert: doc._id, integration: doc.integration, subject: doc.subject, message });
    this.inBackground(this.notify(doc, this.options.channels, { repeated: false, newOccurrences: 1 }));
    return viewOf(doc);
  }

  private async group(doc: AlertDoc, message: string, details: Record<string, unknown>, now: Date): Promise<AlertView> {
    const due =
      this.options.channels.length > 0 &&
      doc.status === 'open' &&
      (doc.notifiedAt === null || now.getTime() - doc.notifiedAt.getTime() >= this.renotifyAfterMs);
    const updated: AlertDoc = {
      ...doc,
      count: doc.count + 1,
      lastAt: now,
      message,
      details,
      ...(due ? { notifiedAt: now, notifiedCount: doc.count + 1 } : {}),
    };
    // The reminder is claimed in the same write, so repeats arriving while it is sent do not send again.
    const claim = due ? { notifiedAt: now, notifiedCount: doc.count + 1 } : {};
    await this.options.collection.updateOne({ _id: doc._id }, { $set: { message, details, lastAt: now, ...claim }, $inc: { count: 1 } });
    if (due)
      this.inBackground(this.notify(updated, this.options.channels, { repeated: true, newOccurrences: updated.count - doc.notifiedCount }));
    return viewOf(updated);
  }

  private async notify(doc: AlertDoc, channels: AlertChannel[], summary: { repeated: boolean; newOccurrences: number }) {
    if (channels.length === 0) return [];
    const at = new Date(this.now());
    const view = viewOf(doc);
    const results = await Promise.all(
      channels.map(async (channel) => {
        try {
          await channel.send(view, summary);
          return { channel: channel.name, at, ok: true, error: null, count: doc.count };
        } catch (error) {
          const reason = redactString(error instanceof Error ? error.message : String(error)).slice(0, 500);
          this.options.logger.warn('alert could not be delivered; it will be retried', {
            alert: doc._id,
            channel: channel.name,
            error: reason,
          });
          return { channel: channel.name, at, ok: false, error: reason, count: doc.count };
        }
      }),
    );
    await this.oneAtATime(doc.fingerprint, async () => {
      const current = await this.options.collection.findOne({ _id: doc._id });
      const failedNames = results.filter((r) => !r.ok).map((r) => r.channel);
      const tried = new Set(results.map((r) => r.channel));
      const pending = [...(current?.pendingChannels ?? []).filter((name) => !tried.has(name)), ...failedNames];
      await this.options.collection.updateOne(
        { _id: doc._id },
        {
          $set: {
            notifiedAt: at,
            notifiedCount: doc.count,
            deliveries: [...(current?.deliveries ?? []), ...results].slice(-DELIVERIES_KEPT),
            pendingChannels: pending,
          },
        },
      );
    });
    return results;
  }

  private inBackground(work: Promise<unknown>): void {
    const tracked: Promise<void> = work.then(
      () => undefined,
      (error: unknown) => {
        this.options.logger.error('alert notification failed', { error: String(error) });
      },
    );
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  private async setStatus(id: string, change: Partial<AlertDoc>, from: Array<AlertDoc['status']>): Promise<AlertView | null> {
    const found = await this.options.collection.findOne({ _id: id }, { projection: { fingerprint: 1 } });
    if (!found) return null;
    return this.oneAtATime(found.fingerprint, async () => {
      const doc = await this.options.collection.findOne({ _id: id });
      if (!doc) return null;
      if (!from.includes(doc.status)) return viewOf(doc);
      await this.options.collection.updateOne({ _id: id }, { $set: change });
      return viewOf({ ...doc, ...change });
    });
  }

  /**
   * Every write to one alert runs one at a time in this process: simultaneous repeats group into one
   * alert, and no write is lost, because an update on FerretDB v1 reads and writes the whole document
   * back (a `$inc` beside a delivery record's `$set` could otherwise vanish).
   */
  private oneAtATime<T>(fingerprint: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(fingerprint) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.chains.set(fingerprint, next);
    void next
      .finally(() => {
        if (this.chains.get(fingerprint) === next) this.chains.delete(fingerprint);
      })
      .catch(() => undefined);
    return next;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function newestFirst(a: Pick<AlertDoc, 'lastAt' | '_id'>, b: Pick<AlertDoc, 'lastAt' | '_id'>): number {
  const byTime = b.lastAt.getTime() - a.lastAt.getTime();
  return byTime !== 0 ? byTime : b._id < a._id ? -1 : b._id > a._id ? 1 : 0;
}

function encodeCursor(doc: AlertDoc): string {
  return Buffer.from(JSON.stringify([doc.lastAt.toISOString(), doc._id])).toString('base64url');
}

function decodeCursor(cursor: string): { lastAt: Date; id: string } {
  try {
    const [lastAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    return { lastAt: new Date(lastAt), id };
  } catch {
    return { lastAt: new Date(0), id: '' };
  }
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

function viewOf(doc: AlertDoc): AlertView {
  return {
    id: doc._id,
    fingerprint: doc.fingerprint,
    kind: doc.kind,
    severity: doc.severity,
    integration: doc.integration,
    subject: doc.subject,
    message: doc.message,
    details: doc.details,
    status: doc.status,
    count: doc.count,
    firstAt: doc.firstAt.toISOString(),
    lastAt: doc.lastAt.toISOString(),
    acknowledgedBy: doc.acknowledgedBy,
    acknowledgedAt: iso(doc.acknowledgedAt),
    resolvedBy: doc.resolvedBy,
    resolvedAt: iso(doc.resolvedAt),
    notifiedAt: iso(doc.notifiedAt),
    deliveries: doc.deliveries.map((d) => ({ ...d, at: d.at.toISOString() })),
  };
}
