import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MarketplaceStatusOutbox } from '../../../../actors/domains/marketplaces/status-outbox.ts';
import type { UzumClient } from '../../../../actors/platform/connectors/uzum/client.ts';
import { uzumConnector, uzumSettingsSchema } from '../../../../actors/platform/connectors/uzum/connector.ts';
import { uzumMarketplace } from '../../../../actors/platform/connectors/uzum/marketplace.ts';
import type { Marketplace } from '../../../../actors/platform/connectors/ports/marketplace.ts';
import { invokedSources } from '../../../../actors/runtime/machine-glue.ts';
import orderModule, { type OrderInput } from '../../../../machines/order.ts';
import { orderPolicySchema } from '../../../../machines/order-rules.ts';
import {
  ensureMarketplaceIndexes,
  marketplaceCollections,
  newMarketplaceOrderDoc,
  type MarketplaceCollections,
} from '../../../../persistence/marketplaces.ts';
import { withSandboxClient } from '../../../support/connectors.ts';
import { uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger, startRuntime, type Harness } from '../../../support/runtime-harness.ts';

const HOUR = 3_600_000;

/** No worker runs in these tests (stopped before the first order), so no effect starts: each handler says so if it did. */
const noEffects = {
  type: orderModule.type,
  handlers: Object.fromEntries(
    [...invokedSources(orderModule.machine)].map((src) => [src, () => Promise.reject(new Error(`${src}: no worker in this test`))]),
  ),
};

interface Setup {
  harness: Harness;
  collections: MarketplaceCollections;
  outbox: MarketplaceStatusOutbox;
  marketplace: Marketplace;
  clock: { now: number };
}

/** The outbox on a real database and runtime (no worker: an order stays where it was made), Uzum's sandbox behind it. */
const withOutbox = (run: (setup: Setup) => Promise<void>) =>
  withSandboxClient<UzumClient>(uzumConnector, async (sandboxSetup) => {
    const settings = uzumSettingsSchema.parse({});
    const marketplace = uzumMarketplace({ client: () => sandboxSetup.client, settings: () => settings });
    const harness = await startRuntime({
      dbName: uniqueDatabaseName('mp-outbox'),
      machines: [orderModule],
      effects: [noEffects],
      startWorker: false,
    });
    // not even the fast path that starts the effects this process commits: each order stays where it was made
    await harness.worker.stop(0);
    try {
      const db = harness.database.collections.db;
      await ensureMarketplaceIndexes(db);
      const collections = marketplaceCollections(db);
      const clock = { now: Date.UTC(2026, 11, 2, 9, 0) };
      const outbox = new MarketplaceStatusOutbox({
        runtime: harness.runtime,
        collections,
        alerts: { raise: () => Promise.resolve(null) },
        logger: quietLogger,
        now: () => clock.now,
      });
      await run({ harness, collections, outbox, marketplace, clock });
    } finally {
      await harness.close();
    }
  });

/** An Uzum order just imported: its actor (still reserving stock: nothing to tell yet) and its outbox record, due. */
async function imported({ harness, collections, clock }: Setup, externalId: string): Promise<string> {
  const orderId = `uzum-${externalId}`;
  const input: OrderInput = {
    orderId,
    acceptedAt: new Date(clock.now).toISOString(),
    externalId,
    source: 'uzum',
    customer: { name: 'Dilnoza', phone: '+998901234567' },
    items: [{ sku: 'PIYOLA-6', name: 'Piyola', qty: 1, unitPrice: 9_600_000 }],
    currency: 'UZS',
    delivery: { carrier: 'marketplace', fee: 0 },
    payment: { method: 'marketplace' },
    total: 9_600_000,
    policy: orderPolicySchema.parse({}),
  };
  await harness.runtime.of(orderModule).create(orderId, input, {
    idempotencyKey: `marketplace:uzum:${externalId}`,
    origin: { kind: 'create', actorName: 'marketplace:uzum' },
  });
  await collections.orders.insertOne(newMarketplaceOrderDoc({ _id: orderId, marketplace: 'uzum', externalId }, new Date(clock.now)));
  return orderId;
}

test('an order with nothing to tell sleeps; one that moved while a run was looking at it stays due (its wake is not lost)', () =>
  withOutbox(async (setup) => {
    const { outbox, collections, marketplace, clock } = setup;
    const quiet = await imported(setup, '9100001');
    const moving = await imported(setup, '9100002');

    // nothing to tell yet: asleep until the order moves (or the half-hourly sweep)
    const quietDoc = await collections.orders.findOne({ _id: quiet });
    assert.deepEqual(await outbox.tell(marketplace, quietDoc!), { pushed: 0, result: 'waiting' });
    assert.ok((await collections.orders.findOne({ _id: quiet }))!.nextAttemptAt.getTime() > clock.now + HOUR / 4);

    // a run reads the record; the order moves and wakes it; the run, still holding the old record, finishes
    const stale = await collections.orders.findOne({ _id: moving });
    await outbox.wake(moving);
    assert.deepEqual(await outbox.tell(marketplace, stale!), { pushed: 0, result: 'waiting' });
    const after = await collections.orders.findOne({ _id: moving });
    assert.equal(after!.wakeups, 1);
    assert.ok(after!.nextAttemptAt.getTime() <= clock.now, 'still due: the next run looks at the order again');
    const next = await outbox.run(() => marketplace);
    assert.equal(next.orders, 1, 'the next run takes the woken order, not the sleeping one');
  }));

test('at start every sleeping open record is due again (a wake a crash kept in memory is not lost); a back-off is kept', () =>
  withOutbox(async (setup) => {
    const { outbox, collections, marketplace, clock } = setup;
    const sleeping = await imported(setup, '9100011');
    const backingOff = await imported(setup, '9100012');
    const settled = await imported(setup, '9100013');
    await outbox.tell(marketplace, (await collections.orders.findOne({ _id: sleeping }))!);
    await collections.orders.updateOne({ _id: backingOff }, { $set: { attempts: 2, nextAttemptAt: new Date(clock.now + 120_000) } });
    await collections.orders.updateOne({ _id: settled }, { $set: { settled: true, nextAttemptAt: new Date(clock.now + HOUR) } });

    assert.equal(await outbox.wakeAllAtStart(), 1);
    assert.ok((await collections.orders.findOne({ _id: sleeping }))!.nextAttemptAt.getTime() <= clock.now);
    assert.equal((await collections.orders.findOne({ _id: backingOff }))!.nextAttemptAt.getTime(), clock.now + 120_000);
    assert.equal((await collections.orders.findOne({ _id: settled }))!.nextAttemptAt.getTime(), clock.now + HOUR);
    assert.equal(await outbox.wakeAllAtStart(), 0, 'nothing asleep any more');
  }));
