import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, type SnapshotFrom } from 'xstate';
import { stepper, timerFiring } from '../support/machines.ts';
import receipt, { lineAmount, receiptInputSchema, receiptTotal, type ReceiptInput, type ReceiptRecorded } from '../../machines/receipt.ts';
import { workOf } from '../../actors/runtime/machine-glue.ts';

const { machine } = receipt;
const step = stepper(machine);
type Snapshot = SnapshotFrom<typeof machine>;

const input: ReceiptInput = {
  receiptId: 'R-1',
  register: 'main',
  kind: 'sale',
  items: [{ name: 'Чашка', qty: 2, price: 25_000, taxGroup: 1, department: 1 }],
  payments: { cash: 60_000, card: 0 },
  cashier: 'Олена',
  source: { type: 'order', id: 'SHOP-1' },
  returnOf: null,
  autoZReport: true,
  retryDelayMs: 1_000,
  maxRetryDelayMs: 8_000,
  alertAfterMs: 10_000,
};

const fault = (code: string) => ({ code, message: code.replace('_', ' '), retryable: false, attempts: 1 });
const prepared = (documentNumber = 41, extra = {}) => ({
  type: 'xstate.done.actor.prepare' as const,
  output: { documentNumber, shiftNumber: 7, shiftOpened: false, zReportTaken: false, ...extra },
});
const closed = (documentNumber: number, recovered = false): { type: 'xstate.done.actor.print'; output: ReceiptRecorded } => ({
  type: 'xstate.done.actor.print',
  output: {
    outcome: 'closed',
    documentNumber,
    shiftNumber: 7,
    change: recovered ? null : 10_000,
    recovered,
    at: '2026-12-02T10:00:00.000Z',
  },
});

function start(overrides: Partial<ReceiptInput> = {}) {
  return initialTransition(machine, { ...input, ...overrides });
}

function printing(): Snapshot {
  return step(start()[0], prepared())[0];
}

const spawned = (actions: Parameters<typeof workOf>[0]) => workOf(actions).spawns.map((s) => s.src);
const released = { type: 'xstate.done.actor.release' as const, output: { released: true } };

test('a new receipt prepares its register first: nothing is opened on the device before the document number is read', () => {
  const [s, actions] = start();
  assert.equal(s.value, 'preparing');
  assert.equal(s.context.total, 50_000);
  assert.deepEqual(workOf(actions).spawns, [
    { invokeId: 'prepare', src: 'prepareRegister', input: { register: 'main', receiptId: 'R-1', autoZReport: true } },
  ]);
});

test('prepared → printing with the document number persisted; printed → recorded with number, shift and change', () => {
  const [p, actions] = step(start()[0], prepared(41, { shiftOpened: true, zReportTaken: true }));
  assert.equal(p.value, 'printing');
  assert.equal(p.context.documentNumberBefore, 41);
  assert.deepEqual(p.context.shiftEvents, ['z-report', 'opened']);
  const print = workOf(actions).spawns[0];
  assert.equal(print?.src, 'printOnDevice');
  assert.deepEqual((print?.input as { documentNumberBefore: number; items: unknown[] }).documentNumberBefore, 41);
  const [releasing, release] = step(p, closed(42));
  assert.equal(releasing.value, 'releasing', 'recorded: the register is given up before the receipt is final');
  assert.deepEqual(workOf(release).spawns, [
    { invokeId: 'release', src: 'releaseRegister', input: { register: 'main', receiptId: 'R-1' } },
  ]);
  const [done] = step(releasing, released);
  assert.equal(done.value, 'printed');
  assert.equal(done.status, 'done');
  assert.deepEqual(
    [done.context.documentNumber, done.context.shiftNumber, done.context.change, done.context.recovered, done.context.printedAt],
    [42, 7, 10_000, false, '2026-12-02T10:00:00.000Z'],
  );
});

test('an interrupted print is judged against the same number: an attempt after a crash gets the same input (closed earlier → recovered)', () => {
  const first = printing();
  // a restart re-runs the invocation recorded in the snapshot: same id, same input
  const [, actions] = step(start()[0], prepared());
  const again = workOf(actions).spawns[0];
  assert.equal((again?.input as { documentNumberBefore: number }).documentNumberBefore, 41);
  const [done] = step(step(first, closed(42, true))[0], released);
  assert.deepEqual([done.value, done.context.recovered, done.context.change], ['printed', true, null]);
});

test('a receipt found open on the device is cancelled there and prepared afresh, with a new document number', () => {
  const [cancelling, actions] = step(printing(), { type: 'xstate.done.actor.print', output: { outcome: 'found_open' } });
  assert.equal(cancelling.value, 'cancelling');
  assert.deepEqual(spawned(actions), ['cancelOpenReceipt']);
  const [again, next] = step(cancelling, { type: 'xstate.done.actor.cancel', output: { cancelled: true } });
  assert.equal(again.value, 'preparing');
  assert.equal(again.context.documentNumberBefore, null, 'the old number judges nothing any more');
  assert.deepEqual(spawned(next), ['prepareRegister']);
  const [reprinting] = step(again, prepared(43));
  assert.equal(reprinting.context.documentNumberBefore, 43);
});

test('out of paper while printing: the receipt waits with back-off and goes back to printing (same number), not to preparing', () => {
  let [s, actions] = step(printing(), { type: 'xstate.error.actor.print', error: fault('paper_out') });
  assert.deepEqual(s.value, { waiting: 'briefly' });
  assert.ok(s.hasTag('waiting-for-device'));
  assert.deepEqual([s.context.resumeAt, s.context.fault?.code, s.context.nextDelayMs], ['printing', 'paper_out', 1_000]);
  let timer = workOf(actions).delays[0];
  assert.equal(timer?.delayMs, 1_000);
  [s, actions] = step(s, timerFiring(timer));
  assert.equal(s.value, 'printing');
  assert.equal(s.context.documentNumberBefore, 41);
  assert.deepEqual(spawned(actions), ['printOnDevice']);
  [s, actions] = step(s, { type: 'xstate.error.actor.print', error: fault('cover_open') });
  timer = workOf(actions).delays[0];
  assert.deepEqual([s.context.faults, timer?.delayMs, s.context.waitedMs], [2, 2_000, 3_000]);
  [s] = step(s, timerFiring(timer));
  [s] = step(s, closed(42));
  [s] = step(s, released);
  assert.equal(s.value, 'printed');
  assert.deepEqual([s.context.fault, s.context.faults, s.context.waitedMs], [null, 0, 0]);
});

test('the pause doubles up to its cap; past alertAfterMs of waiting the receipt needs a person (alert) and still resumes by itself', () => {
  let s = printing();
  const delays: number[] = [];
  const alerted: boolean[] = [];
  for (let i = 0; i < 5; i += 1) {
    const [waiting, actions] = step(s, { type: 'xstate.error.actor.print', error: fault('device_offline') });
    const timer = workOf(actions).delays[0];
    delays.push(timer?.delayMs ?? -1);
    alerted.push(waiting.hasTag('alert'));
    [s] = step(waiting, timerFiring(timer));
    assert.equal(s.value, 'printing');
  }
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 8_000]);
  // waited 1 + 2 + 4 + 8 = 15 s by the fourth fault: past the 10 s
  assert.deepEqual(alerted, [false, false, false, true, true]);
});

test('device faults while preparing or cancelling wait and resume the same step', () => {
  const [w1] = step(start()[0], { type: 'xstate.error.actor.prepare', error: fault('busy') });
  assert.equal(w1.context.resumeAt, 'preparing');
  const [cancelling] = step(printing(), { type: 'xstate.done.actor.print', output: { outcome: 'found_open' } });
  const [w2, actions] = step(cancelling, { type: 'xstate.error.actor.cancel', error: fault('paper_out') });
  assert.equal(w2.context.resumeAt, 'cancelling');
  const [back] = step(w2, timerFiring(workOf(actions).delays[0]));
  assert.equal(back.value, 'cancelling');
});

test('a shift over 24 hours mid-receipt: what is open is cancelled and the next preparation takes the Z-report', () => {
  const [s] = step(printing(), { type: 'xstate.error.actor.print', error: fault('shift_expired') });
  assert.equal(s.value, 'cancelling');
  assert.equal(s.context.fault?.code, 'shift_expired');
});

test('a fault that needs a person (wrong password) fails the receipt with an alert; RETRY resumes the interrupted step', () => {
  const [failed] = step(printing(), { type: 'xstate.error.actor.print', error: fault('wrong_password') });
  assert.equal(failed.value, 'failed');
  assert.ok(failed.hasTag('alert'));
  const [resumed, actions] = step(failed, { type: 'RETRY' });
  assert.equal(resumed.value, 'printing');
  assert.equal(resumed.context.documentNumberBefore, 41);
  assert.deepEqual(spawned(actions), ['printOnDevice']);
  const [fromPrepare] = step(start()[0], { type: 'xstate.error.actor.prepare', error: fault('receipt_open') });
  assert.equal(step(fromPrepare, { type: 'RETRY' })[0].value, 'preparing');
});

test('VOID before anything reached the device releases the register and ends; after a print attempt the device is settled first', () => {
  const [early, settle] = step(start()[0], { type: 'VOID', by: 'admin', reason: 'sale abandoned' });
  assert.equal(early.value, 'voiding');
  assert.deepEqual(early.context.voidedBy, { by: 'admin', reason: 'sale abandoned' });
  assert.deepEqual(workOf(settle).spawns[0]?.input, { register: 'main', receiptId: 'R-1', documentNumberBefore: null });
  const [releasing] = step(early, { type: 'xstate.done.actor.settle', output: { outcome: 'clear' } });
  assert.equal(releasing.value, 'releasing');
  assert.equal(step(releasing, released)[0].value, 'voided');

  const [failed] = step(printing(), { type: 'xstate.error.actor.print', error: fault('wrong_password') });
  const [voiding, actions] = step(failed, { type: 'VOID', by: 'admin', reason: 'sale abandoned' });
  assert.equal(voiding.value, 'voiding');
  assert.deepEqual(workOf(actions).spawns[0]?.input, { register: 'main', receiptId: 'R-1', documentNumberBefore: 41 });
  assert.equal(step(step(voiding, { type: 'xstate.done.actor.settle', output: { outcome: 'clear' } })[0], released)[0].value, 'voided');
  // the interrupted attempt had closed it: a printed receipt stays printed
  const [kept] = step(voiding, {
    type: 'xstate.done.actor.settle',
    output: { outcome: 'closed', documentNumber: 42, shiftNumber: 7, change: null, recovered: true, at: '2026-12-02T10:00:00.000Z' },
  });
  assert.deepEqual([step(kept, released)[0].value, kept.context.documentNumber], ['printed', 42]);
});

test('a register that cannot be released waits for a person (alert); RETRY releases it', () => {
  const [releasing] = step(printing(), closed(42));
  const [stuck] = step(releasing, {
    type: 'xstate.error.actor.release',
    error: { code: 'effect_failed', message: 'database unavailable', retryable: true, attempts: 3 },
  });
  assert.equal(stuck.value, 'releaseFailed');
  assert.ok(stuck.hasTag('alert'));
  const [again, actions] = step(stuck, { type: 'RETRY' });
  assert.equal(again.value, 'releasing');
  assert.deepEqual(spawned(actions), ['releaseRegister']);
  assert.equal(step(again, released)[0].value, 'printed');
});

test('printing cannot be voided or retried while it runs; a printed receipt accepts nothing', () => {
  const p = printing();
  assert.equal(p.can({ type: 'VOID', by: 'a', reason: 'b' }), false);
  assert.equal(p.can({ type: 'RETRY' }), false);
  const [done] = step(step(p, closed(42))[0], released);
  assert.equal(done.value, 'printed');
  assert.equal(done.can({ type: 'RETRY' }), false);
  assert.equal(done.can({ type: 'VOID', by: 'a', reason: 'b' }), false);
});

test('amounts: a line is quantity (to 3 decimals) times price, rounded to a minor unit', () => {
  assert.equal(lineAmount({ qty: 2, price: 25_000 }), 50_000);
  assert.equal(lineAmount({ qty: 0.333, price: 1_000 }), 333);
  assert.equal(lineAmount({ qty: 1.5, price: 1_999 }), 2_999); // 2998.5 rounds up
  assert.equal(
    receiptTotal([
      { qty: 1, price: 1 },
      { qty: 0.5, price: 3 },
    ]),
    3,
  );
});

test('the input is refused when payments do not cover the total, a card pays more than due, or a return names nothing', () => {
  const paths = (value: unknown) => {
    const parsed = receiptInputSchema.safeParse(value);
    return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
  };
  assert.deepEqual(paths(input), []);
  assert.deepEqual(paths({ ...input, payments: { cash: 49_999, card: 0 } }), ['payments']);
  assert.deepEqual(paths({ ...input, payments: { cash: 0, card: 60_000 } }), ['payments.card']);
  assert.deepEqual(paths({ ...input, kind: 'return' }), ['returnOf']);
  assert.deepEqual(paths({ ...input, returnOf: 'R-0' }), ['returnOf']);
  assert.deepEqual(paths({ ...input, items: [{ ...input.items[0], qty: 0.0005 }] }), ['items.0.qty']);
  assert.deepEqual(paths({ ...input, items: [{ ...input.items[0], taxGroup: 5 }] }), ['items.0.taxGroup']);
});
