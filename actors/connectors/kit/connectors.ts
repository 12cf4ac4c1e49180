import type { Logger } from 'winston';
import { z } from 'zod';
import { AppError, errors } from '../../../common/errors.ts';
import type { IntegrationRecord, IntegrationStore } from '../../../persistence/integrations.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { HealthStore } from '../../monitoring/connector-health.ts';
import type { HubMetrics } from '../../monitoring/metrics.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { DEFAULT_HTTP_POLICY, type AnyConnector, type ConnectorConfig, type ConnectorDefinition, type HttpPolicy } from './definition.ts';
import { ConnectorError, KIT_ERROR_CODES } from './errors.ts';
import { createConnectorHttp, type CallObserver, type CallRecord } from './http.ts';
import { TokenBucket } from './rate-limit.ts';
import { addressList } from '../../../common/ip-addresses.ts';
import type { SandboxServer } from './sandbox.ts';

/** Where an integration's calls go: its own configuration, its sandbox, or nowhere yet. */
export type IntegrationMode = 'configured' | 'sandbox' | 'unconfigured';

export interface IntegrationView {
  name: string;
  title: string;
  /** a connector exists for it (otherwise it is only stored, for a connector to come) */
  known: boolean;
  enabled: boolean;
  mode: IntegrationMode;
  baseUrl: string | null;
  /** which credential fields are set — never their values */
  credentials: Record<string, 'set' | 'unset'>;
  settings: Record<string, unknown>;
  revision: number;
  source: 'admin' | 'environment' | 'default';
  updatedAt: string | null;
  updatedBy: string | null;
}

export interface TestResult {
  integration: string;
  ok: boolean;
  mode: IntegrationMode;
  durationMs: number;
  detail?: string;
  error?: { code: string; message: string; status: number | null; retryable: boolean };
}

/** Raises an admin alert (the alerts module implements it). */
export interface AlertSink {
  raise(input: {
    kind: string;
    severity?: 'critical' | 'warning';
    integration?: string;
    subject: string;
    message: string;
    details?: Record<string, unknown>;
  }): Promise<unknown>;
}

export interface ConnectorsOptions {
  definitions: AnyConnector[];
  store: IntegrationStore;
  logger: Logger;
  metrics: HubMetrics;
  health: HealthStore;
  audit: AuditLog;
  alerts?: AlertSink;
  sandboxes: 'auto' | 'off';
  now?: () => number;
}

const NAME = /^[a-z][a-z0-9-]{1,39}$/;

const policySchema = z
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

interface Runtime {
  breaker: CircuitBreaker;
  limiter: TokenBucket;
  policy: HttpPolicy;
  policyKey: string;
  client: { key: string; value: unknown } | null;
}

/**
 * The connector kit's one entry point: builds each integration's client from
 * the integrations registry (or its sandbox), gives it the shared pipeline
 * (breaker, rate limit, retries, logging, audit, metrics, health), applies
 * configuration changes without a restart, and serves the admin API.
 */
export class Connectors {
  private readonly definitions = new Map<string, AnyConnector>();
  private readonly sandboxServers = new Map<string, SandboxServer>();
  /** credentials a sandbox handed out at start-up (registration), by integration */
  private readonly sandboxCredentials = new Map<string, Record<string, string>>();
  private readonly runtimes = new Map<string, Runtime>();
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly observer: CallObserver;
  private readonly changeListeners: Array<(integration: string) => void> = [];

  constructor(private readonly options: ConnectorsOptions) {
    for (const definition of options.definitions) {
      if (!NAME.test(definition.name)) throw new Error(`connector name "${definition.name}" must match ${NAME}`);
      if (this.definitions.has(definition.name)) throw new Error(`connector "${definition.name}" is defined twice`);
      this.definitions.set(definition.name, definition);
    }
    this.observer = {
      attempt: (integration, operation, _outcome, retrying) => {
        if (retrying) options.metrics.connectorRetry(integration, operation);
      },
      finished: (record) => this.recordCall(record),
    };
  }

  /** Called after an integration's configuration changed, here or in another process (must not throw). */
  onChange(listener: (integration: string) => void): void {
    this.changeListeners.push(listener);
  }

  private changed(name: string): void {
    for (const listener of this.changeListeners) {
      try {
        listener(name);
      } catch (error) {
        this.options.logger.warn('a configuration change listener failed', { integration: name, error: String(error) });
      }
    }
  }

  definitionOf(name: string): AnyConnector | null {
    return this.definitions.get(name) ?? null;
  }

  /**
   * Start-up: opens every stored record (a wrong master key fails here),
   * applies the environment's seeds, and starts a sandbox for each known
   * integration with nothing configured (in `auto` mode).
   */
  async start(seeds: Array<{ name: string; variable: string; value: Record<string, unknown> }> = []): Promise<void> {
    await this.options.store.load();
    for (const seed of seeds) await this.applySeed(seed);
    if (this.options.sandboxes === 'auto') {
      for (const definition of this.definitions.values()) {
        if (this.modeOf(definition.name) !== 'sandbox') continue;
        const server = await definition.sandbox.start();
        this.sandboxServers.set(definition.name, server);
        if (definition.sandbox.register) {
          try {
            this.sandboxCredentials.set(definition.name, await definition.sandbox.register(server.url));
          } catch (error) {
            await server.close();
            throw new Error(
              `the ${definition.name} sandbox refused to register us: ${error instanceof Error ? error.message : String(error)}`,
              { cause: error },
            );
          }
        }
        this.options.logger.info('integration sandboxed', {
          integration: definition.name,
          url: server.url,
          ...(definition.sandbox.register ? { registered: true } : {}),
        });
      }
    }
    for (const view of this.list()) {
      if (view.known && view.mode === 'unconfigured') this.options.logger.warn('integration not configured', { integration: view.name });
    }
    // Changes made through another process reach this one within a few seconds.
    this.refreshTimer = setInterval(() => void this.refresh(), 3_000);
    this.refreshTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    for (const server of this.sandboxServers.values()) await server.close();
    this.sandboxServers.clear();
    this.sandboxCredentials.clear();
  }

  sandboxOf(name: string): SandboxServer | null {
    return this.sandboxServers.get(name) ?? null;
  }

  async refresh(): Promise<void> {
    try {
      const changed = await this.options.store.refresh();
      for (const name of changed) {
        this.options.logger.info('integration configuration changed elsewhere; applied', { integration: name });
        this.changed(name);
      }
    } catch (error) {
      this.options.logger.warn('integration refresh failed', { error: String(error) });
    }
  }

  modeOf(name: string): IntegrationMode {
    const record = this.options.store.get(name);
    if (record && Object.keys(record.credentials).length > 0) return 'configured';
    if (this.definitions.has(name) && this.options.sandboxes === 'auto') return 'sandbox';
    return 'unconfigured';
  }

  /**
   * The typed client of an integration, built for its current configuration
   * (rebuilt when that changes). Throws a non-retryable ConnectorError when
   * the integration is disabled or not configured.
   */
  client<TCredentials extends Record<string, string>, TSettings, TClient>(
    definition: ConnectorDefinition<TCredentials, TSettings, TClient>,
  ): TClient {
    const config = this.configOf(definition);
    const runtime = this.runtimeOf(definition);
    const key = `${config.revision}|${config.baseUrl}|${config.sandboxed}|${runtime.policyKey}`;
    if (runtime.client?.key === key) return runtime.client.value as TClient;
    const http = createConnectorHttp(definition, config as ConnectorConfig<Record<string, string>, unknown>, runtime.policy, {
      breaker: runtime.breaker,
      limiter: runtime.limiter,
      observer: this.observer,
      logger: this.options.logger,
    });
    const value = definition.createClient(http, config);
    runtime.client = { key, value };
    return value;
  }

  /** The configuration a client would be built from now. */
  configOf<TCredentials extends Record<string, string>, TSettings, TClient>(
    definition: ConnectorDefinition<TCredentials, TSettings, TClient>,
  ): ConnectorConfig<TCredentials, TSettings> {
    const record = this.options.store.get(definition.name);
    const mode = this.modeOf(definition.name);
    if (record && !record.enabled) {
      throw new ConnectorError(definition.name, KIT_ERROR_CODES.disabled, `integration ${definition.name} is disabled`, false);
    }
    const settings = definition.settings.parse(stripKitSettings(record?.settings ?? {}));
    if (mode === 'configured' && record) {
      return {
        integration: definition.name,
        baseUrl: record.baseUrl ?? definition.defaultBaseUrl,
        credentials: definition.credentials.parse(record.credentials) as TCredentials,
        settings,
        sandboxed: false,
        revision: record.revision,
      };
    }
    const sandbox = this.sandboxServers.get(definition.name);
    if (mode === 'sandbox' && sandbox) {
      const credentials = (this.sandboxCredentials.get(definition.name) as TCredentials | undefined) ?? definition.sandbox.credentials;
      return {
        integration: definition.name,
        baseUrl: sandbox.url,
        credentials,
        settings,
        sandboxed: true,
        revision: record?.revision ?? 0,
      };
    }
    throw new ConnectorError(
      definition.name,
      KIT_ERROR_CODES.notConfigured,
      `integration ${definition.name} has no credentials configured (PUT /admin/integrations/${definition.name})`,
      false,
    );
  }

  list(): IntegrationView[] {
    const names = new Set<string>([...this.definitions.keys(), ...this.options.store.list().map((r) => r.name)]);
    return [...names].sort().map((name) => this.view(name));
  }

  view(name: string): IntegrationView {
    const definition = this.definitions.get(name) ?? null;
    const record = this.options.store.get(name);
    if (!definition && !record) throw errors.notFound(`integration ${name}`, { known: [...this.definitions.keys()] });
    const fields = new Set<string>([
      ...(definition ? Object.keys(definition.credentials.shape) : []),
      ...Object.keys(record?.credentials ?? {}),
    ]);
    const credentials: Record<string, 'set' | 'unset'> = {};
    for (const field of [...fields].sort()) credentials[field] = record?.credentials[field] ? 'set' : 'unset';
    const mode = this.modeOf(name);
    return {
      name,
      title: definition?.title ?? name,
      known: definition !== null,
      enabled: record?.enabled ?? true,
      mode,
      baseUrl: mode === 'sandbox' ? (this.sandboxServers.get(name)?.url ?? null) : (record?.baseUrl ?? definition?.defaultBaseUrl ?? null),
      credentials,
      settings: record?.settings ?? {},
      revision: record?.revision ?? 0,
      source: record?.source ?? 'default',
      updatedAt: record?.updatedAt.toISOString() ?? null,
      updatedBy: record?.updatedBy ?? null,
    };
  }

  /** Applies an admin change (validated against the connector's schemas), audited. */
  async update(name: string, update: IntegrationUpdate, by: string): Promise<IntegrationView> {
    if (!NAME.test(name)) throw errors.badRequest(`integration name must match ${NAME} (lower-case letters, digits and -)`);
    const current = this.options.store.get(name);
    const next = this.merge(name, current, update);
    await this.options.store.put(name, next, by, 'admin');
    this.dropClient(name);
    const changed = [
      ...(update.enabled !== undefined ? ['enabled'] : []),
      ...(update.baseUrl !== undefined ? ['baseUrl'] : []),
      ...Object.keys(update.credentials ?? {}).map((field) => `credentials.${field}`),
      ...Object.keys(update.settings ?? {}).map((key) => `settings.${key}`),
    ];
    await this.options.audit.recordChange({
      integration: name,
      operation: 'integration.update',
      principal: by,
      details: { changed, revision: this.options.store.get(name)?.revision ?? null },
    });
    this.options.logger.info('integration updated', { integration: name, by, changed });
    this.changed(name);
    return this.view(name);
  }

  /** Calls the service's cheapest authenticated endpoint with the current configuration. */
  async test(name: string, by: string): Promise<TestResult> {
    const definition = this.definitions.get(name);
    if (!definition) {
      if (this.options.store.get(name))
        throw new AppError(422, 'no_connector', `there is no connector for integration "${name}" yet, so it cannot be tested`);
      throw errors.notFound(`integration ${name}`, { known: [...this.definitions.keys()] });
    }
    const started = Date.now();
    const mode = this.modeOf(name);
    let result: TestResult;
    try {
      const client = this.client(definition);
      const detail = await definition.test(client, AbortSignal.timeout(30_000));
      result = { integration: name, ok: true, mode, durationMs: Date.now() - started, detail };
    } catch (error) {
      const failure =
        error instanceof ConnectorError
          ? error
          : new ConnectorError(name, 'test_failed', error instanceof Error ? error.message : String(error), true);
      result = {
        integration: name,
        ok: false,
        mode,
        durationMs: Date.now() - started,
        error: { code: failure.code, message: failure.message, status: failure.status, retryable: failure.retryable },
      };
    }
    this.options.audit.record({
      kind: 'admin',
      integration: name,
      operation: 'integration.test',
      actor: null,
      principal: by,
      status: result.error?.status ?? null,
      outcome: result.ok ? 'ok' : 'failed',
      durationMs: result.durationMs,
      error: result.error ? { code: result.error.code, message: result.error.message } : null,
      request: null,
      response: null,
      details: { mode },
    });
    return result;
  }

  /**
   * What an inbound webhook of this integration is checked against: its
   * credentials (the sandbox's in sandbox mode) and its IP allow-list
   * (`settings.allowedIps`, empty = any address). Null when it has none.
   */
  webhookConfig(name: string): { credentials: Record<string, string>; settings: Record<string, unknown>; allowedIps: string[] } | null {
    const record = this.options.store.get(name);
    const allowedIps = Array.isArray(record?.settings.allowedIps) ? (record.settings.allowedIps as string[]) : [];
    const definition = this.definitions.get(name);
    if (definition) {
      try {
        const config = this.configOf(definition);
        return { credentials: config.credentials as Record<string, string>, settings: record?.settings ?? {}, allowedIps };
      } catch {
        return null;
      }
    }
    if (!record || !record.enabled || Object.keys(record.credentials).length === 0) return null;
    return { credentials: record.credentials, settings: record.settings, allowedIps };
  }

  /** Live health of every integration (circuit, last success and error, window rates). */
  healthStore(): HealthStore {
    return this.options.health;
  }

  private merge(
    name: string,
    current: IntegrationRecord | null,
    update: IntegrationUpdate,
  ): Pick<IntegrationRecord, 'enabled' | 'baseUrl' | 'credentials' | 'settings'> {
    const definition = this.definitions.get(name);
    const credentials: Record<string, string> = { ...(current?.credentials ?? {}) };
    const problems: Array<{ path: string; message: string }> = [];
    for (const [field, value] of Object.entries(update.credentials ?? {})) {
      if (definition && !(field in definition.credentials.shape)) {
        problems.push({
          path: `credentials.${field}`,
          message: `unknown credential field; ${name} has ${Object.keys(definition.credentials.shape).join(', ')}`,
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
      if (value === null) delete settings[key];
      else settings[key] = value;
    }
    if (settings.http !== undefined) {
      const parsed = policySchema.safeParse(settings.http);
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
    if (definition) {
      const parsed = definition.settings.safeParse(stripKitSettings(settings));
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

  private async applySeed(seed: { name: string; variable: string; value: Record<string, unknown> }): Promise<void> {
    const current = this.options.store.get(seed.name);
    if (current?.source === 'admin') {
      this.options.logger.info('environment seed ignored: the integration was configured through the admin API', {
        integration: seed.name,
        variable: seed.variable,
      });
      return;
    }
    const update = integrationUpdateSchema.safeParse(seed.value);
    if (!update.success) {
      throw new SeedError(
        `${seed.variable}: ${update.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    }
    let next;
    try {
      // A seed describes the whole integration: it does not merge into an older seed.
      next = this.merge(seed.name, null, update.data);
    } catch (error) {
      const details =
        error instanceof AppError ? (error.details as { issues?: Array<{ path: string; message: string }> } | undefined) : undefined;
      throw new SeedError(
        `${seed.variable}: ${details?.issues?.map((i) => `${i.path}: ${i.message}`).join('; ') ?? (error as Error).message}`,
      );
    }
    if (current && sameConfig(current, next)) return;
    await this.options.store.put(seed.name, next, `environment (${seed.variable})`, 'environment');
    await this.options.audit.recordChange({
      integration: seed.name,
      operation: 'integration.seed',
      principal: `environment (${seed.variable})`,
      details: { fields: Object.keys(next.credentials) },
    });
    this.options.logger.info('integration seeded from the environment', { integration: seed.name, variable: seed.variable });
  }

  private runtimeOf(definition: AnyConnector): Runtime {
    const record = this.options.store.get(definition.name);
    const override = policySchema.safeParse(record?.settings.http ?? {});
    const policy: HttpPolicy = { ...DEFAULT_HTTP_POLICY, ...definition.policy, ...(override.success ? override.data : {}) };
    const policyKey = JSON.stringify(policy);
    const existing = this.runtimes.get(definition.name);
    if (existing && existing.policyKey === policyKey) return existing;
    const breaker = new CircuitBreaker({
      failureThreshold: policy.breakerFailureThreshold,
      cooldownMs: policy.breakerCooldownMs,
      now: this.options.now,
      onChange: (change) => this.circuitChanged(definition, change.to, change.consecutiveFailures, policy),
    });
    const runtime: Runtime = {
      breaker,
      limiter: new TokenBucket({ perSecond: policy.rateLimitPerSecond, burst: policy.rateLimitBurst, now: this.options.now }),
      policy,
      policyKey,
      client: null,
    };
    this.runtimes.set(definition.name, runtime);
    return runtime;
  }

  private dropClient(name: string): void {
    const runtime = this.runtimes.get(name);
    if (runtime) runtime.client = null;
  }

  private circuitChanged(definition: AnyConnector, state: CircuitBreaker['state'], failures: number, policy: HttpPolicy): void {
    this.options.health.trigger.circuitChanged({ integration: definition.name, state });
    const level = state === 'open' ? 'error' : 'info';
    this.options.logger.log(level, `circuit ${state}`, { integration: definition.name, consecutiveFailures: failures });
    if (state === 'open') {
      const lastError = this.options.health.getSnapshot().context.integrations[definition.name]?.lastError ?? null;
      void this.options.alerts
        ?.raise({
          kind: 'circuit_open',
          integration: definition.name,
          subject: definition.name,
          message: `${definition.title}: ${failures} consecutive failures; calls are refused for ${Math.round(policy.breakerCooldownMs / 1000)} s, then one probe is let through`,
          details: { consecutiveFailures: failures, lastError },
        })
        .catch((error: unknown) => this.options.logger.error('alert could not be raised', { error: String(error) }));
    }
  }

  private recordCall(record: CallRecord): void {
    this.options.metrics.connectorCall(record);
    this.options.health.trigger.called({ record });
    this.options.audit.record({
      kind: 'outbound',
      integration: record.integration,
      operation: record.operation,
      actor: record.actor ? `${record.actor.type}/${record.actor.id}` : null,
      principal: null,
      status: record.status,
      outcome: record.outcome,
      durationMs: record.durationMs,
      error: record.error ? { code: record.error.code, message: record.error.message } : null,
      request: record.request,
      response: record.response,
      details: { method: record.method, url: record.url, attempts: record.attempts, sandboxed: record.sandboxed },
      at: record.at,
    });
  }
}

export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

/** `settings.http` (the call policy) and `settings.allowedIps` (webhook senders) belong to the kit, not to the connector's schema. */
function stripKitSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const { http: _http, allowedIps: _allowedIps, ...rest } = settings;
  void _http;
  void _allowedIps;
  return rest;
}

function sameConfig(record: IntegrationRecord, next: Pick<IntegrationRecord, 'enabled' | 'baseUrl' | 'credentials' | 'settings'>): boolean {
  return (
    record.enabled === next.enabled &&
    record.baseUrl === next.baseUrl &&
    JSON.stringify(sortKeys(record.credentials)) === JSON.stringify(sortKeys(next.credentials)) &&
    JSON.stringify(record.settings) === JSON.stringify(next.settings)
  );
}

function sortKeys(value: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}
