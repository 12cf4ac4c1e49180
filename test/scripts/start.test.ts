import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printReceipt } from '../support/fiscal.ts';
import { hubClient, startHubProcess } from '../support/hub-process.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('npm start with no configuration: embedded database, a generated admin key printed once, data kept across restarts', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-start-'));
  // As on a newcomer's machine: no MONGODB_URI, no ADMIN_API_KEY.
  const env = {
    MONGODB_URI: '',
    ADMIN_API_KEY: '',
    HUB_MASTER_KEY: '',
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    HUB_DEVICE_EMULATORS: 'auto',
  };
  let firstReceipt: { id: string; documentNumber: number } | undefined;
  const first = await startHubProcess({ dbName: 'hub', dataDir, env });
  try {
    assert.match(first.output(), /embedded FerretDB \(SQLite\) started/);
    const saved = (await readFile(path.join(dataDir, 'admin-api-key'), 'utf8')).trim();
    assert.ok(first.output().includes(saved), 'the generated key is printed');
    assert.match(first.output(), /generated a development master key/);
    const masterKey = (await readFile(path.join(dataDir, 'master-key'), 'utf8')).trim();
    assert.equal(Buffer.from(masterKey, 'base64').length, 32);
    assert.ok(!first.output().includes(masterKey), 'the master key itself is never printed');
    const client = hubClient(first.url, saved);
    assert.equal((await client.post('/actors/probe', { id: 'kept' })).status, 201);
    assert.equal((await client.post('/actors/probe/kept/events', { type: 'ADD', amount: 7 })).status, 200);

    // an emulated register and printer stand in for real ones, and a receipt prints on the register
    assert.match(first.output(), /devices emulated/);
    const devices = (await client.get('/admin/devices')).body.devices as Array<{ name: string; kind: string; source: string }>;
    assert.deepEqual(
      devices.map((d) => [d.name, d.kind, d.source]),
      [
        ['main', 'fiscal-register', 'environment'],
        ['printer', 'receipt-printer', 'environment'],
      ],
    );
    const printed = await printReceipt(
      client,
      { items: [{ name: 'Чашка', qty: 1, price: 25_000 }], payments: { cash: 25_000 }, cashier: 'Олена' },
      'first-receipt',
    );
    firstReceipt = { id: String(printed.id), documentNumber: Number(printed.documentNumber) };
    // the emulated printer prints a test page, and the hub shows what it printed
    const printerTest = await client.post('/admin/devices/printer/test', {});
    assert.equal(printerTest.body.ok, true, JSON.stringify(printerTest.body));
    const printer = await client.get('/admin/devices/printer');
    assert.match(String(printer.body.lastPrinted), /Тест принтера/);
  } finally {
    const stopped = await first.terminate();
    assert.equal(stopped.code, 0);
  }

  const second = await startHubProcess({ dbName: 'hub', dataDir, env });
  try {
    const saved = (await readFile(path.join(dataDir, 'admin-api-key'), 'utf8')).trim();
    assert.ok(!second.output().includes(saved), 'the key is printed only by the start that made it');
    const view = await hubClient(second.url, saved).get('/actors/probe/kept');
    assert.equal(view.status, 200);
    assert.equal((view.body.context as { total: number }).total, 7);
    // the register's fiscal memory outlives the restart: the next receipt continues its numbering
    const client = hubClient(second.url, saved);
    assert.ok(firstReceipt, 'the first start printed a receipt');
    assert.equal((await client.get(`/fiscal/receipts/${firstReceipt.id}`)).body.state, 'printed');
    const printed = await printReceipt(
      client,
      { items: [{ name: 'Чай', qty: 1, price: 1_999 }], payments: { cash: 2_000 }, cashier: 'Олена' },
      'second-receipt',
    );
    assert.equal(printed.documentNumber, firstReceipt.documentNumber + 1);
    assert.equal(printed.change, 1);
  } finally {
    await second.terminate();
  }
});

test('an invalid configuration stops the start with exit code 2 and names the variable', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/start.ts')], {
    cwd: repoRoot,
    env: { ...process.env, PORT: 'eighty', HUB_MASTER_KEY: 'dG9vLXNob3J0LXNlY3JldA==' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 2);
  assert.match(output, /^PORT: /m);
  assert.match(output, /^HUB_MASTER_KEY: /m);
  assert.ok(!output.includes('dG9vLXNob3J0LXNlY3JldA=='), 'the bad secret is not echoed');
});
