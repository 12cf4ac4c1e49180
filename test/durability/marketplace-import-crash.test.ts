import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { startUzumSandbox, UZUM_SANDBOX_CREDENTIALS, type UzumSandbox } from '../../actors/platform/connectors/uzum/sandbox.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess } from '../support/hub-process.ts';

const ORDERS = 70;

test('a hub SIGKILLed in the middle of an Uzum import makes every order once after its restart, and confirms each once', async () => {
  // Uzum lives on in this process while the hub dies
  const uzum = await startUzumSandbox();
  const dbName = uniqueDatabaseName('marketplace-crash');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-marketplace-crash-'));
  const env = {
    HUB_INTEGRATION_UZUM: JSON.stringify({
      baseUrl: uzum.url,
      credentials: UZUM_SANDBOX_CREDENTIALS,
      settings: { enabled: true, ordersIntervalMinutes: 600, pushIntervalSeconds: 3600 },
    }),
  };
  const mongo = await new MongoClient(databaseUri()).connect();
  let hub = await startHubProcess({ dbName, dataDir, env });
  try {
    let client = hubClient(hub.url);
    const listed = await client.call('PUT', '/admin/products/PIYOLA-6', {
      name: 'Піали, 6 шт',
      price: 9_600_000,
      stock: 1_000,
      marketplaces: { uzum: { skuId: 4100003, barcode: '4780000000031' } },
    });
    assert.equal(listed.status, 201, JSON.stringify(listed.body));
    const placed = Array.from({ length: ORDERS }, () => uzum.addOrder({ lines: [{ skuId: 4100003, qty: 1 }] }));
    // pages answer slowly, so that the kill lands between pages as well as inside one
    uzum.faults.inject({ kind: 'latency', ms: 200, path: '/v2/fbs/orders' });

    void client.post('/admin/jobs/marketplace-orders:uzum/run').catch(() => undefined);
    const actors = mongo.db(dbName).collection('journal');
    await eventually(
      async () => (await actors.countDocuments({ actor: { $regex: '^order/uzum-' }, revision: 1 })) >= 20,
      60_000,
      'the import is under way',
    );
    await hub.crash();
    const before = await actors.countDocuments({ actor: { $regex: '^order/uzum-' }, revision: 1 });
    assert.ok(before < ORDERS, `killed before the import finished (${before} made)`);

    hub = await startHubProcess({ dbName, dataDir, env });
    client = hubClient(hub.url);
    uzum.faults.clear();
    const run = await client.post('/admin/jobs/marketplace-orders:uzum/run');
    assert.equal(run.status, 200, JSON.stringify(run.body));

    // every order Uzum has for the listed SKU exists once, under its Uzum id
    const made = await actors.find({ actor: { $regex: '^order/uzum-' }, revision: 1 }, { projection: { actor: 1 } }).toArray();
    const ids = made.map((doc) => String(doc.actor));
    assert.equal(new Set(ids).size, ids.length, 'no order was made twice');
    for (const order of placed) assert.ok(ids.includes(`order/uzum-${order.id}`), `uzum order ${order.id} was imported`);

    // each is confirmed at Uzum, and Uzum took each confirmation once
    await eventually(
      async () => {
        await client.post('/admin/jobs/marketplace-push/run');
        return placed.every((order) => uzum.order(order.id)?.status === 'PACKING');
      },
      120_000,
      'every order confirmed at Uzum',
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await unconfirmedReport(placed, uzum, mongo.db(dbName), hub.output())}`);
    });
    for (const order of placed) {
      const confirms = uzum.requests({ path: `/v1/fbs/order/${order.id}/confirm` }).filter((r) => r.status === 200);
      assert.ok(confirms.length <= 1, `order ${order.id} was confirmed ${confirms.length} times`);
    }
  } finally {
    await hub.terminate();
    await uzum.close();
    await mongo.close();
  }
});

/** What a person needs when confirmations are missing: each unconfirmed order's record, actor and calls. */
async function unconfirmedReport(placed: { id: number }[], uzum: UzumSandbox, db: Db, hubOutput: string): Promise<string> {
  const lines: string[] = [];
  for (const order of placed) {
    const status = uzum.order(order.id)?.status;
    if (status === 'PACKING') continue;
    const id = `uzum-${order.id}`;
    const record = await db.collection('marketplace_orders').findOne({ _id: id as never });
    const actor = await db
      .collection('actors')
      .findOne({ _id: `order/${id}` as never }, { projection: { state: 1, revision: 1, runtime: 1 } });
    const calls = uzum.requests({ path: `/v1/fbs/order/${order.id}/confirm` }).map((r) => r.status);
    const journal = await db
      .collection('journal')
      .find({ actor: `order/${id}` }, { projection: { revision: 1, event: 1, to: 1, origin: 1, at: 1 } })
      .toArray();
    lines.push(
      `${id}: at Uzum ${status}; record ${JSON.stringify(record)}; actor ${JSON.stringify(actor)}; confirm calls ${JSON.stringify(calls)}`,
      ...journal.map(
        (entry) => `  #${entry.revision} ${String(entry.event).slice(0, 600)} → ${entry.to} ${JSON.stringify(entry.origin)} ${entry.at}`,
      ),
    );
  }
  return [`${lines.length} unconfirmed:`, ...lines.slice(0, 10), 'hub log (tail):', hubOutput.slice(-4000)].join('\n');
}
