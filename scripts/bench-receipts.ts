import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ShtrihM } from '../hardware/shtrih-m/client.ts';

/**
 * `npm run bench:receipts [-- --receipts 200 --lines 3 --baud 115200]`:
 * fiscal receipts per minute through the Shtrih-M emulator over a PTY, and
 * where the time goes.
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
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const documents = (await register.fullStatus()).documentNumber;

  const lines = [
    `${receipts} receipts × (open + ${linesPerReceipt} sale lines + close + cut) = ${receipts * commandsPerReceipt} commands, emulator paced at ${baud} baud over a PTY`,
    `wall time            ${(wallMs / 1000).toFixed(2)} s`,
    `receipts per minute  ${Math.round((receipts / wallMs) * 60_000)}`,
    `per command          ${(wallMs / (receipts * commandsPerReceipt)).toFixed(2)} ms`,
    `our code (CPU)       ${(cpuMs / 1000).toFixed(2)} s = ${((cpuMs / wallMs) * 100).toFixed(1)} % of wall time`,
    `waiting for device   ${((wallMs - cpuMs) / 1000).toFixed(2)} s = ${(((wallMs - cpuMs) / wallMs) * 100).toFixed(1)} %`,
    `method: CPU time of this process (client, protocol, serialport; the emulator runs in its own process) over wall time; the rest is waiting`,
    `for the device (the emulator adds each exchange's line time at ${baud} baud; a real register adds its printing time). Register documents: ${documents}.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await register.close();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await rm(dir, { recursive: true, force: true });
}
