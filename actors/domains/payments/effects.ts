import orderModule from '../../../machines/order.ts';
import paymentModule from '../../../machines/payment.ts';
import { onceAtProvider, type CommerceCollections } from '../../../persistence/commerce.ts';
import type { PaymentGateways } from '../../platform/connectors/payment-gateways.ts';
import type { GatewayCall } from '../../platform/connectors/ports/payment-gateway.ts';
import { bindEffects, type BoundEffects, type EffectContext } from '../../runtime/effects.ts';

/**
 * What the payment machine invokes, at whichever provider the payment is
 * with (its gateway). Providers that take no idempotency key have their
 * creating and refunding calls run once per effect key (`onceAtProvider`):
 * a Monobank invoice whose answer was lost in a crash is left to expire
 * unpaid (nobody is sent its page), and a new one is made.
 */
export function paymentEffects(deps: { gateways: PaymentGateways; collections: CommerceCollections }): BoundEffects {
  const callOf = (paymentId: string, context: EffectContext): GatewayCall => ({
    actor: { type: paymentModule.type, id: paymentId },
    signal: context.signal,
    once: (operation, call) => onceAtProvider(deps.collections, context.idempotencyKey, operation, call),
  });

  return bindEffects(paymentModule, {
    createAtProvider: (input, context) => deps.gateways.of(input.provider).create(input, callOf(input.paymentId, context)),

    checkAtProvider: (input, context) =>
      deps.gateways.of(input.provider).check(input, { expireIfUnpaid: input.expireIfUnpaid }, callOf(input.paymentId, context)),

    refundAtProvider: (input, context) => deps.gateways.of(input.provider).refund(input, callOf(input.paymentId, context)),

    notifyOrder: async (input, context) => {
      // the order may have moved on (cancelled, or gone): then nothing waits for this any more
      const told = await context.actors.send(
        orderModule,
        input.orderId,
        { type: 'PAYMENT_RESULT', paymentId: input.paymentId, outcome: input.outcome, failure: input.failure },
        { ifGone: 'skip' },
      );
      return { delivered: told !== null };
    },
  });
}
