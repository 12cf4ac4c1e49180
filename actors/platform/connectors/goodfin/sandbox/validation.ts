import type { ZodType } from 'zod';
import { SandboxHttpError, type SandboxRequest } from '../../kit/sandbox.ts';
import { describeIssues } from '../../../../../common/issues.ts';

/** Goodfin's 400 for a body it cannot take, naming the field. */
export const invalid = (description: string) => new SandboxHttpError(400, { error: 'validation_error', error_description: description });

export function parseBody<T>(request: SandboxRequest, schema: ZodType<T>): T {
  // an empty body is an empty object: every field of a control is optional or has a default
  const parsed = schema.safeParse(request.rawBody.length === 0 ? {} : request.json());
  if (!parsed.success) throw invalid(describeIssues(parsed.error, '(body)'));
  return parsed.data;
}
