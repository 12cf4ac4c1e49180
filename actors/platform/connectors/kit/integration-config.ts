import type { IntegrationStore } from '../../../../persistence/integrations.ts';
import type { ConnectorRegistry } from './connector-registry.ts';
import type { ConnectorConfig, ConnectorDefinition } from './definition.ts';
import { ConnectorError, KIT_ERROR_CODES } from './errors.ts';
import { allowedIpsOf, connectorSettingsOf } from './kit-settings.ts';
import type { SandboxSupervisor } from './sandbox-supervisor.ts';

/** Where an integration's calls go: its own configuration, its sandbox, or nowhere yet. */
export type IntegrationMode = 'configured' | 'sandbox' | 'unconfigured';

/**
 * Who may call a sandboxed integration's webhooks and merchant endpoints: its
 * own sandbox, which runs in the hub and listens (and so calls from) on
 * loopback. Anyone else is refused before the signature is looked at, so a
 * sandbox's credentials, however they leaked, sign nothing from outside.
 */
export const SANDBOX_CALLERS: readonly string[] = ['127.0.0.0/8', '::1'];

/** What an inbound webhook is checked against. */
export interface WebhookConfig {
  credentials: Record<string, string>;
  settings: Record<string, unknown>;
  /** the integration's allow-list (`settings.allowedIps`); empty = any address */
  allowedIps: string[];
  /** in sandbox mode the addresses its own sandbox calls from (SANDBOX_CALLERS), which a caller must be on as well; null otherwise */
  sandboxCallers: readonly string[] | null;
}

/**
 * An integration's configuration as it stands now: the stored record (its
 * credentials opened by the store) when it has credentials, else its
 * sandbox's address and credentials, else none.
 */
export class IntegrationConfigs {
  constructor(
    private readonly deps: {
      registry: ConnectorRegistry;
      store: IntegrationStore;
      sandboxes: SandboxSupervisor;
      sandboxMode: 'auto' | 'off';
    },
  ) {}

  modeOf(name: string): IntegrationMode {
    const record = this.deps.store.get(name);
    if (record && Object.keys(record.credentials).length > 0) return 'configured';
    if (this.deps.registry.has(name) && this.deps.sandboxMode === 'auto') return 'sandbox';
    return 'unconfigured';
  }

  /** Throws a non-retryable ConnectorError when the integration is disabled or not configured. */
  configOf<TCredentials extends Record<string, string>, TSettings, TClient>(
    definition: ConnectorDefinition<TCredentials, TSettings, TClient>,
  ): ConnectorConfig<TCredentials, TSettings> {
    const record = this.deps.store.get(definition.name);
    const mode = this.modeOf(definition.name);
    if (record && !record.enabled) {
      throw new ConnectorError(definition.name, KIT_ERROR_CODES.disabled, `integration ${definition.name} is disabled`, false);
    }
    const settings = definition.settings.parse(connectorSettingsOf(record?.settings ?? {}));
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
    const sandboxUrl = this.deps.sandboxes.urlOf(definition.name);
    const sandboxCredentials = this.deps.sandboxes.credentialsOf(definition);
    if (mode === 'sandbox' && sandboxUrl && sandboxCredentials) {
      return {
        integration: definition.name,
        baseUrl: sandboxUrl,
        credentials: sandboxCredentials,
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

  /**
   * What an inbound webhook of this integration is checked against: its
   * credentials (the sandbox's in sandbox mode) and its IP allow-list
   * (`settings.allowedIps`, empty = any address; in sandbox mode loopback
   * as well, where the hub's own sandboxes call from). Null when it has none.
   */
  webhookConfig(name: string): WebhookConfig | null {
    const record = this.deps.store.get(name);
    const allowedIps = allowedIpsOf(record?.settings);
    const definition = this.deps.registry.get(name);
    if (definition) {
      try {
        const config = this.configOf(definition);
        return {
          credentials: config.credentials as Record<string, string>,
          settings: record?.settings ?? {},
          allowedIps,
          sandboxCallers: config.sandboxed ? SANDBOX_CALLERS : null,
        };
      } catch {
        return null;
      }
    }
    if (!record || !record.enabled || Object.keys(record.credentials).length === 0) return null;
    return { credentials: record.credentials, settings: record.settings, allowedIps, sandboxCallers: null };
  }
}
