import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, setup } from 'xstate';
import { AppError, EventNotAcceptedError } from '../../../common/errors.ts';
import { defineMachineModule } from '../../../machines/machine-module.ts';
import { ownerSlotOf } from '../../../actors/runtime/actor-routing.ts';
import {
  ClusterRouter,
  RouteRelay,
  type IpcChannel,
  type RelaySlot,
  type RouteAnswerMessage,
  type RouteCallMessage,
} from '../../../actors/runtime/cluster-router.ts';
import { actorKey } from '../../../actors/runtime/store.ts';
import { connectDatabase, type Database } from '../../../persistence/database.ts';
import { databaseUri, uniqueDatabaseName } from '../../support/database.ts';
import { startRuntime, type Harness } from '../../support/runtime-harness.ts';

/**
 * Two runtimes on one real database, as two workers of a cluster: their
 * ClusterRouters and the primary's RouteRelay are the real ones; only Node's
 * IPC pipe is replaced by an in-process one that copies each message through
 * JSON (as the pipe does) and can hold or drop messages, so that a worker
 * that dies with a call in hand can be staged exactly.
 */

const origin = { kind: 'event' as const };

const counter = defineMachineModule({
  type: 'routed-counter',
  version: 1,
  description: 'test counter for routing',
  migrations: {},
  machine: setup({ types: {} as { context: { count: number }; events: { type: 'INC' } | { type: 'CLOSE' } } }).createMachine({
    id: 'routed-counter',
    initial: 'counting',
    context: { count: 0 },
    states: {
      counting: { on: { INC: { actions: assign({ count: ({ context }) => context.count + 1 }) }, CLOSE: 'closed' } },
      closed: { type: 'final' },
    },
  }),
});

type Message = RouteCallMessage | RouteAnswerMessage;

/** One direction of a pipe: delivers asynchronously, in order; `hold` keeps messages back, `cut` loses them. */
class Pipe {
  mode: 'flow' | 'hold' | 'cut' = 'flow';
  readonly held: Message[] = [];
  constructor(private readonly deliver: (message: Message) => void) {}

  send(message: Message, callback: (error: Error | null) => void): boolean {
    const copy = JSON.parse(JSON.stringify(message)) as Message;
    setImmediate(() => {
      if (this.mode === 'flow') this.deliver(copy);
      else if (this.mode === 'hold') this.held.push(copy);
      callback(null);
    });
    return true;
  }
}

/** A worker's end: what its router sends goes to the relay; what the relay sends it reaches its router. */
class WorkerEnd implements IpcChannel, RelaySlot {
  connected = true;
  listening = true;
  private readonly listeners: Array<(message: unknown) => void> = [];
  readonly up: Pipe;
  readonly down = new Pipe((message) => this.listeners.forEach((listener) => listener(message)));
  readonly worker = {
    isConnected: () => this.connected,
    send: (message: Message, callback: (error: Error | null) => void) => this.down.send(message, callback),
  };

  constructor(slot: number, relay: () => RouteRelay) {
    this.up = new Pipe((message) => relay().received(slot, message));
  }

  send(message: Message, callback: (error: Error | null) => void): boolean {
    return this.up.send(message, callback);
  }

  on(_event: 'message', listener: (message: unknown) => void): void {
    this.listeners.push(listener);
  }
}

let database: Database;
let relay: RouteRelay;
const ends: WorkerEnd[] = [];
const routers: ClusterRouter[] = [];
let owner: Harness;
let other: Harness;

before(async () => {
  database = await connectDatabase(databaseUri(), uniqueDatabaseName('routing'));
  ends.push(new WorkerEnd(0, () => relay), new WorkerEnd(1, () => relay));
  relay = new RouteRelay(ends);
  const start = (slot: number) => {
    const router = new ClusterRouter({ slot, slots: 2, channel: ends[slot] as WorkerEnd });
    routers[slot] = router;
    return startRuntime({ dbName: 'unused', database, machines: [counter], startWorker: false, router });
  };
  owner = await start(0);
  other = await start(1);
});

after(async () => {
  await other?.close();
  await owner?.close();
  await database?.close();
});

/** An id whose actor slot 0 owns. */
function ownedId(label: string): string {
  for (let n = 0; ; n += 1) {
    const id = `${label}-${n}`;
    if (ownerSlotOf(actorKey(counter.type, id), 2) === 0) return id;
  }
}

test('an actor another process owns: its commands run there, and the answers come back as the owner gave them', async () => {
  const id = ownedId('routed');
  const before = { owner: owner.runtime.countsNow(), other: other.runtime.countsNow() };
  await other.runtime.create(counter.type, id, undefined, { idempotencyKey: `create-${id}`, origin });
  for (let n = 1; n <= 5; n += 1) {
    const result = await other.runtime.send(counter.type, id, { type: 'INC' }, { idempotencyKey: `inc-${id}-${n}`, origin });
    assert.equal((result.actor.context as { count: number }).count, n);
    assert.equal(result.actor.revision, n + 1);
  }
  const viewHere = await other.runtime.get(counter.type, id);
  assert.equal(viewHere.revision, 6);

  const after = { owner: owner.runtime.countsNow(), other: other.runtime.countsNow() };
  assert.equal(after.other.routed.done - before.other.routed.done, 7, 'create, five events and a read were handed on');
  assert.equal(after.owner.routedHere - before.owner.routedHere, 7, 'and the owner ran them');
  assert.equal(after.owner.revisionConflicts + after.other.revisionConflicts, 0, 'no commit raced a stale copy');

  // a repeated key is answered by the owner's replay, marked as such
  const repeat = await other.runtime.send(counter.type, id, { type: 'INC' }, { idempotencyKey: `inc-${id}-5`, origin });
  assert.equal(repeat.replayed, true);
  assert.equal(repeat.actor.revision, 6);
});

test("the owner's refusals reach the caller as the same errors: an event not accepted keeps its details, a missing actor its 404", async () => {
  const id = ownedId('refused');
  await other.runtime.create(counter.type, id, undefined, { origin });
  await other.runtime.send(counter.type, id, { type: 'CLOSE' }, { origin });
  await assert.rejects(
    () => other.runtime.send(counter.type, id, { type: 'INC' }, { origin }),
    (error: unknown) => {
      assert.ok(error instanceof EventNotAcceptedError);
      assert.equal(error.status, 409);
      assert.equal(error.details.state, 'closed');
      assert.equal(error.details.status, 'done');
      return true;
    },
  );
  await assert.rejects(
    () => other.runtime.get(counter.type, ownedId('missing')),
    (error: unknown) => error instanceof AppError && error.status === 404 && error.code === 'not_found',
  );
});

test('a slot with no serving worker: the call runs where it arrived', async () => {
  const id = ownedId('undelivered');
  const end = ends[0] as WorkerEnd;
  end.listening = false;
  try {
    const before = other.runtime.countsNow();
    await other.runtime.create(counter.type, id, undefined, { origin });
    const result = await other.runtime.send(counter.type, id, { type: 'INC' }, { origin });
    assert.equal(result.actor.revision, 2);
    assert.equal(other.runtime.countsNow().routed.undelivered - before.routed.undelivered, 2);
  } finally {
    end.listening = true;
  }
});

test('an owner that dies after it took a command: repeated here when a key makes that safe, else 503 and nothing applied twice', async () => {
  const end = ends[0] as WorkerEnd;
  const id = ownedId('lost');
  await other.runtime.create(counter.type, id, undefined, { origin });

  // 1. the owner applies the command, then dies before its answer leaves
  end.up.mode = 'cut';
  const keyed = other.runtime.send(counter.type, id, { type: 'INC' }, { idempotencyKey: `lost-${id}`, origin });
  await waitFor(async () => (await owner.runtime.get(counter.type, id)).revision === 2);
  relay.ended(0);
  const repeated = await keyed;
  assert.equal(repeated.replayed, true, 'repeated here, the first result is answered');
  assert.equal(repeated.actor.revision, 2, 'and applied once');

  // 2. the same without a key: unknown whether it applied, so the caller is told to look or repeat with a key
  const unkeyed = other.runtime.send(counter.type, id, { type: 'INC' }, { origin });
  await waitFor(async () => (await owner.runtime.get(counter.type, id)).revision === 3);
  relay.ended(0);
  await assert.rejects(
    unkeyed,
    (error: unknown) => error instanceof AppError && error.status === 503 && /Idempotency-Key/.test(error.message),
  );
  end.up.mode = 'flow';

  // 3. dies before it ran the command: never applied, and the keyed repeat applies it here, once
  end.down.mode = 'hold';
  const held = other.runtime.send(counter.type, id, { type: 'INC' }, { idempotencyKey: `held-${id}`, origin });
  await waitFor(async () => end.down.held.length === 1);
  relay.ended(0);
  const ranHere = await held;
  assert.equal(ranHere.replayed, false);
  assert.equal(ranHere.actor.revision, 4);
  end.down.held.length = 0;
  end.down.mode = 'flow';
  assert.equal((await owner.runtime.get(counter.type, id)).revision, 4, 'one commit per command');
});

test('a stopping owner takes no calls (they run where they arrived), and a stopping caller hands none on', async () => {
  const id = ownedId('closing');
  const stoppingOwner = new ClusterRouter({ slot: 0, slots: 2, channel: new WorkerEnd(0, () => relay) });
  stoppingOwner.close();
  assert.equal(stoppingOwner.isRemote(actorKey(counter.type, `${id}-elsewhere`)), false);
  // the real owner stops (the last test: it stays closed): the call comes back undelivered and the caller commits it itself
  routers[0]?.close();
  const before = { owner: owner.runtime.countsNow(), other: other.runtime.countsNow() };
  await other.runtime.create(counter.type, id, undefined, { origin });
  assert.equal(other.runtime.countsNow().routed.undelivered - before.other.routed.undelivered, 1);
  assert.equal(owner.runtime.countsNow().routedHere, before.owner.routedHere, 'the stopping owner ran nothing');
  assert.equal((await other.runtime.get(counter.type, id)).revision, 1);
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
