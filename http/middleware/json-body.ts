import type { Context, Next } from 'koa';
import { AppError } from '../../common/errors.ts';
import { DEFAULT_MAX_JSON_DEPTH, nestsDeeperThan } from '../../common/json-depth.ts';
import type { HubState } from '../context.ts';
import { readRawBody } from './raw-body.ts';

export interface JsonBodyOptions {
  /** how many levels of arrays and objects a body may nest (default DEFAULT_MAX_JSON_DEPTH) */
  maxDepth?: number;
}

/**
 * Reads a JSON body for methods that carry one: 415 for another content type,
 * 413 past the limit (counted while reading, not trusted from headers), 400
 * for a body nested deeper than `maxDepth` (measured on the text, before it is
 * parsed), 400 for malformed JSON. The parsed value lands on `ctx.state.body`.
 */
export function jsonBody(limitBytes: number, options: JsonBodyOptions = {}) {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
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
    ctx.state.body = parseJsonText(text, maxDepth);
    return next();
  };
}

/**
 * A JSON text as a value: 400 `invalid_request` when it nests deeper than
 * `maxDepth` (nothing recursive ever sees it), 400 `malformed_json` when it is
 * not JSON. For every route that reads a body itself.
 */
export function parseJsonText(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  if (nestsDeeperThan(text, maxDepth)) {
    throw new AppError(400, 'invalid_request', `the body nests arrays and objects deeper than ${maxDepth} levels`, {
      maxDepth,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new AppError(400, 'malformed_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}
