import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger } from '../../common/logger.ts';
import { ShtrihLinkError } from '../../hardware/shtrih-m/errors.ts';
import { rejection, withRegister } from './support.ts';

/**
 * The link protocol against a register that misbehaves on purpose: NAKs,
 * silence, damaged answers and slow answers are retried within their
 * bounds; past them the caller gets a clear, typed error that says whether
 * the register took the command.
 */

test('a frame the register NAKs is sent again, and the command is carried out once', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    emulator.inject({ kind: 'nak', count: 2 });
    await register.openReceipt('sale');
    await register.sale({ name: 'Чашка', qty: 1, price: 25_000 });
    assert.equal(emulator.device.memory.receipt?.lines.length, 1);
    assert.equal(emulator.framesReceived.filter((frame) => frame[2] === 0x80).length, 1);
  });
});

test('a register that keeps NAKing the frame ends in frame_refused, not delivered', async () => {
  await withRegister(async ({ emulator, register }) => {
    emulator.inject({ kind: 'nak', count: 10 });
    const error = await rejection(register.shortStatus());
    assert.ok(error instanceof ShtrihLinkError);
    assert.equal(error.code, 'frame_refused');
    assert.equal(error.delivered, false);
    assert.equal(error.transient, true);
  });
});

test('silence to an ENQ or to a frame is asked again; endless silence is no_link', async () => {
  await withRegister(async ({ emulator, register }) => {
    emulator.inject({ kind: 'silence', count: 2 });
    assert.equal((await register.shortStatus()).shift, 'closed');

    emulator.inject({ kind: 'silence', count: 50 });
    const error = await rejection(register.shortStatus());
    assert.ok(error instanceof ShtrihLinkError);
    assert.equal(error.code, 'no_link');
    emulator.clearFaults();
    assert.equal((await register.shortStatus()).shift, 'closed', 'the link works again once the register answers');
  });
});

test('a damaged answer is NAKed and read again; a sale is not repeated for it', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    await register.openReceipt('sale');
    emulator.inject({ kind: 'garble', count: 2 });
    await register.sale({ name: 'Чашка', qty: 2, price: 25_000 });
    assert.equal(emulator.device.memory.receipt?.total, 50_000);
    assert.equal(emulator.framesReceived.filter((frame) => frame[2] === 0x80).length, 1);
  });
});

test('answers damaged every time end in bad_answer, marked delivered: the caller must ask the register', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    await register.openReceipt('sale');
    emulator.inject({ kind: 'garble', count: 20 });
    const error = await rejection(register.sale({ name: 'Чашка', qty: 1, price: 25_000 }));
    assert.ok(error instanceof ShtrihLinkError);
    assert.equal(error.code, 'bad_answer');
    assert.equal(error.delivered, true);
    emulator.clearFaults();
    // the register did take it: the receipt holds the line once
    assert.equal(emulator.device.memory.receipt?.lines.length, 1);
    assert.equal((await register.shortStatus()).openDocument, 'sale');
  });
});

test('the ACK of a frame lost on the line: the answer that follows is taken, the command not repeated', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    emulator.inject({ kind: 'dropAck', count: 1 });
    await register.openReceipt('sale');
    emulator.inject({ kind: 'dropAck', count: 1 });
    emulator.inject({ kind: 'slow', ms: 600, count: 1 });
    await register.sale({ name: 'Чашка', qty: 1, price: 25_000 });
    assert.equal(emulator.framesReceived.filter((frame) => frame[2] === 0x8d).length, 1);
    assert.equal(emulator.framesReceived.filter((frame) => frame[2] === 0x80).length, 1);
    assert.equal(emulator.device.memory.receipt?.lines.length, 1);
  });
});

test('a slow answer is waited for through ENQ/ACK ("preparing") without resending the command', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    emulator.inject({ kind: 'slow', ms: 2_500, count: 1 });
    await register.openReceipt('sale');
    assert.equal(emulator.framesReceived.filter((frame) => frame[2] === 0x8d).length, 1);
    assert.equal((await register.shortStatus()).openDocument, 'sale');
  });
});

test('an answer left on the register by an interrupted conversation is acknowledged and dropped, not taken for ours', async () => {
  await withRegister(async ({ emulator, register, connect }) => {
    await register.openShift();
    emulator.inject({ kind: 'slow', ms: 800, count: 1 });
    // the first client sends X-report and goes away before the answer comes
    const lost = register.xReport();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await register.close();
    await rejection(lost);
    await new Promise((resolve) => setTimeout(resolve, 800));
    const next = connect();
    const status = await next.fullStatus();
    assert.equal(status.documentNumber, 2, 'shift opening and the X-report');
    assert.equal(status.shift, 'open');
  });
});

test('frames are logged at debug as hex, with the password masked', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', json: false, transports: [new winston.transports.Stream({ stream: sink })] });
  await withRegister(
    async ({ register }) => {
      await register.openShift();
      await register.printLine('Привет');
    },
    { client: { logger, operatorPassword: 87_654_321 }, emulator: { operatorPassword: 87_654_321 } },
  );
  const tx = lines.filter((line) => line.includes('serial tx'));
  const printFrame = tx.find((line) => line.includes('02:2e:17:'));
  assert.ok(printFrame, `a 0x17 frame in ${tx.join('')}`);
  assert.match(printFrame, /02:2e:17:\*\*:\*\*:\*\*:\*\*:02:cf:f0:e8:e2:e5:f2:00/);
  assert.ok(!lines.join('').includes('b1:7f:39:05'), 'the password bytes never appear');
  assert.ok(lines.some((line) => line.includes('serial rx')));
});
