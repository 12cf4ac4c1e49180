import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CircuitState } from '../connectors/kit/circuit-breaker.ts';
import type { CallRecord } from '../connectors/kit/http.ts';
import type { RuntimeCounts } from '../../runtime/runtime.ts';
import { syncSuccessRate, windowStats, type HealthStore } from './connector-health.ts';

const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, halfOpen: 1, open: 2 };

/**
 * Prometheus metrics (seed 000): per integration availability, latency,
 * errors by code, volume (calls and bytes) and sync success rate, plus
 * webhooks and alerts. One registry per hub, so tests and several hubs in
 * one process never share counters.
 */
export class HubMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'integration' | 'operation' | 'outcome'>;
  private readonly duration: Histogram<'integration' | 'operation'>;
  private readonly errorsByCode: Counter<'integration' | 'code'>;
  private readonly retries: Counter<'integration' | 'operation'>;
  private readonly bytes: Counter<'integration' | 'direction'>;
  private readonly webhooks: Counter<'integration' | 'outcome'>;
  private readonly syncs: Counter<'job' | 'integration' | 'result'>;
  private readonly alerts: Counter<'kind'>;
  private readonly rateLimitedRequests: Counter<'limit'>;
  private readonly authFailures: Counter;

  constructor(health: HealthStore, options: { defaultMetrics?: boolean; now?: () => number } = {}) {
    const registers = [this.registry];
    const now = options.now ?? Date.now;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'hub_process_' });
    this.calls = new Counter({
      name: 'hub_connector_requests_total',
      help: 'External calls by integration, operation and outcome (ok, rejected, failed, refused)',
      labelNames: ['integration', 'operation', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'hub_connector_request_duration_seconds',
      help: 'Duration of external calls, retries included',
      labelNames: ['integration', 'operation'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.errorsByCode = new Counter({
      name: 'hub_connector_errors_total',
      help: 'Failed external calls by error code',
      labelNames: ['integration', 'code'],
      registers,
    });
    this.retries = new Counter({
      name: 'hub_connector_retries_total',
      help: 'Attempts repeated by the retry policy',
      labelNames: ['integration', 'operation'],
      registers,
    });
    this.bytes = new Counter({
      name: 'hub_connector_bytes_total',
      help: 'Bytes sent to and received from integrations',
      labelNames: ['integration', 'direction'],
      registers,
    });
    this.webhooks = new Counter({
      name: 'hub_webhooks_total',
      help: 'Inbound webhook deliveries by outcome',
      labelNames: ['integration', 'outcome'],
      registers,
    });
    this.syncs = new Counter({
      name: 'hub_sync_runs_total',
      help: 'Synchronisation job runs by result',
      labelNames: ['job', 'integration', 'result'],
      registers,
    });
    this.alerts = new Counter({ name: 'hub_alerts_total', help: 'Alerts raised by kind', labelNames: ['kind'], registers });
    this.rateLimitedRequests = new Counter({
      name: 'hub_http_rate_limited_total',
      help: 'Requests answered 429 by the limit they exceeded (api_key, address)',
      labelNames: ['limit'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'hub_http_auth_failures_total',
      help: 'API requests refused for a missing, malformed or unknown API key',
      registers,
    });
    new Gauge({
      name: 'hub_connector_availability_ratio',
      help: 'Share of calls sent in the last 15 minutes that the partner answered properly',
      labelNames: ['integration'],
      registers,
      collect() {
        this.reset();
        for (const [integration, h] of Object.entries(health.getSnapshot().context.integrations)) {
          const stats = windowStats(h, now());
          if (stats.availability !== null) this.set({ integration }, stats.availability);
        }
      },
    });
    new Gauge({
      name: 'hub_connector_circuit_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
      labelNames: ['integration'],
      registers,
      collect() {
        this.reset();
        for (const [integration, h] of Object.entries(health.getSnapshot().context.integrations))
          this.set({ integration }, CIRCUIT_VALUE[h.circuit]);
      },
    });
    new Gauge({
      name: 'hub_sync_success_ratio',
      help: 'Share of the last 50 runs of each synchronisation job that succeeded',
      labelNames: ['job', 'integration'],
      registers,
      collect() {
        this.reset();
        for (const [job, sync] of Object.entries(health.getSnapshot().context.syncs)) {
          const rate = syncSuccessRate(sync);
          if (rate !== null) this.set({ job, integration: sync.integration ?? '' }, rate);
        }
      },
    });
  }

  /** The actor runtime of this process: lost commit races, and commands routed between processes. */
  trackRuntime(source: { countsNow(): RuntimeCounts }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'hub_actor_revision_conflicts',
      help: 'Commits of this process that found their revision taken (a stale cached actor or a race) and were applied again',
      registers,
      collect() {
        this.set(source.countsNow().revisionConflicts);
      },
    });
    new Gauge({
      name: 'hub_actor_routed_calls',
      help: "Commands this process handed to the actor's owning process, by outcome; `here` counts those other processes handed to it",
      labelNames: ['outcome'],
      registers,
      collect() {
        const counts = source.countsNow();
        for (const [outcome, count] of Object.entries(counts.routed)) this.set({ outcome }, count);
        this.set({ outcome: 'here' }, counts.routedHere);
      },
    });
    new Gauge({
      name: 'hub_actor_projections_repaired',
      help: 'Actor projections this process wrote from the journal because the process that committed them stopped first',
      registers,
      collect() {
        this.set(source.countsNow().projectionsRepaired);
      },
    });
  }

  private eventLatency: Histogram | null = null;

  /** Domain events (NATS JetStream): the outbox's lag, what was published, commit → acknowledgement. */
  trackDomainEvents(source: {
    lag(): Promise<{ waiting: number; oldestSeconds: number | null }>;
    statsNow(): { published: number; duplicates: number; failures: number };
  }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'hub_events_outbox_waiting',
      help: 'Domain events committed but not yet acknowledged by NATS JetStream (all processes)',
      registers,
      async collect() {
        this.set((await source.lag().catch(() => ({ waiting: Number.NaN }))).waiting);
      },
    });
    new Gauge({
      name: 'hub_events_outbox_oldest_seconds',
      help: 'Age of the oldest domain event still to publish (0 when none)',
      registers,
      async collect() {
        this.set((await source.lag().catch(() => ({ oldestSeconds: Number.NaN }))).oldestSeconds ?? 0);
      },
    });
    new Gauge({
      name: 'hub_events_published',
      help: 'Domain events this process had acknowledged by JetStream, by outcome (new, duplicate) or failed to publish',
      labelNames: ['outcome'],
      registers,
      collect() {
        const stats = source.statsNow();
        this.set({ outcome: 'new' }, stats.published);
        this.set({ outcome: 'duplicate' }, stats.duplicates);
        this.set({ outcome: 'failed' }, stats.failures);
      },
    });
    this.eventLatency = new Histogram({
      name: 'hub_events_publish_latency_seconds',
      help: "From the end of a transition's commit to JetStream's acknowledgement of its domain event (published by the committing process)",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    });
  }

  domainEventPublished(seconds: number): void {
    this.eventLatency?.observe(seconds);
  }

  connectorCall(record: CallRecord): void {
    const labels = { integration: record.integration, operation: record.operation };
    this.calls.inc({ ...labels, outcome: record.outcome });
    if (record.outcome !== 'refused') this.duration.observe(labels, record.durationMs / 1000);
    if (record.error) this.errorsByCode.inc({ integration: record.integration, code: record.error.code });
    if (record.bytesSent > 0) this.bytes.inc({ integration: record.integration, direction: 'sent' }, record.bytesSent);
    if (record.bytesReceived > 0) this.bytes.inc({ integration: record.integration, direction: 'received' }, record.bytesReceived);
  }

  connectorRetry(integration: string, operation: string): void {
    this.retries.inc({ integration, operation });
  }

  webhook(integration: string, outcome: string): void {
    this.webhooks.inc({ integration, outcome });
  }

  syncRun(job: string, integration: string | null, ok: boolean): void {
    this.syncs.inc({ job, integration: integration ?? '', result: ok ? 'ok' : 'failed' });
  }

  alert(kind: string): void {
    this.alerts.inc({ kind });
  }

  rateLimited(limit: 'api_key' | 'address'): void {
    this.rateLimitedRequests.inc({ limit });
  }

  authFailure(): void {
    this.authFailures.inc();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
