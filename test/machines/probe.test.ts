import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition } from 'xstate';
import { stepper, timerFiring } from '../support/machines.ts';
import probe from '../../machines/probe.ts';
import { acceptedEvents, workOf } from '../../actors/runtime/machine-glue.ts';

const { machine } = probe;
const start = (input?: { label?: string; timeoutMs?: number }) => initialTransition(machine, input ?? {})[0];
const step = stepper(machine);

test('a new probe starts idle with the defaults and its input', () => {
  const snapshot = start({ label: 'demo', timeoutMs: 500 });
  assert.equal(snapshot.value, 'idle');
  assert.deepEqual(snapshot.context, { total: 0, label: 'demo', timeoutMs: 500, calls: 0, lastResult: null, lastError: null, timeouts: 0 });
  assert.equal(start().context.timeoutMs, 2000);
});

test('ADD with a positive integer adds; the guard refuses zero, negatives and fractions', () => {
  let snapshot = start();
  snapshot = step(snapshot, { type: 'ADD', amount: 3 })[0];
  assert.equal(snapshot.context.total, 3);
  for (const amount of [0, -1, 1.5]) {
    assert.equal(snapshot.can({ type: 'ADD', amount }), false, `ADD ${amount} must be refused`);
  }
});

test('CALL invokes the echo effect with the message and the call sequence', () => {
  const [snapshot, actions] = step(start(), { type: 'CALL', message: 'hello' });
  assert.equal(snapshot.value, 'calling');
  const work = workOf(actions);
  assert.deepEqual(work.spawns, [{ invokeId: 'echo', src: 'echoCall', input: { message: 'hello', sequence: 1 } }]);
});

test('the echo result returns the probe to idle with the result recorded', () => {
  const calling = step(start(), { type: 'CALL', message: 'hi' })[0];
  const [idle] = step(calling, { type: 'xstate.done.actor.echo', output: { reference: 'R-1', echoed: 'hi' } });
  assert.equal(idle.value, 'idle');
  assert.deepEqual(idle.context.lastResult, { reference: 'R-1', echoed: 'hi' });
});

test('an echo failure moves to failed with the error, and RETRY or FINISH leave it', () => {
  const calling = step(start(), { type: 'CALL', message: 'hi' })[0];
  const failure = { code: 'echo_http_400', message: 'bad', retryable: false, attempts: 1 };
  const [failed] = step(calling, { type: 'xstate.error.actor.echo', error: failure });
  assert.equal(failed.value, 'failed');
  assert.deepEqual(failed.context.lastError, failure);
  assert.deepEqual(acceptedEvents(failed), ['FINISH', 'RETRY']);
  assert.equal(step(failed, { type: 'RETRY' })[0].value, 'idle');
  assert.equal(step(failed, { type: 'FINISH' })[0].status, 'done');
});

test('CANCEL while calling returns to idle and stops the invocation', () => {
  const calling = step(start(), { type: 'CALL', message: 'hi' })[0];
  const [idle, actions] = step(calling, { type: 'CANCEL' });
  assert.equal(idle.value, 'idle');
  assert.ok(actions.some((action) => (action.type as string) === 'xstate.stopChild'));
});

test('WAIT schedules the timeout (its own or the event one) and the timeout ends in timedOut', () => {
  const [waiting, actions] = step(start({ timeoutMs: 700 }), { type: 'WAIT' });
  assert.equal(waiting.value, 'waiting');
  const [delay] = workOf(actions).delays;
  assert.equal(delay?.delayMs, 700);
  const custom = workOf(step(start(), { type: 'WAIT', timeoutMs: 50 })[1]).delays[0];
  assert.equal(custom?.delayMs, 50);
  const [timedOut] = step(waiting, timerFiring(delay));
  assert.equal(timedOut.value, 'timedOut');
  assert.equal(timedOut.context.timeouts, 1);
  assert.equal(step(timedOut, { type: 'RESET' })[0].value, 'idle');
});

test('leaving waiting cancels the timeout', () => {
  const waiting = step(start(), { type: 'WAIT' })[0];
  const work = workOf(step(waiting, { type: 'CANCEL' })[1]);
  assert.deepEqual(work.cancels, ['xstate.after.waitTimeout.probe.waiting']);
});

test('ADD still counts while waiting, without restarting the timeout', () => {
  const waiting = step(start(), { type: 'WAIT' })[0];
  const [after, actions] = step(waiting, { type: 'ADD', amount: 2 });
  assert.equal(after.value, 'waiting');
  assert.equal(after.context.total, 2);
  assert.deepEqual(workOf(actions), { spawns: [], delays: [], cancels: [], unsupported: [] });
});

test('FINISH ends the probe; a finished probe accepts nothing', () => {
  const [done] = step(start(), { type: 'FINISH' });
  assert.equal(done.status, 'done');
  assert.deepEqual(acceptedEvents(done), []);
});

test('each state accepts exactly the events its definition names', () => {
  const idle = start();
  assert.deepEqual(acceptedEvents(idle), ['ADD', 'CALL', 'FINISH', 'WAIT']);
  assert.deepEqual(acceptedEvents(step(idle, { type: 'CALL', message: '' })[0]), ['CANCEL']);
  assert.deepEqual(acceptedEvents(step(idle, { type: 'WAIT' })[0]), ['ADD', 'CANCEL']);
});

test('the event schema refuses unknown events and bad payloads', () => {
  const schema = probe.eventSchema!;
  assert.equal(schema.safeParse({ type: 'ADD', amount: 1 }).success, true);
  assert.equal(schema.safeParse({ type: 'ADD', amount: 'one' }).success, false);
  assert.equal(schema.safeParse({ type: 'ADD', amount: 1, extra: true }).success, false);
  assert.equal(schema.safeParse({ type: 'JUMP' }).success, false);
});
