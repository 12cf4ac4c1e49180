import type { AlertSink } from '../../alerts/alerts.ts';
import type { Logger } from 'winston';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { HealthStore } from '../../monitoring/connector-health.ts';
import type { HubMetrics } from '../../monitoring/metrics.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { AnyConnector, HttpPolicy } from './definition.ts';
import type { CallObserver, CallRecord } from './http.ts';

/** Raises an admin alert (the alerts module implements it). */
export type { AlertSink } from '../../alerts/alerts.ts';

/**
 * Where what happens to outbound calls is told: every call to metrics,
 * health and the audit log; retries to metrics; a circuit that opens or
 * closes to health and the log, and an open one to the admins as an alert.
 */
export class CallReporter {
  readonly observer: CallObserver = {
    attempt: (integration, operation, _outcome, retrying) => {
      if (retrying) this.deps.metrics.connectorRetry(integration, operation);
    },
    finished: (record) => this.finished(record),
  };

  constructor(
    private readonly deps: { metrics: HubMetrics; health: HealthStore; audit: AuditLog; logger: Logger; alerts?: AlertSink | undefined },
  ) {}

  circuitChanged(definition: AnyConnector, state: CircuitBreaker['state'], failures: number, policy: HttpPolicy): void {
    const { health, logger, alerts } = this.deps;
    health.trigger.circuitChanged({ integration: definition.name, state });
    const level = state === 'open' ? 'error' : 'info';
    logger.log(level, `circuit ${state}`, { integration: definition.name, consecutiveFailures: failures });
    if (state === 'open') {
      const { integrations } = health.getSnapshot().context;
      const lastError = (Object.hasOwn(integrations, definition.name) ? integrations[definition.name]?.lastError : null) ?? null;
      void alerts
        ?.raise({
          kind: 'circuit_open',
          integration: definition.name,
          subject: definition.name,
          message: `${definition.title}: ${failures} consecutive failures; calls are refused for ${Math.round(policy.breakerCooldownMs / 1000)} s, then one probe is let through`,
          details: { consecutiveFailures: failures, lastError },
        })
        .catch((error: unknown) => logger.error('alert could not be raised', { error: String(error) }));
    }
  }

  private finished(record: CallRecord): void {
    this.deps.metrics.connectorCall(record);
    this.deps.health.trigger.called({ record });
    this.deps.audit.record({
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
