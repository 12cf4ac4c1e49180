import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { ensurePaymeIndexes, PaymeTransactions, type NewPaymeTransaction } from '../../persistence/payme.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';

/** Payme's transaction store on the real database, from two connections as two hub processes would use it. */

const newTx = (id: string, paymentId: string): NewPaymeTransaction => ({
  _id: id,
  time: 1_700_000_000_000,
  amount: 50_000,
  accountJson: JSON.stringify({ order_id: paymentId.replace(/-P\d+$/, '') }),
  accountId: paymentId.replace(/-P\d+$/, ''),
  paymentId,
  createTime: 1_700_000_000_500,
  performTime: 0,
  cancelTime: 0,
  reason: null,
  answer: (transaction) => ({ create_time: 1_700_000_000_500, transaction, state: 1 }),
});

test('two processes creating transactions for one payment at once: exactly one is active; the same Payme id is one transaction; numbers never repeat', async () => {
  const dbName = uniqueDatabaseName('payme-store');
  const [one, two] = await Promise.all([new MongoClient(databaseUri()).connect(), new MongoClient(databaseUri()).connect()]);
  try {
    await ensurePaymeIndexes(one.db(dbName));
    const stores = [new PaymeTransactions(one.db(dbName)), new PaymeTransactions(two.db(dbName))];
    for (let round = 0; round < 8; round += 1) {
      const paymentId = `ORDER-${round}-P1`;
      const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => stores[i % 2]!.create(newTx(`r${round}-tx${i}`, paymentId))));
      assert.equal(outcomes.filter((o) => o.outcome === 'created').length, 1, JSON.stringify(outcomes.map((o) => o.outcome)));
      assert.ok(outcomes.every((o) => o.outcome === 'created' || o.outcome === 'busy'));
      assert.equal((await stores[0]!.ofPayment(paymentId)).length, 1);
    }
    const same = await Promise.all(stores.map((store) => store.create(newTx('same-id', 'SAME-P1'))));
    assert.deepEqual(same.map((o) => o.outcome).sort(), ['created', 'exists']);
    const numbers = (await stores[0]!.collection.find({}).toArray()).map((tx) => tx.number);
    assert.equal(new Set(numbers).size, numbers.length);

    // cancelled, the payment's slot is free for a new transaction; the move happens once
    const active = await stores[1]!.active('SAME-P1');
    assert.ok(active);
    const moved = await Promise.all(
      stores.map((store) => store.transition('same-id', 1, { state: -1, activeSlot: 'cancelled:same-id', cancelTime: 1, reason: 3 })),
    );
    assert.ok(moved.some((doc) => doc?.state === -1));
    assert.equal(await stores[0]!.active('SAME-P1'), null);
    assert.equal((await stores[0]!.create(newTx('next-id', 'SAME-P1'))).outcome, 'created');
  } finally {
    await one.db(dbName).dropDatabase();
    await Promise.all([one.close(), two.close()]);
  }
});
