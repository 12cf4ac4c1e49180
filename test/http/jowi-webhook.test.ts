import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Db } from 'mongodb';
import { jowiTime } from '../../actors/platform/connectors/jowi/protocol.ts';
import { JOWI_SANDBOX_CREDENTIALS, startJowiSandbox, type JowiSandbox } from '../../actors/platform/connectors/jowi/sandbox.ts';
import { CustomerCache } from '../../actors/domains/loyalty/customer-cache.ts';
import { loyaltyCollections } from '../../persistence/loyalty.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubCipherOf } from '../support/hub-cipher.ts';
import { hubClient, startHubProcess, type HubProcess } from '../support/hub-process.ts';

let jowi: JowiSandbox;
let hub: HubProcess;
let mongo: MongoClient;
let db: Db;

before(async () => {
  jowi = await startJowiSandbox();
  const dbName = uniqueDatabaseName('jowi-webhook');
  hub = await startHubProcess({
    dbName,
    env: { HUB_INTEGRATION_JOWI: JSON.stringify({ baseUrl: jowi.url, credentials: JOWI_SANDBOX_CREDENTIALS }) },
  });
  // what a shop enters in JOWi's cabinet: where its webhooks go
  jowi.webhookTo(`${hub.url}/webhooks/jowi`);
  mongo = await new MongoClient(databaseUri()).connect();
  db = mongo.db(dbName);
});

after(async () => {
  await hub?.terminate();
  await jowi?.close();
  await mongo?.close();
});

/** The hub's customer cache, read as the hub reads it (its name, phone and card are stored sealed). */
const customers = () => cacheOf(db);
const cacheOf = async (of: Db) => new CustomerCache(loyaltyCollections(of).customers, await hubCipherOf(of), Date.now);
const post = (body: string, signature: string) =>
  fetch(`${hub.url}/webhooks/jowi`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-jowi-signature': signature },
    body,
  });

test('a signed customer.updated is stored once and fills the customer cache', async () => {
  const { event, delivered } = jowi.upsertCustomer({ id: 'c-1001', name: 'Алишер К.', bonus_balance: 15000 });
  assert.equal((await delivered)?.status, 200);
  const cached = await eventually(async () => (await (await customers()).get('c-1001')) ?? undefined, 10_000, 'the cache');
  assert.equal(cached.name, 'Алишер К.');
  assert.equal(cached.bonusBalance, 1_500_000, '15000.00 soums in tiyin');
  assert.equal(cached.source, 'webhook');
  assert.equal(cached.card, 'JC-0001-0001');
  const stored = await db
    .collection('inbox')
    .find({ _id: `jowi:${event.id}` as never })
    .toArray();
  assert.equal(stored.length, 1);
  assert.equal(stored[0]?.status, 'dispatched');
});

test('a repeated event changes nothing: answered 200 as a duplicate, the newer balance stays', async () => {
  const first = jowi.upsertCustomer({ id: 'c-1002', bonus_balance: 100 });
  assert.equal((await first.delivered)?.status, 200);
  const bonus = jowi.setBonus('c-1002', 2_000_000);
  assert.equal((await bonus.delivered)?.status, 200);
  await eventually(async () => (await (await customers()).get('c-1002'))?.bonusBalance === 2_000_000, 10_000, 'the new balance');

  // JOWi resends the first event (it heard no 200, say): the inbox knows it
  const body = JSON.stringify(first.event);
  const again = await post(body, jowi.sign(body));
  assert.equal(again.status, 200);
  assert.deepEqual(((await again.json()) as { duplicate: boolean }).duplicate, true);
  assert.equal((await jowi.redeliver(first.event.id))?.status, 200);
  assert.equal((await (await customers()).get('c-1002'))?.bonusBalance, 2_000_000);
  const copies = await db
    .collection('inbox')
    .find({ _id: `jowi:${first.event.id}` as never })
    .toArray();
  assert.equal(copies.length, 1);
  assert.equal(copies[0]?.attempts, 1, 'handled once');
});

test('an event older than the cache (a late resend under a new id) is kept but changes nothing', async () => {
  const late = JSON.stringify({
    event: 'bonus.changed',
    id: 'ev-late-1',
    created_at: jowiTime(Date.now() - 3_600_000),
    data: { customer_id: 'c-1002', bonus_balance: 1 },
  });
  const answer = await post(late, jowi.sign(late));
  assert.equal(answer.status, 200);
  assert.equal((await (await customers()).get('c-1002'))?.bonusBalance, 2_000_000);
});

test('a bad signature is 401 and stores nothing; a malformed body is 400', async () => {
  const body = JSON.stringify({ event: 'bonus.changed', id: 'ev-forged', data: { customer_id: 'c-1001', bonus_balance: 999999 } });
  const forged = await post(body, jowi.sign(`${body} `));
  assert.equal(forged.status, 401);
  assert.equal((await post(body, '')).status, 401);
  assert.equal(await db.collection('inbox').countDocuments({ _id: 'jowi:ev-forged' as never }), 0);
  assert.notEqual((await (await customers()).get('c-1001'))?.bonusBalance, 99_999_900);

  const malformed = JSON.stringify({ event: 'bonus.changed', id: 'ev-bad', data: { customer_id: 'c-1001', bonus_balance: 1.234 } });
  assert.equal((await post(malformed, jowi.sign(malformed))).status, 400);
});

test('the jowi integration is configured from the environment and its connection test passes', async () => {
  const admin = hubClient(hub.url);
  const result = await admin.post('/admin/integrations/jowi/test', {});
  assert.equal(result.status, 200, JSON.stringify(result.body));
  assert.equal((result.body as { ok?: boolean }).ok, true, JSON.stringify(result.body));
});

test('a hub with no JOWi credentials runs its own sandbox and tells it where the webhook is', async () => {
  const dbName = uniqueDatabaseName('jowi-sandboxed');
  const sandboxed = await startHubProcess({ dbName });
  try {
    const view = await hubClient(sandboxed.url).get('/admin/integrations/jowi');
    assert.equal(view.body.mode, 'sandbox');
    const sandboxUrl = String(view.body.baseUrl);
    await eventually(
      async () => {
        const state = (await (await fetch(`${sandboxUrl}/__sandbox/state`)).json()) as { state: { webhookUrl: string | null } };
        return state.state.webhookUrl === `${sandboxed.url}/webhooks/jowi` || undefined;
      },
      10_000,
      'the webhook URL announced',
    );
    const changed = await fetch(`${sandboxUrl}/__sandbox/customers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'c-1002', level: 'silver' }),
    });
    assert.equal(changed.status, 200);
    const own = await cacheOf(mongo.db(dbName));
    const cached = await eventually(async () => (await own.get('c-1002')) ?? undefined, 10_000, 'the cache');
    assert.equal(cached.level, 'silver');
    assert.equal(cached.discountPercent, 5);
  } finally {
    await sandboxed.terminate();
  }
});
