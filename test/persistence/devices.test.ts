import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { collectionsOf, ensureCollections } from '../../persistence/collections.ts';
import { DeviceStore } from '../../persistence/devices.ts';
import { Keyring, MasterKeyError } from '../../persistence/secret-box.ts';
import { deviceConfigSchema, deviceViewOf, deviceWriteOf } from '../../actors/platform/devices/device-config.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';

test('device configs: each kind takes its own fields with defaults; a field of the other kind, a wrong speed or a relative path is refused', () => {
  const register = deviceConfigSchema.parse({ kind: 'fiscal-register', driver: 'shtrih-m', path: '/dev/ttyUSB0' });
  assert.deepEqual(register, {
    kind: 'fiscal-register',
    driver: 'shtrih-m',
    path: '/dev/ttyUSB0',
    baudRate: 115_200,
    operatorPassword: 1,
    adminPassword: 30,
  });
  const printer = deviceConfigSchema.parse({ kind: 'receipt-printer', driver: 'escpos', path: '/dev/ttyS1', baudRate: 9600 });
  assert.deepEqual([printer.kind === 'receipt-printer' && printer.codePage, printer.baudRate], [17, 9600]);

  const refused = (value: unknown) => {
    const parsed = deviceConfigSchema.safeParse(value);
    return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}:${issue.code}`);
  };
  assert.deepEqual(refused({ kind: 'receipt-printer', driver: 'escpos', path: '/dev/ttyS1', adminPassword: 30 }), [':unrecognized_keys']);
  assert.deepEqual(refused({ kind: 'fiscal-register', driver: 'shtrih-m', path: '/dev/ttyS1', codePage: 17 }), [':unrecognized_keys']);
  assert.deepEqual(refused({ kind: 'fiscal-register', driver: 'escpos', path: '/dev/ttyS1' }), ['driver:invalid_value']);
  assert.deepEqual(refused({ kind: 'fiscal-register', driver: 'shtrih-m', path: '/dev/ttyS1', baudRate: 12_345 }), ['baudRate:custom']);
  assert.deepEqual(refused({ kind: 'fiscal-register', driver: 'shtrih-m', path: 'ttyS1' }), ['path:invalid_format']);
  assert.deepEqual(refused({ kind: 'scale', driver: 'x', path: '/dev/x' }), ['kind:invalid_union']);
});

test('devices are stored with their passwords sealed; the view says only that they are set; another key cannot open them', async () => {
  const client = await new MongoClient(databaseUri()).connect();
  const db = client.db(uniqueDatabaseName('devices'));
  try {
    await ensureCollections(db);
    const collections = collectionsOf(db);
    const key = randomBytes(32);
    const store = new DeviceStore(collections.devices, new Keyring(key));
    const config = deviceConfigSchema.parse({ kind: 'fiscal-register', driver: 'shtrih-m', path: '/dev/ttyUSB0', operatorPassword: 27 });
    const saved = await store.put('main', deviceWriteOf(config), 'admin-key', 'admin');
    assert.deepEqual(saved.passwords, { operatorPassword: 27, adminPassword: 30 });
    assert.equal(saved.revision, 1);

    const raw = await collections.devices.findOne({ _id: 'main' });
    assert.ok(raw?.passwords);
    assert.ok(!JSON.stringify(raw).includes('"operatorPassword"'), 'the passwords are not readable in the database');
    const view = deviceViewOf(saved);
    assert.equal(view.passwords, 'set');
    // no password in any form (the view's times may well contain "27")
    assert.ok(!Object.keys(view).some((field) => /password/i.test(field) && field !== 'passwords'));
    assert.ok(!Object.values(view).includes(27));

    const again = new DeviceStore(collections.devices, new Keyring(key));
    assert.deepEqual(
      (await again.load()).map((d) => [d.name, d.passwords?.operatorPassword]),
      [['main', 27]],
    );
    const second = await again.put('main', deviceWriteOf({ ...config, path: '/dev/ttyUSB1' }), 'admin-key', 'admin');
    assert.deepEqual([second.revision, second.path, second.createdAt.getTime()], [2, '/dev/ttyUSB1', saved.createdAt.getTime()]);

    await assert.rejects(new DeviceStore(collections.devices, new Keyring(randomBytes(32))).load(), MasterKeyError);
    assert.equal(await again.delete('main'), true);
    assert.equal(await again.delete('main'), false);
    assert.deepEqual(await new DeviceStore(collections.devices, new Keyring(key)).load(), []);
  } finally {
    await db.dropDatabase();
    await client.close();
  }
});
