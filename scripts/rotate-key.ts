import { rename } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, loadConfig } from '../common/config.ts';
import { connectDatabase } from '../persistence/database.ts';
import { openDatabaseServer } from '../persistence/embedded-database.ts';
import { DeviceStore } from '../persistence/devices.ts';
import { IntegrationStore } from '../persistence/integrations.ts';
import { MASTER_KEY_FILE, readKeyFile, writeKeyFile } from '../persistence/master-key.ts';
import { Keyring, verifyMasterKey } from '../persistence/secret-box.ts';
import { rewrapPersonalDataKey } from '../persistence/personal-data-key.ts';
import { randomBytes } from 'node:crypto';

/**
 * `npm run rotate-key`: re-encrypts every stored secret under a new master key.
 *
 * - The current key is HUB_MASTER_KEY (or, in development, DATA_DIR/master-key);
 *   HUB_PREVIOUS_MASTER_KEY is accepted too, for a rotation that was interrupted.
 * - The new key is HUB_NEW_MASTER_KEY. Without it, in development only, one is
 *   generated and saved as DATA_DIR/master-key (the old file is kept as
 *   master-key.previous); with HUB_MASTER_KEY set it is required.
 * - Safe to run again: each record names its key, and records already under
 *   the new key are left as they are. Stop the hub first when it uses the
 *   embedded database; with MONGODB_URI, running hubs keep working if they are
 *   restarted with HUB_MASTER_KEY=<new> and HUB_PREVIOUS_MASTER_KEY=<old>.
 */
function fail(message: string, code = 2): never {
  process.stderr.write(`rotate-key: ${message}\n`);
  process.exit(code);
}

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(`the configuration is invalid:\n${error.message}`);
  throw error;
}

const keyFile = path.join(config.dataDir, MASTER_KEY_FILE);
const current = config.masterKey ?? (await readKeyFile(keyFile));
if (!current) fail(`no master key: set HUB_MASTER_KEY (or run the hub once in development, which creates ${keyFile})`);

const rawNew = process.env.HUB_NEW_MASTER_KEY?.trim();
let next: Buffer;
let generated = false;
if (rawNew) {
  next = Buffer.from(rawNew, 'base64');
  if (next.length !== 32 || !/^[A-Za-z0-9+/_-]{43}=?$/.test(rawNew))
    fail('HUB_NEW_MASTER_KEY must be exactly 32 bytes, base64-encoded (44 characters); generate one with `openssl rand -base64 32`');
} else {
  if (config.masterKey || config.env === 'production')
    fail('set HUB_NEW_MASTER_KEY to the new key (generate one with `openssl rand -base64 32`)');
  next = randomBytes(32);
  generated = true;
  // Saved before anything is re-encrypted, so a crash cannot lose the key the data is under.
  await writeKeyFile(`${keyFile}.next`, next);
}

const previous = [current, ...(config.previousMasterKey ? [config.previousMasterKey] : [])];
const keyring = new Keyring(next, previous);
if (previous.some((key) => key.equals(next))) fail('the new key is the same as the current one');

const server = await openDatabaseServer({ mongodbUri: config.mongodbUri, dataDir: config.dataDir, log: () => undefined });
const database = await connectDatabase(server.uri, config.mongodbDb);
try {
  try {
    await verifyMasterKey(database.collections.hubMeta, keyring);
  } catch (error) {
    fail((error as Error).message, 1);
  }
  const store = new IntegrationStore(database.collections.integrations, keyring);
  const records = await store.load();
  const sealed = records.filter((record) => Object.keys(record.credentials).length > 0).length;
  const devices = (await new DeviceStore(database.collections.devices, keyring).load()).filter((device) => device.passwords).length;
  // customers' personal data stays under its data key: only that key's wrapping changes
  const personalDataKey = await rewrapPersonalDataKey(database.collections.hubMeta, keyring);
  if (generated) {
    await rename(keyFile, `${keyFile}.previous`).catch(() => undefined);
    await rename(`${keyFile}.next`, keyFile);
    process.stdout.write(`A new development master key was generated and saved to ${keyFile} (the old one is ${keyFile}.previous).\n`);
  } else {
    process.stdout.write('Set HUB_MASTER_KEY to the new key (HUB_NEW_MASTER_KEY) before the next start.\n');
  }
  process.stdout.write(
    `Re-encrypted the credentials of ${sealed} integration(s) and the passwords of ${devices} device(s)${personalDataKey ? ' and the personal data key' : ''} under key ${keyring.currentKeyId}.\n`,
  );
} finally {
  await database.close();
  await server.stop();
}
