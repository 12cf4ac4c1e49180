import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegisterBusyError, RegisterLocks } from '../../../../actors/domains/fiscal/register-locks.ts';
import { connectDatabase } from '../../../../persistence/database.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';

test('a register has one holder: others wait in the order they came, each no longer than its own wait, and take it when it is released', async () => {
  const database = await connectDatabase(databaseUri(), uniqueDatabaseName('register_locks'));
  try {
    const locks = new RegisterLocks(database.collections.registerLocks, { pollMs: 10 });
    await locks.acquire('main', 'R-1', 1_000, null);
    await locks.acquire('main', 'R-1', 1_000, null); // its own holder: at once
    assert.equal(await locks.holderOf('main'), 'R-1');

    const order: string[] = [];
    const second = locks.acquire('main', 'R-2', 5_000, null).then(() => order.push('R-2'));
    // behind R-2 in this process; its wait runs out while R-2 still waits: it gives up at its own deadline, naming the holder
    const started = Date.now();
    await assert.rejects(
      locks.acquire('main', 'R-3', 200, null),
      (error: unknown) => error instanceof RegisterBusyError && error.holder === 'R-1',
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 150 && waited < 2_000, `R-3 waited ${waited} ms`);

    const fourth = locks.acquire('main', 'R-4', 5_000, null).then(() => order.push('R-4'));
    assert.equal(await locks.release('main', 'R-9'), false, 'only the holder releases');
    assert.equal(await locks.release('main', 'R-1'), true);
    await second;
    assert.equal(await locks.holderOf('main'), 'R-2');
    await locks.release('main', 'R-2');
    await fourth;
    assert.deepEqual(order, ['R-2', 'R-4']);

    // an aborted wait gives up at once
    const controller = new AbortController();
    const aborted = locks.acquire('main', 'R-5', 5_000, controller.signal);
    controller.abort(new Error('effect timed out'));
    await assert.rejects(aborted, /effect timed out/);
    await locks.release('main', 'R-4');
    assert.equal(await locks.holderOf('main'), null);
  } finally {
    await database.collections.db.dropDatabase();
    await database.close();
  }
});
