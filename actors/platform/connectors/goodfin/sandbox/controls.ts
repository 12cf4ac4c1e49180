import { z } from 'zod';
import type { SandboxRequest, SandboxResponse } from '../../kit/sandbox.ts';
import { generateDealsBodySchema, type DealFeed } from './deal-feed.ts';
import type { GoodfinInbound } from './inbound.ts';
import type { SandboxTokens } from './oauth.ts';
import { resendPolicySchema, type GoodfinPusher } from './pusher.ts';
import { serviceNameField, type ServiceRegistry } from './services.ts';
import { parseBody } from './validation.ts';

const cancelBodySchema = z.object({
  ...serviceNameField,
  dealApplicationId: z.string().min(1).max(128),
  reason: z.string().max(2000).optional(),
  initiator: z.enum(['CLIENT', 'SYSTEM']).optional(),
});
const resubmitBodySchema = z.object({ ...serviceNameField, dealApplicationId: z.string().min(1).max(128) });
const repushBodySchema = z.object({ ...serviceNameField, msgId: z.string().min(1) });
const tokenLifetimeSchema = z.object({ seconds: z.number().int().min(1).max(86_400) });
const answeringSchema = z.object({ enabled: z.boolean() });

export interface GoodfinSandboxParts {
  services: ServiceRegistry;
  tokens: SandboxTokens;
  pusher: GoodfinPusher;
  inbound: GoodfinInbound;
  deals: DealFeed;
}

/** The test controls over HTTP (tests reach a sandbox in another process only that way); they act as the in-process methods do. */
export function goodfinControls({
  services,
  tokens,
  pusher,
  inbound,
  deals,
}: GoodfinSandboxParts): Record<string, (request: SandboxRequest) => SandboxResponse> {
  return {
    'POST /generatedeals': (request) => ({ json: deals.generate(parseBody(request, generateDealsBodySchema)) }),
    'POST /cancel': (request) => {
      const body = parseBody(request, cancelBodySchema);
      return { json: deals.cancel(body.dealApplicationId, body) };
    },
    'POST /resubmit': (request) => {
      const body = parseBody(request, resubmitBodySchema);
      const resent = deals.resubmit(body.dealApplicationId, body);
      if (!resent) return { status: 404, json: { error: 'not_found', error_description: `no deal ${body.dealApplicationId} was pushed` } };
      return { json: { dealApplicationId: body.dealApplicationId, msgId: resent.msgId } };
    },
    'POST /repush': (request) => {
      const body = parseBody(request, repushBodySchema);
      if (!pusher.repush(services.named(body.serviceSystemName).serviceSystemName, body.msgId))
        return { status: 404, json: { error: 'not_found', error_description: `no message ${body.msgId} was pushed` } };
      return { json: { msgId: body.msgId } };
    },
    'POST /resend-policy': (request) => {
      pusher.setResendPolicy(parseBody(request, resendPolicySchema));
      return { json: { ...pusher.resendPolicy } };
    },
    'POST /answering': (request) => {
      inbound.answering = parseBody(request, answeringSchema).enabled;
      return { json: { enabled: inbound.answering } };
    },
    'POST /token-lifetime': (request) => {
      tokens.lifetimeSeconds = parseBody(request, tokenLifetimeSchema).seconds;
      return { json: { seconds: tokens.lifetimeSeconds } };
    },
    'POST /revoke-tokens': () => {
      tokens.revoke();
      return { json: { revoked: true, tokensIssued: tokens.issued } };
    },
    // what Goodfin would send with a push: lets a test push as Goodfin to a hub whose credentials it does not know
    'GET /endpoint': (request) => {
      const service = services.named(request.query.get('serviceSystemName') ?? undefined);
      const endpoint = services.endpointOf(service);
      return {
        json: {
          serviceSystemName: service.serviceSystemName,
          url: endpoint.url,
          header: { name: endpoint.auth.name, value: endpoint.auth.value },
        },
      };
    },
    'GET /tokens': () => ({ json: { tokensIssued: tokens.issued, lifetimeSeconds: tokens.lifetimeSeconds } }),
    'GET /messages': (request) => {
      const service = services.named(request.query.get('serviceSystemName') ?? undefined);
      return {
        json: {
          pushed: pusher.pushed(service.serviceSystemName).map(({ envelope: _envelope, ...message }) => message),
          received: service.received,
          duplicates: service.duplicates,
        },
      };
    },
  };
}
