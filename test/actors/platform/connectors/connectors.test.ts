import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { AuditLog } from '../../../../actors/platform/audit/audit-log.ts';
import { Connectors, SeedError, type AlertSink } from '../../../../actors/platform/connectors/kit/connectors.ts';
import { ConnectorError } from '../../../../actors/platform/connectors/kit/errors.ts';
import { createHealthStore } from '../../../../actors/platform/monitoring/connector-health.ts';
import { HubMetrics } from '../../../../actors/platform/monitoring/metrics.ts';
import { AppError } from '../../../../common/errors.ts';
import { collectionsOf } from '../../../../persistence/collections.ts';
import { IntegrationStore } from '../../../../persistence/integrations.ts';
import { Keyring } from '../../../../persistence/secret-box.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';
import { itemsConnector, startItemsSandbox } from '../../../support/items-connector.ts';
import { quietLogger } from '../../../support/runtime-harness.ts';

interface Setup {
  db: Db;
  connectors: Connectors;
  metrics: HubMetrics;
  audit: AuditLog;
  raised: Array<Parameters<AlertSink['raise']>[0]>;
  restart(seeds?: Parameters<Connectors['start']>[0]): Promise<Connectors>;
}

async function withConnectors(run: (setup: Setup) => Promise<void>): Promise<void> {
  const client = await new MongoClient(databaseUri()).connect();
  const db = client.db(uniqueDatabaseName('connectors'));
  const collections = collectionsOf(db);
  const keyring = new Keyring(randomBytes(32));
  const raised: Setup['raised'] = [];
  const started: Connectors[] = [];
  const health = createHealthStore();
  const metrics = new HubMetrics(health, { defaultMetrics: false });
  const audit = new AuditLog(collections.audit, quietLogger, { flushMs: 10 });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'connectors-'));
  const make = async (seeds: Parameters<Connectors['start']>[0] = []) => {
    const connectors = new Connectors({
      definitions: [itemsConnector],
      store: new IntegrationStore(collections.integrations, keyring),
      logger: quietLogger,
      metrics,
      health,
      audit,
      alerts: { raise: async (input) => raised.push(input) },
      sandboxes: 'auto',
      dataDir,
    });
    await connectors.start(seeds);
    started.push(connectors);
    return connectors;
  };
  try {
    await run({ db, connectors: await make(), metrics, audit, raised, restart: make });
  } finally {
    for (const connectors of started) await connectors.stop();
    await audit.flush();
    await db.dropDatabase();
    await client.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

test('an integration with nothing configured runs against its sandbox, and its calls reach metrics, health and the audit log', () =>
  withConnectors(async ({ connectors, metrics, audit }) => {
    const view = connectors.view('items');
    assert.equal(view.mode, 'sandbox');
    assert.match(view.baseUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(view.credentials, { apiKey: 'unset' });
    const result = await connectors.test('items', 'tester');
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(connectors.sandboxOf('items')?.requests().length, 1);
    const text = await metrics.text();
    assert.match(text, /hub_connector_requests_total\{integration="items",operation="items.get",outcome="rejected"\} 1/);
    assert.match(text, /hub_connector_availability_ratio\{integration="items"\} 1/);
    const health = connectors.healthStore().getSnapshot().context.integrations.items;
    assert.equal(health?.calls, 1);
    await audit.flush();
    const { entries } = await audit.list({ integration: 'items' });
    assert.deepEqual(entries.map((e) => `${e.kind}:${e.operation}`).sort(), ['admin:integration.test', 'outbound:items.get']);
  }));

test('partial credential updates keep the other fields, the API shows only which are set, and a change applies without a restart', () =>
  withConnectors(async ({ connectors }) => {
    const real = await startItemsSandbox();
    try {
      const updated = await connectors.update('items', { credentials: { apiKey: 'good-key-123' }, baseUrl: real.url }, 'admin-1');
      assert.equal(updated.mode, 'configured');
      assert.deepEqual(updated.credentials, { apiKey: 'set' });
      assert.ok(!JSON.stringify(updated).includes('good-key-123'));
      assert.equal((await connectors.test('items', 'admin-1')).ok, true);
      assert.equal(real.requests().length, 1, 'the call went to the configured URL');

      const settingsOnly = await connectors.update('items', { settings: { http: { retries: 0 } } }, 'admin-1');
      assert.deepEqual(settingsOnly.credentials, { apiKey: 'set' }, 'a settings change keeps the credentials');
      assert.equal(settingsOnly.revision, 2);

      await connectors.update('items', { credentials: { apiKey: 'wrong-key-000' } }, 'admin-1');
      const failed = await connectors.test('items', 'admin-1');
      assert.equal(failed.ok, false);
      assert.equal(failed.error?.code, 'AUTH');
      assert.ok(!JSON.stringify(failed).includes('wrong-key-000'));

      await assert.rejects(
        connectors.update('items', { credentials: { token: 'x' } }, 'admin-1'),
        (error: unknown) =>
          error instanceof AppError && error.status === 400 && JSON.stringify(error.details).includes('credentials.token'),
      );
      await assert.rejects(connectors.update('items', { settings: { allowedIps: ['10.0.0.0/33'] } }, 'admin-1'), /not valid/);

      const removed = await connectors.update('items', { credentials: { apiKey: null } }, 'admin-1');
      assert.equal(removed.mode, 'sandbox', 'without credentials it is back on its sandbox');
    } finally {
      await real.close();
    }
  }));

test('a disabled integration refuses calls with a non-retryable error', () =>
  withConnectors(async ({ connectors }) => {
    await connectors.update('items', { enabled: false }, 'admin-1');
    assert.throws(
      () => connectors.client(itemsConnector),
      (error: unknown) => error instanceof ConnectorError && error.code === 'integration_disabled' && !error.retryable,
    );
    const result = await connectors.test('items', 'admin-1');
    assert.equal(result.error?.code, 'integration_disabled');
  }));

test('the environment seeds an integration but never overrides one set through the admin API', () =>
  withConnectors(async ({ restart }) => {
    const seed = {
      name: 'items',
      variable: 'HUB_INTEGRATION_ITEMS',
      value: { baseUrl: 'https://items.example.com', credentials: { apiKey: 'from-env-1' } },
    };
    const first = await restart([seed]);
    assert.equal(first.view('items').source, 'environment');
    assert.equal(first.view('items').baseUrl, 'https://items.example.com');
    await first.update('items', { baseUrl: 'https://admin.example.com' }, 'admin-1');
    await first.stop();
    const second = await restart([{ ...seed, value: { ...seed.value, baseUrl: 'https://other.example.com' } }]);
    assert.equal(second.view('items').baseUrl, 'https://admin.example.com');
    assert.equal(second.view('items').source, 'admin');
    await assert.rejects(
      restart([{ name: 'items2', variable: 'HUB_INTEGRATION_ITEMS2', value: { credentials: { apiKey: 5 } } }]),
      SeedError,
    );
    await assert.rejects(
      restart([{ name: 'fresh', variable: 'HUB_INTEGRATION_FRESH', value: { baseUrl: 'ftp://x' } }]),
      (error: unknown) => error instanceof SeedError && /HUB_INTEGRATION_FRESH/.test(error.message),
    );
  }));

test('an integration without a connector is stored (an open set) but cannot be tested', () =>
  withConnectors(async ({ connectors }) => {
    const view = await connectors.update('uzum', { credentials: { token: 'uz-secret-77' }, settings: { shopId: 12 } }, 'admin-1');
    assert.equal(view.known, false);
    assert.equal(view.mode, 'configured');
    assert.deepEqual(view.credentials, { token: 'set' });
    await assert.rejects(connectors.test('uzum', 'admin-1'), (error: unknown) => error instanceof AppError && error.status === 422);
    assert.ok(connectors.list().some((v) => v.name === 'uzum'));
  }));

test('the circuit opening raises an alert and shows in health', () =>
  withConnectors(async ({ connectors, raised }) => {
    await connectors.update(
      'items',
      { settings: { http: { retries: 0, breakerFailureThreshold: 2, breakerCooldownMs: 60_000 } } },
      'admin-1',
    );
    const sandbox = connectors.sandboxOf('items');
    sandbox?.faults.inject({ kind: 'status', status: 503 });
    await connectors.test('items', 'admin-1');
    await connectors.test('items', 'admin-1');
    const third = await connectors.test('items', 'admin-1');
    assert.equal(third.error?.code, 'circuit_open');
    assert.equal(sandbox?.requests().length, 2);
    assert.equal(raised.length, 1);
    assert.equal(raised[0]?.kind, 'circuit_open');
    assert.equal(connectors.healthStore().getSnapshot().context.integrations.items?.circuit, 'open');
  }));
