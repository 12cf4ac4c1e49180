import type { z } from 'zod';
import type { SandboxOptions, SandboxServer } from './sandbox.ts';
import type { ConnectorError, ConnectorErrorCode } from './errors.ts';

/**
 * What a connector declares. Adding a connector means writing its client,
 * its zod schemas and its sandbox, and listing the definition in
 * `actors/platform/connectors/index.ts` — the kit does the rest (configuration,
 * encryption, retries, rate limit, circuit breaker, logging, audit,
 * metrics, health, sandboxing).
 */
export interface ConnectorDefinition<TCredentials extends Record<string, string>, TSettings, TClient> {
  /** integration name: lower case, also the admin API path segment */
  name: string;
  title: string;
  description: string;
  /** the real service's base URL */
  defaultBaseUrl: string;
  /** credential fields, all strings; names are the same in the API, the environment and the docs */
  credentials: z.ZodObject<{ [K in keyof TCredentials]: z.ZodType<TCredentials[K]> }>;
  /** non-secret settings; must accept `{}` (defaults for everything) */
  settings: z.ZodType<TSettings>;
  /** the kit's defaults, overridable per integration in `settings.http` */
  policy?: Partial<HttpPolicy>;
  /** builds the typed client over the kit's HTTP pipeline */
  createClient(http: ConnectorHttp, config: ConnectorConfig<TCredentials, TSettings>): TClient;
  /** the cheapest authenticated call: resolves with a short detail, or throws a ConnectorError */
  test(client: TClient, signal?: AbortSignal): Promise<string>;
  /** the sandbox that speaks this protocol, and credentials it accepts */
  sandbox: {
    /** a sandbox that accepts `credentials` (the fixed ones when omitted) */
    start(options?: SandboxOptions, credentials?: TCredentials): Promise<SandboxServer>;
    /** the sandbox's fixed credentials, for tests with a sandbox of their own; never the hub's own sandbox */
    credentials: TCredentials;
    /**
     * Fresh random credentials in the protocol's shape (secrets random, identifiers may stay fixed): the hub's
     * own sandbox is started with a set generated once per installation, since fixed ones would let anyone
     * sign a callback it accepts.
     */
    generateCredentials(): TCredentials;
    /**
     * Onboarding, for a partner whose sandbox hands out credentials (Goodfin's
     * registerservice): the hub in sandbox mode asks for its own at start-up
     * and uses them instead of the fixed ones.
     */
    register?(sandboxUrl: string): Promise<TCredentials>;
  };
  /** the partner's error body → its own code and message (for non-2xx answers) */
  describeError?(status: number, body: unknown): { code?: string; message?: string } | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a catalogue holds connectors of every credential/settings/client type
export type AnyConnector = ConnectorDefinition<any, any, any>;

export function defineConnector<TCredentials extends Record<string, string>, TSettings, TClient>(
  definition: ConnectorDefinition<TCredentials, TSettings, TClient>,
): ConnectorDefinition<TCredentials, TSettings, TClient> {
  return definition;
}

/** The effective configuration a client is built from. */
export interface ConnectorConfig<TCredentials, TSettings> {
  integration: string;
  baseUrl: string;
  credentials: TCredentials;
  settings: TSettings;
  /** pointed at the in-process sandbox because nothing real is configured */
  sandboxed: boolean;
  /** changes whenever the configuration changes */
  revision: number;
}

export interface HttpPolicy {
  /** per attempt */
  timeoutMs: number;
  /** extra attempts of an idempotent request after a network error, 5xx or 429 */
  retries: number;
  /** first back-off; doubles each retry, with jitter, capped at retryMaxDelayMs */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** a Retry-After longer than this is not waited for: the call fails (retryable) instead */
  maxRetryAfterMs: number;
  /** requests per second (token bucket) and the burst allowed */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** longest wait for a rate-limit token before failing with rate_limited */
  rateLimitMaxWaitMs: number;
  /** consecutive failures that open the circuit */
  breakerFailureThreshold: number;
  /** how long an open circuit refuses calls before one probe is let through */
  breakerCooldownMs: number;
}

export const DEFAULT_HTTP_POLICY: HttpPolicy = {
  timeoutMs: 10_000,
  retries: 2,
  retryBaseDelayMs: 200,
  retryMaxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
  rateLimitPerSecond: 20,
  rateLimitBurst: 20,
  rateLimitMaxWaitMs: 10_000,
  breakerFailureThreshold: 5,
  breakerCooldownMs: 30_000,
};

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** parsed JSON when the body is JSON, else the text; the bytes (a Buffer) when the call asked for `binary` */
  data: unknown;
}

export interface CallContext {
  /** the business actor on whose behalf the call is made (audit) */
  actor?: { type: string; id: string };
  signal?: AbortSignal;
  /** sent as the Idempotency-Key header when the partner supports one; makes a POST safe to retry */
  idempotencyKey?: string;
}

export interface CallOptions<T> {
  /** a name for logs, metrics and the audit log, e.g. `Address.getCities` or `invoice.create` */
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** relative to the base URL ('' for the base URL itself) */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** sent as JSON */
  json?: unknown;
  /** sent as application/x-www-form-urlencoded */
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /**
   * Safe to send twice. Defaults: GET, PUT, DELETE yes; POST and PATCH no,
   * unless an idempotency key is given or the call only reads (set true).
   */
  idempotent?: boolean;
  /** a 2xx answer → the typed result; throw `http.error(...)` for a business error inside a 2xx */
  parse(response: RawResponse): T;
  context?: CallContext;
  /** values besides the credentials to hide in logs and audit excerpts (tokens obtained at run time) */
  secrets?: string[];
  timeoutMs?: number;
  /** the answer is a file: `data` is left as a Buffer */
  binary?: boolean;
}

/** The pipeline a connector's client calls through. */
export interface ConnectorHttp {
  readonly integration: string;
  readonly baseUrl: string;
  call<T>(options: CallOptions<T>): Promise<T>;
  /** a typed error of this integration */
  error(code: ConnectorErrorCode, message: string, options?: { retryable?: boolean; status?: number | null }): ConnectorError;
}
