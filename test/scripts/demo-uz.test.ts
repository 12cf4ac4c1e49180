import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, TEST_ADMIN_KEY, type HubProcess } from '../support/hub-process.ts';

/**
 * `npm run demo:uz` against a real hub process: it pays a soum order through
 * the Payme sandbox's page and another through the Click sandbox's page, as
 * a payer would, and the hub's API shows both paid; its failures (no hub,
 * a wrong key, live integrations that nobody pays) are said and exit 1.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let hub: HubProcess;
let client: ReturnType<typeof hubClient>;
let dataDir = '';

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'demo-uz-'));
  // where `npm start` leaves the admin key it generated
  await writeFile(path.join(dataDir, 'admin-api-key'), `${TEST_ADMIN_KEY}\n`);
  hub = await startHubProcess({ dbName: uniqueDatabaseName('demo_uz') });
  client = hubClient(hub.url);
});

after(async () => {
  await hub?.terminate();
  await rm(dataDir, { recursive: true, force: true });
});

function demo(args: string[], env: Record<string, string> = {}) {
  const childEnv: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir, ...env };
  for (const name of ['HUB_URL', 'HUB_API_KEY', 'ADMIN_API_KEY']) if (!(name in env)) delete childEnv[name];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/demo-uz.ts'), ...args], {
    cwd: repoRoot,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
}

const orderIds = (output: string) => ({
  payme: /order (UZ-PAYME-[A-Z0-9]+):/.exec(output)?.[1] ?? '',
  click: /order (UZ-CLICK-[A-Z0-9]+):/.exec(output)?.[1] ?? '',
});

async function sandboxViolations(name: string): Promise<string[]> {
  const base = String((await client.get(`/admin/integrations/${name}`)).body.baseUrl);
  const response = await fetch(`${base}/__sandbox/violations`);
  return ((await response.json()) as { violations: string[] }).violations;
}

test('with no hub at the address it says so and exits 1', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const run = await demo(['--hub', `http://127.0.0.1:${port}`, '--key', 'whatever-key']);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /no hub answers at http:\/\/127\.0\.0\.1:\d+ .*npm start/);
});

test('a key the hub refuses is said, before anything is created', async () => {
  const run = await demo([], { HUB_URL: hub.url, HUB_API_KEY: 'not-the-admin-key-0000000000' });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /refused the API key \(401\)/);
  assert.equal(((await client.get('/orders')).body.orders as unknown[]).length, 0);
});

test('npm run demo:uz pays a UZS order on the Payme page and another on the Click page; the hub shows both paid and confirmed', async () => {
  // the key from DATA_DIR/admin-api-key, the hub from --hub
  const first = await demo(['--hub', hub.url]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const ids = orderIds(first.stdout);
  assert.ok(ids.payme && ids.click, first.stdout);
  assert.match(first.stdout, /link: http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9+/=]+/);
  assert.match(first.stdout, /link: http:\/\/127\.0\.0\.1:\d+\/services\/pay\?service_id=/);
  assert.match(first.stdout, new RegExp(`QR code: ${hub.url}/orders/${ids.payme}/payment-qr .*HTTP 200`));
  assert.match(first.stdout, /Payme transaction [0-9a-f]{24}, state 2/);
  assert.match(first.stdout, /Click click_trans_id \d+ .*paid/);

  for (const [provider, id] of Object.entries(ids)) {
    const order = (await client.get(`/orders/${id}`)).body as {
      state: string;
      currency?: string;
      payment: { method: string; current: { id: string; provider: string; state: string; paid: boolean; amount: number } };
    };
    assert.equal(order.state, 'fulfilment.awaitingShipment', `${id}: ${JSON.stringify(order)}`);
    assert.equal(order.payment.method, provider);
    assert.deepEqual(
      [order.payment.current.provider, order.payment.current.state, order.payment.current.paid, order.payment.current.amount],
      [provider, 'succeeded', true, 1_500_000],
    );
    // the provider told the hub through its merchant endpoint (a webhook), not a poll
    const payment = (await client.get(`/actors/payment/${order.payment.current.id}`)).body as {
      context: { history: Array<{ status: string; source: string; applied: boolean }> };
    };
    assert.ok(
      payment.context.history.some((h) => h.status === 'success' && h.source === 'webhook' && h.applied),
      JSON.stringify(payment.context.history),
    );
  }
  assert.deepEqual(await sandboxViolations('payme'), []);
  assert.deepEqual(await sandboxViolations('click'), []);

  // again: new orders, paid as well
  const second = await demo([], { HUB_URL: hub.url, HUB_API_KEY: TEST_ADMIN_KEY });
  assert.equal(second.code, 0, second.stdout + second.stderr);
  const again = orderIds(second.stdout);
  assert.notEqual(again.payme, ids.payme);
  assert.notEqual(again.click, ids.click);
  for (const id of Object.values(again)) assert.equal((await client.get(`/orders/${id}`)).body.state, 'fulfilment.awaitingShipment');
});

test('with live (not sandboxed) integrations it prints the links to pay by hand, and a timeout names the state each order is in', async () => {
  for (const [name, credentials] of Object.entries({
    payme: { merchantId: '5e730e8e0b852a417aa49cec', key: 'a-real-cashbox-key' },
    click: { serviceId: '1', merchantId: '2', secretKey: 'a-real-secret', merchantUserId: '3' },
  })) {
    const put = await client.call('PUT', `/admin/integrations/${name}`, { credentials });
    assert.equal(put.status, 200, JSON.stringify(put.body));
  }
  const run = await demo(['--hub', hub.url, '--key', TEST_ADMIN_KEY, '--timeout', '3']);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /Payme: configured with real credentials — its link has to be paid by hand/);
  assert.match(run.stdout, /pay UZ-PAYME-\w+ by hand: open https:\/\/checkout\.paycom\.uz\/\S+/);
  assert.match(run.stdout, /pay UZ-CLICK-\w+ by hand: open https:\/\/my\.click\.uz\/services\/pay\?\S+/);
  assert.match(run.stderr, /timed out waiting for the orders to be paid and confirmed; still waiting:/);
  assert.match(run.stderr, /UZ-PAYME-\w+: order paying, payment pending\.waiting/);
  assert.match(run.stderr, /UZ-CLICK-\w+: order paying, payment pending\.waiting/);
});
