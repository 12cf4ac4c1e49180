import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JOWI_SANDBOX_CREDENTIALS, startJowiSandbox, type JowiSandbox } from '../../actors/platform/connectors/jowi/sandbox.ts';
import { ROZETKA_SANDBOX_CREDENTIALS, startRozetkaSandbox, type RozetkaSandbox } from '../../actors/platform/connectors/rozetka/sandbox.ts';
import { EscPosEmulator } from '../../hardware/emulators/escpos-emulator.ts';
import { ShtrihMEmulator } from '../../hardware/emulators/shtrih-m-emulator.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { dealPayload, pushToHub, settledApplication } from '../support/goodfin.ts';
import { hubClient, startHubProcess, TEST_ADMIN_KEY, type HubProcess } from '../support/hub-process.ts';
import { personalDataInDump } from '../support/personal-data-dump.ts';

/**
 * The dump test of the partners' people: a Goodfin client (its application, the messages about it, its
 * downloaded documents), a Rozetka buyer (held, then imported), a JOWi Club customer (a webhook, the cache,
 * a sale at the till and its accrual). Each flow runs on a real hub against its sandbox; then every collection
 * and every file under DATA_DIR is searched for the people's names, phones, cards, tax numbers and documents.
 */

// people no other test uses: finding any piece of them means this hub stored it in clear
const GOODFIN_CLIENT = { inn: '7736050003', name: 'ТОВ «Шифроліс»', phone: '+79161239911', address: 'Москва, Сокольнический вал, 7' };
const BUYER = { name: 'Остап Шифрованюк', phone: '380661119922', email: 'ostap.shyfrovaniuk@example.com' };
const LOYAL = { id: 'c-7700', name: 'Гульнора Шифрланова', phone: '998907775533', card: 'JC-7775-5331' };
const NEEDLES = [
  '7736050003',
  'Шифроліс',
  '9161239911',
  'Сокольнический',
  'Шифрованюк',
  '661119922',
  'shyfrovaniuk',
  'Шифрланова',
  '907775533',
  'JC-7775-5331',
  // the text of the Goodfin sandbox's sample document: a client's file stored in clear shows it
  'Goodfin sandbox document',
];

let dir = '';
let dataDir = '';
let register: ShtrihMEmulator;
let printer: EscPosEmulator;
let jowi: JowiSandbox;
let rozetka: RozetkaSandbox;
let hub: HubProcess;
let client: ReturnType<typeof hubClient>;
const dbName = uniqueDatabaseName('pii-partners');

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pii-partners-'));
  dataDir = path.join(dir, 'hub');
  register = await ShtrihMEmulator.start({ dir, name: 'till' });
  printer = await EscPosEmulator.start({ dir, name: 'slips' });
  jowi = await startJowiSandbox();
  rozetka = await startRozetkaSandbox();
  hub = await startHubProcess({
    dbName,
    dataDir,
    env: {
      HUB_POS_POLICY: JSON.stringify({ stores: { main: { title: 'Чайхона', fiscalRegister: 'main', receiptPrinter: 'slips' } } }),
      HUB_INTEGRATION_JOWI: JSON.stringify({ baseUrl: jowi.url, credentials: JOWI_SANDBOX_CREDENTIALS }),
      HUB_INTEGRATION_ROZETKA: JSON.stringify({
        baseUrl: rozetka.url,
        credentials: ROZETKA_SANDBOX_CREDENTIALS,
        settings: { enabled: true, ordersIntervalMinutes: 600, pushIntervalSeconds: 3600 },
      }),
    },
  });
  client = hubClient(hub.url);
  jowi.webhookTo(`${hub.url}/webhooks/jowi`);
  for (const [name, device] of Object.entries({
    main: { kind: 'fiscal-register', driver: 'shtrih-m', path: register.hostPath, operatorPassword: 1, adminPassword: 30 },
    slips: { kind: 'receipt-printer', driver: 'escpos', path: printer.hostPath },
  })) {
    const put = await client.call('PUT', `/admin/devices/${name}`, device);
    assert.equal(put.status, 201, JSON.stringify(put.body));
  }
});

after(async () => {
  await hub?.terminate();
  await jowi?.close();
  await rozetka?.close();
  await register?.stop();
  await printer?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function assertNothingInClear(when: string): Promise<void> {
  const found = await personalDataInDump({ dbName, dataDir, needles: NEEDLES });
  assert.deepEqual(found, [], `${when}: personal data stored in clear:\n${found.join('\n')}`);
}

const runJob = async (name: string) => {
  const run = await client.post(`/admin/jobs/${name}/run`);
  assert.equal(run.status, 200, JSON.stringify(run.body));
  return run.body as unknown as { output: Record<string, unknown> | null };
};

test("a dump holds none of a Goodfin client's, a Rozetka buyer's or a loyalty customer's data, while their business is under way and after", async () => {
  // Goodfin: an application with the client's block and two documents, downloaded and answered
  const deal = dealPayload('gf-pii-1', { inn: GOODFIN_CLIENT.inn });
  const pushed = await pushToHub(hub.url, 'AddDealApplication', {
    ...deal,
    requestData: { ...deal.requestData, client: GOODFIN_CLIENT },
  });
  assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
  await client.waitForState('/applications/gf-pii-1', 'active.readyForSigning');
  await settledApplication(client, 'gf-pii-1');
  const application = (await client.get('/applications/gf-pii-1')).body as {
    documents: Array<{ downloaded: boolean; url: string | null }>;
  };
  assert.ok(
    application.documents.every((d) => d.downloaded),
    'the documents are downloaded',
  );
  // stored sealed, served whole to staff who read personal data; a viewer may not fetch a client's file
  const documentUrl = `${hub.url}${application.documents[0]?.url ?? ''}`;
  const file = await fetch(documentUrl, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
  assert.equal(file.status, 200);
  assert.match(Buffer.from(await file.arrayBuffer()).toString('latin1'), /^%PDF-[\s\S]*Goodfin sandbox document/);
  const viewer = String((await client.post('/admin/api-keys', { name: 'pii-viewer', role: 'viewer' })).body.key);
  const asViewer = await fetch(documentUrl, { headers: { authorization: `Bearer ${viewer}` } });
  assert.equal(asViewer.status, 403);

  // Rozetka: the buyer's order names a product not mapped yet, so it is held, then imported once it is
  rozetka.addProduct({ name: 'Кобзар', rzItemId: 880_077, price: 650, stock: 3 });
  const placed = rozetka.addOrder({
    lines: [{ itemId: 880_077, qty: 1 }],
    paid: true,
    delivery: { novaPoshtaBranch: 0 },
    customer: BUYER,
  });
  const held = await runJob('marketplace-orders:rozetka');
  assert.ok(((held.output as { held?: number } | null)?.held ?? 0) >= 1, JSON.stringify(held.output));
  type HeldView = { held: Array<{ externalId: string; order: { customer: { name: string; phone: string } } }> };
  const heldBuyer = async (key: string) =>
    ((await hubClient(hub.url, key).get('/admin/marketplaces/rozetka/held')).body as unknown as HeldView).held.find(
      (h) => h.externalId === String(placed.id),
    )?.order.customer;
  assert.deepEqual(await heldBuyer(TEST_ADMIN_KEY), { ...BUYER }, 'staff read the held buyer');
  assert.deepEqual(await heldBuyer(viewer), { name: 'О*** Ш***', phone: '38066***9922', email: 'o***@example.com' }, 'a viewer, masked');

  // JOWi: the customer arrives by a signed webhook, then buys at the till with their phone
  const upserted = jowi.upsertCustomer({ id: LOYAL.id, name: LOYAL.name, phone: LOYAL.phone, card: LOYAL.card, level: 'silver' });
  assert.equal((await upserted.delivered)?.status, 200);
  const tea = await client.call('PUT', '/admin/products/PII-TEA', { name: 'Чай', price: 1_500_000, stock: 10 });
  assert.equal(tea.status, 201, JSON.stringify(tea.body));
  const sold = await client.post(
    '/pos/sales',
    {
      store: 'main',
      register: 'till-1',
      cashier: 'Олена',
      currency: 'UZS',
      customer: { phone: `+${LOYAL.phone}` },
      items: [{ sku: 'PII-TEA', name: 'Чай', qty: 1, price: 1_500_000 }],
      payment: { method: 'cash' },
    },
    { 'Idempotency-Key': 'pii-sale-1' },
  );
  assert.equal(sold.status, 201, JSON.stringify(sold.body));
  const saleId = String(sold.body.id);
  assert.equal((sold.body.loyalty as { status: string }).status, 'applied', 'the customer was found');

  await assertNothingInClear('with the application ready, the buyer held and the sale open');

  const listed = await client.call('PUT', '/admin/products/PII-KOBZAR', {
    name: 'Кобзар',
    price: 65_000,
    stock: 3,
    marketplaces: { rozetka: { itemId: 880_077, price: 65_000 } },
  });
  assert.equal(listed.status, 201, JSON.stringify(listed.body));
  const orderId = `rozetka-${placed.id}`;
  await eventually(
    async () => {
      await runJob('marketplace-orders:rozetka');
      return (await client.get(`/orders/${orderId}`)).status === 200;
    },
    60_000,
    'the held order imported',
  );
  const imported = (await client.get(`/orders/${orderId}`)).body as { customer: { name: string } };
  assert.equal(imported.customer.name, BUYER.name, 'an admin reads the buyer in clear');

  assert.equal((await client.post(`/pos/sales/${saleId}/paid`, { tendered: 1_500_000 })).status, 200);
  const done = await eventually(
    async () => {
      const sale = (await client.get(`/pos/sales/${saleId}`)).body as { state: string; accrual: { status: string } | null };
      return sale.state === 'completed' && sale.accrual?.status === 'delivered' ? sale : undefined;
    },
    90_000,
    'the sale completed and its accrual delivered',
  );
  assert.equal(done.state, 'completed');
  assert.equal(jowi.transactions().filter((t) => t.externalId === saleId).length, 1);

  await assertNothingInClear('after the order is imported and the sale accrued');
});
