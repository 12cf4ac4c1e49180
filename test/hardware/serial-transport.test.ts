import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';
import { PtyPair } from '../../hardware/emulators/pty-pair.ts';
import { backOffDelay } from '../../hardware/serial/back-off.ts';
import { SerialError } from '../../hardware/serial/errors.ts';
import { SerialTransport } from '../../hardware/serial/transport.ts';
import { rejection } from './support.ts';

/** The transport over a real PTY pair: one conversation at a time, reconnection, clear failures. */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function withPair(run: (pair: PtyPair, device: SerialPort) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-serial-'));
  const pair = new PtyPair(dir, 'echo');
  await pair.start();
  const device = new SerialPort({ path: pair.paths.device, baudRate: 115_200 });
  try {
    await run(pair, device);
  } finally {
    if (device.isOpen) await new Promise<void>((resolve) => device.close(() => resolve()));
    await pair.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

test('commands take the port one at a time, in the order they were queued', async () => {
  await withPair(async (pair, device) => {
    // the device answers each byte with the same byte after a pause, so overlapping conversations would mix
    device.on('data', (data: Buffer) => setTimeout(() => device.write(data), 30));
    const transport = new SerialTransport({ path: pair.paths.host, baudRate: 115_200, name: 'echo' });
    transport.start();
    try {
      const events: string[] = [];
      const conversation = (byte: number) =>
        transport.exclusive(async (io) => {
          events.push(`start ${byte}`);
          await io.write(Uint8Array.of(byte));
          const first = await io.read(1_000);
          await io.write(Uint8Array.of(byte));
          const second = await io.read(1_000);
          events.push(`end ${byte}`);
          return [first, second];
        });
      const answers = await Promise.all([conversation(1), conversation(2), conversation(3)]);
      assert.deepEqual(answers, [
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
      assert.deepEqual(events, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
      // a failing conversation does not block the next
      await rejection(transport.exclusive(async () => Promise.reject(new Error('boom'))));
      assert.deepEqual(await conversation(4), [4, 4]);
    } finally {
      await transport.close();
    }
  });
});

test('a port that is not there fails with port_unavailable after the wait; once it appears the transport opens it', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-serial-'));
  const pair = new PtyPair(dir, 'late');
  const transport = new SerialTransport({
    path: pair.paths.host,
    baudRate: 115_200,
    name: 'late',
    openWaitMs: 300,
    backOff: { initialMs: 50, maxMs: 200, factor: 2 },
  });
  transport.start();
  try {
    const error = await rejection(transport.exclusive(async () => 'never'));
    assert.ok(error instanceof SerialError);
    assert.equal(error.code, 'port_unavailable');
    assert.match(error.message, /late .*not available: .*ENOENT/);
    assert.equal(transport.state, 'connecting');
    await pair.start();
    await transport.whenOpen(10_000);
    assert.equal(transport.state, 'open');
  } finally {
    await transport.close();
    await pair.stop();
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(transport.state, 'closed');
  assert.equal(((await rejection(transport.exclusive(async () => 1))) as SerialError).code, 'port_closed');
});

test('the reconnect back-off grows, is capped and jittered', () => {
  const backOff = { initialMs: 100, maxMs: 1_000, factor: 2 };
  assert.equal(
    backOffDelay(backOff, 0, () => 0.5),
    100,
  );
  assert.equal(
    backOffDelay(backOff, 2, () => 0.5),
    400,
  );
  assert.equal(
    backOffDelay(backOff, 10, () => 0.5),
    1_000,
  );
  assert.equal(
    backOffDelay(backOff, 10, () => 0),
    800,
  );
  assert.equal(
    backOffDelay(backOff, 10, () => 1),
    1_200,
  );
});

test('without socat the PTY helper says what to install', () => {
  const script = `import('${path.join(repoRoot, 'hardware/emulators/pty-pair.ts')}').then((m) => m.requireSocat()).catch((e) => { process.stderr.write(e.message); process.exit(3); })`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, PATH: path.join(os.tmpdir(), 'no-such-bin') },
    encoding: 'utf8',
  });
  assert.equal(result.status, 3, result.stderr);
  assert.equal(result.stderr, 'socat is not installed: apt-get install socat');
});
