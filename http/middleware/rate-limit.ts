import type { BlockList } from 'node:net';
import type { Context, Next } from 'koa';
import type { AlertSink } from '../../actors/platform/alerts/alerts.ts';
import type { HubMetrics } from '../../actors/platform/monitoring/metrics.ts';
import type { RequestLimitsConfig } from '../../common/config.ts';
import { errors } from '../../common/errors.ts';
import { addressList, clientAddress, listHas } from '../../common/ip-addresses.ts';
import { AuthenticationFailures } from '../auth-failures.ts';
import type { HubState } from '../context.ts';
import { RateLimiter, type RateDecision } from '../rate-limiter.ts';
import type { AuthenticationGuard } from './auth.ts';
import { RefusalLog } from './refusal-log.ts';

export interface RequestLimitDependencies {
  config: RequestLimitsConfig;
  /** whose X-Forwarded-For names the caller */
  trustedProxies: BlockList;
  metrics: HubMetrics;
  /** where a burst of failed authentications from one address is raised */
  alerts?: AlertSink;
  now?: () => number;
}

type HubContext = Context & { state: HubState };

/**
 * The request-rate limits of the HTTP API (README, "### Security"):
 *
 * - `byAddress`, for the endpoints without an API key (webhooks, the merchant
 *   APIs, `/goodfin/in`, survey, thank-you and console pages): a bucket per
 *   client address;
 * - `authentication`, the guard of the API's key check: every attempt takes
 *   from the same per-address bucket before the key is looked up, and one
 *   that authenticates gives its token back, so only missing and unknown
 *   keys count — guessing keys is limited, using a good one is not; each
 *   failure is logged (rate-limited, never the key) and counted for an alert;
 * - `byKey`, after authentication: a bucket per API key.
 *
 * Over a limit: 429 `too_many_requests` with `Retry-After` in whole seconds.
 * Addresses in `config.exempt` are neither limited nor counted.
 */
export function requestLimits(deps: RequestLimitDependencies) {
  const { config, metrics } = deps;
  const perAddress =
    config.publicPerMinute > 0 ? new RateLimiter({ perMinute: config.publicPerMinute, burst: config.publicBurst, now: deps.now }) : null;
  const perKey =
    config.apiPerMinute > 0 ? new RateLimiter({ perMinute: config.apiPerMinute, burst: config.apiBurst, now: deps.now }) : null;
  const failures = new AuthenticationFailures({
    threshold: config.authFailureThreshold,
    windowMs: config.authFailureWindowMs,
    alerts: deps.alerts,
    now: deps.now,
  });
  const exempt = addressList(config.exempt);
  const refusals = new RefusalLog({ now: deps.now });

  const callerOf = (ctx: HubContext) => {
    const address = clientAddress(ctx.req.socket.remoteAddress ?? '', ctx.get('X-Forwarded-For') || undefined, deps.trustedProxies);
    return { address, exempt: listHas(exempt, address) };
  };

  const refuse = (ctx: HubContext, decision: RateDecision, limit: 'api_key' | 'address', address: string): never => {
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    metrics.rateLimited(limit);
    refusals.warn(ctx.state.logger, { route: `rate limit per ${limit}`, address }, 'request over the rate limit refused', {
      method: ctx.method,
      path: ctx.path,
      ...(ctx.state.principal ? { principal: ctx.state.principal.name } : {}),
      retryAfterSeconds: seconds,
    });
    ctx.set('Retry-After', String(seconds));
    throw errors.tooManyRequests(seconds);
  };

  const byAddress = async (ctx: HubContext, next: Next) => {
    const caller = callerOf(ctx);
    if (perAddress && !caller.exempt) {
      const decision = perAddress.take(caller.address);
      if (!decision.allowed) refuse(ctx, decision, 'address', caller.address);
    }
    return next();
  };

  const byKey = async (ctx: HubContext, next: Next) => {
    const keyId = ctx.state.principal?.keyId;
    if (perKey && keyId !== undefined) {
      const caller = callerOf(ctx);
      if (!caller.exempt) {
        const decision = perKey.take(keyId);
        if (!decision.allowed) refuse(ctx, decision, 'api_key', caller.address);
      }
    }
    return next();
  };

  const authentication: AuthenticationGuard = {
    admit(ctx) {
      const caller = callerOf(ctx);
      const limited = perAddress !== null && !caller.exempt;
      if (limited) {
        const decision = perAddress.take(caller.address);
        if (!decision.allowed) refuse(ctx, decision, 'address', caller.address);
      }
      return {
        succeeded: () => {
          if (limited) perAddress.giveBack(caller.address);
        },
        failed: async (reason) => {
          metrics.authFailure();
          refusals.warn(
            ctx.state.logger,
            { route: 'API key check', address: caller.address },
            'request with a missing or unknown API key refused',
            { reason, method: ctx.method, path: ctx.path },
          );
          if (caller.exempt) return;
          await failures.record(caller.address)?.catch((error: unknown) => {
            ctx.state.logger.error('the alert on failed authentications could not be raised', { error: String(error) });
          });
        },
      };
    },
  };

  return { byAddress, byKey, authentication };
}
