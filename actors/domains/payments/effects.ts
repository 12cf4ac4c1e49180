import orderModule from '../../../machines/order.ts';
import paymentModule, { type RefundWork } from '../../../machines/payment.ts';
import posSaleModule from '../../../machines/pos-sale.ts';
import { onceAtProvider, type CommerceCollections } from '../../../persistence/commerce.ts';
import type { AlertSink } from '../../platform/alerts/alerts.ts';
import type { PaymentGateways } from '../../platform/connectors/payment-gateways.ts';
import type { GatewayCall, RefundRequest } from '../../platform/connectors/ports/payment-gateway.ts';
import { bindEffects, type BoundEffects, type EffectContext } from '../../runtime/effects.ts';

/** The page the providers send the customer back to after paying (served by the hub: `GET /payments/thank-you`). */
export const THANK_YOU_PATH = '/payments/thank-you';

/**
 * What the payment machine invokes, at whichever provider the payment is
 * with (its gateway). Providers that take no idempotency key have their
 * creating and refunding calls run once per effect key (`onceAtProvider`):
 * a Monobank invoice whose answer was lost in a crash is left to expire
 * unpaid (nobody is sent its page), and a new one is made.
 */
export function paymentEffects(deps: {
  gateways: PaymentGateways;
  collections: CommerceCollections;
  /** the hub's address as the customer's browser reaches it */
  publicBaseUrl: () => string;
  /** a payment the order did not take is refunded, and a person told */
  alerts: AlertSink;
}): BoundEffects {
  const callOf = (paymentId: string, context: EffectContext): GatewayCall => ({
    actor: { type: paymentModule.type, id: paymentId },
    signal: context.signal,
    once: (operation, call) => onceAtProvider(deps.collections, context.idempotencyKey, operation, call),
  });
  // a refund whose effect was stored by version 1 of the payment carries neither reference nor basket
  const refundOf = (work: RefundWork): RefundRequest => ({
    paymentId: work.paymentId,
    providerId: work.providerId,
    amount: work.amount,
    refundReference: (work.refundReference as string | undefined) ?? `${work.paymentId}-refund`,
    basket: (work.basket as RefundWork['basket'] | undefined) ?? [],
  });

  return bindEffects(paymentModule, {
    createAtProvider: (input, context) => {
      const returnUrl = `${deps.publicBaseUrl()}${THANK_YOU_PATH}?order=${encodeURIComponent(input.orderId)}`;
      return deps.gateways.of(input.provider).create({ ...input, returnUrl }, callOf(input.paymentId, context));
    },

    checkAtProvider: (input, context) =>
      deps.gateways.of(input.provider).check(input, { expireIfUnpaid: input.expireIfUnpaid }, callOf(input.paymentId, context)),

    refundAtProvider: (input, context) => deps.gateways.of(input.provider).refund(refundOf(input), callOf(input.paymentId, context)),

    checkRefundAtProvider: (input, context) =>
      deps.gateways.of(input.provider).checkRefund(refundOf(input), callOf(input.paymentId, context)),

    notifyOrder: async (input, context) => {
      const owner = input.owner ?? 'order';
      const event = { type: 'PAYMENT_RESULT', paymentId: input.paymentId, outcome: input.outcome, failure: input.failure } as const;
      // the owner may have moved on (cancelled, or gone): then nothing waits for this any more
      const credited =
        owner === 'order'
          ? await context.actors
              .send(orderModule, input.orderId, event, { ifGone: 'skip' })
              .then((told) => told && { state: told.state, credited: told.context.receipt?.paymentId === input.paymentId })
          : await context.actors
              .send(posSaleModule, input.orderId, event, { ifGone: 'skip' })
              .then((told) => told && { state: told.state, credited: told.context.paid?.paymentId === input.paymentId });
      if (input.outcome !== 'succeeded') return { delivered: credited !== null };
      // money arrived: the owner took it when this payment is its own; otherwise it goes back (the payment refunds it)
      if (!credited?.credited) {
        await deps.alerts.raise({
          kind: 'unclaimed_payment_refunded',
          severity: 'warning',
          subject: `payment/${input.paymentId}`,
          message:
            `payment ${input.paymentId} of ${owner} ${input.orderId} succeeded after the ${owner} stopped waiting for it ` +
            `(${owner} ${credited ? `in ${credited.state}` : 'gone or not taking it'}); it is refunded automatically`,
          details: { orderId: input.orderId, owner, paymentId: input.paymentId, amount: input.amount, ownerState: credited?.state ?? null },
        });
      }
      return { delivered: credited !== null, credited: credited?.credited ?? false };
    },
  });
}
