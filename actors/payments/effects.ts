import type { Logger } from 'winston';
import order from '../../machines/order.ts';
import payment from '../../machines/payment.ts';
import type { CreatedAtProvider, PaymentInput, PaymentOutcomeNotice, PaymentProvider, StatusUpdate } from '../../machines/payment.ts';
import { onceAtProvider, type CommerceCollections } from '../../persistence/commerce.ts';
import type { Connectors } from '../connectors/kit/connectors.ts';
import { ConnectorError } from '../connectors/kit/errors.ts';
import { liqpayConnector } from '../connectors/liqpay/connector.ts';
import { paymentUpdateOfLiqPay } from '../connectors/liqpay/protocol.ts';
import { monobankConnector } from '../connectors/monobank/connector.ts';
import { paymentUpdateOf, UAH } from '../connectors/monobank/protocol.ts';
import { bindEffects, type BoundEffects, type EffectHandler } from '../runtime/effects.ts';

/**
 * What the payment machine invokes, at Monobank or LiqPay. Neither takes an
 * idempotency key, so a call that creates or refunds is run once per effect
 * key (`onceAtProvider`); a Monobank invoice whose answer was lost in a
 * crash is left to expire unpaid (nobody is sent its page), and a new one
 * is made.
 */
export interface PaymentEffectDeps {
  connectors: Connectors;
  collections: CommerceCollections;
  /** where the providers send their webhooks */
  publicBaseUrl: () => string;
  logger: Logger;
  now?: () => number;
}

export function paymentEffects(deps: PaymentEffectDeps): BoundEffects {
  const now = deps.now ?? Date.now;
  const actorOf = (paymentId: string) => ({ type: 'payment', id: paymentId });

  const createAtProvider: EffectHandler<PaymentInput, CreatedAtProvider> = async (input, context) => {
    if (input.provider === 'monobank') {
      const client = deps.connectors.client(monobankConnector);
      return onceAtProvider(deps.collections, context.idempotencyKey, 'invoice.create', async () => {
        const created = await client.createInvoice(
          {
            amount: input.amount,
            ccy: UAH,
            merchantPaymInfo: {
              reference: input.paymentId,
              destination: input.description,
              ...(input.customerEmail ? { customerEmails: [input.customerEmail] } : {}),
              basketOrder: input.basket.map((line) => ({
                name: line.name,
                qty: line.qty,
                sum: line.price,
                code: line.sku,
                total: line.qty * line.price,
              })),
            },
            webHookUrl: `${deps.publicBaseUrl()}/webhooks/monobank`,
            validity: input.validitySeconds,
            paymentType: 'debit',
          },
          { actor: actorOf(input.paymentId), signal: context.signal },
        );
        return { providerId: created.invoiceId, pageUrl: created.pageUrl };
      });
    }
    // LiqPay: the checkout is only signed here; LiqPay hears of it when the customer opens it
    const client = deps.connectors.client(liqpayConnector);
    const sandboxed = deps.connectors.configOf(liqpayConnector).sandboxed;
    const checkout = client.checkout({
      action: 'pay',
      amount: input.amount / 100,
      currency: input.currency,
      description: input.description,
      order_id: input.paymentId,
      server_url: `${deps.publicBaseUrl()}/webhooks/liqpay`,
      language: 'uk',
      ...(sandboxed ? { sandbox: 1 as const } : {}),
    });
    return { providerId: input.paymentId, pageUrl: checkout.url };
  };

  const checkAtProvider: EffectHandler<
    { provider: PaymentProvider; paymentId: string; providerId: string; expireIfUnpaid: boolean },
    StatusUpdate
  > = async (input, context) => {
    const call = { actor: actorOf(input.paymentId), signal: context.signal };
    if (input.provider === 'monobank') {
      const client = deps.connectors.client(monobankConnector);
      const invoice = await client.invoiceStatus(input.providerId, call);
      if (input.expireIfUnpaid && invoice.status === 'created') {
        // nobody paid: withdraw the page so that nobody can pay a dead order later
        await client.removeInvoice(input.providerId, call);
        return {
          status: 'expired',
          providerStatus: 'removed',
          at: new Date(now()).toISOString(),
          source: 'poll',
          reason: 'not paid in time',
        };
      }
      return paymentUpdateOf(invoice, 'poll');
    }
    const client = deps.connectors.client(liqpayConnector);
    try {
      return paymentUpdateOfLiqPay(await client.status(input.paymentId, call), 'poll', now());
    } catch (error) {
      if (error instanceof ConnectorError && error.code === 'payment_not_found') {
        return {
          status: input.expireIfUnpaid ? 'expired' : 'created',
          providerStatus: 'payment_not_found',
          at: new Date(now()).toISOString(),
          source: 'poll',
          reason: null,
        };
      }
      throw error;
    }
  };

  const refundAtProvider: EffectHandler<
    { provider: PaymentProvider; paymentId: string; providerId: string; amount: number },
    { providerStatus: string }
  > = async (input, context) => {
    const call = { actor: actorOf(input.paymentId), signal: context.signal };
    return onceAtProvider(deps.collections, context.idempotencyKey, 'refund', async () => {
      if (input.provider === 'monobank') {
        const answer = await deps.connectors
          .client(monobankConnector)
          .cancelInvoice({ invoiceId: input.providerId, amount: input.amount, extRef: `${input.paymentId}-refund` }, call);
        return { providerStatus: answer.status };
      }
      const answer = await deps.connectors.client(liqpayConnector).refund(input.paymentId, input.amount / 100, call);
      return { providerStatus: answer.status ?? 'reversed' };
    });
  };

  const notifyOrder: EffectHandler<PaymentOutcomeNotice, { delivered: boolean }> = async (input, context) => {
    // the order may have moved on (cancelled, or gone): then nothing waits for this any more
    const told = await context.actors.send(
      order,
      input.orderId,
      { type: 'PAYMENT_RESULT', paymentId: input.paymentId, outcome: input.outcome, failure: input.failure },
      { ifGone: 'skip' },
    );
    return { delivered: told !== null };
  };

  return bindEffects(payment, { createAtProvider, checkAtProvider, refundAtProvider, notifyOrder });
}
