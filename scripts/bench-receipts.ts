import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { receiptEffects } from '../actors/domains/fiscal/effects.ts';
import { RegisterLocks } from '../actors/domains/fiscal/register-locks.ts';
import { createDeviceHealthStore } from '../actors/platform/devices/device-health.ts';
import { FiscalRegisters } from '../actors/platform/devices/fiscal-registers.ts';
import { createLogger } from '../common/logger.ts';
import { ShtrihM } from '../hardware/shtrih-m/client.ts';
import receiptModule from '../machines/receipt.ts';
import { connectDatabase } from '../persistence/database.ts';
import { DeviceStore } from '../persistence/devices.ts';
import { openDatabaseServer } from '../persistence/embedded-database.ts';
import { Keyring } from '../persistence/secret-box.ts';
import { forEachConcurrently, startInProcessRuntime } from './bench-support.ts';

/**
 * `npm run bench:receipts [-- --receipts 200 --lines 3 --baud 115200 --through client|actors]`:
 * fiscal receipts per minute through the Shtrih-M emulator over a PTY, and
 * where the time goes.
 *
 * `--through client` (default): the Shtrih-M client alone, command after
 * command. `--through actors`: what the hub does for `POST /fiscal/receipts`
 * — receipt actors on the durable runtime and the embedded database (status
 * reads, the document number persisted before opening, the register taken
 * and released, every transition journalled), all created at once and
 * printed one at a time by the register.
 *
 * The emulator runs in a child process (`scripts/devices.ts --only fiscal
 * --line-rate BAUD`), so this process holds only our side: the client, the
 * link protocol, the transport, serialport. A PTY has no speed, so the
 * emulator delays each answer by the time the command's and the answer's
 * bytes take on a real line at BAUD (10 bits a byte); the device's own
 * printing time is not modelled (a real register adds it).
 *
 * "Our code" is this process's CPU time (user + system, process.cpuUsage)
 * during the run: encoding, framing, parsing, the event loop, serialport's
 * reads and writes. The rest of the wall time is waiting for the device
 * (its emulated line time, its work, the PTY and the scheduler).
 */

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const index = args.indexOf(`--${name}`);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number`);
  return value;
};
const receipts = option('receipts', 200);
const linesPerReceipt = option('lines', 3);
const baud = option('baud', 115_200);
const throughIndex = args.indexOf('--through');
const through = throughIndex >= 0 ? args[throughIndex + 1] : 'client';
if (through !== 'client' && through !== 'actors') throw new Error('--through is client or actors');

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-receipts-'));
const child = spawn(
  process.execPath,
  ['--import', 'tsx', 'scripts/devices.ts', '--only', 'fiscal', '--dir', dir, '--line-rate', String(baud), '--json'],
  {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const ready = await new Promise<{ fiscal: string }>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before it was ready`)));
  createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as { fiscal: string }));
});

const report = (wallMs: number, cpuMs: number, what: string, method: string, documents: number) => {
  const lines = [
    what,
    `wall time            ${(wallMs / 1000).toFixed(2)} s`,
    `receipts per minute  ${Math.round((receipts / wallMs) * 60_000)}`,
    `our code (CPU)       ${(cpuMs / 1000).toFixed(2)} s = ${((cpuMs / wallMs) * 100).toFixed(1)} % of wall time`,
    `waiting              ${((wallMs - cpuMs) / 1000).toFixed(2)} s = ${(((wallMs - cpuMs) / wallMs) * 100).toFixed(1)} %`,
    method,
    `Register documents: ${documents}.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
};

try {
  if (through === 'client') await throughClient();
  else await throughActors();
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await rm(dir, { recursive: true, force: true });
}

async function throughClient(): Promise<void> {
  const register = new ShtrihM({ path: ready.fiscal, baudRate: baud, name: 'bench' });
  try {
    await register.openShift();
    const commandsPerReceipt = 1 + linesPerReceipt + 2;
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < receipts; i += 1) {
      await register.openReceipt('sale');
      for (let line = 0; line < linesPerReceipt; line += 1)
        await register.sale({ name: `Товар ${line + 1}`, qty: 1, price: 1_000 + line, taxGroup: 1 });
      await register.closeReceipt({ payments: { cash: 10_000 * linesPerReceipt } });
      await register.cut('partial');
    }
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    report(
      wallMs,
      (cpu.user + cpu.system) / 1000,
      `${receipts} receipts × (open + ${linesPerReceipt} sale lines + close + cut) = ${receipts * commandsPerReceipt} commands through the client, emulator paced at ${baud} baud over a PTY (${(wallMs / (receipts * commandsPerReceipt)).toFixed(2)} ms a command)`,
      `method: CPU time of this process (client, protocol, serialport; the emulator runs in its own process) over wall time; the rest is waiting for the device\n(the emulator adds each exchange's line time at ${baud} baud; a real register adds its printing time).`,
      (await register.fullStatus()).documentNumber,
    );
  } finally {
    await register.close();
  }
}

async function throughActors(): Promise<void> {
  const logger = createLogger({ level: 'error', json: false });
  const server = await openDatabaseServer({ dataDir: path.join(dir, 'db'), log: () => undefined });
  const database = await connectDatabase(server.uri, 'bench_receipts');
  const store = new DeviceStore(database.collections.devices, new Keyring(randomBytes(32)));
  await store.put(
    'main',
    {
      kind: 'fiscal-register',
      driver: 'shtrih-m',
      path: ready.fiscal,
      baudRate: baud,
      codePage: null,
      passwords: { operatorPassword: 1, adminPassword: 30 },
    },
    'bench',
    'admin',
  );
  const registers = new FiscalRegisters({ store, health: createDeviceHealthStore(), logger });
  const locks = new RegisterLocks(database.collections.registerLocks, { pollMs: 5 });
  const hub = await startInProcessRuntime({
    database,
    machines: [receiptModule],
    effects: [receiptEffects({ registers, locks })],
    cacheSize: receipts + 10,
    logger,
  });
  try {
    const input = (i: number) => ({
      receiptId: `B-${i}`,
      register: 'main',
      kind: 'sale' as const,
      items: Array.from({ length: linesPerReceipt }, (_, line) => ({
        name: `Товар ${line + 1}`,
        qty: 1,
        price: 1_000 + line,
        taxGroup: 1,
        department: 1,
      })),
      payments: { cash: 10_000 * linesPerReceipt, card: 0 },
      cashier: 'bench',
      source: null,
      returnOf: null,
      autoZReport: true,
      retryDelayMs: 200,
      maxRetryDelayMs: 1_000,
      alertAfterMs: 600_000,
    });
    const cpuStart = process.cpuUsage();
    const started = performance.now();
    await forEachConcurrently(receipts, 16, (i) =>
      hub.runtime.of(receiptModule).create(`B-${i}`, input(i), { origin: { kind: 'create' } }),
    );
    let printed = 0;
    const progress = setInterval(() => process.stderr.write(`  printed ${printed}/${receipts}\n`), 2_000);
    try {
      for (let i = 0; i < receipts; i += 1) {
        for (;;) {
          const view = await hub.runtime.get('receipt', `B-${i}`);
          if (view.state === 'printed') break;
          if (view.state === 'failed')
            throw new Error(`receipt B-${i} failed: ${JSON.stringify((view.context as { fault: unknown }).fault)}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        printed += 1;
      }
    } finally {
      clearInterval(progress);
    }
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    const documents = await registers.exclusive('main', null, async (register) => (await register.fullStatus()).documentNumber);
    report(
      wallMs,
      (cpu.user + cpu.system) / 1000,
      `${receipts} receipt actors (${linesPerReceipt} lines each) created at once, printed one at a time on one register through the durable runtime and the embedded database; emulator paced at ${baud} baud over a PTY`,
      `method: CPU time of this process (runtime, effects, client, serialport, the database driver) over wall time; the embedded database and the emulator run in processes\nof their own, so their work counts as waiting, as does the register's line time.`,
      documents,
    );
  } finally {
    await hub.close();
    await registers.closeAll();
    await database.close();
    await server.stop();
  }
}
