import type { GoodfinSettings } from '../../platform/connectors/goodfin/connector.ts';
import type { ErrorMapping, StatusMapping } from '../../platform/connectors/goodfin/protocol.ts';
import { APPLICATION_ERRORS, FINAL_STATUSES, FIXED_STATUS_LABELS, type ApplicationPolicy } from '../../../machines/goodfin-application.ts';
import { hmac } from '../../../common/security.ts';

/** What the bank declares to Goodfin and applies to applications, all derived from the integration's settings. */

/** The whole status model: the fixed statuses (with configured labels) and the configured review statuses. */
export function statusModel(settings: GoodfinSettings): StatusMapping {
  return {
    statuses: [
      ...Object.entries(FIXED_STATUS_LABELS).map(([code, name]) => ({
        code,
        name: settings.statusLabels[code] ?? name,
        final: FINAL_STATUSES.has(code),
      })),
      ...settings.reviewStatuses.map((status) => ({ code: status.code, name: status.name, final: false })),
    ],
  };
}

export function errorModel(): ErrorMapping {
  return { errors: Object.entries(APPLICATION_ERRORS).map(([code, message]) => ({ code, message })) };
}

/** The policy a new application is received under. */
export function policyOf(settings: GoodfinSettings): ApplicationPolicy {
  return {
    limits: settings.limits,
    requiredDocuments: settings.requiredDocuments,
    reviewStatuses: settings.reviewStatuses.map((s) => s.code),
  };
}

/**
 * The secret Goodfin must send in `X-Goodfin-Token`: derived from our
 * credentials, so that it changes with them (and is declared again) and
 * nothing more has to be stored or configured.
 */
export function inboundToken(credentials: { serviceSystemName: string; password: string }): string {
  return hmac('sha256', credentials.password, `goodfin-inbound:${credentials.serviceSystemName}`, 'base64url');
}
