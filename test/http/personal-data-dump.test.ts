import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import order from '../../machines/order.ts';
import payment from '../../machines/payment.ts';
import shipment from '../../machines/shipment.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, hubDatabases, startHubProcess, type HubProcess } from '../support/hub-process.ts';
import { personalDataInDump } from '../support/personal-data-dump.ts';
import { startMailbox, waitForMail, type Mailbox } from '../support/mailbox.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';
import { orderBody, payOnPage, waitForOrder } from '../support/shop.ts';

/**
 * "A dump of the database shows none of them": a real hub drives a customer's order through its whole flow
 * (payment at the Monobank sandbox, Nova Poshta shipment, mails, survey), then every collection of its database
 * and every file under its DATA_DIR is searched for the customer's name, phone and e-mail.
 */

// A customer no other test uses, so finding any piece of them means this hub stored it in clear.
const NAME = 'Зореслава Тестовенко';
const PHONE = '+380671239876';
const EMAIL = 'zoreslava.testovenko@example.com';
/** What a dump must not hold, in the spellings it could be stored in. */
const NEEDLES = ['Зореслава', 'Тестовенко', '671239876', 'zoreslava', 'testovenko'];

let hub: HubProcess | null = null;
let mailbox: Mailbox | null = null;
const dbName = uniqueDatabaseName('pii-dump');
let dataDir = '';

after(async () => {
  await hub?.terminate();
  await mailbox?.close();
  await assertHubJournalsReplay(hubDatabases(), [order, payment, shipment]);
});

test("a dump of the hub's database and files holds none of a customer's name, phone or e-mail after their order's whole flow", async () => {
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
  const body = orderBody({
    externalId: 'PII-FLOW',
    customer: { name: NAME, phone: PHONE, email: EMAIL },
    items: [{ sku: 'PII-CUP', name: 'Чашка', qty: 1, unitPrice: 25_000 }],
    total: 25_000,
  });
  const created = await client.post('/orders', body, { 'Idempotency-Key': 'pii-flow' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const paying = await waitForOrder(client, 'PII-FLOW', (o) => typeof o.paymentUrl === 'string', 'a payment page');
  await payOnPage(String(paying.paymentUrl), 'success');
  await waitForOrder(client, 'PII-FLOW', (o) => o.state === 'fulfilment.awaitingShipment', 'paid');
  await waitForMail(mailbox, EMAIL, /PII-FLOW/);
  const shipped = await client.post('/orders/PII-FLOW/shipped', {});
  assert.equal(shipped.status, 200, JSON.stringify(shipped.body));
  await waitForOrder(client, 'PII-FLOW', (o) => o.state === 'fulfilment.shipped', 'shipped');
  await client.post('/orders/PII-FLOW/delivered', {});
  await waitForMail(mailbox, EMAIL, /survey\?token=/);
  const surveyed = await waitForOrder(client, 'PII-FLOW', (o) => (o.survey as { sent?: boolean } | null)?.sent === true, 'survey sent');
  // the hub has written what it buffers (projections) by the time a list reads them
  await eventually(
    async () => {
      const { body } = await client.get(`/orders?state=${String(surveyed.state)}`);
      return (body as { orders: Array<{ id: string }> }).orders.find((o) => o.id === 'PII-FLOW');
    },
    20_000,
    'the order listed',
  );

  const found = await personalDataInDump({ dbName, dataDir, needles: NEEDLES });
  assert.deepEqual(found, [], `personal data stored in clear:\n${found.join('\n')}`);
});
