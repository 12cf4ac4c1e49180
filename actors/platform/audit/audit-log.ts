import { randomBytes } from 'node:crypto';
import type { Collection, Filter } from 'mongodb';
import type { Logger } from 'winston';
import { redact } from '../../../common/logger.ts';
import type { AuditDoc } from '../../../persistence/collections.ts';
import { PersonalDataCipher } from '../../../persistence/personal-data-key.ts';

export type AuditEntry = Omit<AuditDoc, '_id' | 'at'> & { at?: Date };

export interface AuditFilter {
  kind?: AuditDoc['kind'];
  integration?: string;
  operation?: string;
  actor?: string;
  outcome?: string;
  from?: Date;
  to?: Date;
  cursor?: string;
  limit?: number;
}

export interface AuditView extends Omit<AuditDoc, '_id' | 'at'> {
  id: string;
  at: string;
}

/**
 * The audit log: every outbound call, inbound webhook and admin change.
 * Entries are buffered for a moment and written in batches (an insert per
 * call would cost more than many calls themselves); admin changes are
 * written before the change is answered. Ids sort by time, which gives
 * cursor paging without a second index.
 */
export class AuditLog {
  private buffer: AuditDoc[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly collection: Collection<AuditDoc>,
    private readonly logger: Logger,
    private readonly options: {
      flushMs?: number;
      maxBuffer?: number;
      /**
       * Seals what an entry quotes (a partner call's request and response, an entry's details): they
       * are whatever was sent, a waybill's recipient or a mail's address included. Opened by `list`.
       */
      personalData?: PersonalDataCipher;
    } = {},
  ) {}

  static idFor(at: Date): string {
    return `${at.toISOString()}~${randomBytes(5).toString('hex')}`;
  }

  /** Buffered: written within flushMs (or at once when the buffer is full). */
  record(entry: AuditEntry): void {
    this.buffer.push(this.toDoc(entry));
    if (this.buffer.length >= (this.options.maxBuffer ?? 200)) {
      void this.flush();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushMs ?? 250);
      this.timer.unref();
    }
  }

  /** Written before it resolves (admin changes). */
  async recordNow(entry: AuditEntry): Promise<void> {
    await this.collection.insertOne(this.toDoc(entry));
  }

  /** A change someone made (an admin, or the hub in a business step): written before it resolves. */
  recordChange(change: {
    kind?: 'admin' | 'business';
    operation: string;
    principal: string;
    actor?: string | null;
    integration?: string | null;
    status?: number | null;
    details: Record<string, unknown>;
  }): Promise<void> {
    return this.recordNow({
      kind: change.kind ?? 'admin',
      integration: change.integration ?? null,
      operation: change.operation,
      actor: change.actor ?? null,
      principal: change.principal,
      status: change.status ?? null,
      outcome: 'ok',
      durationMs: null,
      error: null,
      request: null,
      response: null,
      details: change.details,
    });
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.collection.insertMany(batch, { ordered: false });
      } catch (error) {
        // The audit must not break the calls it describes; losing a batch is logged loudly.
        this.logger.error('audit batch could not be written', { entries: batch.length, error: String(error) });
      }
    });
    return this.flushing;
  }

  async list(filter: AuditFilter): Promise<{ entries: AuditView[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
    const query: Filter<AuditDoc> = {};
    if (filter.kind) query.kind = filter.kind;
    if (filter.integration) query.integration = filter.integration;
    if (filter.operation) query.operation = filter.operation;
    if (filter.actor) query.actor = filter.actor;
    if (filter.outcome) query.outcome = filter.outcome;
    const idRange: { $lt?: string; $gte?: string } = {};
    if (filter.cursor) idRange.$lt = filter.cursor;
    if (filter.to) idRange.$lt = minId(idRange.$lt, filter.to.toISOString());
    if (filter.from) idRange.$gte = filter.from.toISOString();
    if (Object.keys(idRange).length > 0) query._id = idRange;
    const docs = await this.collection
      .find(query)
      .sort({ _id: -1 })
      .limit(limit + 1)
      .toArray();
    const page = docs.slice(0, limit);
    return {
      entries: page.map(({ _id, at, ...rest }) => ({ id: _id, at: at.toISOString(), ...this.opened(rest) })),
      nextCursor: docs.length > limit ? (page.at(-1)?._id ?? null) : null,
    };
  }

  /** Deletes entries older than the cutoff (the retention job; FerretDB has no TTL indexes). */
  async deleteBefore(cutoff: Date): Promise<number> {
    const result = await this.collection.deleteMany({ _id: { $lt: cutoff.toISOString() } });
    return result.deletedCount;
  }

  private toDoc(entry: AuditEntry): AuditDoc {
    const at = entry.at ?? new Date();
    const details = entry.details ? (redact(entry.details) as Record<string, unknown>) : null;
    const cipher = this.options.personalData;
    if (!cipher) return { ...entry, details, _id: AuditLog.idFor(at), at };
    return {
      ...entry,
      request: entry.request === null ? null : cipher.seal(entry.request),
      response: entry.response === null ? null : cipher.seal(entry.response),
      details: details === null ? null : { [SEALED_DETAILS]: cipher.seal(details) },
      _id: AuditLog.idFor(at),
      at,
    };
  }

  /** An entry's quoted parts opened (entries written before sealing read as they are). */
  private opened<T extends Pick<AuditDoc, 'request' | 'response' | 'details'>>(entry: T): T {
    const cipher = this.options.personalData;
    if (!cipher) return entry;
    const open = (value: string | null) => (value !== null && PersonalDataCipher.isSealed(value) ? String(cipher.open(value)) : value);
    const sealedDetails = entry.details?.[SEALED_DETAILS];
    return {
      ...entry,
      request: open(entry.request),
      response: open(entry.response),
      details: PersonalDataCipher.isSealed(sealedDetails) ? (cipher.open(sealedDetails) as Record<string, unknown>) : entry.details,
    };
  }
}

/** The key an entry's sealed details are stored under (a document, so the field keeps its type). */
const SEALED_DETAILS = 'sealed';

function minId(a: string | undefined, b: string): string {
  return a === undefined || b < a ? b : a;
}
