import type { ZodType } from 'zod';
import { errors } from '../common/errors.ts';

/** 400 with every failing path, or the parsed value. */
export function parseBody<T>(schema: ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw errors.badRequest(
    'the request body is invalid',
    parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(body)', message: issue.message })),
  );
}

export function parseQuery<T>(schema: ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw errors.badRequest(
    'the query string is invalid',
    parsed.error.issues.map((issue) => ({ path: `query:${issue.path.map(String).join('.')}`, message: issue.message })),
  );
}
