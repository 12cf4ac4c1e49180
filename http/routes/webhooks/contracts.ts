import type { Role } from '../../auth.ts';
import { clickRequestSchema } from '../../../actors/platform/connectors/click/protocol.ts';
import { envelopeSchema } from '../../../actors/platform/connectors/goodfin/protocol.ts';
import { paymeAnswerSchema } from '../../../actors/platform/connectors/payme/protocol.ts';
import { contracts, type RouteContract } from '../../openapi/contract.ts';

const open = 'none' satisfies 'none' | readonly [Role, ...Role[]];
const received = '`{received, id, duplicate, status}`: stored in the inbox (a repeat answers `duplicate: true`)';

/** The partner routes' contracts (their bodies are checked by each protocol, over the raw bytes). */
export const documented = contracts('Webhooks', {
  webhook: {
    summary: "A partner's signed callback",
    description:
      "The caller's address against the integration's `allowedIps` (403), the signature over the raw body (401), " +
      "the body as the integration's protocol reads it (400); stored and dispatched before the 200.",
    auth: open,
    responses: { 200: received, 503: 'the integration has no credentials to check the signature with' },
  },
  goodfin: {
    summary: "Goodfin's messages to the bank (`X-Goodfin-Token`)",
    auth: open,
    body: envelopeSchema,
    responses: { 200: received },
  },
});

/** What each merchant protocol's endpoints take and answer, where a schema exists. */
const MERCHANT: Record<string, Partial<RouteContract>> = {
  click: { body: clickRequestSchema, bodyMediaTypes: ['application/x-www-form-urlencoded'] },
  payme: { responses: { 200: { description: 'a JSON-RPC answer (always HTTP 200)', schema: paymeAnswerSchema } } },
};

/** A merchant protocol's endpoint (Payme, Click): the partner calls and reads our answer, in its own protocol. */
export function merchantContract(integration: string) {
  const own = Object.hasOwn(MERCHANT, integration) ? MERCHANT[integration] : undefined;
  return contracts('Webhooks', {
    endpoint: {
      summary: `${integration}: the merchant protocol (the partner calls, and reads our answer in its own codes)`,
      description: 'No API key: the protocol checks its own credentials. 403 off the allow-list, 503 while unconfigured.',
      auth: open,
      ...own,
    },
  }).endpoint;
}
