import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeInterruptedReceipt, settleInterruptedReceipt } from '../../hardware/shtrih-m/recovery.ts';
import type { ShtrihM } from '../../hardware/shtrih-m/client.ts';
import { rejection, withRegister } from './support.ts';

/**
 * After a crash the register decides: the host kept the document number read
 * before the receipt, a new client reconnects and judges from the full
 * status. Each outcome is produced for real: a client 'crashes' (is closed
 * mid-receipt, its command in flight) and a new client on the same port
 * judges and settles.
 */

const line = { name: 'Чашка', qty: 2, price: 25_000, taxGroup: 1 as const };

async function printReceipt(register: ShtrihM): Promise<void> {
  await register.openReceipt('sale');
  await register.sale(line);
  await register.closeReceipt({ payments: { cash: 50_000 } });
}

test('the judgement: open in mode 8, closed with a larger number, never opened with the same one (numbers wrap)', () => {
  assert.deepEqual(judgeInterruptedReceipt(10, { documentNumber: 10, openDocument: 'sale' }), { outcome: 'open', documentNumber: 10 });
  assert.deepEqual(judgeInterruptedReceipt(10, { documentNumber: 11, openDocument: null }), {
    outcome: 'closed',
    documentNumber: 11,
    documentsSince: 1,
  });
  assert.deepEqual(judgeInterruptedReceipt(10, { documentNumber: 10, openDocument: null }), {
    outcome: 'never_opened',
    documentNumber: 10,
  });
  assert.deepEqual(judgeInterruptedReceipt(65_535, { documentNumber: 0, openDocument: null }), {
    outcome: 'closed',
    documentNumber: 0,
    documentsSince: 1,
  });
});

test('crash with the receipt open: judged open, cancelled on the device, printed again — one sale in fiscal memory', async () => {
  await withRegister(async ({ emulator, register, connect }) => {
    await register.openShift();
    const before = (await register.fullStatus()).documentNumber;
    await register.openReceipt('sale');
    await register.sale(line);
    await register.close(); // the process dies here

    const recovered = connect();
    const judgement = await settleInterruptedReceipt(recovered, before);
    assert.equal(judgement.outcome, 'open');
    assert.equal((await recovered.shortStatus()).openDocument, null, 'cancelled');
    await printReceipt(recovered);
    const kinds = emulator.documents().map((doc) => doc.kind);
    assert.deepEqual(kinds, ['shift_open', 'cancelled', 'sale']);
    assert.equal(emulator.device.memory.totals.sales, 50_000);
  });
});

test('crash after the close reached the register but before its answer: judged closed with the register’s number', async () => {
  await withRegister(async ({ emulator, register, connect }) => {
    await register.openShift();
    const before = (await register.fullStatus()).documentNumber;
    await register.openReceipt('sale');
    await register.sale(line);
    emulator.inject({ kind: 'slow', ms: 1_000, count: 1 });
    const closing = register.closeReceipt({ payments: { cash: 50_000 } });
    while (!emulator.framesReceived.some((frame) => frame[2] === 0x85)) await new Promise((resolve) => setTimeout(resolve, 10));
    await register.close(); // dies while the register prints
    await rejection(closing);

    const recovered = connect();
    const judgement = await settleInterruptedReceipt(recovered, before);
    assert.deepEqual(judgement, { outcome: 'closed', documentNumber: before + 1, documentsSince: 1 });
    const sales = emulator.documents().filter((doc) => doc.kind === 'sale');
    assert.equal(sales.length, 1);
    assert.equal(sales[0]?.number, judgement.documentNumber);
  });
});

test('crash before the receipt was opened (its frame never arrived): judged never opened, printed once', async () => {
  await withRegister(async ({ emulator, register, connect }) => {
    await register.openShift();
    const before = (await register.fullStatus()).documentNumber;
    emulator.inject({ kind: 'silence', count: 100 });
    const opening = register.openReceipt('sale');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await register.close();
    await rejection(opening);
    emulator.clearFaults();

    const recovered = connect();
    const judgement = await settleInterruptedReceipt(recovered, before);
    assert.deepEqual(judgement, { outcome: 'never_opened', documentNumber: before });
    await printReceipt(recovered);
    assert.deepEqual(
      emulator.documents().map((doc) => doc.kind),
      ['shift_open', 'sale'],
    );
  });
});
