import { z } from 'zod';
import { WebhookBodyError, type WebhookSpec } from '../../platform/inbound/spec.ts';
import { freshTimestamp, verifyHmac } from '../../../common/security.ts';

/**
 * The echo service's callbacks — the reference webhook protocol the hub's
 * own tests and demos use: `X-Echo-Signature: sha256=<hex HMAC-SHA256 of
 * "<X-Echo-Timestamp>.<raw body>">` under the integration's `webhookSecret`,
 * a timestamp within 5 minutes (so a captured delivery cannot be replayed
 * later), and `X-Echo-Delivery` as the delivery id. The body
 * `{"actorId":"…","event":{"type":"ADD","amount":5}}` is an event for a probe actor.
 */
const bodySchema = z.object({
  actorId: z.string().min(1).max(200),
  event: z.object({ type: z.string().regex(/^[A-Z][A-Z_]*$/) }).catchall(z.unknown()),
});

export const TIMESTAMP_TOLERANCE_SECONDS = 300;

export const echoWebhook: WebhookSpec = {
  integration: 'echo',
  verify(request, config) {
    const secret = config.credentials.webhookSecret ?? '';
    const timestamp = request.headers['x-echo-timestamp'];
    // Both checks always run, so timing does not tell which one failed.
    const signed = verifyHmac({
      algorithm: 'sha256',
      secret,
      payload: Buffer.concat([Buffer.from(`${timestamp ?? ''}.`), request.rawBody]),
      signature: request.headers['x-echo-signature'],
      encoding: 'hex',
      prefix: 'sha256=',
    });
    return freshTimestamp(timestamp, TIMESTAMP_TOLERANCE_SECONDS) && signed;
  },
  deliveryId: (request) => request.headers['x-echo-delivery'] ?? null,
  route(request) {
    let json: unknown;
    try {
      json = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      throw new WebhookBodyError('not JSON');
    }
    const parsed = bodySchema.safeParse(json);
    if (!parsed.success) throw new WebhookBodyError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return { type: 'probe', id: parsed.data.actorId, event: parsed.data.event as { type: string } };
  },
};

export const webhookSpecs: WebhookSpec[] = [echoWebhook];
