import type { Collection } from 'mongodb';
import type { LoyaltyCustomerDoc, StoredLoyaltyCustomerDoc } from '../../../persistence/loyalty.ts';
import type { PersonalDataCipher } from '../../../persistence/personal-data-key.ts';
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
    private readonly collection: Collection<StoredLoyaltyCustomerDoc>,
    private readonly cipher: PersonalDataCipher,
    private readonly now: () => number,
  ) {}

  private sealed(doc: LoyaltyCustomerDoc): StoredLoyaltyCustomerDoc {
    const { cipher } = this;
    return {
      ...doc,
      name: cipher.seal(doc.name),
      phone: doc.phone === null ? null : cipher.seal(doc.phone),
      card: doc.card === null ? null : cipher.seal(doc.card),
      phoneIndex: doc.phone === null ? null : cipher.blindIndex('phone', doc.phone),
      cardIndex: doc.card === null ? null : cipher.blindIndex('card', doc.card),
      sealed: true,
    };
  }

  private opened(stored: StoredLoyaltyCustomerDoc | null): LoyaltyCustomerDoc | null {
    if (!stored) return null;
    const { phoneIndex: _phone, cardIndex: _card, sealed, ...doc } = stored;
    if (!sealed) return doc;
    const open = (value: string | null) => (value === null ? null : this.cipher.openText(value));
    return { ...doc, name: this.cipher.openText(doc.name), phone: open(doc.phone), card: open(doc.card) };
  }

  private async write(doc: LoyaltyCustomerDoc): Promise<void> {
    await this.collection.replaceOne({ _id: doc._id }, this.sealed(doc), { upsert: true });
  }

  /** Seals the customers cached before sealing began (a start after an upgrade); answers how many. */
  async sealStoredInClear(): Promise<number> {
    let count = 0;
    for (;;) {
      const batch = await this.collection
        .find({ sealed: { $ne: true } })
        .limit(200)
        .toArray();
      for (const stored of batch) {
        const doc = this.opened(stored);
        // a replace conditional on the clear copy: a webhook that wrote a sealed one meanwhile stands
        if (doc) count += (await this.collection.replaceOne({ _id: doc._id, sealed: { $ne: true } }, this.sealed(doc))).modifiedCount;
      }
      if (batch.length < 200) return count;
    }
  }

  /** Keeps what JOWi says of a customer, unless we hold something newer. Answers whether it was kept. */
  async remember(customer: JowiCustomer, sourceAt: Date, source: LoyaltyCustomerDoc['source']): Promise<boolean> {
    const current = await this.get(customer.id);
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
    await this.write(doc);
    return true;
  }

  /** A new balance (tiyin) of a customer we know; false when we know none or hold something newer. */
  async rememberBalance(customerId: string, bonusBalance: number, sourceAt: Date, source: LoyaltyCustomerDoc['source']): Promise<boolean> {
    const current = await this.get(customerId);
    if (!current || current.sourceAt.getTime() > sourceAt.getTime()) return false;
    if (current.bonusBalance === bonusBalance && sourceAt.getTime() - current.sourceAt.getTime() < REFRESH_UNCHANGED_MS) return false;
    await this.write({ ...current, bonusBalance, sourceAt, source, updatedAt: new Date(this.now()) });
    return true;
  }

  /** Marks the customer with this phone or card blocked (JOWi answered 41 for it). */
  async block(query: { phone: string } | { card: string }, sourceAt: Date): Promise<void> {
    const current = await this.find(query);
    if (!current || current.sourceAt.getTime() > sourceAt.getTime()) return;
    await this.write({ ...current, blocked: true, sourceAt, source: 'live', updatedAt: new Date(this.now()) });
  }

  async get(id: string): Promise<LoyaltyCustomerDoc | null> {
    return this.opened(await this.collection.findOne({ _id: id }));
  }

  /** The most recently heard customer with this phone or card (found by its keyed hash). */
  async find(query: { phone: string } | { card: string }): Promise<LoyaltyCustomerDoc | null> {
    const index = 'phone' in query ? this.cipher.blindIndex('phone', query.phone) : this.cipher.blindIndex('card', query.card);
    if (index === null) return null;
    const filter = 'phone' in query ? { phoneIndex: index } : { cardIndex: index };
    const [found] = await this.collection.find(filter).sort({ sourceAt: -1 }).limit(1).toArray();
    return this.opened(found ?? null);
  }
}
