import type { Logger } from 'winston';
import type { IntegrationStore } from '../../../../persistence/integrations.ts';
import type { CallReporter } from './call-reporter.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import type { AnyConnector, ConnectorConfig, ConnectorDefinition, HttpPolicy } from './definition.ts';
import { createConnectorHttp } from './http.ts';
import { callPolicyOf } from './kit-settings.ts';
import { TokenBucket } from './rate-limit.ts';

/** What an integration's calls share: one breaker and one rate limit per call policy, and the client last built. */
interface Runtime {
  breaker: CircuitBreaker;
  limiter: TokenBucket;
  policy: HttpPolicy;
  policyKey: string;
  client: { key: string; value: unknown } | null;
}

/**
 * Each integration's client, built over the kit's pipeline and kept until
 * its configuration (revision, address, sandbox) or its call policy changes;
 * a new call policy also means a new circuit breaker and rate limit.
 */
export class ClientCache {
  private readonly runtimes = new Map<string, Runtime>();

  constructor(
    private readonly deps: { store: IntegrationStore; reporter: CallReporter; logger: Logger; now?: (() => number) | undefined },
  ) {}

  /** The client for this configuration: the one built before when nothing changed, else a new one. */
  client<TCredentials extends Record<string, string>, TSettings, TClient>(
    definition: ConnectorDefinition<TCredentials, TSettings, TClient>,
    config: ConnectorConfig<TCredentials, TSettings>,
  ): TClient {
    const runtime = this.runtimeOf(definition);
    const key = `${config.revision}|${config.baseUrl}|${config.sandboxed}|${runtime.policyKey}`;
    if (runtime.client?.key === key) return runtime.client.value as TClient;
    const http = createConnectorHttp(definition, config as ConnectorConfig<Record<string, string>, unknown>, runtime.policy, {
      breaker: runtime.breaker,
      limiter: runtime.limiter,
      observer: this.deps.reporter.observer,
      logger: this.deps.logger,
    });
    const value = definition.createClient(http, config);
    runtime.client = { key, value };
    return value;
  }

  /** the next call builds the client again (its breaker and rate limit stay) */
  drop(name: string): void {
    const runtime = this.runtimes.get(name);
    if (runtime) runtime.client = null;
  }

  private runtimeOf(definition: AnyConnector): Runtime {
    const policy = callPolicyOf(definition, this.deps.store.get(definition.name)?.settings);
    const policyKey = JSON.stringify(policy);
    const existing = this.runtimes.get(definition.name);
    if (existing && existing.policyKey === policyKey) return existing;
    const breaker = new CircuitBreaker({
      failureThreshold: policy.breakerFailureThreshold,
      cooldownMs: policy.breakerCooldownMs,
      now: this.deps.now,
      onChange: (change) => this.deps.reporter.circuitChanged(definition, change.to, change.consecutiveFailures, policy),
    });
    const runtime: Runtime = {
      breaker,
      limiter: new TokenBucket({ perSecond: policy.rateLimitPerSecond, burst: policy.rateLimitBurst, now: this.deps.now }),
      policy,
      policyKey,
      client: null,
    };
    this.runtimes.set(definition.name, runtime);
    return runtime;
  }
}
