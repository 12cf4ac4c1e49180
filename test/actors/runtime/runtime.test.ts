import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, setup } from 'xstate';
import { AppError } from '../../../common/errors.ts';
import { defineMachineModule } from '../../../machines/machine-module.ts';
import probe, { type ProbeEvent } from '../../../machines/probe.ts';
import { probeEffects } from '../../../actors/domains/probe/effects.ts';
import { startEchoSandbox, type EchoSandbox } from '../../../actors/platform/connectors/echo/sandbox.ts';
import { actorKey, journalId } from '../../../actors/runtime/store.ts';
import { replayJournal } from '../../../actors/runtime/replay.ts';
import type { JournalDoc } from '../../../persistence/collections.ts';
import { connectDatabase, type Database } from '../../../persistence/database.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../../support/database.ts';
import { assertJournalsReplay, replayEveryActor } from '../../support/replay.ts';
import { startRuntime, waitForState, type Harness } from '../../support/runtime-harness.ts';

const origin = { kind: 'event' as const };

// A machine in two versions, to prove migrations and refusals.
const counterV1 = defineMachineModule({
  type: 'counter',
  version: 1,
  description: 'test counter v1',
  migrations: {},
  machine: setup({ types: {} as { context: { count: number }; events: { type: 'INC' } } }).createMachine({
    id: 'counter',
    initial: 'counting',
    context: { count: 0 },
    states: { counting: { on: { INC: { actions: assign({ count: ({ context }) => context.count + 1 }) } } } },
  }),
});

const counterV2 = defineMachineModule({
  type: 'counter',
  version: 2,
  description: 'test counter v2: counts in a unit, can be closed',
  migrations: {
    1: (snapshot) => ({ ...snapshot, context: { ...(snapshot.context as object), unit: 'items' } }),
  },
  machine: setup({ types: {} as { context: { count: number; unit: string }; events: { type: 'INC' } | { type: 'CLOSE' } } }).createMachine({
    id: 'counter',
    initial: 'counting',
    context: { count: 0, unit: 'items' },
    states: {
      counting: { on: { INC: { actions: assign({ count: ({ context }) => context.count + 1 }) }, CLOSE: 'closed' } },
      closed: { type: 'final' },
    },
  }),
});

const counterV3WithoutMigration = defineMachineModule({ ...counterV2, version: 3, migrations: {} });

// KNOCK is taken only once the door is open: a copy cached before OPEN refuses what the stored actor accepts.
const door = defineMachineModule({
  type: 'door',
  version: 1,
  description: 'test door: knocks counted once it is open',
  migrations: {},
  machine: setup({ types: {} as { context: { knocks: number }; events: { type: 'OPEN' } | { type: 'KNOCK' } } }).createMachine({
    id: 'door',
    initial: 'closed',
    context: { knocks: 0 },
    states: {
      closed: { on: { OPEN: 'open' } },
      open: { on: { KNOCK: { actions: assign({ knocks: ({ context }) => context.knocks + 1 }) } } },
    },
  }),
});

/** Runs `work` with two runtimes on the test's database, as two hub processes are, and closes both. */
async function inTwoProcesses(work: (here: Harness, there: Harness) => Promise<void>): Promise<void> {
  const start = () => startRuntime({ dbName: '', database, machines: [door], startWorker: false });
  const here = await start();
  const there = await start();
  try {
    await work(here, there);
  } finally {
    await here.close();
    await there.close();
  }
}

let database: Database;
let echo: EchoSandbox;
let harness: Harness;

before(async () => {
  database = await connectDatabase(databaseUri(), uniqueDatabaseName('runtime'));
  echo = await startEchoSandbox();
  harness = await startRuntime({
    dbName: '',
    database,
    machines: [probe, counterV1],
    effects: [probeEffects({ baseUrl: echo.url })],
    pollMs: 100,
  });
});

after(async () => {
  await harness.close();
  await echo.close();
  await database.close();
});

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  assert.fail('expected the runtime to refuse');
}

test('every transition is journalled with actor, revision, event, from, to and time', async () => {
  const { runtime, store } = harness;
  await runtime.create('probe', 'journal-1', {}, { origin });
  await runtime.of(probe).send('journal-1', { type: 'ADD', amount: 2 }, { origin });
  await runtime.of(probe).send('journal-1', { type: 'WAIT' }, { origin });
  const entries = await store.readJournal(actorKey('probe', 'journal-1'), 0, 10);
  assert.deepEqual(
    entries.map((e) => [e.actor, e.revision, e.eventType, e.from, e.to]),
    [
      ['probe/journal-1', 1, 'xstate.init', null, 'idle'],
      ['probe/journal-1', 2, 'ADD', 'idle', 'idle'],
      ['probe/journal-1', 3, 'WAIT', 'idle', 'waiting'],
    ],
  );
  assert.ok(entries.every((e) => e.at instanceof Date));
  assert.deepEqual(JSON.parse(entries[1]!.event), { type: 'ADD', amount: 2 });
});

test('a repeated idempotency key returns the first result and changes nothing', async () => {
  const { runtime, store } = harness;
  await runtime.create('probe', 'idem-1', {}, { origin });
  const first = await runtime.of(probe).send(
    'idem-1',
    { type: 'ADD', amount: 5 },
    {
      idempotencyKey: 'add-5',
      requestHash: 'h1',
      origin,
    },
  );
  const second = await runtime.of(probe).send(
    'idem-1',
    { type: 'ADD', amount: 5 },
    {
      idempotencyKey: 'add-5',
      requestHash: 'h1',
      origin,
    },
  );
  assert.equal(first.replayed, false);
  assert.equal(second.replayed, true);
  assert.deepEqual(second.actor, first.actor);
  const current = await runtime.get('probe', 'idem-1');
  assert.equal(current.revision, 2);
  assert.equal((current.context as { total: number }).total, 5);
  assert.equal((await store.readJournal(actorKey('probe', 'idem-1'), 0, 10)).length, 2);
});

test('concurrent duplicates of one key are applied once and all answer the same revision', async () => {
  const { runtime } = harness;
  await runtime.create('probe', 'idem-2', {}, { origin });
  const results = await Promise.all(
    Array.from({ length: 20 }, () =>
      runtime.of(probe).send('idem-2', { type: 'ADD', amount: 1 }, { idempotencyKey: 'same', requestHash: 'h', origin }),
    ),
  );
  assert.equal(results.filter((r) => !r.replayed).length, 1);
  assert.deepEqual(new Set(results.map((r) => r.actor.revision)), new Set([2]));
  assert.equal(((await runtime.get('probe', 'idem-2')).context as { total: number }).total, 1);
});

test('concurrent creates with one key and no id make one actor', async () => {
  const { runtime } = harness;
  const results = await Promise.all(
    Array.from({ length: 10 }, () =>
      runtime.create('probe', undefined, { label: 'once' }, { idempotencyKey: 'create-once', requestHash: 'c', origin }),
    ),
  );
  assert.equal(new Set(results.map((r) => r.actor.id)).size, 1);
  assert.equal(results.filter((r) => !r.replayed).length, 1);
});

test('an idempotency key reused for a different request is refused with 422', async () => {
  const { runtime } = harness;
  await runtime.create('probe', 'idem-3', {}, { origin });
  await runtime.of(probe).send('idem-3', { type: 'ADD', amount: 1 }, { idempotencyKey: 'k', requestHash: 'one', origin });
  const error = await refusal(
    runtime.of(probe).send('idem-3', { type: 'ADD', amount: 2 }, { idempotencyKey: 'k', requestHash: 'two', origin }),
  );
  assert.equal(error.status, 422);
  assert.equal(error.code, 'idempotency_key_reused');
});

test('a lost idempotency record (crash right after the commit) still deduplicates through the journal', async () => {
  const { runtime } = harness;
  await runtime.create('probe', 'idem-4', {}, { origin });
  await runtime.of(probe).send('idem-4', { type: 'ADD', amount: 1 }, { idempotencyKey: 'lost', requestHash: 'x', origin });
  await harness.store.drain();
  const removed = await database.collections.idempotency.deleteOne({ _id: 'probe/idem-4|lost' });
  assert.equal(removed.deletedCount, 1);
  runtime.evictAll();
  const again = await runtime.of(probe).send(
    'idem-4',
    { type: 'ADD', amount: 1 },
    {
      idempotencyKey: 'lost',
      requestHash: 'x',
      origin,
    },
  );
  assert.equal(again.replayed, true);
  assert.equal((await runtime.get('probe', 'idem-4')).revision, 2);
});

test('a repeat the state now refuses still answers its first result after a crash lost the idempotency record', async () => {
  const { runtime } = harness;
  await runtime.create('probe', 'idem-6', {}, { origin });
  const first = await runtime.of(probe).send('idem-6', { type: 'FINISH' }, { idempotencyKey: 'end', requestHash: 'e', origin });
  await harness.store.drain();
  // the crash: the commit landed, the follow-ups did not (no record, the projection one revision behind)
  const removed = await database.collections.idempotency.deleteOne({ _id: 'probe/idem-6|end' });
  assert.equal(removed.deletedCount, 1);
  const before = await database.collections.journal.findOne({ _id: journalId(actorKey('probe', 'idem-6'), 1) });
  assert.ok(before, 'revision 1 is in the journal');
  await database.collections.actors.updateOne(
    { _id: actorKey('probe', 'idem-6') },
    {
      $set: { revision: 1, state: before.to, status: before.status, tags: before.tags, snapshot: before.snapshot, runtime: before.runtime },
    },
  );
  runtime.evictAll();
  const again = await runtime.of(probe).send('idem-6', { type: 'FINISH' }, { idempotencyKey: 'end', requestHash: 'e', origin });
  assert.deepEqual([again.replayed, again.actor.revision, again.actor.state], [true, first.actor.revision, first.actor.state]);
  const other = await refusal(runtime.of(probe).send('idem-6', { type: 'FINISH' }, { idempotencyKey: 'other', requestHash: 'e', origin }));
  assert.equal(other.status, 409);
});

test('a create repeated after its idempotency record was lost answers the actor, cached or not, instead of "exists"', async () => {
  const { runtime } = harness;
  const first = await runtime.create(
    'probe',
    'idem-5',
    { label: 'from a partner' },
    { idempotencyKey: 'partner-msg-1', requestHash: 'p', origin },
  );
  await harness.store.drain();
  const removed = await database.collections.idempotency.deleteOne({ _id: 'create:probe|partner-msg-1' });
  assert.equal(removed.deletedCount, 1);
  const cached = await runtime.create(
    'probe',
    'idem-5',
    { label: 'from a partner' },
    { idempotencyKey: 'partner-msg-1', requestHash: 'p', origin },
  );
  assert.deepEqual([cached.replayed, cached.actor.revision], [true, first.actor.revision]);
  runtime.evictAll();
  const loaded = await runtime.create(
    'probe',
    'idem-5',
    { label: 'from a partner' },
    { idempotencyKey: 'partner-msg-1', requestHash: 'p', origin },
  );
  assert.equal(loaded.replayed, true);
  const other = await refusal(runtime.create('probe', 'idem-5', {}, { idempotencyKey: 'partner-msg-2', requestHash: 'p', origin }));
  assert.equal(other.code, 'actor_exists', 'another key for the same id is still refused');
});

test('an event the state does not accept is refused with 409 and the events it does accept', async () => {
  const { runtime } = harness;
  await runtime.create('probe', 'refuse-1', {}, { origin });
  const error = await refusal(runtime.of(probe).send('refuse-1', { type: 'RESET' }, { origin }));
  assert.equal(error.status, 409);
  assert.deepEqual(error.details, { state: 'idle', status: 'active', event: 'RESET', accepted: ['ADD', 'CALL', 'FINISH', 'WAIT'] });
  const guarded = await refusal(runtime.of(probe).send('refuse-1', { type: 'ADD', amount: 0 }, { origin }));
  assert.equal(guarded.status, 409);
  assert.equal((await runtime.get('probe', 'refuse-1')).revision, 1);
});

test('a finished actor accepts no events', async () => {
  const { runtime } = harness;
  await runtime.create('probe', 'done-1', {}, { origin });
  await runtime.of(probe).send('done-1', { type: 'FINISH' }, { origin });
  const error = await refusal(runtime.of(probe).send('done-1', { type: 'ADD', amount: 1 }, { origin }));
  assert.equal(error.status, 409);
  assert.deepEqual((error.details as { accepted: string[] }).accepted, []);
});

test('creating an actor that exists is refused with 409', async () => {
  const { runtime } = harness;
  await runtime.create('probe', 'exists-1', {}, { origin });
  runtime.evictAll();
  const error = await refusal(runtime.create('probe', 'exists-1', {}, { origin }));
  assert.equal(error.code, 'actor_exists');
});

test('replaying the journal through the machine rebuilds the stored state, effect results and timers included', async () => {
  const { runtime, store } = harness;
  await runtime.create('probe', 'replay-1', { label: 'r', timeoutMs: 100 }, { origin });
  for (const event of [
    { type: 'ADD', amount: 3 },
    { type: 'WAIT', timeoutMs: 60_000 },
    { type: 'ADD', amount: 4 },
    { type: 'CANCEL' },
    { type: 'CALL', message: 'x' },
    { type: 'CANCEL' },
    { type: 'ADD', amount: 1 },
  ] satisfies ProbeEvent[]) {
    await runtime.of(probe).send('replay-1', event, { origin });
  }
  await runtime.of(probe).send('replay-1', { type: 'CALL', message: 'answered' }, { origin });
  await waitForState(runtime, 'probe', 'replay-1', 'idle');
  await runtime.of(probe).send('replay-1', { type: 'WAIT', timeoutMs: 100 }, { origin });
  await waitForState(runtime, 'probe', 'replay-1', 'timedOut');
  await store.drain();

  const entries = await store.readJournal(actorKey('probe', 'replay-1'), 0, 100);
  const origins = new Set(entries.map((e) => e.origin.kind));
  assert.deepEqual([...origins].sort(), ['effect', 'event', 'timer'], 'the journal holds commands, an effect result and a timer firing');
  const stored = await database.collections.actors.findOne({ _id: 'probe/replay-1' });
  assert.ok(stored);
  assert.equal(stored.revision, entries.length);
  assert.deepEqual(replayJournal(probe, entries), JSON.parse(stored.snapshot));
});

test('a replay refuses a journal with a gap', async () => {
  const { store } = harness;
  const entries = await store.readJournal(actorKey('probe', 'replay-1'), 0, 100);
  assert.throws(() => replayJournal(probe, [entries[0]!, entries[2]!]), /gap/);
});

test('the replay check names the actor, the revision where its replay first parts from the journal, and what differed', async () => {
  const { store } = harness;
  const entries = await store.readJournal(actorKey('probe', 'replay-1'), 0, 100);
  // a journal of its own, so the other tests' actors stay as they are
  const journal = database.collections.db.collection<JournalDoc>('journal_replay_check');
  await journal.insertMany(entries);
  assert.deepEqual(await assertJournalsReplay({ journal, hubMeta: database.collections.hubMeta }, [probe]), { probe: 1 });

  // Revision 2 (ADD 3) stored as if the machine had added 30; later revisions are untouched and
  // still agree with the replay, so only a check revision by revision sees it.
  const second = entries[1]!;
  assert.equal(second.eventType, 'ADD');
  const tampered = JSON.parse(second.snapshot) as { context: { total: number } };
  tampered.context.total = 30;
  await journal.updateOne({ _id: second._id }, { $set: { snapshot: JSON.stringify(tampered) } });
  const { divergences } = await replayEveryActor({ journal, hubMeta: database.collections.hubMeta }, [probe]);
  assert.equal(divergences.length, 1, divergences.join('\n'));
  assert.match(divergences[0]!, /^probe\/replay-1 .*revision 2 \(ADD\):\n {2}context\.total: replayed 3, stored 30$/);
  await assert.rejects(assertJournalsReplay({ journal, hubMeta: database.collections.hubMeta }, [probe]), /probe\/replay-1/);
});

test('the replay check fails when it found no actor of a type it was asked to check', async () => {
  const journal = database.collections.db.collection<JournalDoc>('journal_replay_check_empty');
  await assert.rejects(assertJournalsReplay({ journal, hubMeta: database.collections.hubMeta }, [probe]), /no actor of probe was found/);
});

test('a projection left behind by a crash is rolled forward from the journal on load', async () => {
  const { runtime, store } = harness;
  await runtime.create('probe', 'lag-1', {}, { origin });
  await store.drain();
  const stale = await database.collections.actors.findOne({ _id: 'probe/lag-1' });
  await runtime.of(probe).send('lag-1', { type: 'ADD', amount: 9 }, { origin });
  await store.drain();
  await database.collections.actors.replaceOne({ _id: 'probe/lag-1' }, stale!);
  runtime.evictAll();
  const view = await runtime.get('probe', 'lag-1');
  assert.equal(view.revision, 2);
  assert.equal((view.context as { total: number }).total, 9);
  await store.drain(); // the projector writes the repaired projection
  assert.equal((await database.collections.actors.findOne({ _id: 'probe/lag-1' }))?.revision, 2);
});

test('an event refused by a copy another process has moved on from is judged again on the stored actor', async () => {
  await inTwoProcesses(async (here, there) => {
    await here.runtime.create('door', 'stale-1', undefined, { origin });
    await there.runtime.send('door', 'stale-1', { type: 'OPEN' }, { origin });
    // `here` still holds the closed door in memory
    const knocked = await here.runtime.send('door', 'stale-1', { type: 'KNOCK' }, { origin });
    assert.equal(knocked.actor.revision, 3);
    assert.deepEqual(knocked.actor.context, { knocks: 1 });
    const refused = await refusal(here.runtime.send('door', 'stale-1', { type: 'OPEN' }, { origin }));
    assert.equal(refused.code, 'event_not_accepted', 'what the stored actor refuses is still refused');
  });
});

test("a projection written late by one process over a newer one of another ends at the journal's head", async () => {
  await inTwoProcesses(async (here, there) => {
    await here.runtime.create('door', 'late-1', undefined, { origin });
    await here.runtime.send('door', 'late-1', { type: 'OPEN' }, { origin });
    await there.runtime.send('door', 'late-1', { type: 'KNOCK' }, { origin });
    await there.store.drain(); // revision 3 projected
    await here.store.drain(); // revision 2 written over it, then mended
    const projection = await database.collections.actors.findOne({ _id: 'door/late-1' });
    assert.equal(projection?.revision, 3);
    assert.equal(projection?.state, 'open');
  });
});

/** The projections_due records that still name an actor. */
async function recordsNaming(key: string): Promise<string[]> {
  const records = await database.collections.projectionsDue.find({}).toArray();
  return records.filter((record) => record.actors.some((entry) => entry.key === key)).map((record) => record._id);
}

test('each batch of commits records the projections it owes; the record goes once they are written', async () => {
  const { runtime, store } = harness;
  await runtime.create('probe', 'owed-1', {}, { origin });
  await runtime.of(probe).send('owed-1', { type: 'ADD', amount: 2 }, { origin });
  const [record] = await recordsNaming('probe/owed-1');
  assert.ok(record, 'the commit of revision 2 left a record while its projection waits for the quiet time');
  const stored = await database.collections.projectionsDue.findOne({ _id: record });
  assert.deepEqual(stored?.actors, [{ key: 'probe/owed-1', revision: 2 }]);
  await store.drain();
  assert.deepEqual(await recordsNaming('probe/owed-1'), [], 'written, so nothing is left to repair');
  assert.equal((await database.collections.actors.findOne({ _id: 'probe/owed-1' }))?.revision, 2);
});

test('projections a process left unwritten are repaired from the journal by another, once the record is old', async () => {
  await harness.store.drain(); // the other tests' projections are written: the repair passes below count only these
  // `here` waits ten minutes to write projections: stopping it now is a crash before it wrote them
  const here = await startRuntime({ dbName: '', database, machines: [door], startWorker: false, projectionQuietMs: 600_000 });
  const there = await startRuntime({ dbName: '', database, machines: [door], startWorker: false });
  try {
    await here.runtime.create('door', 'left-1', undefined, { origin });
    await here.runtime.send('door', 'left-1', { type: 'OPEN' }, { origin });
    await here.runtime.send('door', 'left-1', { type: 'KNOCK' }, { origin });
    const openDoors = () => database.collections.actors.countDocuments({ _id: 'door/left-1', state: 'open' });
    assert.equal(await openDoors(), 0, 'a query by state does not see the door open');
    assert.equal((await recordsNaming('door/left-1')).length, 2, 'one record per batch: OPEN’s and KNOCK’s');

    assert.equal(await there.store.repairProjections(Date.now(), 60_000), 0, 'a young record is its own process’s to settle');
    assert.equal(await openDoors(), 0);

    assert.equal(await there.store.repairProjections(Date.now() + 61_000, 60_000), 1);
    const projection = await database.collections.actors.findOne({ _id: 'door/left-1' });
    assert.equal(projection?.revision, 3);
    assert.equal(projection?.state, 'open');
    assert.equal(await openDoors(), 1, 'the query by state sees it now');
    assert.deepEqual(await recordsNaming('door/left-1'), []);
    assert.equal(there.runtime.countsNow().projectionsRepaired, 1);
    assert.equal(await there.store.repairProjections(Date.now() + 61_000, 60_000), 0, 'nothing is repaired twice');
  } finally {
    await here.close();
    await there.close();
  }
});

test('a process that wrote its projection over a newer one owes it until it wrote the newer one; dying first leaves that to the repair', async () => {
  await harness.store.drain();
  const here = await startRuntime({ dbName: '', database, machines: [door], startWorker: false, projectionQuietMs: 600_000 });
  const there = await startRuntime({ dbName: '', database, machines: [door], startWorker: false });
  try {
    await here.runtime.create('door', 'late-2', undefined, { origin });
    await here.runtime.send('door', 'late-2', { type: 'OPEN' }, { origin });
    const revision2 = (await here.store.load('door/late-2'))!.doc;
    await there.runtime.send('door', 'late-2', { type: 'KNOCK' }, { origin });
    await there.store.drain();
    // `here` writes revision 2 over 3; it sees the journal ahead, and would write 3 after its quiet time
    assert.equal(await here.store.projector.writeNow([revision2]), false, 'written, but found behind the journal');
    assert.equal((await database.collections.actors.findOne({ _id: 'door/late-2' }))?.revision, 2);
    assert.equal((await recordsNaming('door/late-2')).length, 1, 'its record stays: the projection is behind');
    // `here` dies before that second write. (Counted at least once: the file's own runtime may have left a
    // record of a late effect or timer meanwhile, which this repair takes too.)
    assert.ok((await there.store.repairProjections(Date.now() + 61_000, 60_000)) >= 1);
    assert.equal((await database.collections.actors.findOne({ _id: 'door/late-2' }))?.revision, 3);
    assert.deepEqual(await recordsNaming('door/late-2'), []);
  } finally {
    await here.close();
    await there.close();
  }
});

test('a starting worker repairs what a dead process left, before it reports started', async () => {
  const dead = await startRuntime({ dbName: '', database, machines: [door], startWorker: false, projectionQuietMs: 600_000 });
  await dead.runtime.create('door', 'left-2', undefined, { origin });
  await dead.runtime.send('door', 'left-2', { type: 'OPEN' }, { origin });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const next = await startRuntime({ dbName: '', database, machines: [door], projectionRepairAfterMs: 200 });
  try {
    const projection = await database.collections.actors.findOne({ _id: 'door/left-2' });
    assert.equal(projection?.revision, 2);
    assert.equal(projection?.state, 'open');
    assert.deepEqual(await recordsNaming('door/left-2'), []);
  } finally {
    await next.close();
    await dead.close();
  }
});

test('a commit that lost its revision race owes no projection: its batch record goes with the winner’s', async () => {
  await inTwoProcesses(async (here, there) => {
    await here.runtime.create('door', 'race-1', undefined, { origin });
    await there.runtime.send('door', 'race-1', { type: 'OPEN' }, { origin });
    // `here` commits from its stale copy, loses revision 2, and applies the event again at revision 3
    await here.runtime.send('door', 'race-1', { type: 'OPEN' }, { origin }).catch(() => undefined);
    await here.store.drain();
    await there.store.drain();
    assert.deepEqual(await recordsNaming('door/race-1'), []);
  });
});

test('a snapshot stored under version 1 loads under version 2 through its migration', async () => {
  await harness.runtime.create('counter', 'mig-1', undefined, { origin });
  await harness.runtime.send('counter', 'mig-1', { type: 'INC' }, { origin });
  await harness.store.drain();
  const v2 = await startRuntime({
    dbName: '',
    database,
    machines: [probe, counterV2],
    effects: [probeEffects({ baseUrl: echo.url })],
    startWorker: false,
  });
  try {
    const view = await v2.runtime.get('counter', 'mig-1');
    assert.deepEqual(view.context, { count: 1, unit: 'items' });
    assert.equal(view.version, 2);
    const next = await v2.runtime.send('counter', 'mig-1', { type: 'CLOSE' }, { origin });
    assert.equal(next.actor.status, 'done');
    await v2.store.drain();
    assert.equal((await database.collections.actors.findOne({ _id: 'counter/mig-1' }))?.version, 2);
  } finally {
    await v2.close();
  }
});

test('a snapshot of an unknown version is refused with a clear error and left untouched', async () => {
  await harness.runtime.create('counter', 'mig-2', undefined, { origin });
  await harness.store.drain();
  await database.collections.actors.updateOne({ _id: 'counter/mig-2' }, { $set: { version: 7 } });
  const before = await database.collections.actors.findOne({ _id: 'counter/mig-2' });
  const v2 = await startRuntime({
    dbName: '',
    database,
    machines: [probe, counterV2],
    effects: [probeEffects({ baseUrl: echo.url })],
    startWorker: false,
  });
  const v3 = await startRuntime({
    dbName: '',
    database,
    machines: [probe, counterV3WithoutMigration],
    effects: [probeEffects({ baseUrl: echo.url })],
    startWorker: false,
  });
  try {
    const unknown = await refusal(v2.runtime.send('counter', 'mig-2', { type: 'INC' }, { origin }));
    assert.equal(unknown.code, 'unsupported_snapshot_version');
    assert.match(unknown.message, /version 7/);
    assert.deepEqual(unknown.details, { storedVersion: 7, currentVersion: 2 });
    assert.deepEqual(await database.collections.actors.findOne({ _id: 'counter/mig-2' }), before);

    await harness.runtime.create('counter', 'mig-3', undefined, { origin });
    await harness.store.drain();
    const missing = await refusal(v3.runtime.get('counter', 'mig-3'));
    assert.equal(missing.code, 'unsupported_snapshot_version');
    assert.match(missing.message, /no migration is declared from version 1 to 2/);
  } finally {
    await v2.close();
    await v3.close();
  }
});

test('an effect failing with 5xx is retried with the same key and its result delivered once', async () => {
  const { runtime } = harness;
  const before = echo.sideEffects();
  echo.failNext(2, 503);
  await runtime.create('probe', 'effect-1', {}, { origin });
  await runtime.of(probe).send('effect-1', { type: 'CALL', message: 'retry me' }, { origin });
  const view = await waitForState(runtime, 'probe', 'effect-1', 'idle', 10_000);
  assert.equal((view.context as { lastResult: { echoed: string } }).lastResult.echoed, 'retry me');
  assert.equal(echo.sideEffects() - before, 1);
  assert.deepEqual(view.inFlight.effects, []);
  assert.equal(await database.collections.effects.countDocuments({ actor: 'probe/effect-1' }), 0);
});

test('a non-retryable effect failure is delivered as the error event with its code', async () => {
  const { runtime } = harness;
  echo.failNext(1, 400);
  await runtime.create('probe', 'effect-2', {}, { origin });
  await runtime.of(probe).send('effect-2', { type: 'CALL', message: 'no' }, { origin });
  const view = await waitForState(runtime, 'probe', 'effect-2', 'failed', 10_000);
  assert.deepEqual((view.context as { lastError: unknown }).lastError, {
    code: 'sandbox_fault',
    message: 'injected HTTP 400',
    retryable: false,
    attempts: 1,
  });
});

test('an external call that times out is retried with the same key, then its failure is delivered', async () => {
  // Its own database, so only this runtime's worker (with a short time-out) runs the call.
  const ownDatabase = await connectDatabase(databaseUri(), uniqueDatabaseName('timeout'));
  const slow = await startRuntime({
    dbName: '',
    database: ownDatabase,
    machines: [probe],
    effects: [probeEffects({ baseUrl: echo.url })],
    pollMs: 100,
    maxAttempts: 2,
    effectTimeoutMs: 300,
  });
  const requestsBefore = echo.requests();
  const sideEffectsBefore = echo.sideEffects();
  echo.hold();
  try {
    await slow.runtime.create('probe', 'slow-1', {}, { origin });
    await slow.runtime.of(probe).send('slow-1', { type: 'CALL', message: 'never answered' }, { origin });
    const view = await waitForState(slow.runtime, 'probe', 'slow-1', 'failed', 10_000);
    assert.deepEqual((view.context as { lastError: unknown }).lastError, {
      code: 'effect_timeout',
      message: 'no answer within 300 ms',
      retryable: true,
      attempts: 2,
    });
    assert.equal(echo.requests() - requestsBefore, 2, 'tried twice');
    assert.equal(echo.sideEffects() - sideEffectsBefore, 1, 'both tries carried the same idempotency key');
    assert.equal(await ownDatabase.collections.effects.countDocuments({}), 0);
  } finally {
    echo.release();
    await slow.close();
    await ownDatabase.close();
  }
});

test('a result for an invocation the actor left is dropped', async () => {
  const { runtime } = harness;
  echo.hold();
  try {
    await runtime.create('probe', 'effect-3', {}, { origin });
    const requests = echo.requests();
    await runtime.of(probe).send('effect-3', { type: 'CALL', message: 'slow' }, { origin });
    await echo.waitForRequests(requests + 1);
    await runtime.of(probe).send('effect-3', { type: 'CANCEL' }, { origin });
  } finally {
    echo.release();
  }
  await eventually(
    async () => (await database.collections.effects.countDocuments({ actor: 'probe/effect-3' })) === 0,
    10_000,
    'the effect record to go',
  );
  const view = await runtime.get('probe', 'effect-3');
  assert.equal(view.state, 'idle');
  assert.equal(view.revision, 3);
  assert.equal((view.context as { lastResult: unknown }).lastResult, null);
});

/**
 * For a timer that must NOT fire: the one wait whose point is the passing of
 * time, until it falls due (the worker fires a near timer from memory then),
 * then two polls, so that one complete poll looked at the timers after it.
 */
async function passedDueTimeAndPolls(due: number): Promise<void> {
  const wait = due - Date.now();
  if (wait >= 0) await new Promise((resolve) => setTimeout(resolve, wait + 1));
  const cycles = harness.worker.snapshot().cycles;
  await eventually(() => harness.worker.snapshot().cycles >= cycles + 2, 5_000, 'two polls after the due time');
}

test('a durable timeout fires once', async () => {
  const { runtime } = harness;
  await runtime.create('probe', 'timer-1', { timeoutMs: 150 }, { origin });
  await runtime.of(probe).send('timer-1', { type: 'WAIT' }, { origin });
  const view = await waitForState(runtime, 'probe', 'timer-1', 'timedOut', 5_000);
  assert.equal((view.context as { timeouts: number }).timeouts, 1);
  assert.equal(view.revision, 3);
});

test('a timer cancelled by leaving the state never fires', async () => {
  const { runtime } = harness;
  await runtime.create('probe', 'timer-2', { timeoutMs: 150 }, { origin });
  await runtime.of(probe).send('timer-2', { type: 'WAIT' }, { origin });
  // committed by now, so due 150 ms from now at the latest
  const due = Date.now() + 150;
  await runtime.of(probe).send('timer-2', { type: 'CANCEL' }, { origin });
  await passedDueTimeAndPolls(due);
  const view = await runtime.get('probe', 'timer-2');
  assert.equal(view.state, 'idle');
  assert.equal(view.revision, 3);
  assert.equal((view.context as { timeouts: number }).timeouts, 0);
  assert.equal(await database.collections.timers.countDocuments({ actor: 'probe/timer-2' }), 0);
});

test('re-entering a waiting state replaces the earlier timer instead of firing early', async () => {
  const { runtime } = harness;
  await runtime.create('probe', 'timer-3', { timeoutMs: 200 }, { origin });
  await runtime.of(probe).send('timer-3', { type: 'WAIT', timeoutMs: 200 }, { origin });
  const firstDue = Date.now() + 200;
  await runtime.of(probe).send('timer-3', { type: 'CANCEL' }, { origin });
  await runtime.of(probe).send('timer-3', { type: 'WAIT', timeoutMs: 5_000 }, { origin });
  await passedDueTimeAndPolls(firstDue);
  const view = await runtime.get('probe', 'timer-3');
  assert.equal(view.state, 'waiting', 'the first, cancelled 200 ms timer must not end the second wait');
});

test('memory holds at most the configured number of actors', async () => {
  const small = await startRuntime({
    dbName: '',
    database,
    machines: [probe, counterV1],
    effects: [probeEffects({ baseUrl: echo.url })],
    cacheSize: 5,
    startWorker: false,
  });
  try {
    await Promise.all(Array.from({ length: 30 }, (_, i) => small.runtime.create('counter', `lru-${i}`, undefined, { origin })));
    assert.ok(small.runtime.cachedActors <= 5, `cached ${small.runtime.cachedActors}`);
    const views = await Promise.all(Array.from({ length: 30 }, (_, i) => small.runtime.get('counter', `lru-${i}`)));
    assert.equal(views.length, 30);
    assert.ok(small.runtime.cachedActors <= 5);
  } finally {
    await small.close();
  }
});
