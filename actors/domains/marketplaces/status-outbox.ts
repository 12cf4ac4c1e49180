import type { Logger } from 'winston';
import { KeyedQueue } from '../../../common/keyed-queue.ts';
import type { MarketplaceName } from '../../../common/marketplaces.ts';
import orderModule, { type OrderContext } from '../../../machines/order.ts';
import type { MarketplaceCollections, MarketplaceOrderDoc, ToldStatus } from '../../../persistence/marketplaces.ts';
import type { AlertSink } from '../../platform/alerts/alerts.ts';
import { isConnectorError } from '../../platform/connectors/kit/errors.ts';
import type { CancelReason, Marketplace, StatusPush } from '../../platform/connectors/ports/marketplace.ts';
import type { ActorView } from '../../runtime/views.ts';
import type { ActorRuntime } from '../../runtime/runtime.ts';

/**
 * Statuses out: what each marketplace order's actor has reached is told to
 * its marketplace, in order (confirmed → shipped with the waybill →
 * delivered; or cancelled with a reason), through a durable record per order
 * (`marketplace_orders`). The record says what was told; the order's state
 * says what should be — so a crash between the two tells again at most the
 * last status, which every marketplace takes twice harmlessly. A push the
 * marketplace refuses is the order's incident (kept on the record, shown with
 * the order, raised as an alert), never a silent loss. Cancellations the other
 * way — by the buyer or the marketplace — are asked for with each import and
 * cancel the order here (its stock released).
 */

export interface StatusOutboxDeps {
  runtime: ActorRuntime;
  collections: MarketplaceCollections;
  alerts: AlertSink;
  logger: Logger;
  now: () => number;
  /** back-off after a failed push: base, doubled per attempt, capped */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** Where the order is, as its marketplace should see it. */
export interface OrderProgress {
  /** the statuses the marketplace should have been told, in order */
  wanted: ToldStatus[];
  reason: CancelReason;
  /** the order will not change any more */
  final: boolean;
}

const DELIVERY_ERRORS = new Set(['invalid_city', 'invalid_warehouse', 'carrier_not_delivering', 'delivery_check_failed']);
const STOCK_ERRORS = new Set(['out_of_stock', 'unknown_product', 'stock_unavailable']);

/** Why an order that ended without shipping was given up, in the marketplaces' words. */
export function cancelReasonOf(context: Pick<OrderContext, 'errors' | 'cancellation'>): CancelReason {
  const codes = context.errors.map((error) => error.code);
  if (codes.some((code) => STOCK_ERRORS.has(code))) return 'out_of_stock';
  if (codes.some((code) => DELIVERY_ERRORS.has(code))) return 'cannot_deliver';
  return 'seller_cancelled';
}

/** Pure: the order's state → what its marketplace should know. */
export function progressOf(state: string, context: Pick<OrderContext, 'errors' | 'cancellation'>): OrderProgress {
  const reason = cancelReasonOf(context);
  const top = state.split('.')[0] ?? state;
  if (state === 'fulfilment.awaitingShipment') return { wanted: ['confirmed'], reason, final: false };
  if (state === 'fulfilment.shipped') return { wanted: ['confirmed', 'shipped'], reason, final: false };
  if (top === 'delivered' || top === 'completed') return { wanted: ['confirmed', 'shipped', 'delivered'], reason, final: true };
  if (top === 'returned') return { wanted: ['confirmed', 'shipped'], reason, final: true };
  if (top === 'cancelling' || top === 'cancelled' || top === 'refundingLatePayment')
    return { wanted: ['cancelled'], reason, final: top !== 'cancelling' };
  if (top === 'rejected' || top === 'releasingRejected') return { wanted: ['cancelled'], reason, final: top === 'rejected' };
  return { wanted: [], reason, final: false };
}

/** The pushes still to make, in order. A cancel is not told to a marketplace that cancelled the order itself. */
export function duePushes(
  progress: OrderProgress,
  doc: { told: readonly ToldStatus[]; cancelledThere: boolean; incident: { status: ToldStatus } | null },
  waybill: string | null,
  comment: string | null,
): StatusPush[] {
  const refused = doc.incident?.status;
  const pushes: StatusPush[] = [];
  for (const status of progress.wanted) {
    if (doc.told.includes(status) || status === refused) continue;
    if (status === 'cancelled') {
      if (doc.cancelledThere) continue;
      pushes.push({ status, reason: progress.reason, ...(comment ? { comment } : {}) });
    } else if (status === 'shipped') pushes.push({ status, waybill });
    else pushes.push({ status });
  }
  return pushes;
}

export interface OutboxRun {
  orders: number;
  pushed: number;
  failed: number;
  refused: number;
  settled: number;
}

export class MarketplaceStatusOutbox {
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly inFlight = new KeyedQueue();

  constructor(private readonly deps: StatusOutboxDeps) {
    this.retryBaseMs = deps.retryBaseMs ?? 30_000;
    this.retryMaxMs = deps.retryMaxMs ?? 30 * 60_000;
  }

  /** Tells every due order its marketplace's news; `marketplaceOf` gives the enabled ones (others wait). */
  async run(marketplaceOf: (name: MarketplaceName) => Marketplace | null, limit = 500): Promise<OutboxRun> {
    const run: OutboxRun = { orders: 0, pushed: 0, failed: 0, refused: 0, settled: 0 };
    const due = await this.deps.collections.orders
      .find({ settled: false, nextAttemptAt: { $lte: new Date(this.deps.now()) } })
      .sort({ nextAttemptAt: 1 })
      .limit(limit)
      .toArray();
    for (const doc of due) {
      const marketplace = marketplaceOf(doc.marketplace);
      if (!marketplace) continue;
      run.orders += 1;
      const outcome = await this.tell(marketplace, doc);
      run.pushed += outcome.pushed;
      if (outcome.result === 'failed') run.failed += 1;
      if (outcome.result === 'refused') run.refused += 1;
      if (outcome.result === 'settled') run.settled += 1;
    }
    return run;
  }

  /** One order: every due push in order, stopping at the first that fails. */
  async tell(
    marketplace: Marketplace,
    doc: MarketplaceOrderDoc,
  ): Promise<{ pushed: number; result: 'waiting' | 'failed' | 'refused' | 'settled' }> {
    const order = await this.orderOf(doc._id);
    if (!order) {
      // the order was never made (a crash before its creation): the next import makes it
      return { pushed: 0, result: 'waiting' };
    }
    const progress = progressOf(order.state, order.context);
    const pushes = duePushes(progress, doc, order.context.shipment?.waybill ?? null, order.context.cancellation?.reason ?? null);
    let pushed = 0;
    const told = [...doc.told];
    for (const push of pushes) {
      try {
        await marketplace.pushStatus(doc.externalId, push);
      } catch (error) {
        if (isConnectorError(error) && error.retryable) {
          await this.failed(doc, told, error.message);
          return { pushed, result: 'failed' };
        }
        await this.refused(doc, told, push.status, error);
        return { pushed, result: 'refused' };
      }
      told.push(push.status);
      pushed += 1;
      await this.deps.collections.orders.updateOne(
        { _id: doc._id },
        { $set: { told, attempts: 0, lastError: null, updatedAt: new Date(this.deps.now()) } },
      );
    }
    const settled = progress.final;
    if (settled || pushes.length === 0) {
      // not final yet: looked at again when the order moves (the observer) or at the next sweep; an order
      // that moved since this run read its record (a wake) stays due, or its wake would be lost. Read, then
      // written by `_id` alone (FerretDB reads the whole collection for any other filter), one at a time with
      // this record's wakes in this process. (Another process's wake in between is found by the sweep, at most
      // retryMaxMs later.)
      await this.oneAtATime(doc._id, async () => {
        const now = await this.deps.collections.orders.findOne({ _id: doc._id });
        if (!now || (now.wakeups ?? 0) !== (doc.wakeups ?? 0)) return;
        await this.deps.collections.orders.updateOne(
          { _id: doc._id },
          {
            $set: {
              settled,
              nextAttemptAt: new Date(this.deps.now() + (settled ? 0 : this.retryMaxMs)),
              updatedAt: new Date(this.deps.now()),
            },
          },
        );
      });
    }
    return { pushed, result: settled ? 'settled' : 'waiting' };
  }

  /** The order moved: its record is due now (the next run tells it). */
  async wake(orderId: string): Promise<void> {
    await this.oneAtATime(orderId, async () => {
      const doc = await this.deps.collections.orders.findOne({ _id: orderId });
      if (!doc || doc.settled) return;
      await this.deps.collections.orders.updateOne(
        { _id: orderId },
        { $set: { nextAttemptAt: new Date(this.deps.now()) }, $inc: { wakeups: 1 } },
      );
    });
  }

  /** A record's read-then-write, one at a time per record in this process. */
  private oneAtATime(id: string, work: () => Promise<void>): Promise<void> {
    return this.inFlight.run(id, work);
  }

  /**
   * At start: every open record is due. A wake lives in memory for a moment before it is written (the
   * observer's batch); a crash in that moment would leave an order that moved asleep until the sweep.
   * Records waiting out a back-off keep it.
   */
  async wakeAllAtStart(): Promise<number> {
    const result = await this.deps.collections.orders.updateMany(
      { settled: false, attempts: 0, nextAttemptAt: { $gt: new Date(this.deps.now()) } },
      { $set: { nextAttemptAt: new Date(this.deps.now()) }, $inc: { wakeups: 1 } },
    );
    return result.modifiedCount;
  }

  /**
   * Asks the marketplace about its open orders; each it cancelled is cancelled here (stock released). An
   * order that has left our warehouse cannot be: that is an incident for a person.
   */
  async checkCancellations(marketplace: Marketplace): Promise<{ asked: number; cancelled: number }> {
    const open = await this.deps.collections.orders
      .find({ marketplace: marketplace.name, settled: false, cancelledThere: false })
      .limit(2000)
      .toArray();
    let cancelled = 0;
    for (let offset = 0; offset < open.length; offset += 50) {
      const chunk = open.slice(offset, offset + 50).filter((doc) => !doc.told.includes('cancelled') && !doc.told.includes('shipped'));
      if (chunk.length === 0) continue;
      const states = await marketplace.orderStates(chunk.map((doc) => doc.externalId));
      for (const doc of chunk) {
        if (states[doc.externalId] !== 'cancelled') continue;
        await this.cancelHere(marketplace.name, doc);
        cancelled += 1;
      }
    }
    return { asked: open.length, cancelled };
  }

  private async cancelHere(marketplace: MarketplaceName, doc: MarketplaceOrderDoc): Promise<void> {
    await this.deps.collections.orders.updateOne(
      { _id: doc._id },
      { $set: { cancelledThere: true, nextAttemptAt: new Date(this.deps.now()), updatedAt: new Date(this.deps.now()) } },
    );
    try {
      await this.deps.runtime
        .of(orderModule)
        .send(
          doc._id,
          { type: 'CANCEL', reason: `cancelled at ${marketplace}`, by: `marketplace:${marketplace}` },
          { idempotencyKey: `marketplace-cancel:${doc._id}`, origin: { kind: 'event', actorName: `marketplace:${marketplace}` } },
        );
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && (error.code === 'event_not_accepted' || error.code === 'not_found'))) throw error;
      const order = await this.orderOf(doc._id);
      // already ended the same way (rejected, cancelled here): nothing to do
      if (order && progressOf(order.state, order.context).wanted.includes('cancelled')) return;
      await this.raise(
        doc,
        'cancelled',
        'cancelled_after_shipping',
        `${marketplace} cancelled order ${doc.externalId}, which is ${order?.state ?? 'not found'} here`,
      );
    }
  }

  private async orderOf(id: string): Promise<ActorView<OrderContext> | null> {
    try {
      return await this.deps.runtime.of(orderModule).get(id);
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'not_found') return null;
      throw error;
    }
  }

  private async failed(doc: MarketplaceOrderDoc, told: ToldStatus[], message: string): Promise<void> {
    const attempts = doc.attempts + 1;
    const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(attempts - 1, 20));
    await this.deps.collections.orders.updateOne(
      { _id: doc._id },
      {
        $set: {
          told,
          attempts,
          lastError: message,
          nextAttemptAt: new Date(this.deps.now() + delay),
          updatedAt: new Date(this.deps.now()),
        },
      },
    );
  }

  private async refused(doc: MarketplaceOrderDoc, told: ToldStatus[], status: ToldStatus, error: unknown): Promise<void> {
    const code = isConnectorError(error) ? error.code : 'refused';
    const message = error instanceof Error ? error.message : String(error);
    await this.deps.collections.orders.updateOne({ _id: doc._id }, { $set: { told } });
    await this.raise(doc, status, code, `${doc.marketplace} refused "${status}" for order ${doc.externalId}: ${message}`);
  }

  private async raise(doc: MarketplaceOrderDoc, status: ToldStatus, code: string, message: string): Promise<void> {
    const at = new Date(this.deps.now());
    await this.deps.collections.orders.updateOne(
      { _id: doc._id },
      { $set: { incident: { status, code, message, at }, lastError: message, nextAttemptAt: at, updatedAt: at } },
    );
    await this.deps.alerts
      .raise({
        kind: 'marketplace_status_refused',
        subject: `order/${doc._id}`,
        message,
        details: { marketplace: doc.marketplace, externalId: doc.externalId, status, code },
      })
      .catch((failure: unknown) => this.deps.logger.error('alert could not be raised', { error: String(failure) }));
  }
}
