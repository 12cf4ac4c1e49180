import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import receipt, { type ReceiptInput } from '../../../../machines/receipt.ts';
import { receiptEffects } from '../../../../actors/domains/fiscal/effects.ts';
import { RegisterLocks } from '../../../../actors/domains/fiscal/register-locks.ts';
import { createDeviceHealthStore, healthOf } from '../../../../actors/platform/devices/device-health.ts';
import { FiscalRegisters } from '../../../../actors/platform/devices/fiscal-registers.ts';
import { ShtrihMEmulator } from '../../../../hardware/emulators/shtrih-m-emulator.ts';
import { DeviceStore } from '../../../../persistence/devices.ts';
import { Keyring } from '../../../../persistence/secret-box.ts';
import { connectDatabase, type Database } from '../../../../persistence/database.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger, startRuntime, waitForState, type Harness } from '../../../support/runtime-harness.ts';

/**
 * Receipt actors on the durable runtime, printing through the Shtrih-M
 * client over a real pseudo-terminal to the register emulator.
 */

interface Till {
  harness: Harness;
  emulator: ShtrihMEmulator;
  registers: FiscalRegisters;
  health: ReturnType<typeof createDeviceHealthStore>;
  print(id: string, overrides?: Partial<ReceiptInput>): Promise<void>;
}

async function withTill(run: (till: Till) => Promise<void>, options: { alertAfterMs?: number } = {}): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'till-'));
  const emulator = await ShtrihMEmulator.start({ dir, name: 'fiscal-main' });
  const health = createDeviceHealthStore();
  let registers: FiscalRegisters | null = null;
  let harness: Harness | null = null;
  let database: Database | null = null;
  try {
    database = await connectDatabase(databaseUri(), uniqueDatabaseName('receipts'));
    const store = new DeviceStore(database.collections.devices, new Keyring(randomBytes(32)));
    await store.put(
      'main',
      {
        kind: 'fiscal-register',
        driver: 'shtrih-m',
        path: emulator.hostPath,
        baudRate: 115_200,
        codePage: null,
        passwords: { operatorPassword: 1, adminPassword: 30 },
      },
      'test',
      'admin',
    );
    registers = new FiscalRegisters({ store, health, logger: quietLogger, openWaitMs: 500 });
    harness = await startRuntime({
      dbName: 'unused',
      database,
      machines: [receipt],
      effects: [receiptEffects({ registers, locks: new RegisterLocks(database.collections.registerLocks) })],
      effectTimeoutMs: 10_000,
    });
    const runtime = harness.runtime;
    const print = async (id: string, overrides: Partial<ReceiptInput> = {}) => {
      const input: ReceiptInput = {
        receiptId: id,
        register: 'main',
        kind: 'sale',
        items: [{ name: 'Чашка', qty: 2, price: 25_000, taxGroup: 1, department: 1 }],
        payments: { cash: 60_000, card: 0 },
        cashier: 'Олена',
        source: null,
        returnOf: null,
        autoZReport: true,
        retryDelayMs: 100,
        maxRetryDelayMs: 400,
        alertAfterMs: options.alertAfterMs ?? 60_000,
        ...overrides,
      };
      await runtime.of(receipt).create(id, input, { origin: { kind: 'create' } });
    };
    await run({ harness, emulator, registers, health, print });
  } finally {
    await harness?.close();
    await registers?.closeAll();
    await database?.close();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const sales = (emulator: ShtrihMEmulator) => emulator.documents().filter((d) => d.kind === 'sale');
const kinds = (emulator: ShtrihMEmulator) => emulator.documents().map((d) => d.kind);

interface PrintedContext {
  documentNumber: number;
  change: number | null;
  shiftEvents: string[];
  recovered: boolean;
  fault: { code: string } | null;
}
const contextOf = (view: { context: unknown }) => view.context as PrintedContext;

test('a receipt opens the closed shift, prints, and records the number the register gave it and the change', () =>
  withTill(async ({ harness, emulator, health, print }) => {
    await print('R-1', {
      items: [
        { name: 'Чашка', qty: 2, price: 25_000, taxGroup: 1, department: 1 },
        { name: 'Чай', qty: 0.5, price: 1_999, taxGroup: 1, department: 1 },
      ],
    });
    const done = contextOf(await waitForState(harness.runtime, 'receipt', 'R-1', 'printed'));
    const printed = sales(emulator);
    assert.equal(printed.length, 1);
    assert.equal(done.documentNumber, printed[0]?.number);
    assert.equal(printed[0]?.total, 51_000); // 0.5 × 19.99 = 9.995 → 10.00
    assert.equal(done.change, 60_000 - 51_000);
    assert.deepEqual(done.shiftEvents, ['opened']);
    assert.deepEqual(kinds(emulator), ['shift_open', 'sale']);
    assert.equal(done.recovered, false);
    assert.deepEqual([healthOf(health, 'main').online, healthOf(health, 'main').shift], [true, 'open']);
  }));

test('receipts for one register print one at a time, each under its own consecutive number', () =>
  withTill(async ({ harness, emulator, print }) => {
    for (const id of ['Q-1', 'Q-2', 'Q-3', 'Q-4']) await print(id);
    const numbers: number[] = [];
    for (const id of ['Q-1', 'Q-2', 'Q-3', 'Q-4'])
      numbers.push(contextOf(await waitForState(harness.runtime, 'receipt', id, 'printed')).documentNumber);
    assert.equal(sales(emulator).length, 4);
    // which of two receipts created a moment apart reaches the register first is not promised (their effects
    // start concurrently); that each prints alone, under the number the register gave it, is
    const sorted = [...numbers].sort((a, b) => a - b);
    assert.deepEqual(
      sorted,
      sales(emulator).map((d) => d.number),
    );
    assert.deepEqual(
      sorted,
      [0, 1, 2, 3].map((i) => (sorted[0] ?? 0) + i),
    );
  }));

test('out of paper: the receipt waits, the device health says why, and it prints by itself once paper is back', () =>
  withTill(async ({ harness, emulator, health, print }) => {
    emulator.setPaper('out');
    await print('P-1');
    const waiting = await eventually(
      async () => {
        const view = await harness.runtime.get('receipt', 'P-1');
        return typeof view.state === 'string' && view.state.startsWith('waiting') ? view : undefined;
      },
      10_000,
      'the receipt to wait',
    );
    assert.equal(contextOf(waiting).fault?.code, 'paper_out');
    assert.equal(healthOf(health, 'main').paper, 'out');
    assert.deepEqual(sales(emulator), []);
    emulator.setPaper('present');
    await waitForState(harness.runtime, 'receipt', 'P-1', 'printed');
    assert.equal(sales(emulator).length, 1);
  }));

test('paper running out in the middle of a receipt: the half-printed one is cancelled on the device and the receipt printed again, once', () =>
  withTill(async ({ harness, emulator, print }) => {
    await print('W-0');
    await waitForState(harness.runtime, 'receipt', 'W-0', 'printed');
    emulator.setPaper('runs_out_while_printing');
    await print('W-1');
    await eventually(
      async () => {
        const view = await harness.runtime.get('receipt', 'W-1');
        return contextOf(view).fault?.code === 'paper_out' ? view : undefined;
      },
      10_000,
      'the receipt to wait for paper',
    );
    emulator.setPaper('present');
    const done = contextOf(await waitForState(harness.runtime, 'receipt', 'W-1', 'printed'));
    assert.deepEqual(kinds(emulator), ['shift_open', 'sale', 'cancelled', 'sale']);
    assert.equal(done.documentNumber, sales(emulator)[1]?.number);
  }));

test('unplugged: the receipt waits with the register offline, and prints once it is plugged back in', () =>
  withTill(async ({ harness, emulator, health, print }) => {
    await emulator.unplug();
    await print('U-1');
    await eventually(
      async () => {
        const view = await harness.runtime.get('receipt', 'U-1');
        return contextOf(view).fault?.code === 'device_offline' ? view : undefined;
      },
      15_000,
      'the receipt to wait for the register',
    );
    assert.equal(healthOf(health, 'main').online, false);
    await emulator.plug();
    await waitForState(harness.runtime, 'receipt', 'U-1', 'printed', 20_000);
    assert.equal(sales(emulator).length, 1);
    assert.equal(healthOf(health, 'main').online, true);
  }));

test('a shift open for more than 24 hours is closed with a Z-report before the receipt, which then prints in a new shift', () =>
  withTill(async ({ harness, emulator, print }) => {
    await print('S-1');
    const first = contextOf(await waitForState(harness.runtime, 'receipt', 'S-1', 'printed'));
    emulator.advanceClock(25 * 3_600_000);
    await print('S-2');
    const second = await waitForState(harness.runtime, 'receipt', 'S-2', 'printed');
    const context = second.context as PrintedContext & { shiftNumber: number };
    assert.deepEqual(context.shiftEvents, ['z-report', 'opened']);
    assert.deepEqual(kinds(emulator), ['shift_open', 'sale', 'z_report', 'shift_open', 'sale']);
    assert.equal(context.shiftNumber, (first as unknown as { shiftNumber: number }).shiftNumber + 1);
  }));

test('without automatic Z-reports, an expired shift fails the receipt for a person; RETRY after the Z-report prints it', () =>
  withTill(async ({ harness, emulator, registers, print }) => {
    await print('Z-0');
    await waitForState(harness.runtime, 'receipt', 'Z-0', 'printed');
    emulator.advanceClock(25 * 3_600_000);
    await print('Z-1', { autoZReport: false });
    const failed = await waitForState(harness.runtime, 'receipt', 'Z-1', 'failed');
    assert.equal(contextOf(failed).fault?.code, 'shift_expired');
    await registers.exclusive('main', null, (register) => register.zReport());
    await harness.runtime.of(receipt).send('Z-1', { type: 'RETRY' }, { origin: { kind: 'admin' } });
    await waitForState(harness.runtime, 'receipt', 'Z-1', 'printed');
    assert.deepEqual(kinds(emulator).slice(-3), ['z_report', 'shift_open', 'sale']);
  }));

test('a register that is not configured fails the receipt with a clear code', () =>
  withTill(async ({ harness, print }) => {
    await print('N-1', { register: 'back-office' });
    const failed = await waitForState(harness.runtime, 'receipt', 'N-1', 'failed');
    assert.equal(contextOf(failed).fault?.code, 'register_not_configured');
  }));
