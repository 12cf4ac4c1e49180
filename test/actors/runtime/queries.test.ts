import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, setup } from 'xstate';
import { ActorIndex } from '../../../actors/runtime/actor-index.ts';
import { ActorQueries, type ActorSummary } from '../../../actors/runtime/queries.ts';
import { AppError } from '../../../common/errors.ts';
import { defineMachineModule } from '../../../machines/machine-module.ts';
import { connectDatabase, type Database } from '../../../persistence/database.ts';
import { databaseUri, uniqueDatabaseName } from '../../support/database.ts';
import { quietLogger, startRuntime, type Harness } from '../../support/runtime-harness.ts';

// A ticket machine in two versions: lists must show version-1 actors migrated, as single reads do.
const ticketV1 = defineMachineModule({
  type: 'ticket',
  version: 1,
  description: 'test ticket v1',
  migrations: {},
  machine: setup({ types: {} as { context: { title: string }; events: { type: 'CLOSE' }; input: { title: string } } }).createMachine({
    id: 'ticket',
    initial: 'open',
    context: ({ input }) => ({ title: input.title }),
    states: { open: { tags: ['fresh'], on: { CLOSE: 'closed' } }, closed: {} },
  }),
});

const ticketV2 = defineMachineModule({
  type: 'ticket',
  version: 2,
  description: 'test ticket v2: a priority',
  migrations: { 1: (snapshot) => ({ ...snapshot, context: { ...(snapshot.context as object), priority: 'normal' } }) },
  machine: setup({
    types: {} as { context: { title: string; priority: string }; events: { type: 'CLOSE' } | { type: 'BUMP' }; input: { title: string } },
  }).createMachine({
    id: 'ticket',
    initial: 'open',
    context: ({ input }) => ({ title: input.title, priority: 'normal' }),
    states: {
      open: { tags: ['fresh'], on: { CLOSE: 'closed', BUMP: { actions: assign({ priority: 'high' }) } } },
      closed: {},
    },
  }),
});

const ticketV3WithoutMigration = defineMachineModule({ ...ticketV2, version: 3, migrations: {} });

const origin = { kind: 'event' as const };
let database: Database;
let harness: Harness;
let created: number[];

before(async () => {
  database = await connectDatabase(databaseUri(), uniqueDatabaseName('queries'));
  // five tickets written by version 1, two of them closed
  const old = await startRuntime({ dbName: 'unused', database, machines: [ticketV1] });
  created = [];
  for (let n = 1; n <= 5; n += 1) {
    const made = await old.runtime.of(ticketV1).create(`T-${n}`, { title: `ticket ${n}` }, { origin });
    created.push(Date.parse(made.actor.createdAt));
    await new Promise((resolve) => setTimeout(resolve, 3)); // distinct creation times, so the order is unambiguous
  }
  for (const id of ['T-2', 'T-4']) await old.runtime.of(ticketV1).send(id, { type: 'CLOSE' }, { origin });
  await old.close();
  harness = await startRuntime({ dbName: 'unused', database, machines: [ticketV2] });
});

after(async () => {
  await harness.close();
  await database.collections.db.dropDatabase();
  await database.close();
});

test('views of older actors come migrated and typed by the machine, filtered and ordered', async () => {
  const queries = new ActorQueries({ runtime: harness.runtime, actors: database.collections.actors });
  const open = await queries.views(ticketV2, { states: ['open'] }, { order: 'oldestCreated' });
  assert.deepEqual(
    open.map((t) => [t.id, t.context.title, t.context.priority, t.version]),
    [
      ['T-1', 'ticket 1', 'normal', 2],
      ['T-3', 'ticket 3', 'normal', 2],
      ['T-5', 'ticket 5', 'normal', 2],
    ],
  );
  const newest = await queries.views(ticketV2, {}, { order: 'newestCreated', limit: 2 });
  assert.deepEqual(
    newest.map((t) => t.id),
    ['T-5', 'T-4'],
  );
  const middle = await queries.views(
    ticketV2,
    { createdFrom: new Date(created[1] as number), createdBefore: new Date(created[3] as number) },
    { order: 'oldestCreated' },
  );
  assert.deepEqual(
    middle.map((t) => t.id),
    ['T-2', 'T-3'],
  );
  assert.equal((await queries.find(ticketV2, 'T-3'))?.context.priority, 'normal');
  const contexts = await queries.contexts(ticketV2, { states: ['open'] }, { order: 'oldestCreated' });
  assert.deepEqual(
    contexts.map((t) => [t.id, t.context.priority]),
    open.map((t) => [t.id, t.context.priority]),
    'contexts alone are migrated as views are',
  );
  assert.equal(await queries.find(ticketV2, 'T-9'), null);
});

test('summaries agree between the database and the loaded index, page by page', async () => {
  await harness.runtime.of(ticketV2).send('T-3', { type: 'BUMP' }, { origin });
  const fromDatabase = new ActorQueries({ runtime: harness.runtime, actors: database.collections.actors });
  const index = new ActorIndex(database.collections.actors, quietLogger);
  await harness.runtime.flushProjections();
  index.start();
  await index.idle();
  index.stop();
  assert.equal(index.ready, true);
  const fromIndex = new ActorQueries({ runtime: harness.runtime, actors: database.collections.actors, index });

  const pages = async (queries: ActorQueries, filter: Parameters<ActorQueries['summaries']>[0]) => {
    const seen: string[][] = [];
    let after: ActorSummary | undefined;
    for (;;) {
      const page = await queries.summaries(filter, {
        limit: 2,
        ...(after ? { after: { updatedAt: after.updatedAt, key: after.key } } : {}),
      });
      if (page.length === 0) break;
      seen.push(page.map((a) => a.id));
      after = page.at(-1);
    }
    return seen;
  };
  for (const filter of [{ type: 'ticket' }, { tag: 'fresh' }, { states: ['closed'] }, { idPrefix: 'T-' }]) {
    const expected = await pages(fromDatabase, filter);
    assert.ok(expected.flat().length > 0, `something matches ${JSON.stringify(filter)}`);
    assert.deepEqual(await pages(fromIndex, filter), expected, JSON.stringify(filter));
  }
  assert.equal((await pages(fromDatabase, { type: 'ticket' }))[0]?.[0], 'T-3', 'the ticket just bumped is the newest updated');
  assert.deepEqual(await fromIndex.countByState('ticket'), await fromDatabase.countByState('ticket'));
  assert.deepEqual(await fromDatabase.countByState('ticket'), { open: 3, closed: 2 });
});

test('a list holding an actor this build cannot migrate is refused, not silently wrong', async () => {
  const newer = await startRuntime({ dbName: 'unused', database, machines: [ticketV3WithoutMigration], startWorker: false });
  try {
    const queries = new ActorQueries({ runtime: newer.runtime, actors: database.collections.actors });
    await assert.rejects(
      () => queries.views(ticketV3WithoutMigration),
      (error: unknown) => error instanceof AppError && error.code === 'unsupported_snapshot_version',
    );
    await assert.rejects(
      () => queries.contexts(ticketV3WithoutMigration),
      (error: unknown) => error instanceof AppError && error.code === 'unsupported_snapshot_version',
    );
  } finally {
    await newer.close();
  }
});

test('a module other than the registered one is refused', async () => {
  const queries = new ActorQueries({ runtime: harness.runtime, actors: database.collections.actors });
  await assert.rejects(() => queries.views(ticketV1), /registered with another definition/);
});
