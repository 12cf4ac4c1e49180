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
  verify(
    request: WebhookRequest,
    config: { credentials: Record<string, string>; settings: Record<string, unknown> },
  ): Promise<boolean> | boolean;
  /** the partner's own delivery or message id; null → the SHA-256 of the body is used */
  deliveryId(request: WebhookRequest): string | null;
  /** the event it carries, or null when it concerns nothing the hub keeps; throws WebhookBodyError when malformed */
  route(request: WebhookRequest): WebhookRoute | null;
  /**
   * For protocols whose messages do more than send one event (create an
   * actor, record an answer, reply): handles the stored delivery instead of
   * `route`. Must be idempotent — a delivery stored but not handled when the
   * process died is handled again. Throwing an AppError under 500 records
   * the refusal (no retry); anything else leaves it for a retry.
   */
  dispatch?(request: WebhookRequest, deliveryId: string): Promise<WebhookDispatch>;
  /** A delivery seen and handled before arrived again: what the protocol expects then (e.g. the answer sent again). */
  repeated?(request: WebhookRequest, deliveryId: string): Promise<void>;
}

export interface WebhookDispatch {
  /** the actor it concerned, as type/id */
  dispatchedTo: string | null;
  result: string;
}
