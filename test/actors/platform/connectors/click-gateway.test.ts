import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Db } from 'mongodb';
import { clickGateway } from '../../../../actors/platform/connectors/click/gateway.ts';
import type { Connectors } from '../../../../actors/platform/connectors/kit/connectors.ts';
import { ConnectorError } from '../../../../actors/platform/connectors/kit/errors.ts';
import { ClickStore, ensureClickIndexes, type ClickCompletionDoc, type ClickTransactionDoc } from '../../../../persistence/click.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';

/**
 * The Click store on the real database, and the gateway's reading of it:
 * a payment whose report to the payment machine was lost is still found by
 * the payment's poll.
 */

let client: MongoClient;
let db: Db;
let store: ClickStore;
const NOW = Date.parse('2026-12-02T10:00:00Z');
// check() reads only the store: no connector is reached
const gateway = () => clickGateway({ connectors: null as unknown as Connectors, db, now: () => NOW });
const call = { actor: { type: 'payment', id: 'x' }, once: <T>(_: string, run: () => Promise<T>) => run() };

before(async () => {
  client = await new MongoClient(databaseUri()).connect();
  db = client.db(uniqueDatabaseName('click'));
  await ensureClickIndexes(db);
  store = new ClickStore(db);
});

after(async () => {
  await db?.dropDatabase();
  await client?.close();
});

const transaction = (id: string, paymentId: string, at: number, prepareId: number): ClickTransactionDoc => ({
  _id: id,
  accountId: paymentId.replace(/-P\d+$/, ''),
  paymentId,
  clickPaydocId: `9${id}`,
  serviceId: '1',
  amount: 50_000,
  amountRaw: '500',
  merchantPrepareId: prepareId,
  signTime: '2026-12-02 15:00:00',
  preparedAt: new Date(at),
  answer: { error: 0 },
});

const completion = (id: string, paymentId: string, outcome: 'confirmed' | 'cancelled', at: number): ClickCompletionDoc => ({
  _id: id,
  paymentId,
  settles: outcome === 'confirmed' ? paymentId : `cancelled:${id}`,
  outcome,
  merchantConfirmId: outcome === 'confirmed' ? 1 : null,
  clickError: outcome === 'confirmed' ? 0 : -5017,
  clickErrorNote: outcome === 'confirmed' ? 'Success' : 'Insufficient funds',
  at: new Date(at),
  answer: { error: outcome === 'confirmed' ? 0 : -9 },
});

test('numbers: one per transaction and kind, the same for a repeat, distinct under a race', async () => {
  const at = new Date(NOW);
  const same = await Promise.all(Array.from({ length: 5 }, () => store.number('T-1', 'prepare', at)));
  assert.equal(new Set(same).size, 1);
  const distinct = await Promise.all(Array.from({ length: 8 }, (_, i) => store.number(`T-R${i}`, 'prepare', at)));
  assert.equal(new Set(distinct).size, 8);
  assert.ok(distinct.every((n) => Number.isSafeInteger(n) && n > 0));
  assert.notEqual(await store.number('T-1', 'confirm', at), same[0]);
  assert.equal(await store.number('T-1', 'prepare', at), same[0]);
});

test('a payment is confirmed by one transaction only; a repeat finds its decision', async () => {
  await store.prepare(transaction('A', 'O-1-P1', NOW, 1));
  await store.prepare(transaction('B', 'O-1-P1', NOW, 2));
  const first = await store.complete(completion('A', 'O-1-P1', 'confirmed', NOW));
  assert.equal(first.kind, 'done');
  assert.equal((await store.complete(completion('B', 'O-1-P1', 'confirmed', NOW))).kind, 'settled');
  const again = await store.complete(completion('A', 'O-1-P1', 'cancelled', NOW));
  assert.deepEqual([again.kind, again.kind === 'decided' && again.completion.outcome], ['decided', 'confirmed']);
  // a cancelled completion claims no payment
  assert.equal((await store.complete(completion('B', 'O-1-P1', 'cancelled', NOW))).kind, 'done');
  assert.deepEqual(
    (await store.ofPayment('O-1-P1')).map((t) => [t._id, t.state]),
    [
      ['A', 'confirmed'],
      ['B', 'cancelled'],
    ],
  );
  const repeatPrepare = await store.prepare({ ...transaction('A', 'O-1-P1', NOW + 5, 99) });
  assert.equal(repeatPrepare.merchantPrepareId, 1, 'the first Prepare stands');
});

test('check reads the store: nothing, prepared, cancelled, confirmed (at its time); past its time an unconfirmed payment expired', async () => {
  const options = { expireIfUnpaid: false };
  const nothing = await gateway().check({ paymentId: 'O-2-P1', providerId: 'O-2-P1' }, options, call);
  assert.deepEqual([nothing.status, nothing.providerStatus], ['created', 'no_transaction']);

  await store.prepare(transaction('C', 'O-2-P1', NOW - 60_000, 3));
  const prepared = await gateway().check({ paymentId: 'O-2-P1', providerId: 'O-2-P1' }, options, call);
  assert.deepEqual(
    [prepared.status, prepared.providerStatus, prepared.at],
    ['processing', 'prepared', new Date(NOW - 60_000).toISOString()],
  );
  const lapsed = await gateway().check({ paymentId: 'O-2-P1', providerId: 'O-2-P1' }, { expireIfUnpaid: true }, call);
  assert.equal(lapsed.status, 'expired');

  await store.complete(completion('C', 'O-2-P1', 'cancelled', NOW - 30_000));
  const cancelled = await gateway().check({ paymentId: 'O-2-P1', providerId: 'O-2-P1' }, options, call);
  assert.deepEqual([cancelled.status, cancelled.providerStatus, cancelled.reason], ['created', 'cancelled', 'Insufficient funds']);

  await store.prepare(transaction('D', 'O-2-P1', NOW - 20_000, 4));
  await store.complete(completion('D', 'O-2-P1', 'confirmed', NOW - 10_000));
  for (const expireIfUnpaid of [false, true]) {
    const paid = await gateway().check({ paymentId: 'O-2-P1', providerId: 'O-2-P1' }, { expireIfUnpaid }, call);
    assert.deepEqual([paid.status, paid.providerStatus, paid.at], ['success', 'confirmed', new Date(NOW - 10_000).toISOString()]);
  }
  assert.equal(await gateway().cancel({ paymentId: 'O-2-P1', providerId: 'O-2-P1' }, call), false);
});

test('a refund of a payment Click never confirmed is refused without asking Click; only soums are taken; payment ids name their order', async () => {
  const refused = await gateway().refund(
    { paymentId: 'O-3-P1', providerId: 'O-3-P1', amount: 50_000, refundReference: 'O-3-P1-R1', basket: [] },
    call,
  );
  assert.equal(refused.outcome, 'failure');
  assert.deepEqual(await gateway().record({ paymentId: 'O-3-P1', providerId: 'O-3-P1' }), {
    paid: false,
    amount: null,
    status: 'no_transaction',
  });
  await assert.rejects(
    gateway().create(
      {
        paymentId: 'O-4-P1',
        orderId: 'O-4',
        amount: 100,
        currency: 'UAH',
        description: 'x',
        customerEmail: null,
        basket: [],
        validitySeconds: 60,
        returnUrl: 'http://x',
      },
      call,
    ),
    (error: unknown) => error instanceof ConnectorError && error.code === 'currency_not_supported',
  );
});
