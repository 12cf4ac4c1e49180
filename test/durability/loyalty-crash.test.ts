import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { LoyaltyAccruals, type AccrualInput } from '../../actors/domains/loyalty/accruals.ts';
import { DEFAULT_JOWI_SETTINGS } from '../../actors/domains/loyalty/access.ts';
import { CustomerCache } from '../../actors/domains/loyalty/customer-cache.ts';
import { JOWI_SANDBOX_CREDENTIALS, startJowiSandbox } from '../../actors/platform/connectors/jowi/sandbox.ts';
import { loyaltyCollections } from '../../persistence/loyalty.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubCipherOf } from '../support/hub-cipher.ts';
import { hubClient, startHubProcess } from '../support/hub-process.ts';
import { quietLogger } from '../support/runtime-harness.ts';

const saleOf = (saleId: string): AccrualInput => ({
  saleId,
  customerId: 'c-1001',
  amount: 14_250_000,
  discount: 750_000,
  bonusSpent: 0,
  items: [{ name: 'Чай', qty: 2, price: 7_500_000 }],
  createdAt: new Date(),
});

test('accruals queued while JOWi is down survive a SIGKILL of the hub and are delivered once when JOWi returns', async () => {
  // JOWi lives on in this process while the hub dies
  const jowi = await startJowiSandbox();
  const dbName = uniqueDatabaseName('loyalty-crash');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-loyalty-crash-'));
  const env = {
    HUB_INTEGRATION_JOWI: JSON.stringify({
      baseUrl: jowi.url,
      credentials: JOWI_SANDBOX_CREDENTIALS,
      settings: { accrualRetryBaseMs: 200, accrualRetryMaxMs: 1_000, http: { timeoutMs: 1_000, retries: 0 } },
    }),
  };
  const mongo = await new MongoClient(databaseUri()).connect();
  let hub = await startHubProcess({ dbName, dataDir, env });
  try {
    // S-A never reaches JOWi's books (JOWi hangs); S-B does, but its answer is lost (JOWi recorded it, the hub never heard)
    const transactions = '/v3/club/transactions';
    jowi.faults.inject({ kind: 'timeout', path: transactions, bodyIncludes: '"S-A"' });
    jowi.faults.inject({ kind: 'lost', path: transactions, bodyIncludes: '"S-B"' });

    // the sales' accruals, queued in the hub's database as a sale queues them
    const collections = loyaltyCollections(mongo.db(dbName));
    const cipher = await hubCipherOf(mongo.db(dbName));
    const queue = new LoyaltyAccruals({
      collection: collections.outbox,
      access: {
        client: () => assert.fail('the test process never delivers'),
        settings: () => DEFAULT_JOWI_SETTINGS,
      },
      cache: new CustomerCache(collections.customers, cipher, Date.now),
      personalData: cipher,
      logger: quietLogger,
      deliverOnEnqueue: false,
    });
    assert.equal((await queue.enqueue(saleOf('S-A'))).queued, true);
    assert.equal((await queue.enqueue(saleOf('S-B'))).queued, true);

    // the hub works through its outbox; killed while the S-B accrual is in flight
    void hubClient(hub.url)
      .post('/admin/jobs/loyalty-accruals/run')
      .catch(() => undefined);
    await jowi.waitForRequests(1, { path: transactions }, 20_000);
    await eventually(() => jowi.requests({ path: transactions }).some((r) => r.body.includes('"S-B"')), 20_000, 'S-B sent');
    await hub.crash();
    assert.equal(jowi.transactions().filter((t) => t.externalId === 'S-B').length, 1, 'JOWi recorded S-B');
    assert.equal(jowi.transactions().filter((t) => t.externalId === 'S-A').length, 0, 'S-A never reached JOWi');
    const afterCrash = await collections.outbox.find({}).toArray();
    assert.deepEqual(
      afterCrash.map((d) => d.status),
      ['pending', 'pending'],
      'nothing was recorded as delivered',
    );

    // restarted while JOWi is still down: the accruals wait
    hub = await startHubProcess({ dbName, dataDir, env });
    const client = hubClient(hub.url);
    await client.post('/admin/jobs/loyalty-accruals/run');
    assert.equal(await collections.outbox.countDocuments({ status: 'delivered' }), 0);

    // JOWi comes back
    jowi.faults.clear();
    const delivered = await eventually(
      async () => {
        await client.post('/admin/jobs/loyalty-accruals/run');
        const docs = await collections.outbox.find({}).sort({ queuedAt: 1 }).toArray();
        return docs.every((d) => d.status === 'delivered') ? docs : undefined;
      },
      40_000,
      'both accruals delivered',
    );

    for (const saleId of ['S-A', 'S-B']) assert.equal(jowi.transactions().filter((t) => t.externalId === saleId).length, 1, saleId);
    assert.ok(jowi.requests({ path: transactions }).filter((r) => r.body.includes('"S-B"')).length >= 2, 'S-B was sent again');
    assert.deepEqual(jowi.violations(), [], 'every repeat carried the same sale');
    assert.equal(jowi.customer('c-1001')?.bonusBalance, 1_200_000 + 2 * 142_500, 'each sale earned once');
    const byId = new Map(jowi.transactions().map((t) => [t.externalId, t.id]));
    assert.deepEqual(
      delivered.map((d) => d.result?.transactionId),
      [byId.get('S-A'), byId.get('S-B')],
    );
  } finally {
    await hub.terminate();
    await jowi.close();
    await mongo.close();
  }
});
