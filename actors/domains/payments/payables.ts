import { AppError } from '../../../common/errors.ts';
import type { Currency } from '../../../common/order-policy.ts';
import orderModule from '../../../machines/order.ts';
import paymentModule, { type PaymentEvent, type PaymentProvider } from '../../../machines/payment.ts';
import posSaleModule from '../../../machines/pos-sale.ts';
import type { GatewayStatusReport } from '../../platform/connectors/ports/payment-gateway.ts';
import type { ActorRuntime } from '../../runtime/runtime.ts';

/**
 * What the providers that call us (Payme, Click) pay: an order (and, with the
 * point of sale, a sale) named by the account id the payer's link carries.
 * Their endpoints ask here what the account owes and whether it can be paid
 * now, tell the payment what happened, and turn a provider's cancellation of
 * a paid transaction into the order's own cancellation (which refunds it).
 * They never look at the order or payment machines themselves.
 */

export interface PayableAttempt {
  /** our payment id (`<order>-P<n>`): the payment actor */
  paymentId: string;
  provider: PaymentProvider;
  /** minor units (tiyin for UZS) */
  amount: number;
  currency: Currency;
  /** the payment's state, e.g. `pending.waiting`, `succeeded` */
  state: string;
  /** still waiting for its customer: a provider may take the money now */
  awaitingCustomer: boolean;
  /** the money is the shop's (paid, or a refund not done yet) */
  paid: boolean;
}

export interface Payable {
  /** what the payer's link names: the order id (or sale id) */
  accountId: string;
  /** an order, or a sale at a till (its goods are handed over once paid: a provider cannot cancel it then) */
  kind: 'order' | 'pos-sale';
  /** the order's state */
  state: string;
  /** the payment attempt under way or last made; null before the order asks for one */
  payment: PayableAttempt | null;
  /** a provider may still cancel a paid transaction: the order can be cancelled (it has not shipped) */
  cancellable: boolean;
}

export type ProviderCancelOutcome = 'cancelling' | 'not_cancellable' | 'gone';

/** The origin of what a provider's call does to our actors, in their journals. */
const originOf = (provider: string) => ({ kind: 'event' as const, actorName: `${provider} (merchant API)` });

const isGone = (error: unknown) => error instanceof AppError && (error.code === 'not_found' || error.code === 'event_not_accepted');

export class Payables {
  constructor(private readonly runtime: ActorRuntime) {}

  /** The account a provider names (an order, else a sale), with its current payment; null when there is no such account. */
  async find(accountId: string): Promise<Payable | null> {
    const order = await this.view(orderModule, accountId);
    if (order) {
      const payment = order.context.currentPayment ? await this.attempt(order.context.currentPayment.id) : null;
      return { accountId, kind: 'order', state: order.state, payment, cancellable: order.accepts.includes('CANCEL') };
    }
    const sale = await this.view(posSaleModule, accountId);
    if (!sale) return null;
    const payment = sale.context.payment ? await this.attempt(sale.context.payment.id) : null;
    return { accountId, kind: 'pos-sale', state: sale.state, payment, cancellable: false };
  }

  private async view<TModule extends typeof orderModule | typeof posSaleModule>(module: TModule, id: string) {
    try {
      return await this.runtime.of(module).get(id);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return null;
      throw error;
    }
  }

  private async attempt(paymentId: string): Promise<PayableAttempt | null> {
    try {
      const view = await this.runtime.of(paymentModule).get(paymentId);
      return {
        paymentId: view.id,
        provider: view.context.provider,
        amount: view.context.amount,
        currency: view.context.currency,
        state: view.state,
        awaitingCustomer: view.tags.includes('awaiting-customer'),
        paid: view.tags.includes('paid'),
      };
    } catch (error) {
      // the owner asked for it a moment ago and the payment actor is not written yet: nothing to pay yet
      if (error instanceof AppError && error.code === 'not_found') return null;
      throw error;
    }
  }

  /**
   * Tells a payment what its provider did (a transaction created, performed, cancelled). Applied once and in
   * the provider's order like a webhook; a payment that has moved on (or is gone) keeps its state, and the
   * answer says so.
   */
  async report(paymentId: string, report: GatewayStatusReport & { provider: string }): Promise<'applied' | 'not_accepted'> {
    const { provider, ...update } = report;
    const event: PaymentEvent = { type: 'PROVIDER_STATUS', ...update };
    try {
      await this.runtime.of(paymentModule).send(paymentId, event, { origin: originOf(provider) });
      return 'applied';
    } catch (error) {
      if (isGone(error)) return 'not_accepted';
      throw error;
    }
  }

  /**
   * The provider took back a paid transaction (Payme's CancelTransaction after PerformTransaction): the order
   * is cancelled, which refunds its payment — the gateway then finds the money already returned. Refused
   * (`not_cancellable`) once the order has shipped.
   */
  async cancelPaid(accountId: string, provider: string, reason: string, lookedAgain = false): Promise<ProviderCancelOutcome> {
    const order = await this.view(orderModule, accountId);
    if (!order) {
      // a sale at the till hands its goods over once paid: there is nothing to cancel (its returns are the cashier's)
      return (await this.view(posSaleModule, accountId)) ? 'not_cancellable' : 'gone';
    }
    if (!order.accepts.includes('CANCEL'))
      return order.state === 'cancelling' || order.state === 'cancelled' ? 'cancelling' : 'not_cancellable';
    try {
      await this.runtime.of(orderModule).send(accountId, { type: 'CANCEL', reason, by: provider }, { origin: originOf(provider) });
      return 'cancelling';
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return 'gone';
      // it moved on between the look and the send: look again
      if (error instanceof AppError && error.code === 'event_not_accepted' && !lookedAgain)
        return this.cancelPaid(accountId, provider, reason, true);
      if (error instanceof AppError && error.code === 'event_not_accepted') return 'not_cancellable';
      throw error;
    }
  }
}
