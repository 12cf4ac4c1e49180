import { createStore } from '@xstate/store';
import type { CircuitState } from '../connectors/kit/circuit-breaker.ts';
import type { CallRecord } from '../connectors/kit/http.ts';

/**
 * Live connector health, kept in an @xstate/store store: each call and each
 * circuit change is an event; the store's snapshot is what the console and
 * `GET /admin/integrations/health` show. Rates are computed over a sliding
 * window of one-minute buckets.
 */

export interface Bucket {
  minute: number;
  ok: number;
  rejected: number;
  failed: number;
  refused: number;
  latencyMsSum: number;
  answered: number;
}

export interface IntegrationHealth {
  circuit: CircuitState;
  consecutiveFailures: number;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
  lastError: { code: string; message: string; operation: string } | null;
  calls: number;
  errorsByCode: Record<string, number>;
  buckets: Bucket[];
}

export interface SyncHealth {
  integration: string | null;
  runs: number;
  succeeded: number;
  lastRunAt: string | null;
  lastResult: 'ok' | 'failed' | null;
  recent: Array<{ at: string; ok: boolean }>;
}

const WINDOW_MINUTES = 15;
const RECENT_SYNCS = 50;

const emptyHealth = (): IntegrationHealth => ({
  circuit: 'closed',
  consecutiveFailures: 0,
  lastSuccessAt: null,
  lastErrorAt: null,
  lastError: null,
  calls: 0,
  errorsByCode: {},
  buckets: [],
});

function addToBuckets(buckets: Bucket[], record: CallRecord): Bucket[] {
  const minute = Math.floor(record.at.getTime() / 60_000);
  const kept = buckets.filter((b) => b.minute > minute - WINDOW_MINUTES);
  let bucket = kept.find((b) => b.minute === minute);
  if (!bucket) {
    bucket = { minute, ok: 0, rejected: 0, failed: 0, refused: 0, latencyMsSum: 0, answered: 0 };
    kept.push(bucket);
  }
  const next = { ...bucket, [record.outcome]: bucket[record.outcome] + 1 };
  if (record.status !== null) {
    next.latencyMsSum += record.durationMs;
    next.answered += 1;
  }
  return kept.map((b) => (b.minute === minute ? next : b));
}

export function createHealthStore() {
  return createStore({
    context: { integrations: {} as Record<string, IntegrationHealth>, syncs: {} as Record<string, SyncHealth> },
    on: {
      called: (context, event: { record: CallRecord }) => {
        const { record } = event;
        const current = context.integrations[record.integration] ?? emptyHealth();
        const at = record.at.toISOString();
        const failed = record.outcome === 'failed';
        const next: IntegrationHealth = {
          ...current,
          calls: current.calls + 1,
          buckets: addToBuckets(current.buckets, record),
          consecutiveFailures: failed ? current.consecutiveFailures + 1 : record.outcome === 'refused' ? current.consecutiveFailures : 0,
        };
        if (record.outcome === 'ok' || record.outcome === 'rejected') next.lastSuccessAt = at;
        if (record.error) {
          next.lastErrorAt = at;
          next.lastError = { code: record.error.code, message: record.error.message, operation: record.operation };
          next.errorsByCode = { ...current.errorsByCode, [record.error.code]: (current.errorsByCode[record.error.code] ?? 0) + 1 };
        }
        return { ...context, integrations: { ...context.integrations, [record.integration]: next } };
      },
      circuitChanged: (context, event: { integration: string; state: CircuitState }) => {
        const current = context.integrations[event.integration] ?? emptyHealth();
        return { ...context, integrations: { ...context.integrations, [event.integration]: { ...current, circuit: event.state } } };
      },
      synced: (context, event: { job: string; integration: string | null; ok: boolean; at: string }) => {
        const current: SyncHealth = context.syncs[event.job] ?? {
          integration: event.integration,
          runs: 0,
          succeeded: 0,
          lastRunAt: null,
          lastResult: null,
          recent: [],
        };
        const next: SyncHealth = {
          integration: event.integration,
          runs: current.runs + 1,
          succeeded: current.succeeded + (event.ok ? 1 : 0),
          lastRunAt: event.at,
          lastResult: event.ok ? 'ok' : 'failed',
          recent: [...current.recent, { at: event.at, ok: event.ok }].slice(-RECENT_SYNCS),
        };
        return { ...context, syncs: { ...context.syncs, [event.job]: next } };
      },
    },
  });
}

export type HealthStore = ReturnType<typeof createHealthStore>;

export interface WindowStats {
  windowMinutes: number;
  calls: number;
  /** share of calls the partner answered properly (ok or a deliberate refusal) among those sent; null when none were sent */
  availability: number | null;
  averageLatencyMs: number | null;
  failed: number;
  refused: number;
}

export function windowStats(health: IntegrationHealth, now: number): WindowStats {
  const minute = Math.floor(now / 60_000);
  const recent = health.buckets.filter((b) => b.minute > minute - WINDOW_MINUTES);
  const sum = (key: keyof Bucket) => recent.reduce((total, b) => total + b[key], 0);
  const answeredWell = sum('ok') + sum('rejected');
  const sent = answeredWell + sum('failed');
  const answered = sum('answered');
  return {
    windowMinutes: WINDOW_MINUTES,
    calls: sent + sum('refused'),
    availability: sent === 0 ? null : answeredWell / sent,
    averageLatencyMs: answered === 0 ? null : Math.round(sum('latencyMsSum') / answered),
    failed: sum('failed'),
    refused: sum('refused'),
  };
}

export function syncSuccessRate(sync: SyncHealth): number | null {
  return sync.recent.length === 0 ? null : sync.recent.filter((r) => r.ok).length / sync.recent.length;
}
