import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import probe from '../../../machines/probe.ts';
import { bindEffects } from '../../../actors/runtime/effects.ts';
import { EffectClaims } from '../../../actors/runtime/effect-claims.ts';
import { housekeepingJob } from '../../../actors/platform/jobs/housekeeping.ts';
import type { EffectDoc } from '../../../persistence/collections.ts';
import { connectDatabase, type Database } from '../../../persistence/database.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../../support/database.ts';
import { startRuntime, type Harness } from '../../support/runtime-harness.ts';

const origin = { kind: 'event' as const };
const LEASE_MS = 30_000;

let database: Database;

before(async () => {
  database = await connectDatabase(databaseUri(), uniqueDatabaseName('claims'));
});

after(async () => {
  await database.close();
});

const claimsOf = (owner: string) => new EffectClaims(database.collections.leases, owner, LEASE_MS);

test('processes whose clocks straddle a lease window (and who all read the effect as free) claim an attempt once', async () => {
  const effect = { _id: 'c1.echo', attempts: 0 };
  // 30 000 is where a claim keyed by the window of the claimant's clock began a new key: both used to win
  const nows = [29_990, 29_999, 30_000, 30_001, 30_500, 29_000, 45_000, 31_000, 58_000, 29_500];
  const claimed = await Promise.all(nows.map((now, i) => claimsOf(`p${i}`).claim(effect, now)));
  assert.equal(claimed.filter((claim) => claim !== null).length, 1, 'one claimant');
  const lease = await database.collections.leases.findOne({ effectId: effect._id });
  assert.equal(lease?._id, 'effect:c1.echo#1/1');
});

test('a claim its holder stopped renewing is taken over by exactly one process; a renewed one is not', async () => {
  const effect = { _id: 'c2.echo', attempts: 0 };
  const first = await claimsOf('killed').claim(effect, 1_000);
  assert.ok(first);
  assert.equal(await claimsOf('other').claim(effect, 1_000 + LEASE_MS - 1), null, 'held until its end');
  const takers = await Promise.all(['a', 'b', 'c', 'd'].map((owner) => claimsOf(owner).claim(effect, 1_000 + LEASE_MS + 5)));
  const winners = takers.filter((claim) => claim !== null);
  assert.equal(winners.length, 1, 'one process takes the attempt over');
  assert.equal(winners[0]?.id, 'effect:c2.echo#1/2');

  // the new holder is alive: it renews, and nobody takes over at its first claim's end
  const holderClaimedAt = 1_000 + LEASE_MS + 5;
  await winners[0]!.renew(holderClaimedAt + LEASE_MS - 10);
  assert.equal(await claimsOf('e').claim(effect, holderClaimedAt + LEASE_MS + 10), null, 'a renewed claim stays held');
  assert.ok(await claimsOf('f').claim(effect, holderClaimedAt + 2 * LEASE_MS), 'and ends a lease after its last renewal');
});

test('a released claim may be taken at once; the next attempt is a claim of its own', async () => {
  const effect = { _id: 'c3.echo', attempts: 0 };
  const held = await claimsOf('stopping').claim(effect, 5_000);
  assert.ok(held);
  // a retry's attempt is claimed apart from the one still held
  assert.ok(await claimsOf('retrying').claim({ ...effect, attempts: 1 }, 5_001));
  await held.release();
  const again = await claimsOf('next').claim(effect, 5_002);
  assert.equal(again?.id, 'effect:c3.echo#1/1');
});

test('housekeeping keeps every claim of an attempt still pending and removes those of finished effects', async () => {
  const leases = database.collections.leases;
  const hourAgo = Date.now() - 2 * 3600_000;
  const pendingEffect: EffectDoc = {
    _id: 'hk-pending.echo',
    actor: 'probe/hk',
    type: 'probe',
    actorId: 'hk',
    invokeId: 'echo',
    src: 'echoCall',
    input: '{}',
    revision: 2,
    commitId: 'hk-pending',
    attempts: 2,
    nextAttemptAt: new Date(),
    runningUntil: null,
    lastError: null,
    createdAt: new Date(hourAgo),
  };
  await database.collections.effects.insertOne(pendingEffect);
  const old = (id: string, effectId: string, attempt: number) => ({
    _id: id,
    owner: 'gone',
    at: new Date(hourAgo),
    until: new Date(hourAgo + LEASE_MS),
    effectId,
    attempt,
  });
  await leases.insertMany([
    old('effect:hk-pending.echo#3/1', 'hk-pending.echo', 3), // the attempt still due: its generation stays
    old('effect:hk-pending.echo#2/1', 'hk-pending.echo', 2), // an attempt that failed and was retried
    old('effect:hk-done.echo#1/1', 'hk-done.echo', 1), // its effect is gone
    { _id: 'effect:hk-legacy.echo@57000', owner: 'gone', at: new Date(hourAgo) }, // before claims had an end
  ]);
  const result = await housekeepingJob(database.collections, Date.now).run({ progress: () => undefined } as never);
  assert.ok(result && typeof result === 'object' && 'staleLeasesRemoved' in result);
  const left = (await leases.find({ _id: { $regex: '^effect:hk-' } }).toArray()).map((lease) => lease._id).sort();
  assert.deepEqual(left, ['effect:hk-pending.echo#3/1']);
  // and so the attempt is not claimed at generation 1 again while generation 1's holder is gone
  const claim = await claimsOf('after-housekeeping').claim(pendingEffect, Date.now());
  assert.equal(claim?.id, 'effect:hk-pending.echo#3/2');
});

test('three runtimes polling one database run each effect once, however their polls and lease windows interleave', async () => {
  const runs = new Map<string, number>();
  // each call takes a while, so the other runtimes' polls meet it running, finishing and finished
  const countingEffects = bindEffects(probe, {
    echoCall: async (input, context) => {
      runs.set(context.idempotencyKey, (runs.get(context.idempotencyKey) ?? 0) + 1);
      await sleep(5 + Math.random() * 40);
      return { reference: context.idempotencyKey, echoed: input.message };
    },
  });
  // short leases: a window boundary falls inside many runs
  const start = (i: number) =>
    startRuntime({
      dbName: '',
      database,
      machines: [probe],
      effects: [countingEffects],
      pollMs: 25,
      leaseMs: 5_000,
      ownerId: `runtime-${i}`,
    });
  const runtimes: Harness[] = [];
  try {
    for (let i = 0; i < 3; i += 1) runtimes.push(await start(i));
    const ids = Array.from({ length: 240 }, (_, i) => `once-${i}`);
    for (const [i, id] of ids.entries()) await runtimes[i % 3]!.runtime.create('probe', id, {}, { origin });
    await Promise.all(ids.map((id, i) => runtimes[(i + 1) % 3]!.runtime.of(probe).send(id, { type: 'CALL', message: id }, { origin })));
    await eventually(
      async () => {
        const views = await Promise.all(ids.map((id) => runtimes[0]!.runtime.get('probe', id)));
        return views.every((view) => view.state === 'idle');
      },
      60_000,
      'every call answered',
    );
    // a runtime that read the effect just before another finished it may still be about to claim it
    await sleep(500);
    assert.equal(runs.size, ids.length, 'every effect ran');
    const twice = [...runs].filter(([, count]) => count > 1);
    assert.deepEqual(twice, [], 'no effect ran twice');
  } finally {
    for (const harness of runtimes) await harness.close();
  }
});
