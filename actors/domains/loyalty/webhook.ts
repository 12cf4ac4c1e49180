import {
  customerOf,
  JOWI_SIGNATURE_HEADER,
  verifyWebhookSignature,
  webhookEventSchema,
  type WebhookEvent,
} from '../../platform/connectors/jowi/protocol.ts';
import { majorToMinorUnits } from '../../../common/money.ts';
import { WebhookBodyError, type WebhookRequest, type WebhookSpec } from '../../platform/inbound/spec.ts';
import type { CustomerCache } from './customer-cache.ts';

/**
 * `POST /webhooks/jowi`: JOWi's customer.updated and bonus.changed, signed with X-Jowi-Signature (hex
 * HMAC-SHA256 of the raw body under api_secret). The hub's inbox stores each event once under its `id` before
 * answering 200 (JOWi resends until then; a repeat changes nothing), then the event updates the customer cache.
 * An event older than what the cache holds (its `created_at`) is kept in the inbox but changes nothing.
 */
export function jowiWebhook(deps: { cache: CustomerCache; now: () => number }): WebhookSpec {
  const parse = (request: WebhookRequest): WebhookEvent => {
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      throw new WebhookBodyError('not JSON');
    }
    const parsed = webhookEventSchema.safeParse(body);
    if (!parsed.success) {
      const fields = parsed.error.issues.slice(0, 3).map((issue) => issue.path.map(String).join('.') || '(body)');
      throw new WebhookBodyError(`unexpected event (${fields.join(', ')})`);
    }
    return parsed.data;
  };

  return {
    integration: 'jowi',
    verify: (request, config) => {
      const secret = config.credentials.apiSecret;
      return (
        typeof secret === 'string' && verifyWebhookSignature(request.rawBody, secret, request.headers[JOWI_SIGNATURE_HEADER.toLowerCase()])
      );
    },
    deliveryId: (request) => {
      try {
        return parse(request).id;
      } catch {
        return null;
      }
    },
    // validation only (before anything is stored): dispatch does the work
    route: (request) => {
      parse(request);
      return null;
    },
    async dispatch(request) {
      const event = parse(request);
      const sourceAt = new Date(event.created_at ?? deps.now());
      if (event.event === 'customer.updated') {
        const kept = await deps.cache.remember(customerOf(event.data), sourceAt, 'webhook');
        return {
          dispatchedTo: `loyalty-customer/${event.data.id}`,
          result: kept ? 'customer cached' : 'older than the cache: nothing changed',
        };
      }
      const balance = majorToMinorUnits(event.data.bonus_balance) ?? 0;
      const kept = await deps.cache.rememberBalance(event.data.customer_id, balance, sourceAt, 'webhook');
      return {
        dispatchedTo: `loyalty-customer/${event.data.customer_id}`,
        result: kept ? 'balance cached' : 'customer not cached, or older than the cache: nothing changed',
      };
    },
  };
}
