import type { InboxDoc } from '../../persistence/collections.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, TEST_ADMIN_KEY } from '../support/hub-process.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WEBHOOK_SECRET = 'whsec-echo-0f3a9c71d2';

function signedDelivery(body: unknown, options: { delivery: string; secret?: string; timestamp?: number }) {
  const raw = JSON.stringify(body);
  const timestamp = String(Math.floor((options.timestamp ?? Date.now()) / 1000));
  const signature = createHmac('sha256', options.secret ?? WEBHOOK_SECRET)
    .update(`${timestamp}.${raw}`)
    .digest('hex');
  return {
    raw,
    headers: {
      'content-type': 'application/json',
      'x-echo-timestamp': timestamp,
      'x-echo-signature': `sha256=${signature}`,
      'x-echo-delivery': options.delivery,
    },
  };
}

async function postWebhook(url: string, delivery: { raw: string; headers: Record<string, string> }, extra: Record<string, string> = {}) {
  const response = await fetch(`${url}/webhooks/echo`, { method: 'POST', headers: { ...delivery.headers, ...extra }, body: delivery.raw });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { error?: { code: string } } };
}

test('webhooks: a signed delivery is applied once; forged, stale, replayed and disallowed deliveries change nothing; secrets stay secret', async () => {
  const dbName = uniqueDatabaseName('webhooks');
  const hub = await startHubProcess({ dbName, env: { HUB_TRUSTED_PROXIES: '127.0.0.1', LOG_LEVEL: 'http' } });
  const client = hubClient(hub.url);
  const responses: string[] = [];
  const keep = <T>(value: T): T => {
    responses.push(JSON.stringify(value));
    return value;
  };
  try {
    const put = keep(await client.call('PUT', '/admin/integrations/echo', { credentials: { webhookSecret: WEBHOOK_SECRET } }));
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body.credentials, { webhookSecret: 'set' });
    assert.equal((await client.post('/actors/probe', { id: 'hooked' })).status, 201);
    const total = async () => ((await client.get('/actors/probe/hooked')).body.context as { total: number }).total;

    const first = signedDelivery({ actorId: 'hooked', event: { type: 'ADD', amount: 5 } }, { delivery: 'd-1' });
    const accepted = keep(await postWebhook(hub.url, first));
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.duplicate, false);
    assert.equal(accepted.body.status, 'dispatched');
    assert.equal(await total(), 5);

    const replayed = keep(await postWebhook(hub.url, first));
    assert.equal(replayed.status, 200);
    assert.equal(replayed.body.duplicate, true);
    assert.equal(await total(), 5, 'a replayed delivery changes nothing');

    const forged = signedDelivery(
      { actorId: 'hooked', event: { type: 'ADD', amount: 1000 } },
      { delivery: 'd-2', secret: 'guessed-secret' },
    );
    for (let i = 0; i < 5; i += 1) {
      const refused = keep(await postWebhook(hub.url, { ...forged, headers: { ...forged.headers, 'x-echo-delivery': `d-forged-${i}` } }));
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error?.code, 'invalid_signature');
    }
    const tampered = {
      ...first,
      raw: first.raw.replace('"amount":5', '"amount":500'),
      headers: { ...first.headers, 'x-echo-delivery': 'd-3' },
    };
    assert.equal(keep(await postWebhook(hub.url, tampered)).status, 401, 'a changed body no longer matches its signature');
    const stale = signedDelivery(
      { actorId: 'hooked', event: { type: 'ADD', amount: 5 } },
      { delivery: 'd-4', timestamp: Date.now() - 10 * 60_000 },
    );
    assert.equal(keep(await postWebhook(hub.url, stale)).status, 401, 'a correctly signed but old capture is refused');
    assert.equal(await total(), 5);

    const malformed = signedDelivery({ actorId: '', event: { type: 'add' } }, { delivery: 'd-5' });
    assert.equal(keep(await postWebhook(hub.url, malformed)).status, 400);

    // Allow-list: only 203.0.113.0/24; the test runs on 127.0.0.1, a trusted proxy here.
    assert.equal((await client.call('PUT', '/admin/integrations/echo', { settings: { allowedIps: ['203.0.113.0/24'] } })).status, 200);
    const fromHere = signedDelivery({ actorId: 'hooked', event: { type: 'ADD', amount: 1 } }, { delivery: 'd-6' });
    const blocked = keep(await postWebhook(hub.url, fromHere));
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body.error?.code, 'address_not_allowed');
    assert.equal(keep(await postWebhook(hub.url, fromHere, { 'x-forwarded-for': '198.51.100.9' })).status, 403);
    const viaProxy = keep(await postWebhook(hub.url, fromHere, { 'x-forwarded-for': '203.0.113.77' }));
    assert.equal(viaProxy.status, 200, 'the allowed partner behind a trusted proxy gets through');
    assert.equal(await total(), 6);

    // Repeated signature failures are one grouped alert.
    const alerts = keep(
      await eventually(async () => {
        const list = await client.get('/admin/alerts?kind=signature_failures');
        return (list.body.alerts as unknown[]).length > 0 ? list : undefined;
      }),
    );
    assert.equal((alerts.body.alerts as unknown[]).length, 1);

    const inbound = keep(
      await eventually(async () => {
        const list = await client.get('/admin/audit?kind=inbound&integration=echo&limit=100');
        return (list.body.entries as unknown[]).length >= 11 ? list : undefined;
      }),
    );
    const outcomes = (inbound.body.entries as Array<{ outcome: string }>).map((e) => e.outcome);
    assert.equal(outcomes.filter((o) => o === 'bad_signature').length, 7);
    assert.ok(outcomes.includes('duplicate') && outcomes.includes('forbidden_address') && outcomes.includes('dispatched'));
    const changes = keep(await client.get('/admin/audit?kind=admin&operation=integration.update'));
    assert.equal((changes.body.entries as Array<{ principal: string }>)[0]?.principal, 'admin (ADMIN_API_KEY)');

    const metrics = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    const text = await metrics.text();
    assert.match(text, /hub_webhooks_total\{integration="echo",outcome="bad_signature"\} 7/);
    assert.match(text, /hub_webhooks_total\{integration="echo",outcome="duplicate"\} 1/);
    assert.equal((await fetch(`${hub.url}/metrics`)).status, 401, 'metrics need an API key');

    keep(await client.get('/admin/integrations'));
    keep(await client.get('/admin/integrations/echo'));
    for (const response of responses)
      assert.ok(!response.includes(WEBHOOK_SECRET), `a response leaked the secret: ${response.slice(0, 200)}`);
    assert.ok(!hub.output().includes(WEBHOOK_SECRET), 'the logs never show the secret');
    const mongo = await new MongoClient(databaseUri()).connect();
    try {
      const db = mongo.db(dbName);
      for (const name of ['integrations', 'audit', 'inbox', 'alerts']) {
        const raw = JSON.stringify(await db.collection(name).find({}).toArray());
        assert.ok(!raw.includes(WEBHOOK_SECRET), `the ${name} collection holds the secret in clear`);
      }
    } finally {
      await mongo.close();
    }
  } finally {
    await hub.terminate();
  }
});

function rotateKey(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/rotate-key.ts')], {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'test', MONGODB_URI: databaseUri(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

test('a wrong master key stops the start; rotate-key re-encrypts everything under a new key', async () => {
  const dbName = uniqueDatabaseName('masterkey');
  const keyA = Buffer.alloc(32, 1).toString('base64');
  const keyB = Buffer.alloc(32, 2).toString('base64');
  const first = await startHubProcess({ dbName, env: { HUB_MASTER_KEY: keyA } });
  try {
    const put = await hubClient(first.url).call('PUT', '/admin/integrations/kaspi', { credentials: { token: 'kaspi-token-5531' } });
    assert.equal(put.status, 200);
  } finally {
    await first.terminate();
  }

  await assert.rejects(startHubProcess({ dbName, env: { HUB_MASTER_KEY: keyB } }), (error: unknown) => {
    const message = (error as Error).message;
    assert.match(message, /exited with 1/);
    assert.match(message, /HUB_MASTER_KEY is not the key this database's secrets were encrypted with/);
    assert.ok(!message.includes(keyA) && !message.includes(keyB), 'no key is ever printed');
    return true;
  });

  const refused = await rotateKey({ MONGODB_DB: dbName, HUB_MASTER_KEY: keyB, HUB_NEW_MASTER_KEY: Buffer.alloc(32, 3).toString('base64') });
  assert.equal(refused.code, 1, 'rotation needs the current key');
  const rotated = await rotateKey({ MONGODB_DB: dbName, HUB_MASTER_KEY: keyA, HUB_NEW_MASTER_KEY: keyB });
  assert.equal(rotated.code, 0, rotated.output);
  assert.match(rotated.output, /Re-encrypted the credentials of 1 integration.* and the personal data key/);

  await assert.rejects(startHubProcess({ dbName, env: { HUB_MASTER_KEY: keyA } }), /HUB_MASTER_KEY is not the key/);
  const after = await startHubProcess({ dbName, env: { HUB_MASTER_KEY: keyB } });
  try {
    const view = await hubClient(after.url).get('/admin/integrations/kaspi');
    assert.equal(view.status, 200);
    assert.deepEqual(view.body.credentials, { token: 'set' });
  } finally {
    await after.terminate();
  }
});

test('an external call whose retries run out raises one retries_exhausted alert, grouped on repeats', async () => {
  const { startEchoSandbox } = await import('../../actors/platform/connectors/echo/sandbox.ts');
  const echo = await startEchoSandbox();
  echo.failNext(1000, 503);
  const hub = await startHubProcess({
    dbName: uniqueDatabaseName('exhausted'),
    env: { ECHO_BASE_URL: echo.url, HUB_EFFECT_MAX_ATTEMPTS: '2' },
  });
  const client = hubClient(hub.url);
  try {
    assert.equal((await client.post('/actors/probe', { id: 'unlucky' })).status, 201);
    assert.equal((await client.post('/actors/probe/unlucky/events', { type: 'CALL', message: 'hello' })).status, 200);
    const failed = await client.waitForState('/actors/probe/unlucky', 'failed', 30_000);
    assert.equal((failed.context as { lastError: { code: string } }).lastError.code, 'sandbox_fault');
    const alert = await eventually(async () => {
      const list = await client.get('/admin/alerts?kind=retries_exhausted');
      return (list.body.alerts as Array<{ subject: string; count: number; message: string }>)[0];
    });
    assert.equal(alert.subject, 'probe/unlucky');
    assert.match(alert.message, /echoCall failed 2 times/);
    assert.equal(echo.requests(), 2, 'tried exactly HUB_EFFECT_MAX_ATTEMPTS times');

    assert.equal((await client.post('/actors/probe/unlucky/events', { type: 'RETRY' })).status, 200);
    assert.equal((await client.post('/actors/probe/unlucky/events', { type: 'CALL', message: 'again' })).status, 200);
    await client.waitForState('/actors/probe/unlucky', 'failed', 30_000);
    const grouped = await eventually(async () => {
      const list = await client.get('/admin/alerts?kind=retries_exhausted');
      const alerts = list.body.alerts as Array<{ count: number }>;
      return alerts.length === 1 && alerts[0]?.count === 2 ? alerts : undefined;
    });
    assert.equal(grouped.length, 1);
  } finally {
    await hub.terminate();
    await echo.close();
  }
});

test('a delivery stored but not dispatched before a crash is dispatched once by the inbox-redispatch job', async () => {
  const dbName = uniqueDatabaseName('inbox');
  const hub = await startHubProcess({ dbName });
  const client = hubClient(hub.url);
  const mongo = await new MongoClient(databaseUri()).connect();
  try {
    assert.equal((await client.post('/actors/probe', { id: 'late' })).status, 201);
    // What a process that died right after persisting the delivery leaves behind.
    const body = Buffer.from(JSON.stringify({ actorId: 'late', event: { type: 'ADD', amount: 3 } }));
    const long = new Date(Date.now() - 120_000);
    await mongo
      .db(dbName)
      .collection<InboxDoc>('inbox')
      .insertOne({
        _id: 'echo:d-crashed',
        integration: 'echo',
        deliveryId: 'd-crashed',
        receivedAt: long,
        remoteAddress: '127.0.0.1',
        headers: {},
        rawBody: body.toString('base64'),
        contentType: 'application/json',
        status: 'received',
        dispatchedTo: null,
        result: null,
        error: null,
        attempts: 0,
        updatedAt: long,
      });
    const run = await client.post('/admin/jobs/inbox-redispatch/run');
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.deepEqual((run.body.output as { dispatched: number }).dispatched, 1);
    assert.equal(((await client.get('/actors/probe/late')).body.context as { total: number }).total, 3);
    const again = await client.post('/admin/jobs/inbox-redispatch/run');
    assert.equal((again.body.output as { dispatched: number }).dispatched, 0);
    assert.equal(((await client.get('/actors/probe/late')).body.context as { total: number }).total, 3, 'applied once');
    const stored = await mongo.db(dbName).collection<InboxDoc>('inbox').findOne({ _id: 'echo:d-crashed' });
    assert.equal(stored?.status, 'dispatched');
  } finally {
    await mongo.close();
    await hub.terminate();
  }
});
