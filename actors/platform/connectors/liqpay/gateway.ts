import { describeIssues } from '../../../../common/issues.ts';
import { majorToMinorUnits, minorToMajorNumber } from '../../../../common/money.ts';
import { WebhookBodyError, type WebhookRequest } from '../../inbound/spec.ts';
import type { Connectors } from '../kit/connectors.ts';
import { ConnectorError, partnerErrorCode } from '../kit/errors.ts';
import type { AlertSink } from '../../alerts/alerts.ts';
import type { GatewayCall, GatewayStatusReport, PaymentGateway, RefundReport } from '../ports/payment-gateway.ts';
import { liqpayConnector } from './connector.ts';
import {
  callbackFormSchema,
  decodeData,
  liqpayAnswerSchema,
  liqpayTime,
  PAID_LIQPAY_STATUSES,
  paymentUpdateOfLiqPay,
  refundOutcomeOfLiqPay,
  verifySignature,
} from './protocol.ts';

function liqpayForm(request: WebhookRequest): { data: string; signature: string } {
  const parsed = callbackFormSchema.safeParse(Object.fromEntries(new URLSearchParams(request.rawBody.toString('utf8'))));
  if (!parsed.success) throw new WebhookBodyError('data and signature form fields are required');
  return parsed.data;
}

function safeDecode(data: string): unknown {
  try {
    return decodeData(data);
  } catch {
    throw new WebhookBodyError('data is not base64 JSON');
  }
}

const LIQPAY_CURRENCIES = ['UAH', 'USD', 'EUR'] as const;

/** The `public_key` a callback's data names, or null when it names none. */
function publicKeyOf(data: string): string | null {
  try {
    const decoded = decodeData(data) as { public_key?: unknown };
    return typeof decoded.public_key === 'string' ? decoded.public_key : null;
  } catch {
    return null;
  }
}

const notFound = (error: unknown) => error instanceof ConnectorError && error.code === 'payment_not_found';

/**
 * LiqPay as a payment gateway: the checkout is only signed here (LiqPay hears
 * of the payment when the customer opens it, under our payment id as
 * `order_id`), polled by the `status` action, refunded by `refund` (once per
 * effect: LiqPay takes no idempotency key). A signed checkout cannot be
 * withdrawn; a payment LiqPay never heard of by the end of its time expired.
 *
 * Callbacks to `server_url`: form fields `data` (base64 JSON) and `signature`
 * = base64(sha1(private_key + data + private_key)), recomputed and compared
 * in constant time.
 */
export function liqpayGateway(deps: {
  connectors: Connectors;
  /** where LiqPay sends its callbacks */
  publicBaseUrl: () => string;
  alerts: AlertSink;
  now?: () => number;
}): PaymentGateway {
  const now = deps.now ?? Date.now;

  /**
   * LiqPay answers `sandbox` for a test payment (`sandbox: 1`): paid only while the integration is in
   * sandbox mode. On a live integration it moved no money, so it is a failure, and a person is told.
   */
  const settled = (report: GatewayStatusReport, paymentId: string): GatewayStatusReport => {
    if (report.providerStatus !== 'sandbox' || deps.connectors.configOf(liqpayConnector).sandboxed) return report;
    void deps.alerts
      .raise({
        kind: 'test_payment_in_production',
        integration: liqpayConnector.name,
        subject: `payment/${paymentId}`,
        message: `LiqPay reported a test payment (status sandbox) for ${paymentId} on a live integration; it is treated as failed`,
      })
      .catch(() => undefined);
    return { ...report, status: 'failure', reason: 'a test payment (LiqPay status sandbox) on a live integration moved no money' };
  };
  const client = () => deps.connectors.client(liqpayConnector);
  const context = (call: GatewayCall) => ({ actor: call.actor, ...(call.signal ? { signal: call.signal } : {}) });

  return {
    provider: liqpayConnector.name,

    async create(payment) {
      const currency = LIQPAY_CURRENCIES.find((known) => known === payment.currency);
      if (!currency)
        throw new ConnectorError(
          'liqpay',
          partnerErrorCode('currency_not_supported'),
          `LiqPay takes ${LIQPAY_CURRENCIES.join(', ')}`,
          false,
        );
      const sandboxed = deps.connectors.configOf(liqpayConnector).sandboxed;
      const checkout = client().checkout({
        action: 'pay',
        amount: minorToMajorNumber(payment.amount),
        currency,
        description: payment.description,
        order_id: payment.paymentId,
        server_url: `${deps.publicBaseUrl()}/webhooks/liqpay`,
        result_url: deps.connectors.configOf(liqpayConnector).settings.resultUrl ?? payment.returnUrl,
        // the link dies with the payment's time: nobody can pay an order the hub has given up on
        expired_date: liqpayTime(new Date(now() + payment.validitySeconds * 1000)),
        language: 'uk',
        ...(sandboxed ? { sandbox: 1 as const } : {}),
      });
      return { providerId: payment.paymentId, pageUrl: checkout.url };
    },

    async check(payment, options, call) {
      try {
        return settled(paymentUpdateOfLiqPay(await client().status(payment.paymentId, context(call)), 'poll', now()), payment.paymentId);
      } catch (error) {
        if (!notFound(error)) throw error;
        // the customer never opened the checkout: nothing to withdraw, and past its time it is expired
        const status = options.expireIfUnpaid ? 'expired' : 'created';
        return { status, providerStatus: 'payment_not_found', at: new Date(now()).toISOString(), source: 'poll', reason: null };
      }
    },

    async cancel() {
      return false;
    },

    // a refusal (`result: error`) is a ConnectorError; an answer is read by `refundOutcomeOfLiqPay`
    refund: (refund, call) =>
      call.once('refund', async (): Promise<RefundReport> => {
        const answer = await client().refund(refund.paymentId, minorToMajorNumber(refund.amount), context(call));
        return {
          outcome: refundOutcomeOfLiqPay(answer.status),
          providerStatus: answer.status ?? 'unknown',
          reason: answer.err_description ?? null,
        };
      }),

    async checkRefund(refund, call) {
      const answer = await client().status(refund.paymentId, context(call));
      return {
        outcome: refundOutcomeOfLiqPay(answer.status),
        providerStatus: answer.status ?? 'unknown',
        reason: answer.err_description ?? null,
      };
    },

    async record(payment) {
      try {
        const answer = await client().status(payment.paymentId);
        return {
          // a test payment counts as paid only in sandbox mode, as in `check`
          paid:
            answer.status === 'sandbox'
              ? deps.connectors.configOf(liqpayConnector).sandboxed
              : PAID_LIQPAY_STATUSES.has(answer.status ?? ''),
          amount: answer.amount === undefined ? null : majorToMinorUnits(answer.amount),
          status: answer.status ?? 'unknown',
        };
      } catch (error) {
        if (notFound(error)) return { paid: false, amount: null, status: 'payment_not_found' };
        throw error;
      }
    },

    webhook: {
      verify(request, config) {
        const privateKey = config.credentials.privateKey ?? '';
        const publicKey = config.credentials.publicKey ?? '';
        const fields = new URLSearchParams(request.rawBody.toString('utf8'));
        const data = fields.get('data') ?? '';
        const signature = fields.get('signature') ?? '';
        const signed = privateKey.length > 0 && data.length > 0 && verifySignature(privateKey, data, signature);
        // a callback is for our shop only when it names our public key (LiqPay sends it in every callback)
        return signed && publicKeyOf(data) === publicKey && publicKey.length > 0;
      },
      deliveryId(request) {
        const answer = liqpayAnswerSchema.safeParse(safeDecode(liqpayForm(request).data));
        return answer.success
          ? `${answer.data.order_id ?? '-'}:${answer.data.status ?? '-'}:${String(answer.data.payment_id ?? '-')}:${answer.data.end_date ?? answer.data.create_date ?? '-'}`
          : null;
      },
      statusOf(request) {
        const answer = liqpayAnswerSchema.safeParse(safeDecode(liqpayForm(request).data));
        if (!answer.success) throw new WebhookBodyError(describeIssues(answer.error, ''));
        if (!answer.data.order_id) return null;
        return { paymentId: answer.data.order_id, report: settled(paymentUpdateOfLiqPay(answer.data, 'webhook'), answer.data.order_id) };
      },
    },
  };
}
