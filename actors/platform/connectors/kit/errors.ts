import { EffectError } from '../../../runtime/effects.ts';

/**
 * Every failure of an external call, as a value: which integration, a
 * stable code (the partner's own code where it gives one), whether trying
 * again can help, and the HTTP status when there was one. It is an
 * EffectError, so the runtime's retry policy understands it as is.
 */
export class ConnectorError extends EffectError {
  constructor(
    readonly integration: string,
    code: string,
    message: string,
    retryable: boolean,
    readonly status: number | null = null,
  ) {
    super(code, message, retryable);
    this.name = 'ConnectorError';
  }

  toJSON(): { integration: string; code: string; retryable: boolean; status: number | null; message: string } {
    return { integration: this.integration, code: this.code, retryable: this.retryable, status: this.status, message: this.message };
  }
}

/** Codes the kit itself produces (a connector adds the partner's own). */
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
} as const;

export function isConnectorError(error: unknown): error is ConnectorError {
  return error instanceof ConnectorError;
}
