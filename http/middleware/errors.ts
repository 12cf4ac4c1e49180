import type { Context, Next } from 'koa';
import { AppError, isAppError } from '../../common/errors.ts';
import type { HubState } from '../context.ts';
import { RefusalLog } from './refusal-log.ts';

/**
 * The one place errors become HTTP: `{"error":{"code","message","details?"}}`.
 * Anything that is not an AppError is a 500 without internals, logged at
 * error with its stack and the request id. An AppError of 5xx (a partner not
 * configured, the service unavailable) is a refusal we meant: one line at
 * warn, rate-limited per route and caller (see RefusalLog), since anyone can
 * cause it as often as they like. Client errors (4xx) are not logged here.
 */
export function errorMapping(options: { refusals?: RefusalLog } = {}) {
  const refusals = options.refusals ?? new RefusalLog();
  return async (ctx: Context & { state: HubState }, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
      }
      if (ctx.status === 405 && ctx.body === undefined) {
        throw new AppError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`, { allow: ctx.response.get('Allow') });
      }
    } catch (error) {
      const appError = toAppError(error);
      if (!isAppError(error) && appError.status >= 500) {
        ctx.state.logger?.error('request failed', { error: error instanceof Error ? error.stack : String(error), code: appError.code });
      } else if (appError.status >= 500 && ctx.state.logger) {
        refusals.warn(
          ctx.state.logger,
          { route: `${ctx.method} ${ctx.path}`, address: ctx.req.socket.remoteAddress ?? '' },
          'request refused',
          {
            status: appError.status,
            code: appError.code,
            message: appError.message,
          },
        );
      }
      ctx.status = appError.status;
      ctx.body = {
        error: {
          code: appError.code,
          message: appError.message,
          ...(appError.details === undefined ? {} : { details: appError.details }),
        },
      };
    }
  };
}

function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  // Koa's own errors (ctx.throw, body parser) carry a status we can trust if it is a client error.
  const status = typeof error === 'object' && error !== null && 'status' in error ? Number((error as { status: unknown }).status) : 500;
  if (status >= 400 && status < 500) {
    const message = error instanceof Error ? error.message : 'bad request';
    return new AppError(status, status === 413 ? 'payload_too_large' : 'invalid_request', message);
  }
  return new AppError(500, 'internal_error', 'internal error; see the service log with this request id');
}
