import { AppError, errors } from '../../../../common/errors.ts';
import type { IntegrationStore } from '../../../../persistence/integrations.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { ConnectorRegistry } from './connector-registry.ts';
import type { AnyConnector } from './definition.ts';
import { ConnectorError, KIT_ERROR_CODES } from './errors.ts';
import type { IntegrationConfigs, IntegrationMode } from './integration-config.ts';

export interface TestResult {
  integration: string;
  ok: boolean;
  mode: IntegrationMode;
  durationMs: number;
  detail?: string;
  error?: { code: string; message: string; status: number | null; retryable: boolean };
}

/** How long the admin API's test button waits for the partner. */
const TEST_TIMEOUT_MS = 30_000;

/**
 * The admin API's test button: the connector's cheapest authenticated call
 * with the current configuration; the outcome is an answer (never a thrown
 * error) and is audited.
 */
export class ConnectionTester {
  constructor(
    private readonly deps: {
      registry: ConnectorRegistry;
      store: IntegrationStore;
      configs: IntegrationConfigs;
      audit: AuditLog;
      clientOf: (definition: AnyConnector) => unknown;
    },
  ) {}

  async test(name: string, by: string): Promise<TestResult> {
    const { registry, store, configs, audit, clientOf } = this.deps;
    const definition = registry.get(name);
    if (!definition) {
      if (store.get(name))
        throw new AppError(422, 'no_connector', `there is no connector for integration "${name}" yet, so it cannot be tested`);
      throw errors.notFound(`integration ${name}`, { known: registry.names() });
    }
    const started = Date.now();
    const mode = configs.modeOf(name);
    let result: TestResult;
    try {
      const client = clientOf(definition);
      const detail = await definition.test(client, AbortSignal.timeout(TEST_TIMEOUT_MS));
      result = { integration: name, ok: true, mode, durationMs: Date.now() - started, detail };
    } catch (error) {
      const failure =
        error instanceof ConnectorError
          ? error
          : new ConnectorError(name, KIT_ERROR_CODES.testFailed, error instanceof Error ? error.message : String(error), true);
      result = {
        integration: name,
        ok: false,
        mode,
        durationMs: Date.now() - started,
        error: { code: failure.code, message: failure.message, status: failure.status, retryable: failure.retryable },
      };
    }
    audit.record({
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
}
