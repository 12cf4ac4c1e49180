import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMemoryProbe } from '../../../scripts/bench-support.ts';
import { databaseUri, uniqueDatabaseName } from '../../support/database.ts';

/**
 * 10 000 actors through a cache of 100: every actor is created, then loaded
 * from the database, so 99 of every 100 pass through memory and must leave it
 * again. A cached probe actor costs about 1.2 KB of heap: keeping every actor
 * loaded grew the heap by 11.6 MB when tried, and anything that keeps 0.5 KB
 * per actor loaded (an index, a queue, a retained document) fails the 5 MB
 * bound; without a leak the heap after a full GC moves by under 1 MB between
 * the two samples. 10 000 is what the suite can afford: creating and loading
 * cost about 1 ms an actor on the embedded database (twice that when the
 * machine is busy). The 100 000-actor run, with RSS, is `npm run bench:memory`.
 */
const ACTORS = 10_000;
const CACHE = 100;

test(`memory does not grow with the number of stored actors: ${ACTORS} loaded through a cache of ${CACHE}, the heap stays within 5 MB of the first ${CACHE}`, async (t) => {
  const result = await runMemoryProbe({
    mongodbUri: databaseUri(),
    dbName: uniqueDatabaseName('memory'),
    actors: ACTORS,
    cacheSize: CACHE,
  });
  const { afterFirstBatch: first, afterAll: all } = result;
  t.diagnostic(
    `heap used after ${result.firstBatch} actors: ${first.heapUsedMb} MB; after ${result.total}: ${all.heapUsedMb} MB; ` +
      `RSS ${Math.round(first.rssMb)} → ${Math.round(all.rssMb)} MB; in memory: ${result.cached}; ` +
      `created in ${result.createSeconds} s, loaded in ${result.touchSeconds} s`,
  );
  assert.equal(result.total, ACTORS);
  assert.equal(result.lastRevision, 2, 'the last actor was really loaded and changed');
  assert.ok(result.cached <= CACHE, `at most ${CACHE} actors in memory (${result.cached})`);
  assert.ok(
    all.heapUsedMb - first.heapUsedMb < 5,
    `the heap grew ${(all.heapUsedMb - first.heapUsedMb).toFixed(1)} MB (from ${first.heapUsedMb} to ${all.heapUsedMb} MB)`,
  );
  // a coarse guard for growth outside the JS heap (the full-size bound; RSS moves by tens of MB on its own)
  assert.ok(
    all.rssMb - first.rssMb < 100,
    `RSS grew ${Math.round(all.rssMb - first.rssMb)} MB (from ${Math.round(first.rssMb)} to ${Math.round(all.rssMb)} MB)`,
  );
});
