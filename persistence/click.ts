import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from './collections.ts';
import { defineCollection, ensureCollectionIndexes, openCollections, type OpenedCollections } from './define-collection.ts';

/**
 * Click's SHOP API transactions as our Prepare and Complete endpoints
 * recorded them, keyed by Click's `click_trans_id`.
 *
 * Every decision is a unique insert, the one atomic guard on every database
 * the hub runs on (FerretDB rewrites a document on update without
 * re-checking the filter):
 *   - a Prepare accepted is its transaction document (`_id` click_trans_id);
 *   - a Complete decided is its completion document (`_id` click_trans_id),
 *     and a confirmed one also claims its payment (`settles` = payment id,
 *     unique): two transactions can never both take money for one payment;
 *   - our numeric `merchant_prepare_id` / `merchant_confirm_id` are claimed
 *     numbers (`_id` n), one per transaction and kind (unique), so a repeat
 *     finds its number and a race takes the next.
 * Nothing is updated after it is written: a transaction's state is its
 * completion (none: prepared). The answers are stored as sent, so a repeat
 * answers the same.
 */

/** An answer as sent (JSON), stored so that a repeat gets the same. */
export type StoredClickAnswer = Record<string, string | number | null>;

export interface ClickTransactionDoc {
  _id: string; // click_trans_id
  /** merchant_trans_id: our order (or sale) id */
  accountId: string;
  /** our payment attempt it pays */
  paymentId: string;
  /** Click's payment id (the Merchant API's payment_id) */
  clickPaydocId: string;
  serviceId: string;
  /** tiyin */
  amount: number;
  /** the amount as Click sent it (soums) */
  amountRaw: string;
  merchantPrepareId: number;
  signTime: string;
  preparedAt: Date;
  answer: StoredClickAnswer;
}

export interface ClickCompletionDoc {
  _id: string; // click_trans_id
  paymentId: string;
  /** unique: the payment id when confirmed (one confirmed transaction per payment), `cancelled:<click_trans_id>` otherwise */
  settles: string;
  outcome: 'confirmed' | 'cancelled';
  merchantConfirmId: number | null;
  /** the `error` Click sent with the Complete (below zero: the payment failed at Click) */
  clickError: number;
  clickErrorNote: string;
  at: Date;
  answer: StoredClickAnswer;
}

export interface ClickNumberDoc {
  _id: number;
  clickTransId: string;
  kind: 'prepare' | 'confirm';
  at: Date;
}

export const clickTransactionsCollection = defineCollection<ClickTransactionDoc>({
  name: 'click_transactions',
  description: 'Click SHOP API transactions our Prepare endpoint accepted, by click_trans_id, with the answer sent',
  // a payment's transactions (its gateway's check, refund and reconciliation)
  indexes: [{ key: { paymentId: 1 } }],
});

export const clickCompletionsCollection = defineCollection<ClickCompletionDoc>({
  name: 'click_completions',
  description: 'Click Complete requests decided (confirmed or cancelled), by click_trans_id, with the answer sent',
  indexes: [{ key: { settles: 1 }, unique: true }, { key: { paymentId: 1 } }],
});

export const clickNumbersCollection = defineCollection<ClickNumberDoc>({
  name: 'click_numbers',
  description: 'our numeric merchant_prepare_id and merchant_confirm_id, one per Click transaction and kind',
  indexes: [{ key: { clickTransId: 1, kind: 1 }, unique: true }],
});

const click = { transactions: clickTransactionsCollection, completions: clickCompletionsCollection, numbers: clickNumbersCollection };
export type ClickCollections = OpenedCollections<typeof click>;

export async function ensureClickIndexes(db: Db): Promise<void> {
  await ensureCollectionIndexes(db, Object.values(click));
}

export type ClickState = 'prepared' | 'confirmed' | 'cancelled';

export interface ClickTransaction extends ClickTransactionDoc {
  state: ClickState;
  completion: ClickCompletionDoc | null;
}

const viewOf = (doc: ClickTransactionDoc, completion: ClickCompletionDoc | null): ClickTransaction => ({
  ...doc,
  state: completion?.outcome ?? 'prepared',
  completion,
});

export class ClickStore {
  readonly collections: ClickCollections;

  constructor(db: Db) {
    this.collections = openCollections(db, click);
  }

  /**
   * Our number for this transaction and kind: the one claimed before, else the next free one. A race for a
   * number takes the next; a race for the same transaction finds the other's claim.
   */
  async number(clickTransId: string, kind: ClickNumberDoc['kind'], at: Date): Promise<number> {
    const numbers: Collection<ClickNumberDoc> = this.collections.numbers;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const mine = await numbers.findOne({ clickTransId, kind });
      if (mine) return mine._id;
      const [last] = await numbers.find({}).sort({ _id: -1 }).limit(1).toArray();
      const claim: ClickNumberDoc = { _id: (last?._id ?? 0) + 1, clickTransId, kind, at };
      try {
        await numbers.insertOne(claim);
        return claim._id;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    throw new Error(`could not claim a ${kind} number for Click transaction ${clickTransId}`);
  }

  async transaction(clickTransId: string): Promise<ClickTransaction | null> {
    const doc = await this.collections.transactions.findOne({ _id: clickTransId });
    if (!doc) return null;
    return viewOf(doc, await this.collections.completions.findOne({ _id: clickTransId }));
  }

  /** Records an accepted Prepare; when another got there first (a repeat racing), answers that one. */
  async prepare(doc: ClickTransactionDoc): Promise<ClickTransaction> {
    try {
      await this.collections.transactions.insertOne(doc);
      return viewOf(doc, null);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const first = await this.transaction(doc._id);
      if (!first) throw error;
      return first;
    }
  }

  /**
   * Records a decided Complete. `done`: this one is the decision; `decided`: the transaction was decided
   * before (a repeat), with that decision; `settled`: another transaction already confirmed this payment.
   */
  async complete(
    doc: ClickCompletionDoc,
  ): Promise<{ kind: 'done'; completion: ClickCompletionDoc } | { kind: 'decided'; completion: ClickCompletionDoc } | { kind: 'settled' }> {
    try {
      await this.collections.completions.insertOne(doc);
      return { kind: 'done', completion: doc };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const before = await this.collections.completions.findOne({ _id: doc._id });
      return before ? { kind: 'decided', completion: before } : { kind: 'settled' };
    }
  }

  /** The confirmed completion of a payment, if any transaction confirmed it. */
  confirmedFor(paymentId: string): Promise<ClickCompletionDoc | null> {
    return this.collections.completions.findOne({ settles: paymentId });
  }

  /** A payment's transactions, oldest first, with their state. */
  async ofPayment(paymentId: string): Promise<ClickTransaction[]> {
    const docs = await this.collections.transactions.find({ paymentId }).sort({ preparedAt: 1 }).toArray();
    const completions = await this.collections.completions.find({ paymentId }).toArray();
    const byId = new Map(completions.map((c) => [c._id, c]));
    return docs.map((doc) => viewOf(doc, byId.get(doc._id) ?? null));
  }
}
