import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'winston';
import type { HubState } from '../context.ts';

const INCOMING_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Every request gets an id (the caller's X-Request-Id when sane), echoed in a header and in every log line. */
export function requestContext(logger: Logger) {
  return async (ctx: Context & { state: HubState }, next: Next) => {
    const incoming = ctx.get('X-Request-Id');
    const requestId = INCOMING_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.logger = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      // One line per request at `http`; at `error` only when something failed that nobody meant (a 500):
      // a refusal of ours (503 not configured, 401 forged) is for errorMapping to log, rate-limited.
      ctx.state.logger.log(ctx.status === 500 ? 'error' : 'http', `${ctx.method} ${ctx.path} ${ctx.status}`, {
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        durationMs,
        principal: ctx.state.principal?.name,
      });
    }
  };
}
