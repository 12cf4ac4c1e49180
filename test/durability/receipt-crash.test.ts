import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import receipt from '../../machines/receipt.ts';
import { ShtrihMEmulator } from '../../hardware/emulators/shtrih-m-emulator.ts';
import { COMMAND } from '../../hardware/shtrih-m/commands.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, hubDatabases, startHubProcess, type HubProcess } from '../support/hub-process.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';

/**
 * A hub killed (SIGKILL) in the middle of a receipt, at a different command
 * each time, over a real PTY to a register emulator that outlives it (as a
 * real register does): after each restart the receipt is recorded with the
 * number the register gave it, and fiscal memory holds every receipt once.
 *
 * The kill happens inside the emulator's handling of the chosen command:
 * "before" = the register never carries it out (the cable was pulled as it
 * arrived), "after" = carried out, its answer never read.
 */

const KILL_POINTS: Array<{ command: number; phase: 'before' | 'after' }> = [
  // the register starts with its shift closed: the first receipt opens it
  { command: COMMAND.openShift, phase: 'after' },
  { command: COMMAND.openReceipt, phase: 'before' },
  { command: COMMAND.openReceipt, phase: 'after' },
  { command: COMMAND.sale, phase: 'after' },
  { command: COMMAND.closeReceipt, phase: 'before' },
  { command: COMMAND.closeReceipt, phase: 'after' },
  { command: COMMAND.cut, phase: 'after' },
];

test('killed at any command of a receipt, the restarted hub records each receipt once with the register’s number; none is lost or printed twice', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'receipt-crash-'));
  const emulator = await ShtrihMEmulator.start({ dir, name: 'till' });
  const dbName = uniqueDatabaseName('receipt_crash');
  const env = { HUB_EFFECT_LEASE_MS: '1000', HUB_FISCAL_POLICY: JSON.stringify({ retryDelayMs: 100, maxRetryDelayMs: 500 }) };
  let hub: HubProcess = await startHubProcess({ dbName, env });

  // the kill switch: armed for one command, fired from inside the register
  let armed: { command: number; phase: 'before' | 'after'; fired: boolean } | null = null;
  const execute = emulator.device.execute.bind(emulator.device);
  emulator.device.execute = (command, params) => {
    const shot = armed && !armed.fired && armed.command === command ? armed : null;
    if (shot?.phase === 'before') {
      shot.fired = true;
      hub.child.kill('SIGKILL');
      // not carried out: the register answers busy to a host that is gone
      return { answer: Buffer.from([command, 0x50]), changed: false };
    }
    const execution = execute(command, params);
    if (shot) {
      shot.fired = true;
      hub.child.kill('SIGKILL');
    }
    return execution;
  };

  try {
    let client = hubClient(hub.url);
    const configured = await client.call('PUT', '/admin/devices/main', {
      kind: 'fiscal-register',
      driver: 'shtrih-m',
      path: emulator.hostPath,
    });
    assert.equal(configured.status, 201, JSON.stringify(configured.body));

    const recorded: Array<{ id: string; documentNumber: number; recovered: boolean }> = [];
    for (const [i, point] of KILL_POINTS.entries()) {
      armed = { ...point, fired: false };
      const accepted = await client.post(
        '/fiscal/receipts',
        { items: [{ name: `Чашка ${i + 1}`, qty: 1, price: 10_000 + i }], payments: { cash: 20_000 }, cashier: 'Олена' },
        { 'Idempotency-Key': `crash-${i}` },
      );
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const id = String(accepted.body.id);
      await new Promise<void>((resolve) =>
        hub.child.exitCode !== null || hub.child.signalCode !== null ? resolve() : hub.child.once('exit', () => resolve()),
      );
      assert.ok(armed.fired, `the kill at 0x${point.command.toString(16)} (${point.phase}) happened`);

      hub = await startHubProcess({ dbName, env });
      client = hubClient(hub.url);
      const done = await eventually(
        async () => {
          const { body } = await client.get(`/fiscal/receipts/${id}`);
          return body.state === 'printed' ? body : undefined;
        },
        20_000,
        `receipt ${i} printed after the kill at 0x${point.command.toString(16)} (${point.phase})`,
      );
      recorded.push({ id, documentNumber: Number(done.documentNumber), recovered: Boolean(done.recovered) });

      const sales = emulator.documents().filter((d) => d.kind === 'sale');
      assert.equal(
        sales.length,
        i + 1,
        `fiscal memory holds each receipt once (after the kill at 0x${point.command.toString(16)} ${point.phase})`,
      );
      assert.equal(sales.at(-1)?.number, recorded.at(-1)?.documentNumber, 'recorded with the number the register gave it');
      assert.equal(sales.at(-1)?.total, 10_000 + i);
    }
    // the kills after a close were judged from the device, not printed again
    assert.ok(recorded.some((r) => r.recovered));
    assert.equal(new Set(recorded.map((r) => r.documentNumber)).size, KILL_POINTS.length);
  } finally {
    armed = null;
    await hub.terminate();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
  await assertHubJournalsReplay(hubDatabases(), [receipt]);
});
