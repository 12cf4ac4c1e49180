import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../common/config.ts';
import { jsonDepth } from '../../common/json-depth.ts';
import { startHub, type Hub } from '../../http/server.ts';
import { requestHash } from '../../common/canonical-json.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';
import { quietLogger } from '../support/runtime-harness.ts';
import { hubClient, startHubProcess, TEST_ADMIN_KEY } from '../support/hub-process.ts';

/**
 * What a hostile client sends: bodies nested thousands of levels deep, control characters in searches, names
 * that every JavaScript object already has. Each is refused with a 4xx that says why, nothing is stored, and
 * the hub keeps answering.
 */

let hub: Hub;
let admin: ReturnType<typeof hubClient>;

before(async () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    MONGODB_URI: databaseUri(),
    MONGODB_DB: uniqueDatabaseName('hostile'),
    DATA_DIR: await mkdtemp(path.join(tmpdir(), 'hub-hostile-')),
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    HUB_DEVICE_EMULATORS: 'off',
    HUB_WORKER_POLL_MS: '100',
  });
  hub = await startHub(config, { logger: quietLogger });
  admin = hubClient(hub.url);
});

after(async () => {
  await hub.stop();
});

/** Sends a JSON text as it is (a client that does not go through JSON.stringify). */
async function sendText(method: string, pathname: string, text: string) {
  const response = await fetch(`${hub.url}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
    body: text,
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string; details?: unknown } } };
}

const nested = (levels: number, inner = '1') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;

function assertError(response: { status: number; body: { error?: { code: string } } }, status: number, code: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.error?.code, code, JSON.stringify(response.body));
}

test('a body nested thousands of levels deep is refused with 400 naming the limit, before anything walks it', async () => {
  const created = await admin.post('/actors/probe', { id: 'deep-1', input: { label: 'deep' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  for (const levels of [5_000, 10_000]) {
    const create = await sendText('POST', '/actors/probe', `{"id":"deep-2","input":${nested(levels)}}`);
    assertError(create, 400, 'invalid_request');
    assert.match(create.body.error?.message ?? '', /deeper than 64 levels/);
    assert.deepEqual(create.body.error?.details, { maxDepth: 64 });

    const event = await sendText('POST', '/actors/probe/deep-1/events', `{"type":"ADD","amount":1,"extra":${nested(levels)}}`);
    assertError(event, 400, 'invalid_request');
    assert.deepEqual(event.body.error?.details, { maxDepth: 64 });
  }
  // every JSON body, not only the actors'
  const settings = await sendText('PUT', '/admin/integrations/novaposhta', `{"settings":{"x":${nested(10_000, '{}')}}}`);
  assertError(settings, 400, 'invalid_request');

  // nothing was created, and the hub answers as before
  assertError(await admin.get('/actors/probe/deep-2'), 404, 'not_found');
  const added = await admin.post('/actors/probe/deep-1/events', { type: 'ADD', amount: 2 });
  assert.equal(added.status, 200, JSON.stringify(added.body));
});

test('brackets inside strings are text, not nesting; a body at the limit is read as usual', async () => {
  const label = nested(5_000, '"');
  const created = await admin.post(
    '/actors/probe',
    { id: 'deep-3', input: { label: label.slice(0, 200) } },
    { 'Idempotency-Key': 'deep-3' },
  );
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const message = `${'{['.repeat(400)}\\"${']}'.repeat(50)}`;
  const call = await admin.post('/actors/probe/deep-3/events', { type: 'CALL', message: message.slice(0, 1000) });
  assert.notEqual(call.status, 400, JSON.stringify(call.body));

  // 64 levels pass the depth check (the machine's own schema then judges the event)
  const atLimit = await sendText('POST', '/actors/probe/deep-3/events', `{"type":"ADD","amount":1,"extra":${nested(63)}}`);
  assertError(atLimit, 400, 'invalid_request');
  assert.doesNotMatch(atLimit.body.error?.message ?? '', /deeper than/);
  const pastLimit = await sendText('POST', '/actors/probe/deep-3/events', `{"type":"ADD","amount":1,"extra":${nested(64)}}`);
  assert.match(pastLimit.body.error?.message ?? '', /deeper than 64 levels/);
});

/** A loan application as Goodfin sends one, whose `details` (Goodfin's own block) nest `levels` objects deep. */
function applicationNesting(id: string, levels: number) {
  let details: unknown = 'bottom';
  for (let i = 0; i < levels; i += 1) details = { more: details };
  return {
    id,
    input: {
      applicationId: id,
      receivedMsgId: `${id}-msg`,
      receivedAt: '2026-11-22T10:00:00.000',
      productType: 'BankGuarantee',
      amount: 1_000_000,
      currency: 'RUB',
      client: { inn: '7701234560', name: 'ООО Ромашка' },
      documents: [{ documentId: 'd1', documentType: 'CHARTER', fileName: 'устав.pdf' }],
      details: { extra: details },
      policy: {
        limits: { BankGuarantee: { min: 100_000, max: 50_000_000 } },
        requiredDocuments: ['CHARTER'],
        reviewStatuses: ['UNDER_REVIEW'],
      },
    },
  };
}

test('HUB_JSON_MAX_DEPTH lowers the limit: a body the default takes is refused, with the same 400, by a hub configured for less', async () => {
  const deep = applicationNesting('depth-12', 9);
  assert.equal(jsonDepth(JSON.stringify(deep)), 12);
  const taken = await admin.post('/actors/goodfin-application', deep);
  assert.equal(taken.status, 201, `the default limit (64) takes it: ${JSON.stringify(taken.body)}`);

  const strict = await startHubProcess({ dbName: uniqueDatabaseName('json_depth'), env: { HUB_JSON_MAX_DEPTH: '10' } });
  try {
    const client = hubClient(strict.url);
    const refused = await client.post('/actors/goodfin-application', deep);
    assertError(refused, 400, 'invalid_request');
    assert.match(refused.body.error?.message ?? '', /deeper than 10 levels/);
    assert.deepEqual(refused.body.error?.details, { maxDepth: 10 });
    assertError(await client.get('/actors/goodfin-application/depth-12'), 404, 'not_found');
    // at the configured depth a body is read as usual
    const atLimit = applicationNesting('depth-10', 7);
    assert.equal(jsonDepth(JSON.stringify(atLimit)), 10);
    const created = await client.post('/actors/goodfin-application', atLimit);
    assert.equal(created.status, 201, JSON.stringify(created.body));
  } finally {
    await strict.terminate();
  }
});

test('the request fingerprint is the same text as before and takes any depth without recursion', () => {
  // idempotency records keep this hash: a repeat after an upgrade must still match the first request
  assert.equal(
    requestHash('create', 'probe', {
      input: { b: [1, 'x', null, { d: undefined, c: true }], a: 1.5, ключ: 'значення "в лапках"' },
      id: 'p-1',
    }),
    '6f890952bdeb3bf04fc9d4b2d6feb54ca8cf7243e236b62fcc81cee1450f68e7',
  );
  let deep: unknown = 'bottom';
  for (let i = 0; i < 100_000; i += 1) deep = i % 2 === 0 ? [deep] : { k: deep };
  assert.match(requestHash('event', 'probe/x', deep), /^[0-9a-f]{64}$/);
});

test('a control character in a search is refused with 400; regex characters are searched for literally', async () => {
  for (const pathname of [
    '/reference/cities?q=%00',
    '/reference/cities?q=abc%1Fdef',
    '/reference/warehouses?city=abc&q=%00',
    '/reference/warehouses?city=%00',
    '/admin/actors?q=%00',
    '/admin/actors?type=probe&state=%00',
    '/fiscal/receipts?state=%7F',
    '/pos/sales?store=%00',
  ]) {
    const response = await admin.get(pathname);
    assertError(response, 400, 'invalid_request');
    assert.match(JSON.stringify(response.body.error?.details), /control characters/, pathname);
  }
  for (const pathname of [
    '/reference/cities?q=(',
    '/reference/cities?q=%5B',
    '/reference/warehouses?city=abc&q=.*%5C',
    '/admin/actors?q=(%5B',
  ]) {
    const response = await admin.get(pathname);
    assert.equal(response.status, 200, `${pathname}: ${JSON.stringify(response.body)}`);
  }
});

test('an integration named like Object.prototype (`constructor` and its kin) is 404 and nothing is stored', async () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const put = await admin.call('PUT', `/admin/integrations/${name}`, { enabled: false });
    assertError(put, 404, 'not_found');
    assertError(await admin.get(`/admin/integrations/${name}`), 404, 'not_found');
  }
  const health = await admin.get('/admin/integrations/health');
  assert.equal(health.status, 200, JSON.stringify(health.body));
  const names = (health.body.integrations as Array<{ name: string; circuit: string; calls: number }>).map((i) => i.name);
  assert.ok(names.includes('novaposhta'));
  assert.ok(!names.includes('constructor'));
  const list = await admin.get('/admin/integrations');
  assert.ok(!(list.body.integrations as Array<{ name: string }>).some((i) => i.name === 'constructor'));

  // keys inside an integration's configuration are checked the same way
  const settings = await admin.call('PUT', '/admin/integrations/novaposhta', { settings: { constructor: { a: 1 } } });
  assertError(settings, 400, 'invalid_request');
  const credentials = await admin.call('PUT', '/admin/integrations/novaposhta', { credentials: { constructor: 'x' } });
  assertError(credentials, 400, 'invalid_request');
  const view = await admin.get('/admin/integrations/novaposhta');
  assert.equal(view.body.revision, 0);
});

test('devices, jobs, console assets and stores named like Object.prototype are refused or not found', async () => {
  const printer = { kind: 'receipt-printer', driver: 'escpos', path: '/dev/null' };
  const device = await admin.call('PUT', '/admin/devices/constructor', printer);
  assertError(device, 400, 'invalid_request');
  assertError(await admin.get('/admin/devices/constructor'), 404, 'not_found');
  const devices = await admin.get('/admin/devices');
  assert.deepEqual(devices.body.devices, []);

  for (const name of ['constructor', 'toString', '__proto__']) {
    assertError(await admin.post(`/admin/jobs/${name}/run`), 404, 'not_found');
    assertError(await admin.get(`/admin/assets/${name}`), 404, 'not_found');
  }

  const sale = await admin.post(
    '/pos/sales',
    {
      store: 'constructor',
      register: 'main',
      cashier: 'Оксана',
      currency: 'UAH',
      customer: null,
      items: [{ sku: 'CUP-1', name: 'Чашка', price: 25_000, qty: 1 }],
      payment: { method: 'cash' },
    },
    { 'Idempotency-Key': 'hostile-store-1' },
  );
  assertError(sale, 400, 'invalid_request');
  assert.match(sale.body.error?.message ?? '', /no store "constructor"/);
});
