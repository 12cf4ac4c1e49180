import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { startControlServer } from '../../hardware/emulators/control-server.ts';
import { ShtrihMEmulator } from '../../hardware/emulators/shtrih-m-emulator.ts';
import { ShtrihDeviceError, ShtrihLinkError } from '../../hardware/shtrih-m/errors.ts';
import { rejection, withRegister } from './support.ts';

/** Paper, cover, cable and clock: the register's states a shop meets, through the client. */

const DAY = 24 * 60 * 60 * 1000;

async function sellOne(register: {
  openReceipt: (k: 'sale') => Promise<void>;
  sale: (l: { name: string; qty: number; price: number }) => Promise<void>;
  closeReceipt: (c: { payments: { cash: number } }) => Promise<{ change: number }>;
}) {
  await register.openReceipt('sale');
  await register.sale({ name: 'Чашка', qty: 1, price: 25_000 });
  return register.closeReceipt({ payments: { cash: 25_000 } });
}

test('out of paper: printing is refused with paper_out (a person must act), status says so; with paper back it goes on', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    emulator.setPaper('out');
    const error = await rejection(register.openReceipt('sale'));
    assert.ok(error instanceof ShtrihDeviceError);
    assert.equal(error.code, 'paper_out');
    assert.equal(error.needsPerson, true);
    const status = await register.shortStatus();
    assert.equal(status.paper, 'out');
    assert.equal(status.flags.receiptPaper, false);
    emulator.setPaper('present');
    assert.equal((await register.shortStatus()).paper, 'present');
    await sellOne(register);
    assert.equal(emulator.documents().filter((doc) => doc.kind === 'sale').length, 1);
  });
});

test('paper running out in the middle of printing: the register waits for "continue printing" once paper is back', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    await register.openReceipt('sale');
    emulator.setPaper('runs_out_while_printing');
    await register.sale({ name: 'Чашка', qty: 1, price: 25_000 });
    assert.equal((await register.shortStatus()).submode, 2, 'active paper-out');
    assert.equal(((await rejection(register.closeReceipt({ payments: { cash: 25_000 } }))) as ShtrihDeviceError).code, 'paper_out');
    emulator.setPaper('present');
    const waiting = await register.shortStatus();
    assert.equal(waiting.paper, 'awaiting_continue');
    const error = await rejection(register.closeReceipt({ payments: { cash: 25_000 } }));
    assert.ok(error instanceof ShtrihDeviceError);
    assert.equal(error.code, 'awaiting_continue');
    assert.equal(error.remedy, 'host');
    await register.continuePrinting();
    await register.closeReceipt({ payments: { cash: 25_000 } });
    assert.equal(emulator.documents().at(-1)?.kind, 'sale');
  });
});

test('cover open: the flag shows it and printing is refused until it is closed', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    emulator.setCover(true);
    assert.equal((await register.shortStatus()).flags.coverOpen, true);
    assert.equal(((await rejection(register.printLine('x'))) as ShtrihDeviceError).code, 'paper_out');
    emulator.setCover(false);
    assert.equal((await register.shortStatus()).flags.coverOpen, false);
    await register.printLine('x');
  });
});

test('unplugged: commands fail with a transient port error; plugged back, the client reconnects by itself', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    const states: string[] = [];
    register.transport.onStateChange((state) => states.push(state));
    await emulator.unplug();
    const error = await rejection(register.shortStatus());
    assert.ok(error instanceof ShtrihLinkError, String(error));
    assert.ok(['port_unavailable', 'port_lost', 'no_link'].includes(error.code), error.code);
    assert.equal(error.transient, true);
    await emulator.plug();
    await register.transport.whenOpen(10_000);
    assert.equal((await register.shortStatus()).shift, 'open');
    assert.ok(states.includes('reconnecting'), states.join(','));
    assert.equal(states.at(-1), 'open');
  });
});

test('a shift over 24 hours: shift_expired, then a Z-report closes it, a new shift opens and sales go on', async () => {
  await withRegister(async ({ emulator, register }) => {
    await register.openShift();
    await sellOne(register);
    emulator.advanceClock(DAY + 1_000);
    const status = await register.shortStatus();
    assert.equal(status.shift, 'expired');
    const error = await rejection(register.openReceipt('sale'));
    assert.ok(error instanceof ShtrihDeviceError);
    assert.equal(error.code, 'shift_expired');
    assert.equal(error.remedy, 'host');
    await register.zReport();
    const closed = await register.fullStatus();
    assert.equal(closed.shift, 'closed');
    assert.equal(closed.lastClosedShift, 1);
    await register.openShift();
    await sellOne(register);
    assert.deepEqual(
      emulator.documents().map((doc) => [doc.kind, doc.shift]),
      [
        ['shift_open', 1],
        ['sale', 1],
        ['z_report', 1],
        ['shift_open', 2],
        ['sale', 2],
      ],
    );
    assert.equal(emulator.device.memory.zReports, 1);
  });
});

test('fiscal memory survives the emulator: a new one on the same file carries on the numbering', async () => {
  await withRegister(async ({ dir, emulator, register }) => {
    await register.openShift();
    await sellOne(register);
    const saved = JSON.parse(await readFile(emulator.memoryFile, 'utf8')) as { documentNumber: number; totals: { sales: number } };
    assert.equal(saved.documentNumber, 2);
    assert.equal(saved.totals.sales, 25_000);
    await register.close();
    await emulator.stop();
    const again = await ShtrihMEmulator.start({ dir, name: 'fiscal-again', memoryFile: emulator.memoryFile });
    try {
      assert.equal(again.device.memory.documentNumber, 2);
      assert.deepEqual(again.device.memory.shift?.number, 1);
    } finally {
      await again.stop();
    }
    await emulator.plug();
  });
});

test('the control API over HTTP drives the emulator and refuses bodies it does not understand', async () => {
  await withRegister(async ({ emulator, register }) => {
    const control = await startControlServer([{ prefix: '/fiscal-main', routes: emulator.controlRoutes() }]);
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${control.url}/fiscal-main/__sandbox${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    try {
      await register.openShift();
      assert.equal((await call('POST', '/paper', { state: 'out' })).status, 200);
      assert.equal((await register.shortStatus()).paper, 'out');
      await call('POST', '/paper', { state: 'present' });
      await call('POST', '/cover', { open: true });
      assert.equal((await register.shortStatus()).flags.coverOpen, true);
      await call('POST', '/cover', { open: false });
      await call('POST', '/clock', { advanceMs: DAY });
      assert.equal((await register.shortStatus()).shift, 'expired');
      await call('POST', '/faults', { kind: 'garble', count: 1 });
      assert.equal((await call('GET', '/state')).json.faults instanceof Array, true);
      await register.shortStatus();
      assert.deepEqual((await call('GET', '/state')).json.faults, []);
      const refused = await call('POST', '/faults', { kind: 'meltdown' });
      assert.equal(refused.status, 400);
      assert.equal((refused.json.error as { code: string }).code, 'invalid_request');
      assert.equal((await call('POST', '/paper', { state: 'soggy' })).status, 400);
      const documents = await call('GET', '/documents');
      assert.equal(Array.isArray(documents.json), true);
      assert.equal((await call('GET', '/nope')).status, 404);
    } finally {
      await control.close();
    }
  });
});
