import { EffectError, type PartnerErrorCode } from '../../../runtime/effects.ts';

export { partnerErrorCode, type PartnerErrorCode } from '../../../runtime/effects.ts';

/** Codes the kit itself produces (a connector adds the partner's own, as PartnerErrorCode). */
export const KIT_ERROR_CODES = {
  notConfigured: 'integration_not_configured',
  disabled: 'integration_disabled',
  circuitOpen: 'circuit_open',
  rateLimited: 'rate_limited',
  network: 'network_error',
  timeout: 'timeout',
  badResponse: 'bad_response',
  unauthorized: 'unauthorized',
  partnerRateLimited: 'partner_rate_limited',
  cancelled: 'cancelled',
  testFailed: 'test_failed',
} as const;

/** A code the kit gives: one of KIT_ERROR_CODES, or `http_<status>` for an error status the partner gave no code of its own for. */
export type KitErrorCode = (typeof KIT_ERROR_CODES)[keyof typeof KIT_ERROR_CODES] | `http_${number}`;

/** What a connector's failure is called: by the kit (a closed union), or by the partner (branded at the boundary). */
export type ConnectorErrorCode = KitErrorCode | PartnerErrorCode;

/**
 * Every failure of an external call, as a value: which integration, a
 * stable code (the partner's own code where it gives one), whether trying
 * again can help, and the HTTP status when there was one. It is an
 * EffectError, so the runtime's retry policy understands it as is.
 */
export class ConnectorError extends EffectError<ConnectorErrorCode> {
  constructor(
    readonly integration: string,
    code: ConnectorErrorCode,
    message: string,
    retryable: boolean,
    readonly status: number | null = null,
  ) {
    super(code, message, retryable);
    this.name = 'ConnectorError';
  }

  toJSON(): { integration: string; code: ConnectorErrorCode; retryable: boolean; status: number | null; message: string } {
    return { integration: this.integration, code: this.code, retryable: this.retryable, status: this.status, message: this.message };
  }
}

export function isConnectorError(error: unknown): error is ConnectorError {
  return error instanceof ConnectorError;
}
