import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { collectionsOf } from '../../persistence/collections.ts';
import { IntegrationStore } from '../../persistence/integrations.ts';
import { Keyring, MasterKeyError, keyIdOf, verifyMasterKey } from '../../persistence/secret-box.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';

test('a sealed secret opens with its key and record, and with nothing else', () => {
  const keyring = new Keyring(randomBytes(32));
  const sealed = keyring.seal('{"apiKey":"np-secret-1"}', 'integration:novaposhta');
  assert.equal(sealed.alg, 'aes-256-gcm');
  assert.ok(!JSON.stringify(sealed).includes('np-secret-1'));
  assert.equal(keyring.open(sealed, 'integration:novaposhta'), '{"apiKey":"np-secret-1"}');
  assert.throws(() => keyring.open(sealed, 'integration:monobank'), MasterKeyError, 'moved to another record');
  const tampered = {
    ...sealed,
    data: Buffer.from(Buffer.from(sealed.data, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64'),
  };
  assert.throws(() => keyring.open(tampered, 'integration:novaposhta'), MasterKeyError, 'tampered');
  assert.throws(() => new Keyring(randomBytes(32)).open(sealed, 'integration:novaposhta'), /not configured/);
  const second = keyring.seal('{"apiKey":"np-secret-1"}', 'integration:novaposhta');
  assert.notEqual(second.iv, sealed.iv, 'a fresh IV for every seal');
});

test('a keyring with the previous key opens old values and seals with the new one', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const sealed = new Keyring(oldKey).seal('x', 'a');
  const rotating = new Keyring(newKey, [oldKey]);
  assert.equal(rotating.open(sealed, 'a'), 'x');
  assert.equal(rotating.seal('x', 'a').keyId, keyIdOf(newKey));
  assert.notEqual(keyIdOf(oldKey), keyIdOf(newKey));
});

test('the master key check: created on first start, verified after, and a wrong key is refused with a clear message', async () => {
  const client = await new MongoClient(databaseUri()).connect();
  const db = client.db(uniqueDatabaseName('masterkey'));
  try {
    const { hubMeta, integrations } = collectionsOf(db);
    const key = randomBytes(32);
    assert.equal(await verifyMasterKey(hubMeta, new Keyring(key)), 'created');
    assert.equal(await verifyMasterKey(hubMeta, new Keyring(key)), 'verified');
    await assert.rejects(
      verifyMasterKey(hubMeta, new Keyring(randomBytes(32))),
      (error: unknown) => error instanceof MasterKeyError && /HUB_MASTER_KEY is not the key/.test(error.message),
    );

    // Credentials are stored sealed: the raw document never holds the secret.
    const store = new IntegrationStore(integrations, new Keyring(key));
    await store.put(
      'novaposhta',
      { enabled: true, baseUrl: null, credentials: { apiKey: 'np-very-secret-42' }, settings: { pollMinutes: 5 } },
      'test',
      'admin',
    );
    const raw = JSON.stringify(await integrations.find({}).toArray());
    assert.ok(!raw.includes('np-very-secret-42'));
    assert.match(raw, /"credentialFields":\["apiKey"\]/);

    // A record that cannot be opened stops the load, naming the integration.
    await assert.rejects(
      new IntegrationStore(integrations, new Keyring(randomBytes(32))).load(),
      /integration "novaposhta" cannot be decrypted/,
    );

    // Loading with a rotated keyring re-seals under the new key.
    const newKey = randomBytes(32);
    const loaded = await new IntegrationStore(integrations, new Keyring(newKey, [key])).load();
    assert.equal(loaded[0]?.credentials.apiKey, 'np-very-secret-42');
    const after = await integrations.findOne({ _id: 'novaposhta' });
    assert.equal(after?.credentials?.keyId, keyIdOf(newKey));
    assert.equal((await new IntegrationStore(integrations, new Keyring(newKey)).load())[0]?.credentials.apiKey, 'np-very-secret-42');
  } finally {
    await db.dropDatabase();
    await client.close();
  }
});
