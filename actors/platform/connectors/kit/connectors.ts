import type { Logger } from 'winston';
import type { ClusterSandboxes } from '../../../../common/config.ts';
import { errors } from '../../../../common/errors.ts';
import type { IntegrationStore } from '../../../../persistence/integrations.ts';
import { SandboxCredentialsFile } from '../../../../persistence/sandbox-credentials.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { HealthStore } from '../../monitoring/connector-health.ts';
import type { HubMetrics } from '../../monitoring/metrics.ts';
import { CallReporter, type AlertSink } from './call-reporter.ts';
import { ClientCache } from './client-cache.ts';
import { ConfigChanges } from './config-changes.ts';
import { ConnectionTester, type TestResult } from './connection-test.ts';
import { ConnectorRegistry, INTEGRATION_NAME, isIntegrationName } from './connector-registry.ts';
import type { AnyConnector, ConnectorConfig, ConnectorDefinition } from './definition.ts';
import { EnvironmentSeeds, type IntegrationSeed } from './environment-seeds.ts';
import { IntegrationConfigs, type IntegrationMode, type WebhookConfig } from './integration-config.ts';
import { mergeIntegrationUpdate, type IntegrationUpdate } from './integration-update.ts';
import { IntegrationViews, type IntegrationView } from './integration-views.ts';
import { SandboxSupervisor } from './sandbox-supervisor.ts';
import type { SandboxServer } from './sandbox.ts';

export type { AlertSink } from './call-reporter.ts';
export type { TestResult } from './connection-test.ts';
export { SeedError, type IntegrationSeed } from './environment-seeds.ts';
export type { IntegrationMode, WebhookConfig } from './integration-config.ts';
export { integrationUpdateSchema, type IntegrationUpdate } from './integration-update.ts';
export type { IntegrationView } from './integration-views.ts';

export interface ConnectorsOptions {
  definitions: AnyConnector[];
  store: IntegrationStore;
  logger: Logger;
  metrics: HubMetrics;
  health: HealthStore;
  audit: AuditLog;
  alerts?: AlertSink;
  sandboxes: 'auto' | 'off';
  /** where the sandboxes' generated credentials are kept (DATA_DIR) */
  dataDir: string;
  /** in a worker of a cluster: the sandboxes its primary runs, used instead of starting any here */
  clusterSandboxes?: ClusterSandboxes;
  now?: () => number;
}

/**
 * The connector kit's one entry point: builds each integration's client from
 * the integrations registry (or its sandbox), gives it the shared pipeline
 * (breaker, rate limit, retries, logging, audit, metrics, health), applies
 * configuration changes without a restart, and serves the admin API.
 *
 * Each job has its own class; this one wires them and orders start-up and
 * an admin's update: connector-registry.ts (known connectors),
 * integration-config.ts (mode, configuration, webhook secrets),
 * integration-update.ts and kit-settings.ts (validating a change),
 * environment-seeds.ts, sandbox-supervisor.ts, client-cache.ts (clients,
 * breakers, rate limits), call-reporter.ts (metrics, health, audit, circuit
 * alerts), config-changes.ts (listeners, polling other processes),
 * integration-views.ts and connection-test.ts (the admin API).
 */
export class Connectors {
  private readonly registry: ConnectorRegistry;
  private readonly sandboxes: SandboxSupervisor;
  private readonly configs: IntegrationConfigs;
  private readonly seeds: EnvironmentSeeds;
  private readonly clients: ClientCache;
  private readonly changes: ConfigChanges;
  private readonly views: IntegrationViews;
  private readonly tester: ConnectionTester;

  constructor(private readonly options: ConnectorsOptions) {
    const { store, logger, audit } = options;
    this.registry = new ConnectorRegistry(options.definitions);
    this.sandboxes = new SandboxSupervisor(logger, SandboxCredentialsFile.in(options.dataDir), options.clusterSandboxes);
    this.configs = new IntegrationConfigs({ registry: this.registry, store, sandboxes: this.sandboxes, sandboxMode: options.sandboxes });
    this.seeds = new EnvironmentSeeds({ registry: this.registry, store, audit, logger });
    const reporter = new CallReporter({ metrics: options.metrics, health: options.health, audit, logger, alerts: options.alerts });
    this.clients = new ClientCache({ store, reporter, logger, now: options.now });
    this.changes = new ConfigChanges({ store, logger });
    this.views = new IntegrationViews({ registry: this.registry, store, configs: this.configs, sandboxes: this.sandboxes });
    this.tester = new ConnectionTester({
      registry: this.registry,
      store,
      configs: this.configs,
      audit,
      clientOf: (definition) => this.client(definition),
    });
  }

  /** Called after an integration's configuration changed, here or in another process (must not throw). */
  onChange(listener: (integration: string) => void): void {
    this.changes.listen(listener);
  }

  definitionOf(name: string): AnyConnector | null {
    return this.registry.get(name) ?? null;
  }

  /**
   * Start-up: opens every stored record (a wrong master key fails here),
   * applies the environment's seeds, and starts a sandbox for each known
   * integration with nothing configured (in `auto` mode).
   */
  async start(seeds: IntegrationSeed[] = []): Promise<void> {
    await this.options.store.load();
    for (const seed of seeds) await this.seeds.apply(seed);
    // in `off` mode no integration is in sandbox mode
    await this.sandboxes.start(this.registry.all().filter((definition) => this.modeOf(definition.name) === 'sandbox'));
    for (const view of this.list()) {
      if (view.known && view.mode === 'unconfigured') this.options.logger.warn('integration not configured', { integration: view.name });
    }
    this.changes.startPolling();
  }

  async stop(): Promise<void> {
    this.changes.stopPolling();
    await this.sandboxes.stop();
  }

  /** the integration's sandbox when it runs in this process (null in a cluster's worker: the primary runs them) */
  sandboxOf(name: string): SandboxServer | null {
    return this.sandboxes.serverOf(name);
  }

  /** where the integration's sandbox listens (here or at the cluster primary); null when none is in use */
  sandboxUrlOf(name: string): string | null {
    return this.sandboxes.urlOf(name);
  }

  /** Applies changes made through another process. */
  async refresh(): Promise<void> {
    await this.changes.refresh();
  }

  modeOf(name: string): IntegrationMode {
    return this.configs.modeOf(name);
  }

  /**
   * The typed client of an integration, built for its current configuration
   * (rebuilt when that changes). Throws a non-retryable ConnectorError when
   * the integration is disabled or not configured.
   */
  client<TCredentials extends Record<string, string>, TSettings, TClient>(
    definition: ConnectorDefinition<TCredentials, TSettings, TClient>,
  ): TClient {
    return this.clients.client(definition, this.configOf(definition));
  }

  /** The configuration a client would be built from now. */
  configOf<TCredentials extends Record<string, string>, TSettings, TClient>(
    definition: ConnectorDefinition<TCredentials, TSettings, TClient>,
  ): ConnectorConfig<TCredentials, TSettings> {
    return this.configs.configOf(definition);
  }

  list(): IntegrationView[] {
    return this.views.list();
  }

  view(name: string): IntegrationView {
    return this.views.view(name);
  }

  /** Applies an admin change (validated against the connector's schemas), audited. */
  async update(name: string, update: IntegrationUpdate, by: string): Promise<IntegrationView> {
    const { store, audit, logger } = this.options;
    // a name no integration can have is not found, and nothing is stored under it
    if (!isIntegrationName(name))
      throw errors.notFound(`integration ${name}`, { known: this.registry.names(), pattern: String(INTEGRATION_NAME) });
    const next = mergeIntegrationUpdate(name, this.registry.get(name), store.get(name), update);
    await store.put(name, next, by, 'admin');
    this.clients.drop(name);
    const changed = [
      ...(update.enabled !== undefined ? ['enabled'] : []),
      ...(update.baseUrl !== undefined ? ['baseUrl'] : []),
      ...Object.keys(update.credentials ?? {}).map((field) => `credentials.${field}`),
      ...Object.keys(update.settings ?? {}).map((key) => `settings.${key}`),
    ];
    await audit.recordChange({
      integration: name,
      operation: 'integration.update',
      principal: by,
      details: { changed, revision: store.get(name)?.revision ?? null },
    });
    logger.info('integration updated', { integration: name, by, changed });
    this.changes.changed(name);
    return this.view(name);
  }

  /** Calls the service's cheapest authenticated endpoint with the current configuration. */
  async test(name: string, by: string): Promise<TestResult> {
    return this.tester.test(name, by);
  }

  /** See IntegrationConfigs.webhookConfig: credentials and IP allow-list of an inbound webhook; null when it has none. */
  webhookConfig(name: string): WebhookConfig | null {
    return this.configs.webhookConfig(name);
  }

  /** Live health of every integration (circuit, last success and error, window rates). */
  healthStore(): HealthStore {
    return this.options.health;
  }
}
