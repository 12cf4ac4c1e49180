import type { Collection } from 'mongodb';
import type { LoyaltyCustomerDoc } from '../../../persistence/loyalty.ts';
import type { JowiCustomer } from '../../platform/connectors/jowi/protocol.ts';

/**
 * The customers JOWi last told us of — by a live answer or a webhook — so a
 * sale made while JOWi is unreachable can still name its customer (for a
 * later accrual). Data carries the time it was true at JOWi: an older copy
 * (a webhook resent late) never overwrites a newer one.
 */
/**
 * A live answer that changes nothing is written at most this often: every look-up refreshes the cache, and
 * FerretDB's updates are what a busy till pays for; the cached time is at most this old while nothing changes.
 */
const REFRESH_UNCHANGED_MS = 3_600_000;

function unchanged(current: LoyaltyCustomerDoc, customer: JowiCustomer): boolean {
  return (
    current.name === customer.name &&
    current.phone === customer.phone &&
    current.card === customer.card &&
    current.level === customer.level &&
    current.discountPercent === customer.discountPercent &&
    current.bonusBalance === customer.bonusBalance &&
    current.blocked === customer.blocked
  );
}

export class CustomerCache {
  constructor(
    private readonly collection: Collection<LoyaltyCustomerDoc>,
    private readonly now: () => number,
  ) {}

  /** Keeps what JOWi says of a customer, unless we hold something newer. Answers whether it was kept. */
  async remember(customer: JowiCustomer, sourceAt: Date, source: LoyaltyCustomerDoc['source']): Promise<boolean> {
    const current = await this.collection.findOne({ _id: customer.id });
    if (current && current.sourceAt.getTime() > sourceAt.getTime()) return false;
    if (current && unchanged(current, customer) && sourceAt.getTime() - current.sourceAt.getTime() < REFRESH_UNCHANGED_MS) return false;
    const doc: LoyaltyCustomerDoc = {
      _id: customer.id,
      name: customer.name,
      phone: customer.phone,
      card: customer.card,
      level: customer.level,
      discountPercent: customer.discountPercent,
      bonusBalance: customer.bonusBalance,
      blocked: customer.blocked,
      sourceAt,
      source,
      updatedAt: new Date(this.now()),
    };
    await this.collection.replaceOne({ _id: customer.id }, doc, { upsert: true });
    return true;
  }

  /** A new balance (tiyin) of a customer we know; false when we know none or hold something newer. */
  async rememberBalance(customerId: string, bonusBalance: number, sourceAt: Date, source: LoyaltyCustomerDoc['source']): Promise<boolean> {
    const current = await this.collection.findOne({ _id: customerId });
    if (!current || current.sourceAt.getTime() > sourceAt.getTime()) return false;
    if (current.bonusBalance === bonusBalance && sourceAt.getTime() - current.sourceAt.getTime() < REFRESH_UNCHANGED_MS) return false;
    await this.collection.replaceOne({ _id: customerId }, { ...current, bonusBalance, sourceAt, source, updatedAt: new Date(this.now()) });
    return true;
  }

  /** Marks the customer with this phone or card blocked (JOWi answered 41 for it). */
  async block(query: { phone: string } | { card: string }, sourceAt: Date): Promise<void> {
    const current = await this.find(query);
    if (!current || current.sourceAt.getTime() > sourceAt.getTime()) return;
    await this.collection.replaceOne(
      { _id: current._id },
      { ...current, blocked: true, sourceAt, source: 'live', updatedAt: new Date(this.now()) },
    );
  }

  async get(id: string): Promise<LoyaltyCustomerDoc | null> {
    return this.collection.findOne({ _id: id });
  }

  /** The most recently heard customer with this phone or card. */
  async find(query: { phone: string } | { card: string }): Promise<LoyaltyCustomerDoc | null> {
    const filter = 'phone' in query ? { phone: query.phone } : { card: query.card };
    const [found] = await this.collection.find(filter).sort({ sourceAt: -1 }).limit(1).toArray();
    return found ?? null;
  }
}
