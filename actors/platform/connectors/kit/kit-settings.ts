import { z } from 'zod';
import { DEFAULT_HTTP_POLICY, type AnyConnector, type HttpPolicy } from './definition.ts';
import { addressList } from '../../../../common/ip-addresses.ts';

/**
 * The settings that belong to the kit rather than to a connector's schema:
 * `settings.http` (an override of the call policy) and `settings.allowedIps`
 * (who may send the integration's webhooks).
 */

const callPolicySchema = z
  .object({
    timeoutMs: z.number().int().min(100).max(300_000),
    retries: z.number().int().min(0).max(10),
    retryBaseDelayMs: z.number().int().min(1).max(60_000),
    retryMaxDelayMs: z.number().int().min(1).max(600_000),
    maxRetryAfterMs: z.number().int().min(0).max(3_600_000),
    rateLimitPerSecond: z.number().min(0.01).max(10_000),
    rateLimitBurst: z.number().int().min(1).max(100_000),
    rateLimitMaxWaitMs: z.number().int().min(0).max(600_000),
    breakerFailureThreshold: z.number().int().min(1).max(1000),
    breakerCooldownMs: z.number().int().min(100).max(3_600_000),
  })
  .partial()
  .strict();

export interface SettingsProblem {
  path: string;
  message: string;
}

/** The kit's defaults, then the connector's, then the integration's own `settings.http` (ignored when not valid). */
export function callPolicyOf(definition: AnyConnector, settings: Record<string, unknown> | undefined): HttpPolicy {
  const override = callPolicySchema.safeParse(settings?.http ?? {});
  return { ...DEFAULT_HTTP_POLICY, ...definition.policy, ...(override.success ? override.data : {}) };
}

/** The webhook senders' allow-list; empty = any address. */
export function allowedIpsOf(settings: Record<string, unknown> | undefined): string[] {
  return Array.isArray(settings?.allowedIps) ? (settings.allowedIps as string[]) : [];
}

/** What is wrong with the kit's settings among these (none when they are absent). */
export function kitSettingsProblems(settings: Record<string, unknown>): SettingsProblem[] {
  const problems: SettingsProblem[] = [];
  if (settings.http !== undefined) {
    const parsed = callPolicySchema.safeParse(settings.http);
    if (!parsed.success)
      for (const issue of parsed.error.issues)
        problems.push({ path: `settings.http.${issue.path.map(String).join('.')}`, message: issue.message });
  }
  if (settings.allowedIps !== undefined) {
    const list = z.array(z.string()).max(1000).safeParse(settings.allowedIps);
    if (!list.success) problems.push({ path: 'settings.allowedIps', message: 'must be a list of IP addresses or CIDRs' });
    else {
      try {
        addressList(list.data);
      } catch (error) {
        problems.push({ path: 'settings.allowedIps', message: (error as Error).message });
      }
    }
  }
  return problems;
}

/** The settings without the kit's own, for the connector's schema. */
export function connectorSettingsOf(settings: Record<string, unknown>): Record<string, unknown> {
  const { http: _http, allowedIps: _allowedIps, ...rest } = settings;
  void _http;
  void _allowedIps;
  return rest;
}
