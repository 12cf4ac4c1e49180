import type { Db } from 'mongodb';
import { defineCollection, ensureCollectionIndexes, openCollections, type OpenedCollections } from './define-collection.ts';

/** What the loyalty module (JOWi Club) keeps: the customers it last heard of, and the accruals and refunds to deliver. */

export interface LoyaltyCustomerDoc {
  _id: string; // JOWi's customer id
  name: string;
  phone: string | null;
  card: string | null;
  level: string | null;
  discountPercent: number;
  /** tiyin */
  bonusBalance: number;
  blocked: boolean;
  /** the time of the data at JOWi (a webhook's created_at, or when a live answer came): an older one never overwrites */
  sourceAt: Date;
  source: 'live' | 'webhook';
  updatedAt: Date;
}

/**
 * A customer as stored: the name, phone and card are personal data, kept sealed (`pd1.…`) and found by
 * their keyed hashes. One stored before sealing began has no `sealed` mark (and is sealed at start).
 */
export interface StoredLoyaltyCustomerDoc extends Omit<LoyaltyCustomerDoc, 'name' | 'phone' | 'card'> {
  name: string;
  phone: string | null;
  card: string | null;
  phoneIndex?: string | null;
  cardIndex?: string | null;
  sealed?: true;
}

export const loyaltyCustomersCollection = defineCollection<StoredLoyaltyCustomerDoc>({
  name: 'loyalty_customers',
  description: 'JOWi Club customers as last heard (live answers and webhooks): identifies a customer while JOWi is unreachable',
  indexes: [{ key: { phoneIndex: 1 } }, { key: { cardIndex: 1 } }],
});

export interface LoyaltyItem {
  name: string;
  qty: number;
  /** per unit, tiyin */
  price: number;
}

/** The JOWi transaction a delivery came to. */
export interface LoyaltyDeliveryResult {
  transactionId: string;
  /** tiyin */
  bonusEarned: number;
  bonusBalance: number;
  refunded: boolean;
}

export interface LoyaltyOutboxDoc {
  _id: string; // `accrual:<saleId>` or `refund:<returnId>`
  kind: 'accrual' | 'refund';
  saleId: string;
  returnId: string | null;
  /** who earns: JOWi's id when known; else the phone or card it is looked up by at delivery (both sealed, `pd1.…`) */
  customer: { id: string | null; phone: string | null; card: string | null };
  /** tiyin; zero for a refund */
  amount: number;
  discount: number;
  bonusSpent: number;
  items: LoyaltyItem[];
  /** when the sale (or the return) was made */
  createdAt: Date;
  /** pending: to deliver; delivered: JOWi answered; refused: JOWi refused it for good (see lastError) */
  status: 'pending' | 'delivered' | 'refused';
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  queuedAt: Date;
  deliveredAt: Date | null;
  result: LoyaltyDeliveryResult | null;
}

export const loyaltyOutboxCollection = defineCollection<LoyaltyOutboxDoc>({
  name: 'loyalty_outbox',
  description: 'accruals of sales and their refunds to JOWi Club, one per sale (return), delivered until JOWi answers',
  indexes: [{ key: { status: 1, nextAttemptAt: 1 } }, { key: { saleId: 1 } }],
});

const loyalty = { customers: loyaltyCustomersCollection, outbox: loyaltyOutboxCollection };

export type LoyaltyCollections = OpenedCollections<typeof loyalty>;

export function loyaltyCollections(db: Db): LoyaltyCollections {
  return openCollections(db, loyalty);
}

export async function ensureLoyaltyIndexes(db: Db): Promise<void> {
  await ensureCollectionIndexes(db, Object.values(loyalty));
}
