import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import order from '../../machines/order.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, hubDatabases, startHubProcess, type HubProcess } from '../support/hub-process.ts';
import { startMailbox, type Mailbox } from '../support/mailbox.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';
import { orderBody } from '../support/shop.ts';

const NAME = 'Зореслава Тестовенко';
const PHONE = '+380671239876';
const EMAIL = 'zoreslava.testovenko@example.com';
/** What a viewer must not read, in any spelling. */
const NEEDLES = ['Зореслава', 'Тестовенко', '671239876', 'zoreslava', 'testovenko'];

let hub: HubProcess | null = null;
let mailbox: Mailbox | null = null;
const dbName = uniqueDatabaseName('pii');
let dataDir = '';

async function shop() {
  if (!hub) {
    mailbox = await startMailbox();
    dataDir = await mkdtemp(path.join(tmpdir(), 'hub-pii-'));
    hub = await startHubProcess({
      dbName,
      dataDir,
      env: { HUB_MAIL_SMTP_URL: `smtp://127.0.0.1:${mailbox.port}`, HUB_MAIL_FROM: 'shop@example.com' },
    });
    const client = hubClient(hub.url);
    const product = await client.call('PUT', '/admin/products/PII-CUP', { name: 'Чашка', price: 25_000, stock: 10 });
    assert.ok(product.status === 200 || product.status === 201, JSON.stringify(product.body));
  }
  return { hub, client: hubClient(hub.url), mailbox: mailbox as Mailbox };
}

after(async () => {
  await hub?.terminate();
  await mailbox?.close();
  await assertHubJournalsReplay(hubDatabases(), [order]);
});

const customerBody = (externalId: string) =>
  orderBody({
    externalId,
    customer: { name: NAME, phone: PHONE, email: EMAIL },
    items: [{ sku: 'PII-CUP', name: 'Чашка', qty: 1, unitPrice: 25_000 }],
    total: 25_000,
  });

test('an admin and an operator read the customer in clear; a viewer sees masks, in views, lists and the journal', async () => {
  const { client, hub } = await shop();
  const created = await client.post('/orders', customerBody('PII-VIEW'), { 'Idempotency-Key': 'pii-view' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const keys: Record<string, string> = {};
  for (const role of ['viewer', 'operator']) {
    const made = await client.post('/admin/api-keys', { name: `pii-${role}`, role });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    keys[role] = String(made.body.key);
  }
  const viewer = hubClient(hub.url, keys.viewer);
  const operator = hubClient(hub.url, keys.operator);

  for (const reader of [client, operator]) {
    const seen = await reader.get('/orders/PII-VIEW');
    assert.equal(seen.status, 200);
    assert.deepEqual(seen.body.customer, { name: NAME, phone: PHONE, email: EMAIL });
  }
  const masked = { name: 'З*** Т***', phone: '+38067***9876', email: 'z***@example.com' };
  const viewed = await viewer.get('/orders/PII-VIEW');
  assert.equal(viewed.status, 200);
  assert.deepEqual(viewed.body.customer, masked);

  const actor = await viewer.get('/actors/order/PII-VIEW');
  assert.deepEqual((actor.body.context as { customer: unknown }).customer, masked);
  const inspected = await viewer.get('/admin/actors/order/PII-VIEW');
  assert.deepEqual((inspected.body.context as { customer: unknown }).customer, masked);
  const adminInspected = await client.get('/admin/actors/order/PII-VIEW');
  assert.equal((adminInspected.body.context as { customer: { phone: string } }).customer.phone, PHONE);

  type Journal = { entries: Array<{ event: { type: string; input?: { customer: unknown } } }> };
  const journalOf = async (reader: typeof client) =>
    ((await reader.get('/actors/order/PII-VIEW/journal')).body as unknown as Journal).entries[0]?.event.input?.customer;
  assert.deepEqual(await journalOf(client), { name: NAME, phone: PHONE, email: EMAIL }, "the journal's creation, opened for an admin");
  assert.deepEqual(await journalOf(viewer), masked, 'and masked for a viewer');

  const listed = await eventually(
    async () => {
      const { body } = await viewer.get('/orders');
      return (body as { orders: Array<{ id: string; customer: string }> }).orders.find((o) => o.id === 'PII-VIEW');
    },
    10_000,
    'the order listed',
  );
  assert.equal(listed.customer, masked.name);
  for (const response of [viewed, actor, inspected])
    for (const needle of NEEDLES) assert.ok(!JSON.stringify(response.body).includes(needle), `a viewer never reads "${needle}"`);
});
