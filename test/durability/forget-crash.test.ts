import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { PersonalDataSealer } from '../../actors/runtime/personal-data.ts';
import { collectionsOf } from '../../persistence/collections.ts';
import { ERASED } from '../../persistence/personal-data-key.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, type HubProcess } from '../support/hub-process.ts';
import { hubCipherOf } from '../support/hub-cipher.ts';
import { orderBody, waitForOrder } from '../support/shop.ts';

/**
 * Forgetting a customer with many orders is a long run of writes; a hub killed (SIGKILL) half-way leaves
 * some orders erased and some not. The README promises that a repeat after the restart finishes the
 * job: this holds it to that with a real kill at a real moment, found by watching the database.
 */

const CUSTOMER = { name: 'Богдана Перервана', phone: '+380681239911', email: 'bohdana.perervana@example.com' };
const NEEDLES = ['Богдана', 'Перервана', '681239911', 'bohdana.perervana'];
const ORDERS = Array.from({ length: 30 }, (_, i) => `FKILL-${String(i + 1).padStart(2, '0')}`);
const ENV = { HUB_PERSONAL_DATA_RETENTION_DAYS: '0' };
/** orders created at once (each runs its reservation, delivery check and payment effects) */
const AT_ONCE = 5;

const dbName = uniqueDatabaseName('forget_crash');
let hub: HubProcess | null = null;
let mongo: MongoClient | null = null;

after(async () => {
  await hub?.terminate();
  await mongo?.close();
});

test('forgetting killed half-way: after the restart a repeat erases every order, nothing stays in clear, and the audit has the forget', async () => {
  hub = await startHubProcess({ dbName, env: ENV });
  let client = hubClient(hub.url);
  const product = await client.call('PUT', '/admin/products/FKILL-CUP', { name: 'Чашка', price: 25_000, stock: 100 });
  assert.ok(product.status === 200 || product.status === 201, JSON.stringify(product.body));
  for (let offset = 0; offset < ORDERS.length; offset += AT_ONCE) {
    await Promise.all(
      ORDERS.slice(offset, offset + AT_ONCE).map(async (id) => {
        const body = orderBody({
          externalId: id,
          customer: CUSTOMER,
          items: [{ sku: 'FKILL-CUP', name: 'Чашка', qty: 1, unitPrice: 25_000 }],
          total: 25_000,
        });
        const created = await client.post('/orders', body, { 'Idempotency-Key': id });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        await waitForOrder(client, id, (o) => typeof o.paymentUrl === 'string', `${id}: a payment page`);
        assert.equal((await client.post(`/orders/${id}/cancel`, { reason: 'changed my mind' })).status, 200);
        await waitForOrder(client, id, (o) => o.state === 'cancelled', `${id}: cancelled`);
      }),
    );
  }

  mongo = await MongoClient.connect(databaseUri());
  const db = mongo.db(dbName);
  const { actors, journal, audit } = collectionsOf(db);
  const orderKeys = ORDERS.map((id) => `order/${id}`);
  // the order's and its payment's entries: what forgetting overwrites
  const ownEntries = () => journal.find({ actor: { $regex: '^(order|payment)/FKILL-' } }, { projection: { snapshot: 1 } }).toArray();

  // forget, and kill the hub once about a third of the entries are erased (the orders go one after another)
  const firstRun = client.post('/admin/customers/forget', { phone: CUSTOMER.phone }).catch(() => null);
  const atKill = await eventually(
    async () => {
      const entries = await ownEntries();
      const erased = entries.filter((entry) => entry.snapshot.includes(ERASED)).length;
      return erased >= entries.length / 3 ? { erased, of: entries.length } : undefined;
    },
    60_000,
    'forgetting to have begun',
  );
  await hub.crash();
  hub = null;
  const erasedAtKill = (await ownEntries()).filter((entry) => entry.snapshot.includes(ERASED)).length;
  assert.ok(
    erasedAtKill < atKill.of,
    `killed half-way: ${erasedAtKill} of ${atKill.of} entries were erased (the kill must land before the end)`,
  );
  assert.equal(await firstRun, null, 'the first run never answered');
  // the orders a repeat finds: those whose projection (erased last) still carries the customer's look-up hash
  const stillFound = (await actors.find({ _id: { $in: orderKeys } }).toArray())
    .filter((order) => (order.personalIndex ?? []).length > 0)
    .map((order) => order.id);
  assert.ok(stillFound.length > 0 && stillFound.length < ORDERS.length, `${stillFound.length} orders are still to be forgotten`);

  hub = await startHubProcess({ dbName, env: ENV });
  client = hubClient(hub.url);
  const repeat = await client.post('/admin/customers/forget', { phone: CUSTOMER.phone });
  assert.equal(repeat.status, 200, JSON.stringify(repeat.body));
  const erasedNow = (repeat.body.erased as Array<{ id: string }>).map((order) => order.id).sort();
  assert.deepEqual(erasedNow, [...stillFound].sort(), 'the repeat erases what the first run left');
  assert.deepEqual(repeat.body.kept, []);

  for (const id of ORDERS) {
    const order = await client.get(`/orders/${id}`);
    assert.deepEqual(order.body.customer, { name: '[erased]', phone: '[erased]', email: '[erased]' }, id);
    assert.equal(order.body.state, 'cancelled', id);
  }

  // in the database: nothing in clear, and every sealed value the orders' actors, mail and audit hold opens to no part of the customer
  const sealer = new PersonalDataSealer(await hubCipherOf(db));
  const ownActors = { $regex: '^(order|payment|shipment)/FKILL-' };
  const stored = {
    journal: await journal.find({ actor: ownActors }).toArray(),
    actors: await actors.find({ _id: ownActors }).toArray(),
    mail: await db
      .collection('mail')
      .find({ orderId: { $in: ORDERS } })
      .toArray(),
    audit: await audit.find({ actor: ownActors }).toArray(),
  };
  assert.ok(stored.journal.length >= ORDERS.length * 3 && stored.mail.length >= ORDERS.length, JSON.stringify(Object.keys(stored)));
  const text = JSON.stringify(stored);
  const opened = (text.match(/pd1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+/g) ?? []).map((sealed) => JSON.stringify(sealer.cipher.open(sealed)));
  for (const needle of NEEDLES) {
    assert.ok(!text.includes(needle), `"${needle}" is nowhere in clear`);
    assert.ok(!opened.some((value) => value.includes(needle)), `"${needle}" is in no sealed value either`);
  }
  for (const doc of [...stored.journal, ...stored.actors])
    assert.deepEqual(doc.personalIndex ?? [], [], `${doc._id} holds no look-up hash of the customer`);
  for (const mail of stored.mail) assert.ok(mail.to === ERASED && mail.text === ERASED, `mail ${String(mail._id)} is erased`);
  for (const entry of stored.audit) {
    assert.ok(entry.request === null || entry.request === ERASED, `audit ${entry._id}: its request quote is erased`);
    assert.ok(entry.response === null || entry.response === ERASED, `audit ${entry._id}: its response quote is erased`);
  }

  const done = await client.get('/admin/audit?operation=customer.forget');
  const forgets = done.body.entries as Array<{ status: number; details: { erased?: string[] } }>;
  assert.ok(
    forgets.some((entry) => entry.status === 200 && [...(entry.details.erased ?? [])].sort().join() === erasedNow.join()),
    `the completed forget is audited: ${JSON.stringify(forgets)}`,
  );
  assert.deepEqual((await client.post('/admin/customers/forget', { email: CUSTOMER.email })).body, { erased: [], kept: [] });
  await hub.terminate();
  hub = null;
});

test('forgetting after a crash that lost the projections of the last commits: the state is read from the journal, and the erased projection stays erased', async () => {
  const lagDb = uniqueDatabaseName('forget_lag');
  hub = await startHubProcess({ dbName: lagDb, env: ENV });
  let client = hubClient(hub.url);
  await client.call('PUT', '/admin/products/FLAG-CUP', { name: 'Чашка', price: 25_000, stock: 10 });
  const body = orderBody({
    externalId: 'FLAG-1',
    customer: CUSTOMER,
    items: [{ sku: 'FLAG-CUP', name: 'Чашка', qty: 1, unitPrice: 25_000 }],
    total: 25_000,
  });
  assert.equal((await client.post('/orders', body, { 'Idempotency-Key': 'flag-1' })).status, 201);
  await waitForOrder(client, 'FLAG-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');
  assert.equal((await client.post('/orders/FLAG-1/cancel', { reason: 'changed my mind' })).status, 200);
  await waitForOrder(client, 'FLAG-1', (o) => o.state === 'cancelled', 'cancelled');
  // killed before the projection caught up (it is written once an actor has been quiet for a while)
  await hub.crash();
  hub = null;
  mongo ??= await MongoClient.connect(databaseUri());
  const db = mongo.db(lagDb);
  const { actors, journal } = collectionsOf(db);
  const lagging = await actors.findOne({ _id: 'order/FLAG-1' });
  const newest = (await journal.find({ actor: 'order/FLAG-1' }, { projection: { revision: 1 } }).toArray()).length;
  assert.ok(lagging && lagging.revision < newest, `the projection lags: revision ${lagging?.revision} of ${newest}`);
  assert.notEqual(lagging.state, 'cancelled');

  hub = await startHubProcess({ dbName: lagDb, env: ENV });
  client = hubClient(hub.url);
  const forgotten = await client.post('/admin/customers/forget', { phone: CUSTOMER.phone });
  assert.equal(forgotten.status, 200, JSON.stringify(forgotten.body));
  assert.deepEqual(
    (forgotten.body.erased as Array<{ id: string }>).map((order) => order.id),
    ['FLAG-1'],
  );
  // a graceful stop writes whatever projection is still to be written: none may bring the customer back
  await hub.terminate();
  hub = null;
  const sealer = new PersonalDataSealer(await hubCipherOf(db));
  const projections = await actors.find({ _id: { $regex: '^(order|payment)/FLAG-1' } }).toArray();
  assert.equal(projections.length, 2);
  for (const projection of projections) {
    assert.equal(projection.revision, (await journal.find({ actor: projection._id }).toArray()).length, `${projection._id} is up to date`);
    assert.deepEqual(projection.personalIndex ?? [], [], `${projection._id} holds no look-up hash`);
    const opened = (projection.snapshot.match(/pd1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+/g) ?? []).map((sealed) =>
      JSON.stringify(sealer.cipher.open(sealed)),
    );
    for (const needle of NEEDLES) assert.ok(!opened.some((value) => value.includes(needle)), `${projection._id}: "${needle}" is erased`);
  }

  hub = await startHubProcess({ dbName: lagDb, env: ENV });
  assert.deepEqual((await hubClient(hub.url).post('/admin/customers/forget', { email: CUSTOMER.email })).body, { erased: [], kept: [] });
});
