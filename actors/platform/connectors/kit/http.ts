import axios, { AxiosError, type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import axiosRetry from 'axios-retry';
import type { Logger } from 'winston';
import { redact, redactString } from '../../../../common/logger.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { AnyConnector, CallOptions, ConnectorConfig, ConnectorHttp, HttpPolicy, RawResponse } from './definition.ts';
import { ConnectorError, KIT_ERROR_CODES, partnerErrorCode, type ConnectorErrorCode } from './errors.ts';
import { RateLimitExceeded, type TokenBucket } from './rate-limit.ts';

/**
 * The HTTP pipeline every connector calls through:
 *
 *   circuit breaker → rate limit → axios (time-out) → axios-retry (idempotent
 *   requests only; network errors, 5xx and 429; exponential back-off with
 *   jitter; Retry-After honoured) → error mapping → parse (zod) → one record
 *   to the observer (logs, metrics, health, audit), secrets scrubbed.
 *
 * The breaker and the bucket belong to the integration, not to a client, so
 * they survive a configuration change that rebuilds the client.
 */

/** What a finished call reports (to logs, metrics, health and the audit log). */
export interface CallRecord {
  integration: string;
  operation: string;
  method: string;
  /** base URL + path + query, secrets scrubbed */
  url: string;
  actor: { type: string; id: string } | null;
  at: Date;
  durationMs: number;
  attempts: number;
  status: number | null;
  /** ok: answered and parsed; rejected: the partner refused (4xx, business error); failed: broken or unreachable; refused: never sent (circuit open, rate limit) */
  outcome: 'ok' | 'rejected' | 'failed' | 'refused';
  error: { code: string; message: string; retryable: boolean } | null;
  /** redacted excerpts */
  request: string | null;
  response: string | null;
  bytesSent: number;
  bytesReceived: number;
  sandboxed: boolean;
}

export interface CallObserver {
  /** one attempt's outcome, before any retry */
  attempt(integration: string, operation: string, outcome: 'ok' | 'failed', retrying: boolean): void;
  finished(record: CallRecord): void;
}

export interface PipelineParts {
  breaker: CircuitBreaker;
  limiter: TokenBucket;
  observer: CallObserver;
  logger: Logger;
}

const EXCERPT_LIMIT = 2_000;
const FAILURE_STATUS = (status: number) => status >= 500 || status === 429;
/** 4xx answers that a later attempt can cure: Request Timeout, Too Early (429 is rate limiting, handled on its own). */
const TRANSIENT_CLIENT_STATUS: ReadonlySet<number> = new Set([408, 425]);

declare module 'axios' {
  interface AxiosRequestConfig {
    /** per attempt: whether this attempt is the circuit's half-open probe */
    hubProbe?: boolean;
    hubOperation?: string;
    /** whether axios-retry may send this request again */
    hubIdempotent?: boolean;
  }
}

function headerRecord(headers: AxiosResponse['headers'] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date); 0 when absent. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number {
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? 0 : Math.max(0, date - now);
}

/** How long a partner asks us to wait: Retry-After, or Wildberries' X-Ratelimit-Retry (seconds) where it sends only that. */
function retryAfterHeader(headers: Record<string, string>): string | undefined {
  return headers['retry-after'] ?? headers['x-ratelimit-retry'];
}

/** Exponential back-off with jitter (half fixed, half random), at least what Retry-After asks. */
export function retryDelayMs(retryNumber: number, policy: HttpPolicy, retryAfter: number): number {
  const ceiling = Math.min(policy.retryMaxDelayMs, policy.retryBaseDelayMs * 2 ** (retryNumber - 1));
  const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
  return Math.max(jittered, retryAfter);
}

/** Replaces every occurrence of a secret value (and keys named like secrets) in a text excerpt. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join('[REDACTED]');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join('[REDACTED]');
  }
  return redactString(out);
}

function excerpt(body: unknown, secrets: readonly string[]): string | null {
  if (body === undefined || body === null || body === '') return null;
  let text: string;
  if (typeof body === 'string') {
    try {
      text = JSON.stringify(redact(JSON.parse(body)));
    } catch {
      text = body;
    }
  } else if (Buffer.isBuffer(body)) text = `<${body.length} bytes>`;
  else if (body instanceof URLSearchParams) text = JSON.stringify(redact(Object.fromEntries(body)));
  else text = JSON.stringify(redact(body));
  const cut = text.length > EXCERPT_LIMIT ? `${text.slice(0, EXCERPT_LIMIT)}…` : text;
  return scrub(cut, secrets);
}

function byteLength(body: unknown): number {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (Buffer.isBuffer(body)) return body.length;
  return Buffer.byteLength(JSON.stringify(body));
}

/** The values of the credentials, and what clients derive from them (base64, Basic), to scrub from excerpts. */
function credentialSecrets(credentials: unknown): string[] {
  if (typeof credentials !== 'object' || credentials === null) return [];
  const values = Object.values(credentials as Record<string, unknown>).filter((v): v is string => typeof v === 'string');
  return values.flatMap((value) => [value, Buffer.from(value).toString('base64')]);
}

export function createConnectorHttp(
  definition: AnyConnector,
  config: ConnectorConfig<Record<string, string>, unknown>,
  policy: HttpPolicy,
  parts: PipelineParts,
): ConnectorHttp {
  const integration = definition.name;
  const baseSecrets = credentialSecrets(config.credentials);
  const { breaker, limiter, observer } = parts;
  const logger = parts.logger.child({ integration });

  const instance: AxiosInstance = axios.create({
    baseURL: config.baseUrl,
    timeout: policy.timeoutMs,
    // 5xx and 429 are thrown so that axios-retry sees them; every other status is ours to map.
    validateStatus: (status) => !FAILURE_STATUS(status),
    maxRedirects: 0,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    headers: { 'User-Agent': 'integration-hub' },
  });

  // Every attempt (retries included) passes the breaker and takes a rate-limit token.
  instance.interceptors.request.use(async (request: InternalAxiosRequestConfig) => {
    const permit = breaker.acquire();
    if (!permit.allowed) {
      throw new ConnectorError(
        integration,
        KIT_ERROR_CODES.circuitOpen,
        `${integration} is failing; calls resume in ${Math.ceil(permit.retryInMs / 1000)} s`,
        true,
        null,
      );
    }
    request.hubProbe = permit.probe;
    try {
      await limiter.take(policy.rateLimitMaxWaitMs, request.signal as AbortSignal | undefined);
    } catch (error) {
      breaker.release(permit.probe);
      if (error instanceof RateLimitExceeded) {
        throw new ConnectorError(
          integration,
          KIT_ERROR_CODES.rateLimited,
          `${integration} rate limit (${policy.rateLimitPerSecond}/s) is saturated`,
          true,
          null,
        );
      }
      throw error;
    }
    return request;
  });

  // Registered before axios-retry, so the breaker knows an attempt's outcome before a retry is decided.
  instance.interceptors.response.use(
    (response) => {
      breaker.success(response.config.hubProbe ?? false);
      observer.attempt(integration, response.config.hubOperation ?? '?', 'ok', false);
      return response;
    },
    (error: unknown) => {
      if (error instanceof AxiosError && error.config) {
        const cancelled = error.code === 'ERR_CANCELED';
        if (cancelled) breaker.release(error.config.hubProbe ?? false);
        else breaker.failure(error.config.hubProbe ?? false);
        const retryState = (error.config as { 'axios-retry'?: { retryCount?: number } })['axios-retry'];
        const retrying = !cancelled && shouldRetry(error) && (retryState?.retryCount ?? 0) < policy.retries;
        observer.attempt(integration, error.config.hubOperation ?? '?', 'failed', retrying);
      }
      return Promise.reject(error);
    },
  );

  function shouldRetry(error: AxiosError): boolean {
    if (!error.config?.hubIdempotent) return false;
    if (breaker.state === 'open') return false;
    if (error.code === 'ERR_CANCELED') return false;
    if (error.response) {
      if (!FAILURE_STATUS(error.response.status)) return false;
      const wait = retryAfterMs(retryAfterHeader(headerRecord(error.response.headers)));
      return wait <= policy.maxRetryAfterMs;
    }
    return true; // network error or time-out of a request that is safe to repeat
  }

  axiosRetry(instance, {
    retries: policy.retries,
    shouldResetTimeout: true,
    retryCondition: (error) => shouldRetry(error),
    retryDelay: (retryNumber, error) =>
      retryDelayMs(retryNumber, policy, retryAfterMs(retryAfterHeader(headerRecord(error.response?.headers)))),
  });

  const errorOf = (code: ConnectorErrorCode, message: string, options: { retryable?: boolean; status?: number | null } = {}) =>
    new ConnectorError(integration, code, message, options.retryable ?? false, options.status ?? null);

  function mapFailure(error: unknown, secrets: readonly string[]): { error: ConnectorError; response: RawResponse | null } {
    if (error instanceof ConnectorError) return { error, response: null };
    if (!(error instanceof AxiosError)) {
      return {
        error: errorOf(KIT_ERROR_CODES.network, scrub(error instanceof Error ? error.message : String(error), secrets), {
          retryable: true,
        }),
        response: null,
      };
    }
    if (!error.response) {
      if (error.code === 'ERR_CANCELED')
        return { error: errorOf(KIT_ERROR_CODES.cancelled, 'the call was cancelled', { retryable: true }), response: null };
      if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') {
        return { error: errorOf(KIT_ERROR_CODES.timeout, `no answer within ${policy.timeoutMs} ms`, { retryable: true }), response: null };
      }
      return {
        error: errorOf(KIT_ERROR_CODES.network, `${integration} unreachable (${error.code ?? 'network error'})`, { retryable: true }),
        response: null,
      };
    }
    const response = rawOf(error.response);
    return { error: statusError(response), response };
  }

  /**
   * An error status as a ConnectorError. Retryable: 5xx, 429, and the 4xx that
   * say "not now" rather than "not this" (408, 425). Every other 4xx is the
   * request's fault and is not: the worker hands it to the machine at once
   * instead of sending the same request again.
   */
  function statusError(response: RawResponse): ConnectorError {
    const { status } = response;
    const described = definition.describeError?.(status, response.data) ?? null;
    // the partner's own code, where its error body gives one: the boundary where it becomes a PartnerErrorCode
    const partnerCode = described?.code === undefined ? null : partnerErrorCode(described.code);
    const message = described?.message ? scrub(described.message, baseSecrets) : `${integration} answered HTTP ${status}`;
    if (status === 429) return errorOf(partnerCode ?? KIT_ERROR_CODES.partnerRateLimited, message, { retryable: true, status });
    if (status >= 500 || TRANSIENT_CLIENT_STATUS.has(status))
      return errorOf(partnerCode ?? `http_${status}`, message, { retryable: true, status });
    if (status === 401 || status === 403)
      return errorOf(partnerCode ?? KIT_ERROR_CODES.unauthorized, message, { retryable: false, status });
    return errorOf(partnerCode ?? `http_${status}`, message, { retryable: false, status });
  }

  return {
    integration,
    baseUrl: config.baseUrl,
    error: errorOf,
    async call<T>(options: CallOptions<T>): Promise<T> {
      const secrets = [...baseSecrets, ...(options.secrets ?? [])];
      const started = Date.now();
      const idempotent =
        options.idempotent ??
        (options.method === 'GET' ||
          options.method === 'PUT' ||
          options.method === 'DELETE' ||
          options.context?.idempotencyKey !== undefined);
      const headers: Record<string, string> = { ...options.headers };
      if (options.context?.idempotencyKey) headers['Idempotency-Key'] = options.context.idempotencyKey;
      let data: string | undefined;
      if (options.form) {
        data = new URLSearchParams(options.form).toString();
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
      } else if (options.json !== undefined) {
        data = JSON.stringify(options.json);
        headers['Content-Type'] = 'application/json';
      }
      const query = Object.fromEntries(
        Object.entries(options.query ?? {})
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, String(v)]),
      );
      const queryString = new URLSearchParams(query).toString();
      const url = scrub(
        `${config.baseUrl.replace(/\/+$/, '')}/${options.path.replace(/^\/+/, '')}${queryString ? `?${queryString}` : ''}`,
        secrets,
      );

      let response: RawResponse | null = null;
      let attempts = 1;
      let failure: ConnectorError | null = null;
      let result: T | undefined;
      try {
        const answer = await instance.request<string>({
          method: options.method,
          url: options.path,
          params: query,
          data,
          headers,
          signal: options.context?.signal,
          timeout: options.timeoutMs ?? policy.timeoutMs,
          hubOperation: options.operation,
          hubIdempotent: idempotent,
          ...(options.binary ? { responseType: 'arraybuffer' as const } : {}),
        });
        attempts = ((answer.config as { 'axios-retry'?: { retryCount?: number } })['axios-retry']?.retryCount ?? 0) + 1;
        response = rawOf(answer);
        if (response.status >= 200 && response.status < 300) {
          result = options.parse(response);
        } else {
          failure = statusError(response);
        }
      } catch (error) {
        if (error instanceof AxiosError && error.config) {
          attempts = ((error.config as { 'axios-retry'?: { retryCount?: number } })['axios-retry']?.retryCount ?? 0) + 1;
        }
        if (response && !(error instanceof AxiosError)) {
          // thrown by parse(): a business error, or an answer that is not what the protocol promises
          failure =
            error instanceof ConnectorError
              ? error
              : errorOf(KIT_ERROR_CODES.badResponse, `${integration} answered a body that does not match the protocol`, {
                  status: response.status,
                });
          if (failure.code === KIT_ERROR_CODES.badResponse) breaker.failure(false);
        } else {
          const mapped = mapFailure(error, secrets);
          failure = mapped.error;
          response = mapped.response ?? response;
        }
      }

      const refused = failure?.code === KIT_ERROR_CODES.circuitOpen || failure?.code === KIT_ERROR_CODES.rateLimited;
      const broken = failure !== null && (failure.retryable || failure.code === KIT_ERROR_CODES.badResponse);
      const record: CallRecord = {
        integration,
        operation: options.operation,
        method: options.method,
        url,
        actor: options.context?.actor ?? null,
        at: new Date(started),
        durationMs: Date.now() - started,
        attempts: refused ? 0 : attempts,
        status: response?.status ?? null,
        outcome: failure === null ? 'ok' : refused ? 'refused' : broken ? 'failed' : 'rejected',
        error: failure ? { code: failure.code, message: failure.message, retryable: failure.retryable } : null,
        request: excerpt(data ?? null, secrets),
        response: excerpt(response?.data ?? null, secrets),
        bytesSent: byteLength(data),
        bytesReceived: byteLength(response?.data),
        sandboxed: config.sandboxed,
      };
      observer.finished(record);
      logger.log(failure ? 'warn' : 'http', `${integration} ${options.operation}`, {
        method: record.method,
        url: record.url,
        status: record.status,
        durationMs: record.durationMs,
        attempts: record.attempts,
        ...(failure ? { code: failure.code, error: failure.message } : {}),
      });
      if (failure) throw failure;
      return result as T;
    },
  };
}

function rawOf(response: AxiosResponse<unknown>): RawResponse {
  const headers = headerRecord(response.headers);
  let data: unknown = response.data;
  if (data instanceof ArrayBuffer || Buffer.isBuffer(data)) {
    // a file was asked for: the bytes as they are, unless the partner answered an error (read as text below)
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (response.status >= 200 && response.status < 300) return { status: response.status, headers, data: bytes };
    data = bytes.toString('utf8');
  }
  if (typeof data === 'string' && data.length > 0 && /json/i.test(headers['content-type'] ?? 'application/json')) {
    try {
      data = JSON.parse(data);
    } catch {
      // left as text: parse() decides whether that is acceptable
    }
  }
  return { status: response.status, headers, data };
}
