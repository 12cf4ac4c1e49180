import type { Logger } from 'winston';
import { AppError } from '../../../../common/errors.ts';
import type { IntegrationRecord, IntegrationStore, IntegrationWrite } from '../../../../persistence/integrations.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import { isIntegrationName, type ConnectorRegistry } from './connector-registry.ts';
import { integrationUpdateSchema, mergeIntegrationUpdate } from './integration-update.ts';

/** An integration's configuration given in an environment variable. */
export interface IntegrationSeed {
  name: string;
  variable: string;
  value: Record<string, unknown>;
}

export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

/**
 * Configuration from the environment, applied at start-up: a seed describes
 * the whole integration, is stored (and audited) only when it differs from
 * what is stored, and never overrides what an admin configured.
 */
export class EnvironmentSeeds {
  constructor(private readonly deps: { registry: ConnectorRegistry; store: IntegrationStore; audit: AuditLog; logger: Logger }) {}

  async apply(seed: IntegrationSeed): Promise<void> {
    const { registry, store, audit, logger } = this.deps;
    if (!isIntegrationName(seed.name)) throw new SeedError(`${seed.variable}: "${seed.name}" cannot name an integration`);
    const current = store.get(seed.name);
    if (current?.source === 'admin') {
      logger.info('environment seed ignored: the integration was configured through the admin API', {
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
      next = mergeIntegrationUpdate(seed.name, registry.get(seed.name), null, update.data);
    } catch (error) {
      const details =
        error instanceof AppError ? (error.details as { issues?: Array<{ path: string; message: string }> } | undefined) : undefined;
      throw new SeedError(
        `${seed.variable}: ${details?.issues?.map((i) => `${i.path}: ${i.message}`).join('; ') ?? (error as Error).message}`,
      );
    }
    if (current && sameConfig(current, next)) return;
    await store.put(seed.name, next, `environment (${seed.variable})`, 'environment');
    await audit.recordChange({
      integration: seed.name,
      operation: 'integration.seed',
      principal: `environment (${seed.variable})`,
      details: { fields: Object.keys(next.credentials) },
    });
    logger.info('integration seeded from the environment', { integration: seed.name, variable: seed.variable });
  }
}

function sameConfig(record: IntegrationRecord, next: IntegrationWrite): boolean {
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
