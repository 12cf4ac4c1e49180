import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { PersonalDataSealer } from '../../actors/runtime/personal-data.ts';
import { collectionsOf } from '../../persistence/collections.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, type HubProcess } from '../support/hub-process.ts';
import { hubCipherOf } from '../support/hub-cipher.ts';
import { orderBody, waitForOrder } from '../support/shop.ts';

const NAME = 'Мирослава Забудько';
const PHONE = '+380931117788';
const EMAIL = 'myroslava.zabudko@example.com';
const dbName = uniqueDatabaseName('forget');
let hub: HubProcess | null = null;
let keepingHub: HubProcess | null = null;

after(async () => {
  await hub?.terminate();
  await keepingHub?.terminate();
});

test('forgetting a customer: refused with the orders under way, then their finished order is erased everywhere, journal included, and audited', async () => {
  // no retention: a finished order may be erased at once
  hub = await startHubProcess({ dbName, env: { HUB_PERSONAL_DATA_RETENTION_DAYS: '0' } });
  const client = hubClient(hub.url);
  const product = await client.call('PUT', '/admin/products/FORGET-CUP', { name: 'Чашка', price: 25_000, stock: 10 });
  assert.ok(product.status === 200 || product.status === 201, JSON.stringify(product.body));
  const body = orderBody({
    externalId: 'FORGET-1',
    customer: { name: NAME, phone: PHONE, email: EMAIL },
    items: [{ sku: 'FORGET-CUP', name: 'Чашка', qty: 1, unitPrice: 25_000 }],
    total: 25_000,
  });
  const created = await client.post('/orders', body, { 'Idempotency-Key': 'forget-1' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await waitForOrder(client, 'FORGET-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');

  const operatorKey = await client.post('/admin/api-keys', { name: 'forget-operator', role: 'operator' });
  const operator = hubClient(hub.url, String(operatorKey.body.key));
  assert.equal((await operator.post('/admin/customers/forget', { phone: PHONE })).status, 403, 'only an admin forgets');
  assert.equal((await client.post('/admin/customers/forget', { phone: PHONE, email: EMAIL })).status, 400, 'one of them');

  const refused = await client.post('/admin/customers/forget', { phone: PHONE });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.deepEqual(refused.body.error?.details, { reason: 'orders_under_way', orders: [{ id: 'FORGET-1', state: 'paying' }] });
  assert.equal(((await client.get('/orders/FORGET-1')).body.customer as { name: string }).name, NAME, 'nothing erased');

  assert.equal((await client.post('/orders/FORGET-1/cancel', { reason: 'changed my mind' })).status, 200);
  await waitForOrder(client, 'FORGET-1', (o) => o.state === 'cancelled', 'cancelled');

  // found by the phone however it is written
  const forgotten = await client.post('/admin/customers/forget', { phone: '+38 (093) 111-77-88' });
  assert.equal(forgotten.status, 200, JSON.stringify(forgotten.body));
  const erased = forgotten.body.erased as Array<{ id: string; actors: string[] }>;
  assert.deepEqual(
    erased.map((o) => o.id),
    ['FORGET-1'],
  );
  assert.ok(erased[0]?.actors.includes('order/FORGET-1') && erased[0].actors.includes('payment/FORGET-1-P1'), JSON.stringify(erased));
  const after = await client.get('/orders/FORGET-1');
  assert.deepEqual(after.body.customer, { name: '[erased]', phone: '[erased]', email: '[erased]' });
  assert.equal(after.body.state, 'cancelled', 'the order itself stays');

  // in the database: every sealed value the order's actors and mail hold opens to no part of the customer
  const mongo = await MongoClient.connect(databaseUri());
  try {
    const db = mongo.db(dbName);
    const collections = collectionsOf(db);
    const sealer = new PersonalDataSealer(await hubCipherOf(db));
    const opened: string[] = [];
    const openAll = (text: string) => {
      for (const sealed of text.match(/pd1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+/g) ?? []) opened.push(JSON.stringify(sealer.cipher.open(sealed)));
    };
    const keys = erased[0]?.actors ?? [];
    const journal = await collections.journal.find({ actor: { $in: keys } }).toArray();
    assert.ok(journal.length >= 3, 'the journal entries are still there');
    openAll(JSON.stringify(journal));
    openAll(JSON.stringify(await collections.actors.find({ _id: { $in: keys } }).toArray()));
    openAll(JSON.stringify(await db.collection('mail').find({ orderId: 'FORGET-1' }).toArray()));
    const text = opened.join('\n');
    for (const needle of ['Мирослава', 'Забудько', '931117788', 'myroslava']) assert.ok(!text.includes(needle), `"${needle}" is erased`);
    assert.ok(JSON.stringify(journal).includes('pd1.erased'));
    assert.ok(
      journal.every((entry) => entry.personalIndex === undefined),
      'no look-up hash is left either',
    );
  } finally {
    await mongo.close();
  }

  const again = await client.post('/admin/customers/forget', { email: EMAIL });
  assert.deepEqual(again.body, { erased: [], kept: [] }, 'the customer is no longer found');

  const audit = await client.get('/admin/audit?operation=customer.forget');
  const entries = audit.body.entries as Array<{ status: number; principal: string; details: Record<string, unknown> }>;
  assert.deepEqual(
    entries.map((e) => e.status),
    [200, 200, 409],
  );
  assert.ok(!JSON.stringify(entries).includes('931117788') && !JSON.stringify(entries).includes('myroslava'), 'the audit names no one');
});

test('inside the retention period a finished order is kept whole: answered in `kept` with the day it may go, nothing erased', async () => {
  const keptDb = uniqueDatabaseName('forget_kept');
  keepingHub = await startHubProcess({ dbName: keptDb, env: { HUB_PERSONAL_DATA_RETENTION_DAYS: '30' } });
  const client = hubClient(keepingHub.url);
  await client.call('PUT', '/admin/products/KEEP-CUP', { name: 'Чашка', price: 25_000, stock: 10 });
  const body = orderBody({
    externalId: 'KEEP-1',
    customer: { name: NAME, phone: PHONE, email: EMAIL },
    items: [{ sku: 'KEEP-CUP', name: 'Чашка', qty: 1, unitPrice: 25_000 }],
    total: 25_000,
  });
  assert.equal((await client.post('/orders', body, { 'Idempotency-Key': 'keep-1' })).status, 201);
  await waitForOrder(client, 'KEEP-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');
  assert.equal((await client.post('/orders/KEEP-1/cancel', { reason: 'changed my mind' })).status, 200);
  await waitForOrder(client, 'KEEP-1', (o) => o.state === 'cancelled', 'cancelled');
  const finished = await client.get('/actors/order/KEEP-1');
  const finishedAt = Date.parse(String(finished.body.updatedAt));

  const asked = Date.now();
  const answer = await client.post('/admin/customers/forget', { email: EMAIL });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const until = new Date(finishedAt + 30 * 24 * 3600_000).toISOString();
  assert.deepEqual(answer.body, { erased: [], kept: [{ id: 'KEEP-1', state: 'cancelled', until }] });
  assert.ok(Date.parse(until) - asked > 29 * 24 * 3600_000, `kept for the next 30 days: until ${until}`);

  // nothing erased: an admin still reads the customer, and no stored document of the order holds the erased marker
  assert.deepEqual((await client.get('/orders/KEEP-1')).body.customer, { name: NAME, phone: PHONE, email: EMAIL });
  const journal = await client.get('/actors/order/KEEP-1/journal');
  const creation = (journal.body.entries as Array<{ event: { input: { customer: unknown } } }>)[0];
  assert.deepEqual(creation?.event.input.customer, { name: NAME, phone: PHONE, email: EMAIL });
  const mongo = await MongoClient.connect(databaseUri());
  try {
    const db = mongo.db(keptDb);
    const { actors, journal: entries } = collectionsOf(db);
    const keys = ['order/KEEP-1', 'payment/KEEP-1-P1'];
    const stored = JSON.stringify([
      await entries.find({ actor: { $in: keys } }).toArray(),
      await actors.find({ _id: { $in: keys } }).toArray(),
      await db.collection('mail').find({ orderId: 'KEEP-1' }).toArray(),
    ]);
    assert.ok(!stored.includes('pd1.erased'), 'nothing is erased');
    assert.ok((await actors.findOne({ _id: 'order/KEEP-1' }))?.personalIndex?.length, 'the order is still found by its customer');
  } finally {
    await mongo.close();
  }

  const audit = await client.get('/admin/audit?operation=customer.forget');
  const entries = audit.body.entries as Array<{ status: number; details: { erased: string[]; kept: string[] } }>;
  assert.deepEqual(
    entries.map((entry) => [entry.status, entry.details.erased, entry.details.kept]),
    [[200, [], ['KEEP-1']]],
  );
});
