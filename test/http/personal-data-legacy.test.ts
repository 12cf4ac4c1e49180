import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Db } from 'mongodb';
import { PERSONAL_DATA_BACKFILL_MARKER } from '../../actors/runtime/personal-data-backfill.ts';
import { PersonalDataSealer } from '../../actors/runtime/personal-data.ts';
import { allMachines } from '../../machines/index.ts';
import type { PersistedSnapshotJson } from '../../machines/machine-module.ts';
import { collectionsOf } from '../../persistence/collections.ts';
import { PersonalDataCipher } from '../../persistence/personal-data-key.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, type HubProcess } from '../support/hub-process.ts';
import { hubCipherOf } from '../support/hub-cipher.ts';
import { replayEveryActor } from '../support/replay.ts';
import { orderBody, waitForOrder } from '../support/shop.ts';

/**
 * A database written by a hub from before personal data was sealed: projections and journal entries
 * hold the customer in clear and carry no look-up index. The test makes one the honest way — a real
 * hub writes the orders, then their documents are opened back into clear and stripped of the index, as
 * the old hub stored them — and starts the current hub on it.
 */

const FORGOTTEN = { name: 'Ярослава Давня-Запис', phone: '+380671230077', email: 'yaroslava.davnia@example.com' };
const REMEMBERED = { name: 'Остап Незабутній', phone: '+380631230088', email: 'ostap.nezabutnii@example.com' };
const SECRETS = [FORGOTTEN.name, '671230077', FORGOTTEN.email, REMEMBERED.name, '631230088', REMEMBERED.email];

const dbName = uniqueDatabaseName('pd_legacy');
let hub: HubProcess | null = null;
let mongo: MongoClient | null = null;

after(async () => {
  await hub?.terminate();
  await mongo?.close();
});

const withPersonalData = allMachines.filter((module) => module.personalData);

async function sealerOf(db: Db): Promise<PersonalDataSealer> {
  return new PersonalDataSealer(await hubCipherOf(db));
}

/** Every actor and journal entry of a machine with personal data, as a hub from before sealing stored it. */
async function rewriteAsBeforeSealing(db: Db, sealer: PersonalDataSealer): Promise<void> {
  const { actors, journal, hubMeta } = collectionsOf(db);
  for (const module of withPersonalData) {
    for (const actor of await actors.find({ type: module.type }).toArray()) {
      const opened = sealer.openSnapshot(module, JSON.parse(actor.snapshot) as PersistedSnapshotJson);
      await actors.updateOne({ _id: actor._id }, { $set: { snapshot: JSON.stringify(opened) }, $unset: { personalIndex: '' } });
    }
  }
  for (const entry of await journal.find({}).toArray()) {
    const module = withPersonalData.find((candidate) => entry.actor.startsWith(`${candidate.type}/`));
    if (!module) continue;
    const snapshot = sealer.openSnapshot(module, JSON.parse(entry.snapshot) as PersistedSnapshotJson);
    const event = sealer.openEvent(module, entry.eventType, JSON.parse(entry.event) as unknown);
    await journal.updateOne(
      { _id: entry._id },
      { $set: { snapshot: JSON.stringify(snapshot), event: JSON.stringify(event) }, $unset: { personalIndex: '' } },
    );
  }
  await hubMeta.deleteMany({ _id: { $regex: `^${PERSONAL_DATA_BACKFILL_MARKER}` } });
}

/** The text of every projection and journal entry of the machines with personal data. */
async function storedText(db: Db): Promise<string> {
  const { actors, journal } = collectionsOf(db);
  const types = withPersonalData.map((module) => module.type);
  const entries = (await journal.find({}).toArray()).filter((entry) => types.some((type) => entry.actor.startsWith(`${type}/`)));
  return JSON.stringify([await actors.find({ type: { $in: types } }).toArray(), entries]);
}

test('orders stored in clear by a hub from before sealing are sealed and indexed at the next start, read whole, and are found to be forgotten', async () => {
  hub = await startHubProcess({ dbName, env: { HUB_PERSONAL_DATA_RETENTION_DAYS: '0' } });
  let client = hubClient(hub.url);
  const product = await client.call('PUT', '/admin/products/LEGACY-CUP', { name: 'Чашка', price: 25_000, stock: 10 });
  assert.ok(product.status === 200 || product.status === 201, JSON.stringify(product.body));
  for (const [id, customer] of [
    ['LEGACY-1', FORGOTTEN],
    ['LEGACY-2', REMEMBERED],
  ] as const) {
    const body = orderBody({
      externalId: id,
      customer,
      items: [{ sku: 'LEGACY-CUP', name: 'Чашка', qty: 1, unitPrice: 25_000 }],
      total: 25_000,
    });
    assert.equal((await client.post('/orders', body, { 'Idempotency-Key': id })).status, 201);
    await waitForOrder(client, id, (o) => typeof o.paymentUrl === 'string', 'a payment page');
    assert.equal((await client.post(`/orders/${id}/cancel`, { reason: 'changed my mind' })).status, 200);
    await waitForOrder(client, id, (o) => o.state === 'cancelled', 'cancelled');
  }
  // a graceful stop writes every projection; nothing writes while the documents are rewritten
  await hub.terminate();
  hub = null;

  mongo = await MongoClient.connect(databaseUri());
  const db = mongo.db(dbName);
  const { actors, journal, hubMeta } = collectionsOf(db);
  const sealer = await sealerOf(db);
  await rewriteAsBeforeSealing(db, sealer);
  const legacy = await storedText(db);
  for (const secret of SECRETS) assert.ok(legacy.includes(secret), `the old form holds "${secret}" in clear`);
  assert.ok(!legacy.includes('personalIndex'), 'and no look-up index');

  hub = await startHubProcess({ dbName, env: { HUB_PERSONAL_DATA_RETENTION_DAYS: '0', LOG_LEVEL: 'info' } });
  client = hubClient(hub.url);
  // asked at once, while the backfill may still run: refused until it is done, never answered without the order
  const forgotten = await eventually(
    async () => {
      const answer = await client.post('/admin/customers/forget', { phone: FORGOTTEN.phone });
      if (answer.status === 503 && answer.body.error?.code === 'unavailable') return undefined;
      return answer;
    },
    30_000,
    'forgetting to be possible',
  );
  assert.equal(forgotten.status, 200, JSON.stringify(forgotten.body));
  assert.deepEqual(
    (forgotten.body.erased as Array<{ id: string }>).map((order) => order.id),
    ['LEGACY-1'],
  );
  assert.deepEqual((await client.get('/orders/LEGACY-1')).body.customer, { name: '[erased]', phone: '[erased]', email: '[erased]' });

  const marker = await eventually(
    async () => (await hubMeta.findOne({ _id: { $regex: `^${PERSONAL_DATA_BACKFILL_MARKER}:` } })) ?? undefined,
    30_000,
    'the backfill to complete',
  );
  assert.ok(marker.updatedAt instanceof Date);
  const stored = await storedText(db);
  for (const secret of SECRETS) assert.ok(!stored.includes(secret), `"${secret}" is sealed or erased everywhere`);

  // the other order: sealed and indexed by its customer's phone and e-mail, projection and every journal entry
  const indexes = new Set([sealer.cipher.blindIndex('phone', REMEMBERED.phone), sealer.cipher.blindIndex('email', REMEMBERED.email)]);
  const projection = await actors.findOne({ _id: 'order/LEGACY-2' });
  assert.deepEqual(new Set(projection?.personalIndex), indexes);
  const entries = await journal.find({ actor: 'order/LEGACY-2' }).toArray();
  assert.ok(entries.length >= 3, `the order's journal: ${entries.length} entries`);
  for (const entry of entries) {
    assert.deepEqual(new Set(entry.personalIndex), indexes, `revision ${entry.revision} is indexed`);
    const context = (JSON.parse(entry.snapshot) as { context: { customer: Record<string, unknown> } }).context;
    assert.ok(
      Object.values(context.customer).every((value) => PersonalDataCipher.isSealed(value)),
      `revision ${entry.revision} is sealed`,
    );
  }
  // sealed where the runtime seals, events included: the journals still replay to their stored snapshots
  // (but the forgotten order's, whose erased journal no longer does)
  const replay = await replayEveryActor(collectionsOf(db), withPersonalData);
  assert.deepEqual(
    replay.divergences.filter((divergence) => !/^(order\/LEGACY-1|payment\/LEGACY-1-P\d+) /.test(divergence)),
    [],
  );
  assert.ok((replay.replayed.order ?? 0) === 2 && (replay.replayed.payment ?? 0) === 2, JSON.stringify(replay.replayed));

  // read whole over HTTP: the order, and its journal's creation event
  assert.deepEqual((await client.get('/orders/LEGACY-2')).body.customer, REMEMBERED);
  const history = await client.get('/actors/order/LEGACY-2/journal');
  const creation = (history.body.entries as Array<{ event: { input: { customer: unknown } } }>)[0];
  assert.deepEqual(creation?.event.input.customer, REMEMBERED);

  // what the backfill logged: its progress in counts, no customer
  const log = hub.output();
  assert.match(log, /personal data backfill complete/);
  for (const secret of SECRETS) assert.ok(!log.includes(secret), `the log does not name "${secret}"`);
});
