import type { WebhookConfig } from '../connectors/kit/integration-config.ts';
import type { JobDefinition } from '../jobs/registry.ts';
import type { WebhookRequest } from './spec.ts';

/**
 * A partner that calls us and waits for our answer — a merchant protocol
 * (Payme's JSON-RPC methods, Click's Prepare and Complete) rather than a
 * status callback. The partner checks every answer, so the protocol answers
 * itself, errors included, in its own shapes and codes; the hub's route adds
 * only the caller's allow-list, the raw body, the audit record and metrics.
 * A protocol is listed in `actors/domains/payments/merchant-apis.ts`.
 */

export interface MerchantAnswer {
  /** HTTP status (Payme: always 200) */
  status: number;
  /** sent as JSON */
  body: unknown;
  /** for the audit and metrics: what the call came to, e.g. `CreateTransaction`, `error -31050` */
  outcome: string;
  /** the actor the call concerned (`payment/<id>`), for the audit */
  actor?: string | null;
  /** the refusal, for the audit (never a secret) */
  error?: { code: string; message: string } | null;
}

export interface MerchantEndpoint {
  /** the hub's path the partner calls, e.g. `/webhooks/payme` */
  path: string;
  /** the partner's request → our answer; `config` is the integration's current credentials and settings */
  handle(request: WebhookRequest, config: WebhookConfig): Promise<MerchantAnswer>;
}

export interface MerchantApi {
  /** the integration whose configuration (credentials, allow-list) the calls are checked with */
  integration: string;
  endpoints: MerchantEndpoint[];
  /** scheduled work the protocol needs (e.g. Payme's 12-hour timeout of unperformed transactions) */
  jobs?: JobDefinition[];
  /**
   * Called once the hub is reachable, and again whenever the integration's configuration changes: when the
   * integration is sandboxed, tells its sandbox where our endpoints are and with which credentials to call
   * them (what a merchant enters in the real provider's cabinet). Does nothing for a live integration.
   */
  announce?(publicBaseUrl: string): Promise<void>;
}
