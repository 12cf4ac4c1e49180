import type { Collection } from 'mongodb';
import { OneRunAtATime } from '../../platform/jobs/one-run-at-a-time.ts';
import type { Logger } from 'winston';
import { isDuplicateKeyError } from '../../../persistence/collections.ts';
import type { LoyaltyDeliveryResult, LoyaltyItem, LoyaltyOutboxDoc } from '../../../persistence/loyalty.ts';
import type { AlertSink } from '../../platform/alerts/alerts.ts';
import { JOWI_ERROR_CODES } from '../../platform/connectors/jowi/client.ts';
import { normalisePhone } from '../../platform/connectors/jowi/protocol.ts';
import { isConnectorError } from '../../platform/connectors/kit/errors.ts';
import type { JobDefinition } from '../../platform/jobs/registry.ts';
import type { JowiAccess } from './access.ts';
import type { PersonalDataCipher } from '../../../persistence/personal-data-key.ts';
import type { CustomerCache } from './customer-cache.ts';

/**
 * Accruals of sales (and refunds of returned sales) to JOWi Club, durable: queued once under the sale's id
 * (a repeat changes nothing), delivered until JOWi answers, with growing pauses, from the database — so a
 * restart loses nothing. Never a second accrual: the sale id is JOWi's `external_id`, and JOWi answers the
 * same transaction to the same `external_id` (a crash between its answer and our record sends it once more).
 *
 * A customer known only by phone or card (a sale made while JOWi was unreachable) is looked up at delivery.
 * JOWi refusing for good (customer unknown, card blocked, bonus insufficient, bad parameters) ends the
 * delivery `refused`, with an alert; our credentials refused (error 1) or the integration unconfigured keeps
 * it waiting, with an alert, until an operator fixes them. A refund waits for its sale's accrual.
 *
 * The same pattern as the Goodfin outbox (actors/domains/goodfin/outbox.ts): unique insert, due query,
 * doubling pause, one run at a time per process, a job for restarts and other processes.
 */

export interface AccrualInput {
  saleId: string;
  /** JOWi's customer id, when a live answer (or the cache) named it */
  customerId?: string | null;
  /** else the phone or card the customer gave, looked up at delivery */
  phone?: string | null;
  card?: string | null;
  /** what the customer paid, tiyin */
  amount: number;
  discount: number;
  bonusSpent: number;
  items: LoyaltyItem[];
  createdAt: Date | string | number;
}

export interface LoyaltyDeliveryView {
  id: string;
  kind: LoyaltyOutboxDoc['kind'];
  saleId: string;
  returnId: string | null;
  status: LoyaltyOutboxDoc['status'];
  customerId: string | null;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  deliveredAt: string | null;
  result: LoyaltyDeliveryResult | null;
}

export interface DeliveryRun {
  delivered: number;
  failed: number;
  refused: number;
}

export interface AccrualsOptions {
  collection: Collection<LoyaltyOutboxDoc>;
  access: JowiAccess;
  cache: CustomerCache;
  /** the phone or card an accrual waits with is kept sealed */
  personalData: PersonalDataCipher;
  logger: Logger;
  alerts?: AlertSink;
  now?: () => number;
  /** attempts after which an alert is raised (delivery goes on) */
  alertAfter?: number;
  /** try at once after a queueing (default true) */
  deliverOnEnqueue?: boolean;
}

export const accrualKey = (saleId: string) => `accrual:${saleId}`;
export const refundKey = (returnId: string) => `refund:${returnId}`;

const BATCH = 500;

class Refused extends Error {}
class Waiting extends Error {}

export class LoyaltyAccruals {
  private readonly deliveries = new OneRunAtATime(() => this.deliverDue());

  constructor(private readonly options: AccrualsOptions) {}

  private sealed(value: string | null): string | null {
    return value === null ? null : this.options.personalData.seal(value);
  }

  private opened(value: string | null): string | null {
    return value === null ? null : this.options.personalData.openText(value);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Queues a sale's accrual, once: a repeat of its sale id changes nothing and answers the first. */
  /** `deliverInBackground: false`: the caller delivers it itself (`deliverNow`); the outbox's runs take it if that fails. */
  async enqueue(
    input: AccrualInput,
    options: { deliverInBackground?: boolean } = {},
  ): Promise<{ queued: boolean; accrual: LoyaltyDeliveryView }> {
    const phone = input.phone ? normalisePhone(input.phone) : null;
    const card = input.card?.trim() || null;
    if (!input.customerId && !phone && !card) throw new RangeError('an accrual needs the customer: its JOWi id, phone or card');
    for (const amount of [input.amount, input.discount, input.bonusSpent, ...input.items.map((i) => i.price)])
      if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`amounts are non-negative integers (tiyin), not ${amount}`);
    if (input.items.length === 0) throw new RangeError('an accrual lists the sale’s items');
    const at = new Date(this.now());
    const doc: LoyaltyOutboxDoc = {
      _id: accrualKey(input.saleId),
      kind: 'accrual',
      saleId: input.saleId,
      returnId: null,
      customer: { id: input.customerId ?? null, phone: this.sealed(phone), card: this.sealed(card) },
      amount: input.amount,
      discount: input.discount,
      bonusSpent: input.bonusSpent,
      items: input.items.map((item) => ({ name: item.name, qty: item.qty, price: item.price })),
      createdAt: new Date(input.createdAt),
      ...this.fresh(at),
    };
    return this.insert(doc, options.deliverInBackground ?? true);
  }

  /** Queues the refund of a sale's accrual for one return, once per return. */
  async refund(
    saleId: string,
    returnId: string,
    createdAt: Date | number = this.now(),
  ): Promise<{ queued: boolean; accrual: LoyaltyDeliveryView }> {
    const at = new Date(this.now());
    const doc: LoyaltyOutboxDoc = {
      _id: refundKey(returnId),
      kind: 'refund',
      saleId,
      returnId,
      customer: { id: null, phone: null, card: null },
      amount: 0,
      discount: 0,
      bonusSpent: 0,
      items: [],
      createdAt: new Date(createdAt),
      ...this.fresh(at),
    };
    return this.insert(doc);
  }

  /** A sale's accrual as it stands; null when none was queued. */
  async accrualOf(saleId: string): Promise<LoyaltyDeliveryView | null> {
    const doc = await this.options.collection.findOne({ _id: accrualKey(saleId) });
    return doc ? viewOf(doc) : null;
  }

  /** Everything queued for a sale: its accrual, then its refunds. */
  async deliveriesOf(saleId: string): Promise<LoyaltyDeliveryView[]> {
    const docs = await this.options.collection.find({ saleId }).sort({ queuedAt: 1 }).limit(100).toArray();
    return docs.map(viewOf);
  }

  /** Delivers what is due; one run at a time in a process (a call during a run runs once more after it). */
  deliver(): Promise<DeliveryRun> {
    return this.deliveries.run();
  }

  private fresh(at: Date) {
    return {
      status: 'pending' as const,
      attempts: 0,
      nextAttemptAt: at,
      lastError: null,
      queuedAt: at,
      deliveredAt: null,
      result: null,
    };
  }

  private async insert(doc: LoyaltyOutboxDoc, deliverInBackground = true): Promise<{ queued: boolean; accrual: LoyaltyDeliveryView }> {
    try {
      await this.options.collection.insertOne(doc);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const first = await this.options.collection.findOne({ _id: doc._id });
      return { queued: false, accrual: viewOf(first ?? doc) };
    }
    if (deliverInBackground && (this.options.deliverOnEnqueue ?? true)) void this.deliver().catch(() => undefined);
    return { queued: true, accrual: viewOf(doc) };
  }

  private async deliverDue(): Promise<DeliveryRun> {
    const run: DeliveryRun & { waiting: number } = { delivered: 0, failed: 0, refused: 0, waiting: 0 };
    const due = await this.options.collection
      .find({ status: 'pending', nextAttemptAt: { $lte: new Date(this.now()) } })
      .sort({ queuedAt: 1 })
      .limit(BATCH)
      .toArray();
    for (const doc of due) run[await this.deliverDoc(doc)] += 1;
    return { delivered: run.delivered, failed: run.failed, refused: run.refused };
  }

  /** One delivery attempt of one queued accrual or refund, its outcome recorded. */
  private async deliverDoc(doc: LoyaltyOutboxDoc): Promise<'delivered' | 'failed' | 'refused' | 'waiting'> {
    try {
      const result = doc.kind === 'accrual' ? await this.deliverAccrual(doc) : await this.deliverRefund(doc);
      await this.options.collection.updateOne(
        { _id: doc._id },
        { $set: { status: 'delivered', result, attempts: doc.attempts + 1, lastError: null, deliveredAt: new Date(this.now()) } },
      );
      return 'delivered';
    } catch (error) {
      if (error instanceof Waiting) {
        await this.options.collection.updateOne(
          { _id: doc._id },
          { $set: { nextAttemptAt: new Date(this.now() + this.pause(1)), lastError: error.message } },
        );
        return 'waiting';
      }
      const message = isConnectorError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
      if (error instanceof Refused || this.refusedForGood(error)) {
        await this.options.collection.updateOne(
          { _id: doc._id },
          { $set: { status: 'refused', attempts: doc.attempts + 1, lastError: message } },
        );
        this.options.logger.warn('jowi refused a loyalty delivery for good', { id: doc._id, error: message });
        await this.alert('loyalty_delivery_refused', doc, `JOWi Club refused the ${doc.kind} of sale ${doc.saleId}: ${message}`, message);
        return 'refused';
      }
      const attempts = doc.attempts + 1;
      await this.options.collection.updateOne(
        { _id: doc._id },
        { $set: { attempts, nextAttemptAt: new Date(this.now() + this.pause(attempts)), lastError: message } },
      );
      this.options.logger.warn('loyalty delivery to jowi failed; it waits and is tried again', { id: doc._id, attempts, error: message });
      if (attempts === (this.options.alertAfter ?? 5))
        await this.alert(
          'loyalty_delivery_failing',
          doc,
          `the ${doc.kind} of sale ${doc.saleId} to JOWi Club failed ${attempts} times; retrying`,
          message,
        );
      return 'failed';
    }
  }

  /**
   * Delivers a sale's queued accrual now, for at most `budgetMs` (a slow JOWi is left to the outbox's own runs),
   * and answers where it stands: the till's slip shows the new balance when JOWi answered in time.
   */
  async deliverNow(saleId: string, budgetMs: number): Promise<LoyaltyDeliveryView | null> {
    const doc = await this.options.collection.findOne({ _id: accrualKey(saleId) });
    if (!doc || doc.status !== 'pending') return doc ? viewOf(doc) : null;
    let timer: NodeJS.Timeout | undefined;
    const attempt = this.deliverDoc(doc).catch(() => 'failed' as const);
    await Promise.race([attempt, new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))]);
    clearTimeout(timer);
    return this.accrualOf(saleId);
  }

  /** The pause after `attempts` failed attempts: doubling from the base, up to the maximum (settings). */
  private pause(attempts: number): number {
    const { accrualRetryBaseMs, accrualRetryMaxMs } = this.options.access.settings();
    return Math.min(accrualRetryMaxMs, accrualRetryBaseMs * 2 ** Math.min(attempts - 1, 30));
  }

  private async deliverAccrual(doc: LoyaltyOutboxDoc): Promise<LoyaltyDeliveryResult> {
    const client = this.options.access.client();
    let customerId = doc.customer.id;
    if (!customerId) {
      const phone = this.opened(doc.customer.phone);
      const query = phone ? { phone } : { card: this.opened(doc.customer.card) ?? '' };
      const found = await client.findCustomer(query);
      if (!found) throw new Refused('customer not found (40)');
      if (found.blocked) throw new Refused('card blocked (41)');
      customerId = found.id;
      await this.options.collection.updateOne({ _id: doc._id }, { $set: { customer: { ...doc.customer, id: customerId } } });
      await this.options.cache.remember(found, new Date(this.now()), 'live').catch(() => false);
    }
    const tx = await client.recordSale({
      customerId,
      externalId: doc.saleId,
      amount: doc.amount,
      discount: doc.discount,
      bonusSpent: doc.bonusSpent,
      items: doc.items,
      createdAt: doc.createdAt,
    });
    await this.options.cache.rememberBalance(customerId, tx.bonusBalance, new Date(this.now()), 'live').catch(() => false);
    return { transactionId: tx.id, bonusEarned: tx.bonusEarned, bonusBalance: tx.bonusBalance, refunded: tx.refunded };
  }

  private async deliverRefund(doc: LoyaltyOutboxDoc): Promise<LoyaltyDeliveryResult> {
    const accrual = await this.options.collection.findOne({ _id: accrualKey(doc.saleId) });
    if (!accrual) throw new Refused(`no accrual was queued for sale ${doc.saleId}`);
    if (accrual.status === 'refused') throw new Refused(`the sale's accrual was refused: nothing to refund`);
    if (accrual.status !== 'delivered' || !accrual.result) throw new Waiting('waits for the sale’s accrual');
    const tx = await this.options.access.client().refundSale(accrual.result.transactionId, doc.returnId ?? doc._id);
    const customerId = accrual.customer.id;
    if (customerId) await this.options.cache.rememberBalance(customerId, tx.bonusBalance, new Date(this.now()), 'live').catch(() => false);
    return { transactionId: tx.id, bonusEarned: tx.bonusEarned, bonusBalance: tx.bonusBalance, refunded: tx.refunded };
  }

  /** JOWi's own refusals that no retry changes; our credentials refused (1) and a missing configuration wait for an operator. */
  private refusedForGood(error: unknown): boolean {
    if (!isConnectorError(error) || error.retryable) return false;
    return (
      error.code === JOWI_ERROR_CODES.customerNotFound ||
      error.code === JOWI_ERROR_CODES.cardBlocked ||
      error.code === JOWI_ERROR_CODES.insufficientBonus ||
      error.code === JOWI_ERROR_CODES.badParameters
    );
  }

  private async alert(kind: string, doc: LoyaltyOutboxDoc, message: string, error: string): Promise<void> {
    await this.options.alerts
      ?.raise({ kind, integration: 'jowi', subject: `pos-sale/${doc.saleId}`, message, details: { delivery: doc._id, error } })
      .catch(() => undefined);
  }
}

/** The delivery runs as a job too, so a restart (or another process) picks up what is waiting. */
export function loyaltyAccrualsJob(accruals: LoyaltyAccruals): JobDefinition {
  return {
    name: 'loyalty-accruals',
    description: 'delivers queued JOWi Club accruals and refunds, retrying what failed',
    every: '10 seconds',
    syncs: 'jowi',
    run: async () => ({ ...(await accruals.deliver()) }),
  };
}

function viewOf(doc: LoyaltyOutboxDoc): LoyaltyDeliveryView {
  return {
    id: doc._id,
    kind: doc.kind,
    saleId: doc.saleId,
    returnId: doc.returnId,
    status: doc.status,
    customerId: doc.customer.id,
    attempts: doc.attempts,
    nextAttemptAt: doc.status === 'pending' ? doc.nextAttemptAt.toISOString() : null,
    lastError: doc.lastError,
    deliveredAt: doc.deliveredAt?.toISOString() ?? null,
    result: doc.result,
  };
}
