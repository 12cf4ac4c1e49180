import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../common/config.ts';
import { startEchoSandbox, type EchoSandbox } from '../../actors/platform/connectors/echo/sandbox.ts';
import { startHub, type Hub } from '../../http/server.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';
import { quietLogger } from '../support/runtime-harness.ts';
import { hubClient, TEST_ADMIN_KEY } from '../support/hub-process.ts';

let hub: Hub;
let echo: EchoSandbox;
let admin: ReturnType<typeof hubClient>;

before(async () => {
  echo = await startEchoSandbox();
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    MONGODB_URI: databaseUri(),
    MONGODB_DB: uniqueDatabaseName('api'),
    DATA_DIR: await mkdtemp(path.join(tmpdir(), 'hub-api-')),
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    HUB_BODY_LIMIT: '4kb',
    HUB_WORKER_POLL_MS: '100',
  });
  hub = await startHub(config, { logger: quietLogger, echoBaseUrl: echo.url });
  admin = hubClient(hub.url);
});

after(async () => {
  await hub.stop();
  await echo.close();
});

function assertError(response: { status: number; body: { error?: { code: string; message: string } } }, status: number, code: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.error?.code, code);
  assert.equal(typeof response.body.error?.message, 'string');
}

test('liveness and readiness answer without a key', async () => {
  const live = await fetch(`${hub.url}/health/live`);
  assert.equal(live.status, 200);
  const ready = await fetch(`${hub.url}/health/ready`);
  assert.equal(ready.status, 200);
  const body = (await ready.json()) as { checks: Record<string, string> };
  assert.deepEqual(body.checks, { database: 'up', scheduler: 'up', worker: 'up', shutdown: 'no' });
});

test('every response carries a request id, and a sane incoming one is kept', async () => {
  const generated = await admin.get('/actors/probe/nobody');
  assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const kept = await admin.get('/actors/probe/nobody', { 'x-request-id': 'trace-12345678' });
  assert.equal(kept.headers.get('x-request-id'), 'trace-12345678');
});

test('requests without a valid API key get 401, with the JSON error shape', async () => {
  assertError(await hubClient(hub.url, '').get('/actors/probe/x'), 401, 'unauthorized');
  assertError(await hubClient(hub.url, 'not-a-key').get('/actors/probe/x'), 401, 'unauthorized');
});

test('roles: viewers read, operators act, only admins manage keys', async () => {
  const operatorKey = await admin.post('/admin/api-keys', { name: 'ops', role: 'operator' });
  assert.equal(operatorKey.status, 201);
  const viewerKey = await admin.post('/admin/api-keys', { name: 'watcher', role: 'viewer' });
  const operator = hubClient(hub.url, operatorKey.body.key as string);
  const viewer = hubClient(hub.url, viewerKey.body.key as string);

  assert.equal((await operator.post('/actors/probe', { id: 'roles-1' })).status, 201);
  assert.equal((await viewer.get('/actors/probe/roles-1')).status, 200);
  assertError(await viewer.post('/actors/probe/roles-1/events', { type: 'ADD', amount: 1 }), 403, 'forbidden');
  assertError(await operator.post('/admin/api-keys', { name: 'x', role: 'admin' }), 403, 'forbidden');

  const listed = await admin.get('/admin/api-keys');
  const keys = listed.body.keys as Array<{ name: string; prefix: string }>;
  assert.ok(keys.some((k) => k.name === 'ops'));
  assert.ok(!JSON.stringify(listed.body).includes(operatorKey.body.key as string), 'keys are never listed in clear');
});

test('POST /actors/:type creates (201); the same Idempotency-Key answers the same body', async () => {
  const first = await admin.post('/actors/probe', { input: { label: 'first' } }, { 'idempotency-key': 'create-a' });
  assert.equal(first.status, 201);
  assert.equal(first.headers.get('idempotent-replayed'), 'false');
  assert.equal(first.body.state, 'idle');
  assert.equal(first.body.revision, 1);
  const again = await admin.post('/actors/probe', { input: { label: 'first' } }, { 'idempotency-key': 'create-a' });
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.body, first.body);
  assertError(
    await admin.post('/actors/probe', { input: { label: 'other' } }, { 'idempotency-key': 'create-a' }),
    422,
    'idempotency_key_reused',
  );
});

test('POST /actors/:type/:id/events answers the new state and revision; GET shows the actor', async () => {
  await admin.post('/actors/probe', { id: 'ev-1' });
  const sent = await admin.post('/actors/probe/ev-1/events', { type: 'ADD', amount: 4 }, { 'idempotency-key': 'add-4' });
  assert.equal(sent.status, 200);
  assert.equal(sent.body.revision, 2);
  assert.equal((sent.body.context as { total: number }).total, 4);
  const repeat = await admin.post('/actors/probe/ev-1/events', { type: 'ADD', amount: 4 }, { 'idempotency-key': 'add-4' });
  assert.deepEqual(repeat.body, sent.body);
  const view = await admin.get('/actors/probe/ev-1');
  assert.equal(view.status, 200);
  for (const field of ['type', 'id', 'state', 'value', 'status', 'context', 'revision', 'version', 'createdAt', 'updatedAt', 'accepts']) {
    assert.ok(field in view.body, `GET shows ${field}`);
  }
  assert.equal(view.body.revision, 2);
});

test('the journal is readable page by page', async () => {
  await admin.post('/actors/probe', { id: 'jr-1' });
  for (let i = 1; i <= 5; i += 1) await admin.post('/actors/probe/jr-1/events', { type: 'ADD', amount: i });
  const page1 = await admin.get('/actors/probe/jr-1/journal?limit=4');
  assert.equal(page1.status, 200);
  const entries = page1.body.entries as Array<{ revision: number; from: string | null; to: string; event: { type: string } }>;
  assert.deepEqual(
    entries.map((e) => e.revision),
    [1, 2, 3, 4],
  );
  assert.deepEqual(entries[1], { ...entries[1], from: 'idle', to: 'idle', event: { type: 'ADD', amount: 1 } });
  const page2 = await admin.get(page1.body.next as string);
  assert.deepEqual(
    (page2.body.entries as Array<{ revision: number }>).map((e) => e.revision),
    [5, 6],
  );
  assert.equal(page2.body.next, null);
});

test('an event the state does not accept answers 409 with the events it accepts', async () => {
  await admin.post('/actors/probe', { id: 'c-1' });
  const response = await admin.post('/actors/probe/c-1/events', { type: 'RESET' });
  assertError(response, 409, 'event_not_accepted');
  assert.deepEqual((response.body.error?.details as { accepted: string[] }).accepted, ['ADD', 'CALL', 'FINISH', 'WAIT']);
});

test('invalid bodies answer 400 with the failing paths', async () => {
  const badId = await admin.post('/actors/probe', { id: '../etc', extra: 1 });
  assertError(badId, 400, 'invalid_request');
  const paths = (badId.body.error?.details as Array<{ path: string }>).map((d) => d.path).sort();
  assert.deepEqual(paths, ['(body)', 'id']);
  await admin.post('/actors/probe', { id: 'v-1' });
  const badEvent = await admin.post('/actors/probe/v-1/events', { type: 'ADD', amount: 'ten' });
  assertError(badEvent, 400, 'invalid_request');
  assert.deepEqual(
    (badEvent.body.error?.details as Array<{ path: string }>).map((d) => d.path),
    ['amount'],
  );
  assertError(await admin.post('/actors/probe/v-1/events', { amount: 1 }), 400, 'invalid_request');
  assertError(await admin.post('/actors/probe/v-1/events', { type: 'xstate.init' }), 400, 'invalid_request');
  const badInput = await admin.post('/actors/probe', { input: { timeoutMs: -5 } });
  assertError(badInput, 400, 'invalid_request');
  assertError(
    await admin.post('/actors/probe/v-1/events', { type: 'ADD', amount: 1 }, { 'idempotency-key': 'x'.repeat(300) }),
    400,
    'invalid_request',
  );
});

test('malformed JSON is 400, another content type 415, an oversized body 413', async () => {
  const malformed = await fetch(`${hub.url}/actors/probe`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
    body: '{"id": ',
  });
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'malformed_json');

  const text = await fetch(`${hub.url}/actors/probe`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'text/plain' },
    body: 'hello',
  });
  assert.equal(text.status, 415);
  assert.equal(((await text.json()) as { error: { code: string } }).error.code, 'unsupported_media_type');

  const big = await admin.post('/actors/probe', { input: { label: 'x'.repeat(10_000) } });
  assertError(big, 413, 'payload_too_large');
});

test('unknown machine types, actors and routes answer 404', async () => {
  assertError(await admin.post('/actors/nosuch', {}), 404, 'unknown_machine');
  assertError(await admin.get('/actors/probe/does-not-exist'), 404, 'not_found');
  assertError(await admin.get('/no/such/route'), 404, 'not_found');
});

test('a known route with the wrong method answers 405', async () => {
  await admin.post('/actors/probe', { id: 'm-405' });
  assertError(await admin.call('DELETE', '/actors/probe/m-405'), 405, 'method_not_allowed');
});

test('GET /admin/jobs lists every scheduled job, and POST /admin/jobs/:name/run runs one now', async () => {
  const listed = await admin.get('/admin/jobs');
  assert.equal(listed.status, 200);
  const job = (listed.body.jobs as Array<{ name: string; schedule: string; nextRunAt: string | null }>).find(
    (j) => j.name === 'runtime-housekeeping',
  );
  assert.ok(job);
  assert.equal(job.schedule, 'every 10 minutes');
  assert.ok(job.nextRunAt && Date.parse(job.nextRunAt) > Date.now(), 'next run is in the future');

  const run = await admin.post('/admin/jobs/runtime-housekeeping/run');
  assert.equal(run.status, 200);
  assert.equal(run.body.result, 'ok');
  const after = await admin.get('/admin/jobs');
  const again = (after.body.jobs as Array<{ name: string; lastRun: { result: string; trigger: string }; runs: number }>).find(
    (j) => j.name === 'runtime-housekeeping',
  );
  assert.equal(again?.lastRun.result, 'ok');
  assert.equal(again?.lastRun.trigger, 'manual');
  assert.ok((again?.runs ?? 0) >= 1);
  assertError(await admin.post('/admin/jobs/nope/run'), 404, 'not_found');
});

test('an effect started over HTTP completes and shows in the actor', async () => {
  await admin.post('/actors/probe', { id: 'http-fx' });
  const sent = await admin.post('/actors/probe/http-fx/events', { type: 'CALL', message: 'over http' });
  assert.deepEqual((sent.body.inFlight as { effects: string[] }).effects, ['echo']);
  const view = await admin.waitForState('/actors/probe/http-fx', 'idle', 5_000);
  assert.equal((view.context as { lastResult: { echoed: string } }).lastResult.echoed, 'over http');
});
