import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, setup } from 'xstate';
import { AppError, EventNotAcceptedError } from '../../../common/errors.ts';
import { defineMachineModule } from '../../../machines/machine-module.ts';
import { uniqueDatabaseName } from '../../support/database.ts';
import { startRuntime, type Harness } from '../../support/runtime-harness.ts';

const origin = { kind: 'event' as const };

interface GateContext {
  code: string;
  someoneHome: boolean;
  opened: number;
}
type GateEvent = { type: 'OPEN'; code: string } | { type: 'KNOCK' } | { type: 'LOCK' } | { type: 'JAM' };

const gateMachine = setup({
  types: {} as { context: GateContext; events: GateEvent; input: { code: string } },
  guards: {
    rightCode: ({ context, event }) => event.type === 'OPEN' && event.code === context.code,
    someoneHome: ({ context }) => context.someoneHome,
  },
}).createMachine({
  id: 'gate',
  initial: 'closed',
  context: ({ input }) => ({ code: input.code, someoneHome: false, opened: 0 }),
  states: {
    closed: {
      on: {
        OPEN: { guard: 'rightCode', target: 'open', actions: assign({ opened: ({ context }) => context.opened + 1 }) },
        // refused by its guard, and the module gives no reason of its own: the runtime names the guard
        KNOCK: { guard: 'someoneHome', target: 'open' },
        JAM: { guard: 'someoneHome', target: 'open' },
      },
    },
    open: { on: { LOCK: 'closed' } },
  },
});

/** A gate that opens with its code: the wrong code is refused with the module's reason. */
const gate = defineMachineModule({
  type: 'gate',
  version: 1,
  description: 'test gate: opens with its code',
  migrations: {},
  machine: gateMachine,
  refusal: (snapshot, event) => {
    if (event.type === 'JAM') throw new Error('the refusal itself is broken');
    if (event.type !== 'OPEN' || event.code === snapshot.context.code) return null;
    return { code: 'wrong_code', message: `${event.code} does not open this gate`, details: { tried: event.code } };
  },
});

let harness: Harness;

before(async () => {
  harness = await startRuntime({ dbName: uniqueDatabaseName('refusals'), machines: [gate], startWorker: false });
});

after(() => harness.close());

async function refused(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail('expected the runtime to refuse'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, `not an AppError: ${String(error)}`);
  return error;
}

test("a refused event's error carries the machine's reason in details.reason and its message; accepted stays", async () => {
  const { runtime } = harness;
  const created = await runtime.of(gate).create('gate-1', { code: '1234' }, { origin });
  const error = await refused(runtime.of(gate).send('gate-1', { type: 'OPEN', code: '0000' }, { origin }));
  assert.ok(error instanceof EventNotAcceptedError);
  assert.deepEqual([error.status, error.code], [409, 'event_not_accepted']);
  assert.equal(error.message, 'event OPEN is not accepted in state "closed": 0000 does not open this gate');
  assert.deepEqual(error.details, {
    state: 'closed',
    status: 'active',
    event: 'OPEN',
    accepted: ['JAM', 'KNOCK', 'OPEN'],
    reason: { code: 'wrong_code', message: '0000 does not open this gate', details: { tried: '0000' } },
  });
  assert.deepEqual(error.reason, error.details.reason);
  assert.equal((await runtime.get('gate', 'gate-1')).revision, created.actor.revision, 'a refusal commits nothing');
  const opened = await runtime.of(gate).send('gate-1', { type: 'OPEN', code: '1234' }, { origin });
  assert.equal(opened.actor.state, 'open');
});

test('a guard that refuses an event its state has a transition for gives a reason even when the module has none: it is named', async () => {
  const { runtime } = harness;
  await runtime.of(gate).create('gate-2', { code: '1234' }, { origin });
  const error = await refused(runtime.of(gate).send('gate-2', { type: 'KNOCK' }, { origin }));
  assert.ok(error instanceof EventNotAcceptedError);
  assert.deepEqual(error.reason, {
    code: 'guard_refused',
    message: 'no transition for KNOCK applies to this event (guards: "someoneHome")',
  });
  assert.match(error.message, /^event KNOCK is not accepted in state "closed": no transition for KNOCK applies/);
});

test('an event the state has no transition for has no reason, only what the state accepts', async () => {
  const { runtime } = harness;
  await runtime.of(gate).create('gate-3', { code: '1234' }, { origin });
  const error = await refused(runtime.of(gate).send('gate-3', { type: 'LOCK' }, { origin }));
  assert.deepEqual(error.details, { state: 'closed', status: 'active', event: 'LOCK', accepted: ['JAM', 'KNOCK', 'OPEN'] });
  assert.equal(error.message, 'event LOCK is not accepted in state "closed"');
});

test('a refusal that throws is the machine failing (422 machine_error), not a silent refusal', async () => {
  const { runtime } = harness;
  await runtime.of(gate).create('gate-4', { code: '1234' }, { origin });
  const error = await refused(runtime.of(gate).send('gate-4', { type: 'JAM' }, { origin }));
  assert.deepEqual([error.status, error.code], [422, 'machine_error']);
  assert.match(error.message, /failed to say why it refuses JAM: the refusal itself is broken/);
});
