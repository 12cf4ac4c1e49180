import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError, createCollections } from './collections.ts';

/** What the Goodfin adapter keeps beside its application actors: the outbox, application numbers, documents. */

export interface OutboxDoc {
  _id: string; // the message's stable id (also the source of its msgId)
  applicationId: string;
  /** order within the application: messages are delivered strictly in this order */
  seq: number;
  msgId: string;
  payloadType: string;
  payload: Record<string, unknown>;
  status: 'pending' | 'sent';
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

/**
 * Goodfin's CommonResponse to one of our messages, kept apart from the
 * message: FerretDB rewrites a whole document on update, so an answer
 * written onto the message while the outbox marks it sent could undo that
 * mark and send it again. An insert touches nothing else.
 */
export interface OutboxAnswerDoc {
  _id: string; // the answered message's _id
  msgId: string; // the CommonResponse's own msgId
  success: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  at: Date;
}

export interface ApplicationNumberDoc {
  _id: string; // `${year}:${n}`
  year: number;
  n: number;
  applicationId: string;
  at: Date;
}

export interface GoodfinDocumentDoc {
  _id: string; // documentKey(applicationId, documentId)
  documentId: string;
  applicationId: string;
  fileName: string;
  documentType: string;
  size: number;
  content: Buffer;
  downloadedAt: Date;
}

/** A document is kept per application (the same file may be attached to two). */
export const documentKey = (applicationId: string, documentId: string) => `${applicationId}:${documentId}`;

export interface GoodfinCollections {
  outbox: Collection<OutboxDoc>;
  answers: Collection<OutboxAnswerDoc>;
  numbers: Collection<ApplicationNumberDoc>;
  documents: Collection<GoodfinDocumentDoc>;
}

export function goodfinCollections(db: Db): GoodfinCollections {
  return {
    outbox: db.collection<OutboxDoc>('goodfin_outbox'),
    answers: db.collection<OutboxAnswerDoc>('goodfin_outbox_answers'),
    numbers: db.collection<ApplicationNumberDoc>('goodfin_numbers'),
    documents: db.collection<GoodfinDocumentDoc>('goodfin_documents'),
  };
}

export async function ensureGoodfinIndexes(db: Db): Promise<void> {
  await createCollections(db, ['goodfin_outbox', 'goodfin_outbox_answers', 'goodfin_numbers', 'goodfin_documents']);
  const c = goodfinCollections(db);
  await c.outbox.createIndex({ status: 1, nextAttemptAt: 1 });
  await c.outbox.createIndex({ applicationId: 1, seq: 1 });
  await c.outbox.createIndex({ msgId: 1 });
  await c.numbers.createIndex({ applicationId: 1 }, { unique: true });
}

/**
 * The application's number, sequential within the year and without gaps:
 * claimed by a unique insert that names the application, so a repeat finds
 * its claim and a race takes the next number.
 */
export async function claimApplicationNumber(
  numbers: Collection<ApplicationNumberDoc>,
  applicationId: string,
  year: number,
  now = new Date(),
): Promise<ApplicationNumberDoc> {
  for (;;) {
    const mine = await numbers.findOne({ applicationId });
    if (mine) return mine;
    const [last] = await numbers.find({ year }).sort({ n: -1 }).limit(1).toArray();
    const n = (last?.n ?? 0) + 1;
    try {
      const claim: ApplicationNumberDoc = { _id: `${year}:${n}`, year, n, applicationId, at: now };
      await numbers.insertOne(claim);
      return claim;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }
}
