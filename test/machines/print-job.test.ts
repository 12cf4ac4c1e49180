import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition } from 'xstate';
import printJob, { printJobInputSchema, type PrintJobInput } from '../../machines/print-job.ts';
import { workOf } from '../../actors/runtime/machine-glue.ts';
import { stepper, timerFiring } from '../support/machines.ts';

const { machine } = printJob;
const step = stepper(machine);
const input: PrintJobInput = {
  jobId: 'P-O-SHOP-1-packing',
  printer: 'slips',
  slip: { shop: { name: 'Пакувальний лист' }, title: 'Замовлення SHOP-1', lines: [{ name: 'CUP-1 Чашка', qty: 2, price: 25_000 }] },
  source: { type: 'order', id: 'SHOP-1' },
  retryDelayMs: 1_000,
  maxRetryDelayMs: 4_000,
  alertAfterMs: 6_000,
};
const fault = (code: string) => ({ code, message: code, retryable: false, attempts: 1 });

test('a print job prints its slip on its printer and is done', () => {
  const [s, actions] = initialTransition(machine, input);
  assert.equal(s.value, 'printing');
  assert.deepEqual(workOf(actions).spawns[0]?.input, { jobId: input.jobId, printer: 'slips', slip: input.slip });
  const [done] = step(s, { type: 'xstate.done.actor.print', output: { printedAt: '2026-12-02T10:00:00.000Z' } });
  assert.deepEqual([done.value, done.status, done.context.printedAt], ['printed', 'done', '2026-12-02T10:00:00.000Z']);
});

test('paper out, cover open or unplugged: it waits (1 s, 2 s, 4 s, 4 s …), alerts past alertAfterMs, and prints by itself', () => {
  let s = initialTransition(machine, input)[0];
  const seen: Array<[number, boolean]> = [];
  for (const code of ['paper_out', 'cover_open', 'device_offline', 'paper_out']) {
    const [waiting, actions] = step(s, { type: 'xstate.error.actor.print', error: fault(code) });
    const timer = workOf(actions).delays[0];
    seen.push([timer?.delayMs ?? -1, waiting.hasTag('alert')]);
    assert.equal(waiting.context.fault?.code, code);
    [s] = step(waiting, timerFiring(timer));
    assert.equal(s.value, 'printing');
  }
  assert.deepEqual(seen, [
    [1_000, false],
    [2_000, false],
    [4_000, true], // 7 s waited: past the 6 s
    [4_000, true],
  ]);
  const [done] = step(s, { type: 'xstate.done.actor.print', output: { printedAt: '2026-12-02T10:00:00.000Z' } });
  assert.deepEqual([done.value, done.context.faults, done.context.fault], ['printed', 0, null]);
});

test('a printer that is not configured fails the job for a person; RETRY prints again; CANCEL gives it up', () => {
  const [failed] = step(initialTransition(machine, input)[0], { type: 'xstate.error.actor.print', error: fault('printer_not_configured') });
  assert.equal(failed.value, 'failed');
  assert.ok(failed.hasTag('alert'));
  const [again, actions] = step(failed, { type: 'RETRY' });
  assert.equal(again.value, 'printing');
  assert.deepEqual(
    workOf(actions).spawns.map((x) => x.src),
    ['printSlip'],
  );
  const [cancelled] = step(failed, { type: 'CANCEL', by: 'operator' });
  assert.deepEqual([cancelled.value, cancelled.context.cancelledBy], ['cancelled', 'operator']);
  assert.equal(again.can({ type: 'CANCEL', by: 'x' }), false, 'not while it prints');
});

test('the slip is checked: a line needs a name and a whole price; the text fits a slip', () => {
  assert.equal(printJobInputSchema.safeParse(input).success, true);
  const bad = { ...input, slip: { ...input.slip, lines: [{ name: '', qty: 1, price: 1.5 }] } };
  assert.deepEqual(
    printJobInputSchema.safeParse(bad).error?.issues.map((i) => i.path.join('.')),
    ['slip.lines.0.name', 'slip.lines.0.price'],
  );
});
