import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ShtrihMEmulator, type ShtrihMEmulatorOptions } from '../../hardware/emulators/shtrih-m-emulator.ts';
import { ShtrihM, type ShtrihMOptions } from '../../hardware/shtrih-m/client.ts';

/** Link timings short enough that a failure test ends in a second or two, long enough for a busy machine. */
export const QUICK_TIMINGS = { byteTimeoutMs: 200, replyTimeoutMs: 250, answerTimeoutMs: 1_500, commandDeadlineMs: 15_000 };

export interface RegisterBench {
  dir: string;
  emulator: ShtrihMEmulator;
  register: ShtrihM;
  /** another client on the same port (the old one must be closed first) */
  connect(options?: Partial<ShtrihMOptions>): ShtrihM;
}

/** A register emulator on a fresh PTY pair and fiscal memory, and a client on its host end; both stopped afterwards. */
export async function withRegister(
  run: (bench: RegisterBench) => Promise<void>,
  options: { emulator?: Partial<ShtrihMEmulatorOptions>; client?: Partial<ShtrihMOptions> } = {},
): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-fiscal-'));
  const emulator = await ShtrihMEmulator.start({ dir, ...options.emulator });
  const clients: ShtrihM[] = [];
  const connect = (extra: Partial<ShtrihMOptions> = {}) => {
    const client = new ShtrihM({
      path: emulator.hostPath,
      baudRate: 115_200,
      name: 'fiscal-main',
      timings: QUICK_TIMINGS,
      backOff: { initialMs: 50, maxMs: 300, factor: 2 },
      ...options.client,
      ...extra,
    });
    clients.push(client);
    return client;
  };
  try {
    await run({ dir, emulator, register: connect(), connect });
  } finally {
    for (const client of clients) await client.close();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Resolves with the error a promise rejects with (fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, it succeeded');
}

export const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
