import { errors } from '../../../../common/errors.ts';
import type { IntegrationStore } from '../../../../persistence/integrations.ts';
import type { ConnectorRegistry } from './connector-registry.ts';
import type { IntegrationConfigs, IntegrationMode } from './integration-config.ts';
import type { SandboxSupervisor } from './sandbox-supervisor.ts';

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

/** The admin API's picture of the integrations: every known connector and every stored record, secrets left out. */
export class IntegrationViews {
  constructor(
    private readonly deps: {
      registry: ConnectorRegistry;
      store: IntegrationStore;
      configs: IntegrationConfigs;
      sandboxes: SandboxSupervisor;
    },
  ) {}

  list(): IntegrationView[] {
    const names = new Set<string>([...this.deps.registry.names(), ...this.deps.store.list().map((r) => r.name)]);
    return [...names].sort().map((name) => this.view(name));
  }

  view(name: string): IntegrationView {
    const { registry, store, configs, sandboxes } = this.deps;
    const definition = registry.get(name) ?? null;
    const record = store.get(name);
    if (!definition && !record) throw errors.notFound(`integration ${name}`, { known: registry.names() });
    const fields = new Set<string>([
      ...(definition ? Object.keys(definition.credentials.shape) : []),
      ...Object.keys(record?.credentials ?? {}),
    ]);
    const credentials: Record<string, 'set' | 'unset'> = {};
    for (const field of [...fields].sort()) credentials[field] = record?.credentials[field] ? 'set' : 'unset';
    const mode = configs.modeOf(name);
    return {
      name,
      title: definition?.title ?? name,
      known: definition !== null,
      enabled: record?.enabled ?? true,
      mode,
      baseUrl: mode === 'sandbox' ? sandboxes.urlOf(name) : (record?.baseUrl ?? definition?.defaultBaseUrl ?? null),
      credentials,
      settings: record?.settings ?? {},
      revision: record?.revision ?? 0,
      source: record?.source ?? 'default',
      updatedAt: record?.updatedAt.toISOString() ?? null,
      updatedBy: record?.updatedBy ?? null,
    };
  }
}
