import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEVICE_ERRORS, ShtrihDeviceError, type DeviceErrorCode } from '../../hardware/shtrih-m/errors.ts';
import { rejection, withRegister } from './support.ts';

/** The ERR byte → typed error mapping, and the register's refusals as the client sees them. */

test('every ERR byte of the table becomes its code and remedy; an unknown byte stays visible', () => {
  const expected: [number, DeviceErrorCode, boolean, boolean][] = [
    [0x6b, 'paper_out', false, true],
    [0x4e, 'shift_expired', false, false],
    [0x4a, 'receipt_open', false, false],
    [0x4f, 'wrong_password', false, false],
    [0x50, 'busy', true, false],
    [0x58, 'awaiting_continue', false, false],
    [0x55, 'receipt_closed', false, false],
    [0x3d, 'shift_not_open', false, false],
    [0x45, 'payment_below_total', false, false],
    [0x71, 'cutter_error', false, true],
  ];
  for (const [byte, code, transient, needsPerson] of expected) {
    const error = new ShtrihDeviceError(byte, 0x80);
    assert.equal(error.code, code, `0x${byte.toString(16)}`);
    assert.equal(error.transient, transient, `${code} transient`);
    assert.equal(error.needsPerson, needsPerson, `${code} needs a person`);
    assert.equal(error.byte, byte);
  }
  for (const [byte, info] of Object.entries(DEVICE_ERRORS)) {
    const error = new ShtrihDeviceError(Number(byte), 0x10);
    assert.equal(error.code, info.code);
    assert.equal(error.remedy, info.remedy);
    assert.match(error.message, new RegExp(`0x${Number(byte).toString(16).toUpperCase().padStart(2, '0')}\\)$`));
  }
  const unknown = new ShtrihDeviceError(0xee, 0x85);
  assert.equal(unknown.code, 'unknown_error');
  assert.equal(unknown.byte, 0xee);
  assert.match(unknown.message, /0x85.*0xEE/);
});

async function refusal(promise: Promise<unknown>): Promise<ShtrihDeviceError> {
  const error = await rejection(promise);
  assert.ok(error instanceof ShtrihDeviceError, `expected a device error, got ${String(error)}`);
  return error;
}

test('the register refuses what its mode does not allow, each with its own code', async () => {
  await withRegister(async ({ register, connect }) => {
    assert.equal((await refusal(register.openReceipt('sale'))).code, 'shift_not_open');
    assert.equal((await refusal(register.zReport())).code, 'already_zeroed');
    await register.openShift();
    assert.equal((await refusal(register.openShift())).code, 'shift_already_open');
    assert.equal((await refusal(register.sale({ name: 'x', qty: 1, price: 100 }))).code, 'receipt_closed');
    assert.equal((await refusal(register.closeReceipt({ payments: { cash: 100 } }))).code, 'receipt_closed');
    assert.equal((await refusal(register.cancelReceipt())).code, 'receipt_closed');
    await register.openReceipt('sale');
    assert.equal((await refusal(register.openReceipt('sale'))).code, 'receipt_open');
    assert.equal((await refusal(register.zReport())).code, 'receipt_open');
    assert.equal((await refusal(register.saleReturn({ name: 'x', qty: 1, price: 100 }))).code, 'wrong_receipt_type');
    await register.sale({ name: 'Чашка', qty: 2, price: 25_000 });
    assert.equal((await refusal(register.closeReceipt({ payments: { cash: 49_999 } }))).code, 'payment_below_total');
    assert.equal((await refusal(register.closeReceipt({ payments: { card: 50_001 } }))).code, 'non_cash_above_total');
    assert.deepEqual(await register.closeReceipt({ payments: { cash: 20_000, card: 30_000 } }), { change: 0 });

    await register.close();
    const wrong = connect({ operatorPassword: 7, adminPassword: 31 });
    const error = await refusal(wrong.shortStatus());
    assert.equal(error.code, 'wrong_password');
    assert.equal(error.remedy, 'refused');
    assert.equal((await refusal(wrong.xReport())).code, 'wrong_password');
  });
});

test('a busy register is asked again by the client until it has finished', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    emulator.inject({ kind: 'busy', count: 2 });
    await register.openReceipt('sale');
    assert.equal(emulator.framesReceived.filter((frame) => frame[2] === 0x8d).length, 3, 'refused twice, taken the third time');
    assert.equal((await register.shortStatus()).openDocument, 'sale');
  });
});
