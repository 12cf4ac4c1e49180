import assert from 'node:assert/strict';
import { ConnectorError } from '../../actors/platform/connectors/kit/errors.ts';
import { CircuitBreaker } from '../../actors/platform/connectors/kit/circuit-breaker.ts';
import {
  DEFAULT_HTTP_POLICY,
  type AnyConnector,
  type ConnectorHttp,
  type HttpPolicy,
} from '../../actors/platform/connectors/kit/definition.ts';
import { createConnectorHttp, type CallRecord } from '../../actors/platform/connectors/kit/http.ts';
import { TokenBucket } from '../../actors/platform/connectors/kit/rate-limit.ts';
import type { SandboxServer } from '../../actors/platform/connectors/kit/sandbox.ts';
import { quietLogger } from './runtime-harness.ts';

/**
 * A connector's client over the real kit pipeline (breaker, rate limit,
 * axios-retry, error mapping), without a database: for connector tests
 * against their sandboxes. Finished calls are collected in `calls`.
 */
export function connectorHttpFor<TClient = unknown>(
  definition: AnyConnector,
  options: {
    baseUrl: string;
    credentials?: Record<string, string>;
    settings?: unknown;
    policy?: Partial<HttpPolicy>;
    calls?: CallRecord[];
  },
): { http: ConnectorHttp; client: TClient; calls: CallRecord[]; breaker: CircuitBreaker; close(): Promise<void> } {
  const policy: HttpPolicy = { ...DEFAULT_HTTP_POLICY, retryBaseDelayMs: 10, retryMaxDelayMs: 50, ...definition.policy, ...options.policy };
  const breaker = new CircuitBreaker({ failureThreshold: policy.breakerFailureThreshold, cooldownMs: policy.breakerCooldownMs });
  const calls: CallRecord[] = options.calls ?? [];
  const config = {
    integration: definition.name,
    baseUrl: options.baseUrl,
    credentials: definition.credentials.parse(options.credentials ?? definition.sandbox.credentials) as Record<string, string>,
    settings: definition.settings.parse(options.settings ?? {}) as unknown,
    sandboxed: true,
    revision: 1,
  };
  const http = createConnectorHttp(definition, config, policy, {
    breaker,
    limiter: new TokenBucket({ perSecond: policy.rateLimitPerSecond, burst: policy.rateLimitBurst }),
    observer: { attempt: () => undefined, finished: (record) => calls.push(record) },
    logger: quietLogger,
  });
  const client = definition.createClient(http, config) as TClient;
  return { http, client, calls, breaker, close: async () => undefined };
}

/**
 * Starts a connector's own sandbox and a client pointed at it (with the
 * sandbox's credentials unless others are given); `run` gets both, and the
 * sandbox is closed afterwards whatever happens.
 */
export async function withSandboxClient<TClient>(
  definition: AnyConnector,
  run: (setup: {
    sandbox: SandboxServer;
    client: TClient;
    calls: CallRecord[];
    breaker: CircuitBreaker;
    clientWith(credentials: Record<string, string>, policy?: Partial<HttpPolicy>): TClient;
  }) => Promise<void>,
  options: { policy?: Partial<HttpPolicy>; settings?: unknown } = {},
): Promise<void> {
  const sandbox = (await definition.sandbox.start()) as SandboxServer;
  try {
    const made = connectorHttpFor<TClient>(definition, { baseUrl: sandbox.url, policy: options.policy, settings: options.settings });
    await run({
      sandbox,
      client: made.client,
      calls: made.calls,
      breaker: made.breaker,
      clientWith: (credentials, policy) => {
        // the other client's calls are collected with the first one's, in order
        return connectorHttpFor<TClient>(definition, {
          baseUrl: sandbox.url,
          credentials,
          policy: policy ?? options.policy,
          settings: options.settings,
          calls: made.calls,
        }).client;
      },
    });
  } finally {
    await sandbox.close();
  }
}

/** The ConnectorError a call fails with (the test fails if it succeeds or throws anything else). */
export async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConnectorError, `not a ConnectorError: ${String(error)}`);
  return error;
}
