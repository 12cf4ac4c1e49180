import type { EventObject } from 'xstate';

/** An inbound partner callback as received: the exact bytes and the headers. */
export interface WebhookRequest {
  integration: string;
  rawBody: Buffer;
  /** lower-case names */
  headers: Record<string, string>;
  remoteAddress: string;
  contentType: string | null;
}

/** What a delivery means for us: an event for one actor. */
export interface WebhookRoute {
  type: string;
  id: string;
  event: EventObject;
}

/** The body is not what the partner's protocol promises (answered 400, nothing stored). */
export class WebhookBodyError extends Error {}

/**
 * One partner's callback protocol. The hub does the rest: raw body, IP
 * allow-list, inbox (dedupe by delivery id, raw payload kept for replay),
 * dispatch as an event with the delivery as idempotency key, audit, metrics.
 */
export interface WebhookSpec {
  integration: string;
  /** checks the signature against the integration's current configuration, in constant time */
  verify(request: WebhookRequest, config: { credentials: Record<string, string>; settings: Record<string, unknown> }): Promise<boolean> | boolean;
  /** the partner's own delivery or message id; null → the SHA-256 of the body is used */
  deliveryId(request: WebhookRequest): string | null;
  /** the event it carries, or null when it concerns nothing the hub keeps; throws WebhookBodyError when malformed */
  route(request: WebhookRequest): WebhookRoute | null;
}
