import type { Logger } from 'winston';
import type { Connectors } from '../connectors/kit/connectors.ts';
import {
  callbackFormSchema,
  decodeData,
  liqpayAnswerSchema,
  paymentUpdateOfLiqPay,
  verifySignature,
} from '../connectors/liqpay/protocol.ts';
import { monobankConnector } from '../connectors/monobank/connector.ts';
import { invoiceStatusSchema, paymentUpdateOf, verifyPublicKeySignature } from '../connectors/monobank/protocol.ts';
import { WebhookBodyError, type WebhookRequest, type WebhookSpec } from '../webhooks/spec.ts';
import { describeIssues } from '../../common/issues.ts';

function json(request: WebhookRequest): unknown {
  try {
    return JSON.parse(request.rawBody.toString('utf8')) as unknown;
  } catch {
    throw new WebhookBodyError('not JSON');
  }
}

/** How often a failed verification may fetch Monobank's key again (forged requests must not make us hammer it). */
const KEY_REFETCH_MS = 60_000;

/**
 * Monobank status webhooks: `X-Sign` is an ECDSA signature of the exact raw
 * body, checked with the key from `/api/merchant/pubkey` — cached, and
 * fetched again (at most once a minute) when a signature does not verify,
 * in case Monobank changed it. The invoice's `reference` is our payment id;
 * no delivery id is sent, so invoice + status + modifiedDate is one.
 */
export function monobankWebhook(connectors: Connectors, logger: Logger, now: () => number = Date.now): WebhookSpec {
  let cached: { config: string; pem: string; fetchedAt: number } | null = null;
  const key = async (fresh: boolean): Promise<string | null> => {
    const config = connectors.configOf(monobankConnector);
    const id = `${config.revision}|${config.baseUrl}|${config.sandboxed}`;
    if (cached && cached.config === id && (!fresh || now() - cached.fetchedAt < KEY_REFETCH_MS)) return cached.pem;
    try {
      const pem = await connectors.client(monobankConnector).publicKey();
      cached = { config: id, pem, fetchedAt: now() };
      return pem;
    } catch (error) {
      logger.warn('monobank public key could not be fetched', { error: error instanceof Error ? error.message : String(error) });
      return cached?.config === id ? cached.pem : null;
    }
  };
  const verifies = (pem: string | null, request: WebhookRequest) =>
    pem !== null && verifyPublicKeySignature({ publicKeyPem: pem, payload: request.rawBody, signatureBase64: request.headers['x-sign'] });

  return {
    integration: 'monobank',
    async verify(request) {
      if (!request.headers['x-sign']) return false;
      const known = await key(false);
      if (verifies(known, request)) return true;
      const fresh = await key(true);
      return fresh !== known && verifies(fresh, request);
    },
    deliveryId(request) {
      const parsed = invoiceStatusSchema.safeParse(json(request));
      return parsed.success ? `${parsed.data.invoiceId}:${parsed.data.status}:${parsed.data.modifiedDate}` : null;
    },
    route(request) {
      const parsed = invoiceStatusSchema.safeParse(json(request));
      if (!parsed.success) throw new WebhookBodyError(describeIssues(parsed.error, ''));
      if (!parsed.data.reference) return null;
      return { type: 'payment', id: parsed.data.reference, event: { type: 'PROVIDER_STATUS', ...paymentUpdateOf(parsed.data, 'webhook') } };
    },
  };
}

function liqpayForm(request: WebhookRequest): { data: string; signature: string } {
  const parsed = callbackFormSchema.safeParse(Object.fromEntries(new URLSearchParams(request.rawBody.toString('utf8'))));
  if (!parsed.success) throw new WebhookBodyError('data and signature form fields are required');
  return parsed.data;
}

/**
 * LiqPay callbacks to `server_url`: form fields `data` (base64 JSON) and
 * `signature` = base64(sha1(private_key + data + private_key)), recomputed
 * and compared in constant time. `order_id` is our payment id.
 */
export const liqpayWebhook: WebhookSpec = {
  integration: 'liqpay',
  verify(request, config) {
    const privateKey = config.credentials.privateKey ?? '';
    const fields = new URLSearchParams(request.rawBody.toString('utf8'));
    const data = fields.get('data') ?? '';
    const signature = fields.get('signature') ?? '';
    return privateKey.length > 0 && data.length > 0 && verifySignature(privateKey, data, signature);
  },
  deliveryId(request) {
    const answer = liqpayAnswerSchema.safeParse(safeDecode(liqpayForm(request).data));
    return answer.success
      ? `${answer.data.order_id ?? '-'}:${answer.data.status ?? '-'}:${String(answer.data.payment_id ?? '-')}:${answer.data.end_date ?? answer.data.create_date ?? '-'}`
      : null;
  },
  route(request) {
    const answer = liqpayAnswerSchema.safeParse(safeDecode(liqpayForm(request).data));
    if (!answer.success) throw new WebhookBodyError(describeIssues(answer.error, ''));
    if (!answer.data.order_id) return null;
    return {
      type: 'payment',
      id: answer.data.order_id,
      event: { type: 'PROVIDER_STATUS', ...paymentUpdateOfLiqPay(answer.data, 'webhook') },
    };
  },
};

function safeDecode(data: string): unknown {
  try {
    return decodeData(data);
  } catch {
    throw new WebhookBodyError('data is not base64 JSON');
  }
}
