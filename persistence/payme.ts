import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from './collections.ts';
import { defineCollection } from './define-collection.ts';

/**
 * Payme's transactions as our merchant endpoint recorded them: one document
 * per Payme transaction id, with Payme's own `time`, the account it named,
 * our payment it pays, its state and times, and the answers we gave, so a
 * repeated call answers exactly what the first one did. The gateway reads it
 * (status, refunds, reconciliation) and GetStatement lists it.
 *
 * One transaction at a time may be active (state 1 or 2) for a payment:
 * `activeSlot` holds the payment id while the transaction is active and a
 * value of its own once it is cancelled, under a unique index — the insert
 * of a second active transaction for the payment fails in the database,
 * whichever process makes it (FerretDB has no partial index and no atomic
 * find-and-modify; a unique insert is its one atomic guard).
 */

/** 1 created, 2 performed, -1 cancelled before perform, -2 cancelled after perform. */
export type PaymeStateCode = 1 | 2 | -1 | -2;

export interface PaymeTransactionDoc {
  /** Payme's transaction id */
  _id: string;
  /** Payme's creation time of the transaction (ms): the 12 hours count from it */
  time: number;
  /** tiyin */
  amount: number;
  /** the account object Payme sent, as JSON (its keys are the payer's input, not ours to trust as field names) */
  accountJson: string;
  /** `account.order_id`: our order (or sale) id */
  accountId: string;
  /** our payment this transaction pays */
  paymentId: string;
  /** our transaction number (sequential); Payme sees it as the string `transaction` */
  number: number;
  transaction: string;
  state: PaymeStateCode;
  /** the payment id while active (1, 2); `cancelled:<payme id>` once cancelled — unique */
  activeSlot: string;
  /** ms; 0 while unset */
  createTime: number;
  performTime: number;
  cancelTime: number;
  /** Payme's cancel reason (4 = our timeout); null until cancelled */
  reason: number | null;
  /** what we answered each method, for identical repeats */
  answers: { create: Record<string, unknown>; perform: Record<string, unknown> | null; cancel: Record<string, unknown> | null };
}

export const paymeTransactionsCollection = defineCollection<PaymeTransactionDoc>({
  name: 'payme_transactions',
  description: "Payme's transactions as our merchant endpoint recorded them, with the answers given",
  indexes: [
    // one active transaction per payment, across processes
    { key: { activeSlot: 1 }, unique: true },
    // our transaction numbers
    { key: { number: 1 }, unique: true },
    { key: { paymentId: 1 } },
    // GetStatement (by Payme's time) and the timeout sweep (state 1, oldest time)
    { key: { time: 1 } },
    { key: { state: 1, time: 1 } },
  ],
});

export async function ensurePaymeIndexes(db: Db): Promise<void> {
  await paymeTransactionsCollection.ensureIndexes(db);
}

export type NewPaymeTransaction = Omit<PaymeTransactionDoc, 'number' | 'transaction' | 'state' | 'activeSlot' | 'answers'> & {
  /** the Create answer, given the transaction string we assign */
  answer: (transaction: string) => Record<string, unknown>;
};

export type CreateOutcome =
  | { outcome: 'created'; doc: PaymeTransactionDoc }
  /** a transaction with this Payme id is there already (a repeat, or a race with one) */
  | { outcome: 'exists'; doc: PaymeTransactionDoc }
  /** another transaction is active for this payment */
  | { outcome: 'busy'; active: PaymeTransactionDoc | null };

export const cancelledSlot = (paymeId: string) => `cancelled:${paymeId}`;

export class PaymeTransactions {
  readonly collection: Collection<PaymeTransactionDoc>;

  constructor(db: Db) {
    this.collection = paymeTransactionsCollection.open(db);
  }

  get(id: string): Promise<PaymeTransactionDoc | null> {
    return this.collection.findOne({ _id: id });
  }

  /** The payment's active (1 or 2) transaction, if any. */
  active(paymentId: string): Promise<PaymeTransactionDoc | null> {
    return this.collection.findOne({ activeSlot: paymentId });
  }

  /** Every transaction of a payment, newest first. */
  ofPayment(paymentId: string): Promise<PaymeTransactionDoc[]> {
    return this.collection.find({ paymentId }).sort({ createTime: -1 }).toArray();
  }

  /**
   * Records a new transaction in state 1 under the next number. Exactly one of two racing creates for one
   * payment wins (the unique `activeSlot`); a racing create of the same Payme id finds the first one.
   */
  async create(input: NewPaymeTransaction): Promise<CreateOutcome> {
    const { answer, ...fields } = input;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const existing = await this.get(fields._id);
      if (existing) return { outcome: 'exists', doc: existing };
      const active = await this.active(fields.paymentId);
      // the same Payme id created by a racing call between our two reads is this transaction, not another one
      if (active) return active._id === fields._id ? { outcome: 'exists', doc: active } : { outcome: 'busy', active };
      const [last] = await this.collection.find({}).sort({ number: -1 }).limit(1).toArray();
      const number = (last?.number ?? 0) + 1;
      const transaction = String(number);
      const doc: PaymeTransactionDoc = {
        ...fields,
        number,
        transaction,
        state: 1,
        activeSlot: fields.paymentId,
        answers: { create: answer(transaction), perform: null, cancel: null },
      };
      try {
        await this.collection.insertOne(doc);
        return { outcome: 'created', doc };
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // which unique key refused it is told by looking again: the same id, the payment's slot, or the number
      }
    }
    throw new Error(`could not number Payme transaction ${fields._id}: too many concurrent numbers`);
  }

  /**
   * Moves a transaction from `from` to the state in `set`, only if it is still in `from` (compare-and-set on
   * one document); null when it was not.
   */
  async transition(id: string, from: PaymeStateCode, set: Partial<PaymeTransactionDoc>): Promise<PaymeTransactionDoc | null> {
    return this.collection.findOneAndUpdate({ _id: id, state: from }, { $set: set }, { returnDocument: 'after' });
  }

  /** Transactions Payme created within [from, to] (its `time`, inclusive), oldest first. */
  statement(from: number, to: number): Promise<PaymeTransactionDoc[]> {
    return this.collection
      .find({ time: { $gte: from, $lte: to } })
      .sort({ time: 1, _id: 1 })
      .toArray();
  }

  /** Created (state 1) transactions whose Payme time is at or before `time`. */
  createdSince(time: number, limit = 500): Promise<PaymeTransactionDoc[]> {
    return this.collection
      .find({ state: 1, time: { $lte: time } })
      .sort({ time: 1 })
      .limit(limit)
      .toArray();
  }
}
