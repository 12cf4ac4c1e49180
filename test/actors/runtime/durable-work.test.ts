import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, type SnapshotFrom } from 'xstate';
import { stepper } from '../../support/machines.ts';
import probe from '../../../machines/probe.ts';
import { planWork, type Delivery, type RuntimeMeta } from '../../../actors/runtime/durable-work.ts';
import { workOf } from '../../../actors/runtime/machine-glue.ts';

const actor = { key: 'probe/p', type: 'probe', id: 'p' };
const at = new Date('2026-11-22T10:00:00Z');
const SEND_ID = 'xstate.after.waitTimeout.probe.waiting';

const probeTransition = stepper(probe.machine);

function step(
  snapshot: SnapshotFrom<typeof probe.machine>,
  event: Parameters<typeof probeTransition>[1],
  previous: RuntimeMeta | null,
  delivery: Delivery = { kind: 'external' },
  id = 'c2',
) {
  const [next, actions] = probeTransition(snapshot, event);
  return { next, plan: planWork({ previous, next, work: workOf(actions), delivery, commit: { id, revision: 2, at }, actor }) };
}

const idle = initialTransition(probe.machine, { timeoutMs: 1000 })[0];

test('an invoke becomes an effect record named by its commit, with its input', () => {
  const { plan } = step(idle, { type: 'CALL', message: 'hi' }, null);
  assert.deepEqual(plan.meta, { effects: { echo: 'c2.echo' }, timers: {} });
  assert.equal(plan.newEffects.length, 1);
  assert.deepEqual(
    { ...plan.newEffects[0], nextAttemptAt: undefined, createdAt: undefined },
    {
      _id: 'c2.echo',
      actor: 'probe/p',
      type: 'probe',
      actorId: 'p',
      invokeId: 'echo',
      src: 'echoCall',
      input: '{"message":"hi","sequence":1}',
      revision: 2,
      commitId: 'c2',
      attempts: 0,
      nextAttemptAt: undefined,
      runningUntil: null,
      lastError: null,
      createdAt: undefined,
    },
  );
});

test('the delivered result retires its effect; leaving the state retires an effect still running', () => {
  const { next: calling, plan: started } = step(idle, { type: 'CALL', message: 'hi' }, null);
  const done = step(
    calling,
    { type: 'xstate.done.actor.echo', output: { reference: 'r', echoed: 'hi' } },
    started.meta,
    { kind: 'effect', effectId: 'c2.echo', invokeId: 'echo' },
    'c3',
  );
  assert.deepEqual(done.plan.meta.effects, {});
  assert.deepEqual(done.plan.obsoleteEffects, ['c2.echo']);
  const cancelled = step(calling, { type: 'CANCEL' }, started.meta, { kind: 'external' }, 'c3');
  assert.deepEqual(cancelled.plan.meta.effects, {});
  assert.deepEqual(cancelled.plan.obsoleteEffects, ['c2.echo']);
});

test('a delayed event becomes a timer due after its delay; cancelling and firing retire it', () => {
  const { next: waiting, plan } = step(idle, { type: 'WAIT' }, null);
  assert.deepEqual(plan.meta.timers, { [SEND_ID]: `c2.${SEND_ID}` });
  assert.equal(plan.newTimers[0]?.dueAt.getTime(), at.getTime() + 1000);
  assert.deepEqual(JSON.parse(plan.newTimers[0]!.event), { type: SEND_ID });
  const cancelled = step(waiting, { type: 'CANCEL' }, plan.meta, { kind: 'external' }, 'c3');
  assert.deepEqual(cancelled.plan.meta.timers, {});
  assert.deepEqual(cancelled.plan.obsoleteTimers, [`c2.${SEND_ID}`]);
  const fired = step(waiting, { type: SEND_ID }, plan.meta, { kind: 'timer', timerId: `c2.${SEND_ID}`, sendId: SEND_ID }, 'c3');
  assert.deepEqual(fired.plan.meta.timers, {});
  assert.deepEqual(fired.plan.obsoleteTimers, [`c2.${SEND_ID}`]);
  assert.deepEqual(fired.plan.newTimers, []);
});

test('a timer scheduled again in the same slot replaces the old one', () => {
  const previous: RuntimeMeta = { effects: {}, timers: { [SEND_ID]: `old.${SEND_ID}` } };
  const { plan } = step(idle, { type: 'WAIT' }, previous, { kind: 'external' }, 'c9');
  assert.deepEqual(plan.meta.timers, { [SEND_ID]: `c9.${SEND_ID}` });
  assert.deepEqual(plan.obsoleteTimers, [`old.${SEND_ID}`]);
});

test('a finished actor keeps no effects and no timers', () => {
  const previous: RuntimeMeta = { effects: { stray: 'x.stray' }, timers: { t: 'x.t' } };
  const { next, plan } = step(idle, { type: 'FINISH' }, previous);
  assert.equal(next.status, 'done');
  assert.deepEqual(plan.meta, { effects: {}, timers: {} });
  assert.deepEqual(plan.obsoleteEffects, ['x.stray']);
  assert.deepEqual(plan.obsoleteTimers, ['x.t']);
});
