import { z } from 'zod';
import { errors } from '../../../../common/errors.ts';
import type { IntegrationRecord, IntegrationWrite } from '../../../../persistence/integrations.ts';
import type { AnyConnector } from './definition.ts';
import { connectorSettingsOf, kitSettingsProblems, type SettingsProblem } from './kit-settings.ts';

export const integrationUpdateSchema = z
  .object({
    enabled: z.boolean().optional(),
    baseUrl: z
      .string()
      .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'must be an absolute http(s) URL')
      .nullable()
      .optional(),
    /** a string sets a field, null removes it, an absent field keeps its value */
    credentials: z.record(z.string(), z.string().min(1).max(10_000).nullable()).optional(),
    /** merged into the current settings at the top level; null removes a key */
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type IntegrationUpdate = z.infer<typeof integrationUpdateSchema>;

/** `constructor`, `toString`, `__proto__`…: a key that would read or replace what every object inherits. */
function isPrototypeKey(key: string): boolean {
  return key in Object.prototype;
}

/**
 * The configuration an update leads to, checked against the connector's
 * schemas (when there is a connector) and the kit's settings; every problem
 * is named in one 400.
 */
export function mergeIntegrationUpdate(
  name: string,
  definition: AnyConnector | undefined,
  current: IntegrationRecord | null,
  update: IntegrationUpdate,
): IntegrationWrite {
  const credentials: Record<string, string> = { ...(current?.credentials ?? {}) };
  const problems: SettingsProblem[] = [];
  for (const [field, value] of Object.entries(update.credentials ?? {})) {
    // own properties only: `constructor` is in every object, and is no credential field
    if (isPrototypeKey(field) || (definition && !Object.hasOwn(definition.credentials.shape, field))) {
      problems.push({
        path: `credentials.${field}`,
        message: definition
          ? `unknown credential field; ${name} has ${Object.keys(definition.credentials.shape).join(', ')}`
          : 'not a credential field: the name of a property every object has',
      });
      continue;
    }
    if (value === null) delete credentials[field];
    else credentials[field] = value;
  }
  if (definition && Object.keys(credentials).length > 0) {
    const parsed = definition.credentials.safeParse(credentials);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push({
          path: `credentials.${issue.path.map(String).join('.')}`,
          message: issue.code === 'invalid_type' ? 'required (set every credential field, or none to use the sandbox)' : issue.message,
        });
      }
    }
  }
  const settings: Record<string, unknown> = { ...(current?.settings ?? {}) };
  for (const [key, value] of Object.entries(update.settings ?? {})) {
    if (isPrototypeKey(key)) {
      problems.push({ path: `settings.${key}`, message: 'not a setting: the name of a property every object has' });
      continue;
    }
    if (value === null) delete settings[key];
    else settings[key] = value;
  }
  problems.push(...kitSettingsProblems(settings));
  if (definition) {
    const parsed = definition.settings.safeParse(connectorSettingsOf(settings));
    if (!parsed.success)
      for (const issue of parsed.error.issues)
        problems.push({ path: `settings.${issue.path.map(String).join('.')}`, message: issue.message });
  }
  if (problems.length > 0) throw errors.badRequest(`the configuration of ${name} is not valid`, { issues: problems });
  return {
    enabled: update.enabled ?? current?.enabled ?? true,
    baseUrl: update.baseUrl === undefined ? (current?.baseUrl ?? null) : update.baseUrl,
    credentials,
    settings,
  };
}
