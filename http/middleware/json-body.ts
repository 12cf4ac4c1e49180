import type { Context, Next } from 'koa';
import { AppError } from '../../common/errors.ts';
import type { HubState } from '../context.ts';
import { readRawBody } from './raw-body.ts';

/**
 * Reads a JSON body for methods that carry one: 415 for another content type,
 * 413 past the limit (counted while reading, not trusted from headers), 400
 * for malformed JSON. The parsed value lands on `ctx.state.body`.
 */
export function jsonBody(limitBytes: number) {
  return async (ctx: Context & { state: HubState }, next: Next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(ctx.method)) return next();
    const length = Number(ctx.get('Content-Length') || '0');
    const hasBody = length > 0 || ctx.get('Transfer-Encoding') !== '';
    if (!hasBody) {
      ctx.state.body = undefined;
      return next();
    }
    if (!ctx.is('application/json', 'application/*+json')) {
      throw new AppError(415, 'unsupported_media_type', 'send the body as application/json', {
        contentType: ctx.get('Content-Type') || null,
      });
    }
    const text = (await readRawBody(ctx, limitBytes)).toString('utf8');
    if (text.trim() === '') {
      ctx.state.body = undefined;
      return next();
    }
    try {
      ctx.state.body = JSON.parse(text) as unknown;
    } catch (error) {
      throw new AppError(400, 'malformed_json', `the body is not valid JSON: ${(error as Error).message}`);
    }
    return next();
  };
}
