import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectDatabase } from '../../../../persistence/database.ts';
import { startTrackingLoad, type TrackingLoad } from '../../../../scripts/tracking-load.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger } from '../../../support/runtime-harness.ts';

/**
 * 300 parcels are 3 calls a cycle: enough to prove the batching, the
 * progress and a failing batch among others, in seconds. The full 10 000
 * (100 calls a cycle) is `npm run bench:tracking`, which reports the times.
 */
const SHIPMENTS = Number(process.env.TRACKING_LOAD_SHIPMENTS ?? 300);
/** as before the suite got smaller: here every parcel fits in memory; at full size a tenth does (the benchmark reports that cost) */
const CACHE_SIZE = 1_000;

test(`${SHIPMENTS} parcels in transit are tracked with ${SHIPMENTS / 100} getStatusDocuments calls per cycle, counted by the sandbox`, async () => {
  const database = await connectDatabase(databaseUri(), uniqueDatabaseName('tracking_load'));
  let load: TrackingLoad | null = null;
  try {
    load = await startTrackingLoad({ database, shipments: SHIPMENTS, cacheSize: CACHE_SIZE, logger: quietLogger });
    const { sandbox: np, waybills: numbers } = load;
    await load.seed();

    const first = await load.cycle();
    assert.deepEqual(first.result, { shipments: SHIPMENTS, calls: SHIPMENTS / 100, failedCalls: 0, changed: SHIPMENTS });
    assert.equal(np.calls('TrackingDocument.getStatusDocuments'), SHIPMENTS / 100);
    assert.equal(first.progress.length, SHIPMENTS / 100);

    const quiet = (await load.cycle()).result;
    assert.deepEqual([quiet.calls, quiet.changed], [SHIPMENTS / 100, 0], 'nothing new: nothing sent');

    // a hundred parcels leave (status 4): only those move, at the same cost per cycle
    for (const number of numbers.slice(0, 100)) np.advance(number, 1);
    const second = (await load.cycle()).result;
    assert.deepEqual([second.calls, second.changed], [SHIPMENTS / 100, 100]);
    assert.equal(np.calls('TrackingDocument.getStatusDocuments'), 3 * (SHIPMENTS / 100));
    await load.runtime.flushProjections();
    assert.equal(await database.collections.actors.countDocuments({ type: 'shipment', state: 'inTransit' }), 100);

    np.faults.inject({ kind: 'status', status: 500, count: 3, bodyIncludes: 'getStatusDocuments' });
    const third = (await load.cycle()).result;
    assert.equal(third.calls, SHIPMENTS / 100, 'a failing call does not stop the others');
    assert.equal(third.failedCalls, 1, 'three 500s: one call failed after its retries');
    assert.equal(third.changed, 0);
  } finally {
    await load?.close();
    await database.collections.db.dropDatabase();
    await database.close();
  }
});
