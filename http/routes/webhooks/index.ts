import { createHash } from 'node:crypto';
import type { BlockList } from 'node:net';
import Router from '@koa/router';
import { AppError, errors } from '../../../common/errors.ts';
import { clientAddress, listHas, addressList } from '../../../common/ip-addresses.ts';
import type { AuditLog } from '../../../actors/platform/audit/audit-log.ts';
import type { Connectors } from '../../../actors/platform/connectors/kit/connectors.ts';
import type { HubMetrics } from '../../../actors/platform/monitoring/metrics.ts';
import type { Inbox } from '../../../actors/platform/inbound/inbox.ts';
import type { SignatureFailures } from '../../../actors/platform/inbound/signature-failures.ts';
import type { MerchantApi } from '../../../actors/platform/inbound/merchant-api.ts';
import { WebhookBodyError, type WebhookRequest } from '../../../actors/platform/inbound/spec.ts';
import type { HubState } from '../../context.ts';
import { readRawBody } from '../../middleware/raw-body.ts';
import { RefusalLog } from '../../middleware/refusal-log.ts';
import { documented, merchantContract } from './contracts.ts';

export interface WebhookDependencies {
  inbox: Inbox;
  /** partners that call us and wait for our answer (Payme, Click) */
  merchantApis: readonly MerchantApi[];
  connectors: Connectors;
  trustedProxies: BlockList;
  bodyLimitBytes: number;
  metrics: HubMetrics;
  audit: AuditLog;
  signatureFailures: SignatureFailures;
  /** where refusals (403, 401) are logged, a few lines a minute per route and caller at most */
  refusals?: RefusalLog;
}

/**
 * `POST /webhooks/:integration` — every partner callback takes one path:
 * caller address (X-Forwarded-For only from trusted proxies) against the
 * integration's allow-list → 403; signature over the raw bytes → 401; the
 * delivery stored in the inbox (deduplicated by the partner's id) and
 * dispatched → 2xx only after that. A repeat answers 200 and changes nothing.
 */
export function webhookRoutes(deps: WebhookDependencies): Router<HubState> {
  const router = new Router<HubState>();
  const refusals = deps.refusals ?? new RefusalLog();

  type RouteContext = Parameters<Parameters<typeof router.post>[1]>[0];

  /**
   * What every partner call goes through before its protocol sees it: an integration configured to check it
   * (503), the caller on its allow-list (403; X-Forwarded-For only from trusted proxies), the raw body within
   * the limit. `finish` records the outcome in the audit log and the metrics.
   */
  const admit = async (ctx: RouteContext, integration: string) => {
    const started = Date.now();
    const remoteAddress = clientAddress(ctx.req.socket.remoteAddress ?? '', ctx.get('X-Forwarded-For') || undefined, deps.trustedProxies);
    const finish = (
      outcome: string,
      status: number,
      error: { code: string; message: string } | null,
      details: Record<string, unknown> = {},
    ) => {
      deps.metrics.webhook(integration, outcome);
      deps.audit.record({
        kind: 'inbound',
        integration,
        operation: 'webhook',
        actor: typeof details.actor === 'string' ? details.actor : null,
        principal: remoteAddress,
        status,
        outcome,
        durationMs: Date.now() - started,
        error,
        request: null,
        response: null,
        details,
      });
    };

    const config = deps.connectors.webhookConfig(integration);
    if (!config) {
      finish('not_configured', 503, { code: 'integration_not_configured', message: 'no credentials to check the signature with' });
      throw new AppError(503, 'integration_not_configured', `integration ${integration} is not configured to receive webhooks`);
    }
    // a sandboxed integration's own sandbox calls from loopback: anyone else is off its list too
    const allowLists = [config.allowedIps, config.sandboxCallers ?? []].filter((list) => list.length > 0);
    if (allowLists.some((list) => !listHas(addressList(list), remoteAddress))) {
      finish('forbidden_address', 403, { code: 'address_not_allowed', message: `caller ${remoteAddress} is not on the allow-list` });
      refusals.warn(ctx.state.logger, { route: ctx.path, address: remoteAddress }, 'webhook from an address off the allow-list refused', {
        integration,
      });
      throw new AppError(403, 'address_not_allowed', 'this address may not call this endpoint');
    }

    const rawBody = await readRawBody(ctx, deps.bodyLimitBytes);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(ctx.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const request: WebhookRequest = { integration, rawBody, headers, remoteAddress, contentType: ctx.get('Content-Type') || null };
    return { request, config, finish, remoteAddress };
  };

  const receive = async (ctx: RouteContext, integration: string) => {
    const spec = deps.inbox.spec(integration);
    if (!spec) throw errors.notFound(`webhook endpoint for ${integration}`, { known: deps.inbox.integrations() });
    const { request, config, finish, remoteAddress } = await admit(ctx, integration);
    const { rawBody } = request;

    if (!(await spec.verify(request, config))) {
      finish('bad_signature', 401, { code: 'invalid_signature', message: 'signature missing or invalid' });
      refusals.warn(ctx.state.logger, { route: ctx.path, address: remoteAddress }, 'webhook with an invalid signature refused', {
        integration,
      });
      await deps.signatureFailures.record(integration, remoteAddress);
      throw new AppError(401, 'invalid_signature', 'the signature is missing or does not match the body');
    }

    try {
      spec.route(request); // a malformed body is refused before anything is stored
    } catch (error) {
      if (error instanceof WebhookBodyError) {
        finish('invalid', 400, { code: 'invalid_webhook', message: error.message });
        throw errors.badRequest(`the ${integration} webhook body is not valid: ${error.message}`);
      }
      throw error;
    }

    const deliveryId = spec.deliveryId(request) ?? `sha256-${createHash('sha256').update(rawBody).digest('hex')}`;
    const outcome = await deps.inbox.accept(request, deliveryId);
    finish(outcome.duplicate ? 'duplicate' : outcome.status, 200, null, {
      deliveryId,
      actor: outcome.dispatchedTo,
      result: outcome.result,
    });
    ctx.status = 200;
    ctx.body = { received: true, id: outcome.id, duplicate: outcome.duplicate, status: outcome.status };
  };

  // merchant protocols first: their paths are more specific than `/webhooks/:integration`
  for (const api of deps.merchantApis) {
    for (const endpoint of api.endpoints) {
      router.post(endpoint.path, merchantContract(api.integration), async (ctx) => {
        const { request, config, finish } = await admit(ctx, api.integration);
        const answer = await endpoint.handle(request, config);
        finish(answer.outcome, answer.status, answer.error ?? null, { actor: answer.actor ?? null });
        ctx.status = answer.status;
        ctx.body = answer.body;
      });
    }
  }
  router.post('/webhooks/:integration', documented.webhook, (ctx) => receive(ctx, ctx.params.integration ?? ''));
  // Goodfin's documented address for the messages it pushes to a bank
  router.post('/goodfin/in', documented.goodfin, (ctx) => receive(ctx, 'goodfin'));

  return router;
}
