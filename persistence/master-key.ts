import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writePrivateFile } from './private-files.ts';
import { Keyring, MasterKeyError } from './secret-box.ts';

export const MASTER_KEY_FILE = 'master-key';

/** Reads a base64 master key file; null when there is none. */
export async function readKeyFile(file: string): Promise<Buffer | null> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new MasterKeyError(`${file} does not hold a 32-byte base64 key`);
  return key;
}

export async function writeKeyFile(file: string, key: Buffer): Promise<void> {
  await writePrivateFile(file, `${key.toString('base64')}\n`);
}

/**
 * The keyring the service runs with: HUB_MASTER_KEY (and HUB_PREVIOUS_MASTER_KEY
 * while rotating). Without one — development only, production refuses to
 * start earlier — a key is generated once into DATA_DIR/master-key, with a warning.
 */
export async function loadKeyring(options: {
  masterKey?: Buffer;
  previousMasterKey?: Buffer;
  dataDir: string;
  env: 'development' | 'production' | 'test';
  warn: (message: string, meta?: Record<string, unknown>) => void;
}): Promise<Keyring> {
  const previous = options.previousMasterKey ? [options.previousMasterKey] : [];
  if (options.masterKey) return new Keyring(options.masterKey, previous);
  if (options.env === 'production') throw new MasterKeyError('HUB_MASTER_KEY is required in production');
  const file = path.join(options.dataDir, MASTER_KEY_FILE);
  let key = await readKeyFile(file);
  if (!key) {
    key = randomBytes(32);
    await writeKeyFile(file, key);
    options.warn('HUB_MASTER_KEY is not set: generated a development master key; set HUB_MASTER_KEY in production', { file });
  } else {
    options.warn('HUB_MASTER_KEY is not set: using the development master key', { file });
  }
  return new Keyring(key, previous);
}
