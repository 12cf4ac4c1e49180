import { createHash } from 'node:crypto';
import type { Logger } from 'winston';
import { describeIssues } from '../../../../common/issues.ts';
import { WebhookBodyError, type WebhookRequest } from '../../inbound/spec.ts';
import type { Connectors } from '../kit/connectors.ts';
import { ConnectorError, partnerErrorCode } from '../kit/errors.ts';
import { monobankConnector } from './connector.ts';
import type { GatewayCall, GatewayStatusReport, PaymentGateway, RefundReport, RefundRequest } from '../ports/payment-gateway.ts';
import {
  invoiceStatusSchema,
  paymentUpdateOf,
  refundStatusOf,
  UAH,
  verifyPublicKeySignature,
  type FiscalItem,
  type InvoiceStatus,
} from './protocol.ts';

/** How often a failed verification may fetch Monobank's key again (forged requests must not make us hammer it). */
const KEY_REFETCH_MS = 60_000;

/** The return receipt of a whole refund: the basket the invoice carried, line by line. */
function refundItems(refund: RefundRequest): FiscalItem[] | undefined {
  if (refund.basket.length === 0) return undefined;
  return refund.basket.map((line) => ({ name: line.name, qty: line.qty, sum: line.price, code: line.sku }));
}

/**
 * A webhook's delivery id: invoice, status and Monobank's time of the change when it sends one
 * (`modifiedDate` is optional), else the body's digest — the same bytes again are the same delivery.
 */
function deliveryIdOf(invoice: InvoiceStatus, rawBody: Buffer): string {
  const at = invoice.modifiedDate ?? `sha256-${createHash('sha256').update(rawBody).digest('hex').slice(0, 32)}`;
  return `${invoice.invoiceId}:${invoice.status}:${at}`;
}

function json(request: WebhookRequest): unknown {
  try {
    return JSON.parse(request.rawBody.toString('utf8')) as unknown;
  } catch {
    throw new WebhookBodyError('not JSON');
  }
}

/**
 * Monobank acquiring as a payment gateway: an invoice per payment (our id as
 * its `reference`), polled by `invoice/status`, withdrawn by `invoice/remove`,
 * refunded by `invoice/cancel`. Monobank takes no idempotency key, so
 * creating and refunding run once per effect (`call.once`).
 *
 * Status webhooks: `X-Sign` is an ECDSA signature of the exact raw body,
 * checked with the key from `/api/merchant/pubkey` — cached, and fetched
 * again (at most once a minute) when a signature does not verify, in case
 * Monobank changed it. No delivery id is sent, so invoice + status +
 * modifiedDate is one.
 */
export function monobankGateway(deps: {
  connectors: Connectors;
  /** where Monobank sends its webhooks */
  publicBaseUrl: () => string;
  logger: Logger;
  now?: () => number;
}): PaymentGateway {
  const now = deps.now ?? Date.now;
  const client = () => deps.connectors.client(monobankConnector);
  const context = (call: GatewayCall) => ({ actor: call.actor, ...(call.signal ? { signal: call.signal } : {}) });

  let cachedKey: { config: string; pem: string; fetchedAt: number } | null = null;
  const publicKey = async (fresh: boolean): Promise<string | null> => {
    const config = deps.connectors.configOf(monobankConnector);
    const id = `${config.revision}|${config.baseUrl}|${config.sandboxed}`;
    if (cachedKey && cachedKey.config === id && (!fresh || now() - cachedKey.fetchedAt < KEY_REFETCH_MS)) return cachedKey.pem;
    try {
      const pem = await client().publicKey();
      cachedKey = { config: id, pem, fetchedAt: now() };
      return pem;
    } catch (error) {
      deps.logger.warn('monobank public key could not be fetched', { error: error instanceof Error ? error.message : String(error) });
      return cachedKey?.config === id ? cachedKey.pem : null;
    }
  };
  const verifies = (pem: string | null, request: WebhookRequest) =>
    pem !== null && verifyPublicKeySignature({ publicKeyPem: pem, payload: request.rawBody, signatureBase64: request.headers['x-sign'] });

  const gateway: PaymentGateway = {
    provider: monobankConnector.name,

    create: (payment, call) =>
      call.once('invoice.create', async () => {
        // invoices here are in hryvnias (ccy 980); orders in other currencies pay by the providers that take them
        if (payment.currency !== 'UAH')
          throw new ConnectorError('monobank', partnerErrorCode('currency_not_supported'), 'Monobank invoices here are in UAH', false);
        const created = await client().createInvoice(
          {
            amount: payment.amount,
            ccy: UAH,
            merchantPaymInfo: {
              reference: payment.paymentId,
              destination: payment.description,
              ...(payment.customerEmail ? { customerEmails: [payment.customerEmail] } : {}),
              basketOrder: payment.basket.map((line) => ({
                name: line.name,
                qty: line.qty,
                sum: line.price,
                code: line.sku,
                total: line.qty * line.price,
              })),
            },
            webHookUrl: `${deps.publicBaseUrl()}/webhooks/monobank`,
            redirectUrl: deps.connectors.configOf(monobankConnector).settings.redirectUrl ?? payment.returnUrl,
            validity: payment.validitySeconds,
            paymentType: 'debit',
          },
          context(call),
        );
        return { providerId: created.invoiceId, pageUrl: created.pageUrl };
      }),

    async check(payment, options, call): Promise<GatewayStatusReport> {
      const invoice = await client().invoiceStatus(payment.providerId, context(call));
      if (options.expireIfUnpaid && invoice.status === 'created' && (await gateway.cancel(payment, call))) {
        return {
          status: 'expired',
          providerStatus: 'removed',
          at: new Date(now()).toISOString(),
          source: 'poll',
          reason: 'not paid in time',
        };
      }
      return paymentUpdateOf(invoice, 'poll', now());
    },

    async cancel(payment, call) {
      // nobody paid: withdraw the page so that nobody can pay a dead order later
      await client().removeInvoice(payment.providerId, context(call));
      return true;
    },

    // a whole refund; the return receipt lists the basket the invoice carried (Monobank fiscalises it)
    refund: (refund, call) =>
      call.once('refund', async (): Promise<RefundReport> => {
        const items = refundItems(refund);
        const answer = await client().cancelInvoice(
          { invoiceId: refund.providerId, amount: refund.amount, extRef: refund.refundReference, ...(items ? { items } : {}) },
          context(call),
        );
        return { outcome: answer.status, providerStatus: answer.status, reason: null };
      }),

    async checkRefund(refund, call) {
      const invoice = await client().invoiceStatus(refund.providerId, context(call));
      const outcome = refundStatusOf(invoice, refund.refundReference);
      return { outcome, providerStatus: invoice.status === 'reversed' ? 'reversed' : `refund ${outcome}`, reason: null };
    },

    async record(payment) {
      if (!payment.providerId) return { paid: false, amount: null, status: 'never created' };
      const invoice = await client().invoiceStatus(payment.providerId);
      return {
        paid: invoice.status === 'success' || invoice.status === 'hold',
        amount: invoice.finalAmount ?? invoice.amount,
        status: invoice.status,
      };
    },

    webhook: {
      async verify(request) {
        if (!request.headers['x-sign']) return false;
        const known = await publicKey(false);
        if (verifies(known, request)) return true;
        const fresh = await publicKey(true);
        return fresh !== known && verifies(fresh, request);
      },
      deliveryId(request) {
        const parsed = invoiceStatusSchema.safeParse(json(request));
        return parsed.success ? deliveryIdOf(parsed.data, request.rawBody) : null;
      },
      statusOf(request) {
        const parsed = invoiceStatusSchema.safeParse(json(request));
        if (!parsed.success) throw new WebhookBodyError(describeIssues(parsed.error, ''));
        if (!parsed.data.reference) return null;
        return { paymentId: parsed.data.reference, report: paymentUpdateOf(parsed.data, 'webhook', now()) };
      },
    },
  };
  return gateway;
}
