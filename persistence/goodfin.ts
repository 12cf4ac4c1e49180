import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from './collections.ts';
import { defineCollection, ensureCollectionIndexes, openCollections, type OpenedCollections } from './define-collection.ts';

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

export const outboxCollection = defineCollection<OutboxDoc>({
  name: 'goodfin_outbox',
  description: 'messages to Goodfin, delivered in order per application',
  // the due queue; an application's messages in order; a CommonResponse finds its message by msgId
  indexes: [{ key: { status: 1, nextAttemptAt: 1 } }, { key: { applicationId: 1, seq: 1 } }, { key: { msgId: 1 } }],
});

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

export const outboxAnswersCollection = defineCollection<OutboxAnswerDoc>({
  name: 'goodfin_outbox_answers',
  description: "Goodfin's answers to our messages, one per message",
});

export interface ApplicationNumberDoc {
  _id: string; // `${year}:${n}`
  year: number;
  n: number;
  applicationId: string;
  at: Date;
}

export const applicationNumbersCollection = defineCollection<ApplicationNumberDoc>({
  name: 'goodfin_numbers',
  description: 'claimed application numbers, sequential within the year',
  // one number per application: a repeated or racing claim finds the application's number instead of taking a second
  indexes: [{ key: { applicationId: 1 }, unique: true }],
});

export interface GoodfinDocumentDoc {
  _id: string; // documentKey(applicationId, documentId)
  documentId: string;
  applicationId: string;
  fileName: string;
  documentType: string;
  /** of the file itself */
  size: number;
  /** the file, sealed (`PersonalDataCipher.sealBytes`) when `sealed`: a client's documents are personal data */
  content: Buffer;
  /** absent on a document downloaded before documents were sealed (kept in clear) */
  sealed?: true;
  downloadedAt: Date;
}

export const goodfinDocumentsCollection = defineCollection<GoodfinDocumentDoc>({
  name: 'goodfin_documents',
  description: 'documents downloaded from Goodfin, kept per application',
});

/** A document is kept per application (the same file may be attached to two). */
export const documentKey = (applicationId: string, documentId: string) => `${applicationId}:${documentId}`;

/** The Goodfin adapter's collections, created with their indexes at start-up. */
const goodfin = {
  outbox: outboxCollection,
  answers: outboxAnswersCollection,
  numbers: applicationNumbersCollection,
  documents: goodfinDocumentsCollection,
};

export type GoodfinCollections = OpenedCollections<typeof goodfin>;

export function goodfinCollections(db: Db): GoodfinCollections {
  return openCollections(db, goodfin);
}

export async function ensureGoodfinIndexes(db: Db): Promise<void> {
  await ensureCollectionIndexes(db, Object.values(goodfin));
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
