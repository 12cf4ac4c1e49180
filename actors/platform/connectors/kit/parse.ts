import type { z } from 'zod';
import type { ConnectorHttp } from './definition.ts';
import { KIT_ERROR_CODES } from './errors.ts';

/**
 * Parses a partner's answer with its zod schema; an answer that does not
 * match the protocol becomes a `bad_response` ConnectorError naming the
 * first fields that are wrong (never their values, which may be personal).
 */
export function parseAnswer<T>(http: ConnectorHttp, schema: z.ZodType<T>, body: unknown, what: string, status: number | null = null): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.slice(0, 3).map((issue) => issue.path.map(String).join('.') || '(body)');
  throw http.error(KIT_ERROR_CODES.badResponse, `${http.integration} ${what}: unexpected answer (${fields.join(', ')})`, { status });
}
