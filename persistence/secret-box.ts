import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import { defineCollection } from './define-collection.ts';

/**
 * Secrets at rest: AES-256-GCM under the master key, a fresh 96-bit IV per
 * seal, and the record's identity as additional authenticated data so a
 * sealed value cannot be moved to another record. Each sealed value names
 * the key it was sealed with (a fingerprint, never the key), so keys can be
 * rotated: a keyring opens with the current or a previous key and always
 * seals with the current one.
 */

export interface SealedSecret {
  alg: 'aes-256-gcm';
  keyId: string;
  iv: string; // base64
  tag: string; // base64
  data: string; // base64
}

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

/** A key's public fingerprint: the first 16 hex digits of SHA-256 over a label and the key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('integration-hub master key\0').update(key).digest('hex').slice(0, 16);
}

export class Keyring {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Buffer, previous: Buffer[] = []) {
    if (current.length !== 32) throw new MasterKeyError('the master key must be 32 bytes');
    this.currentKeyId = keyIdOf(current);
    this.keys.set(this.currentKeyId, current);
    for (const key of previous) {
      if (key.length !== 32) throw new MasterKeyError('a previous master key must be 32 bytes');
      this.keys.set(keyIdOf(key), key);
    }
  }

  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  seal(plaintext: string, aad: string): SealedSecret {
    const key = this.keys.get(this.currentKeyId) as Buffer;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      alg: 'aes-256-gcm',
      keyId: this.currentKeyId,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
  }

  /** Throws MasterKeyError when the key is unknown or the value was tampered with. */
  open(sealed: SealedSecret, aad: string): string {
    const key = this.keys.get(sealed.keyId);
    if (!key)
      throw new MasterKeyError(
        `sealed with master key ${sealed.keyId}, which is not configured (configured: ${[...this.keys.keys()].join(', ')})`,
      );
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new MasterKeyError(
        `a value sealed with master key ${sealed.keyId} does not authenticate (tampered, or moved from another record)`,
      );
    }
  }
}

export interface HubMetaDoc {
  _id: string;
  sealed?: SealedSecret;
  updatedAt: Date;
}

export const hubMetaCollection = defineCollection<HubMetaDoc>({
  name: 'hub_meta',
  description: 'facts about the hub itself, such as the sealed text that proves the master key',
});

const CANARY_ID = 'master-key';
const CANARY_TEXT = 'integration-hub master key check';

/**
 * Proves at start that this master key is the one the database's secrets
 * were sealed with, before anything tries to use them: the first start seals
 * a known text; later starts must open it. A wrong key stops the start here,
 * with a message saying so — never a failed decryption later.
 */
export async function verifyMasterKey(meta: Collection<HubMetaDoc>, keyring: Keyring): Promise<'created' | 'verified'> {
  const found = await meta.findOne({ _id: CANARY_ID });
  if (!found?.sealed) {
    try {
      await meta.insertOne({ _id: CANARY_ID, sealed: keyring.seal(CANARY_TEXT, CANARY_ID), updatedAt: new Date() });
      return 'created';
    } catch (error) {
      // Another process created it first: check against theirs.
      if (!(typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000)) throw error;
      return verifyMasterKey(meta, keyring);
    }
  }
  if (!keyring.has(found.sealed.keyId)) {
    throw new MasterKeyError(
      `HUB_MASTER_KEY is not the key this database's secrets were encrypted with (the database expects key id ${found.sealed.keyId}, this key is ${keyring.currentKeyId}). ` +
        'Set HUB_MASTER_KEY to the original key (and use `npm run rotate-key` to change keys).',
    );
  }
  let text: string;
  try {
    text = keyring.open(found.sealed, CANARY_ID);
  } catch (error) {
    throw new MasterKeyError(`the master key check failed: ${(error as Error).message}`);
  }
  if (text !== CANARY_TEXT) throw new MasterKeyError('the master key check failed: unexpected content');
  if (found.sealed.keyId !== keyring.currentKeyId) {
    // Opened with a previous key: seal the check again under the current one.
    await meta.updateOne({ _id: CANARY_ID }, { $set: { sealed: keyring.seal(CANARY_TEXT, CANARY_ID), updatedAt: new Date() } });
  }
  return 'verified';
}

/** Re-seals the check under the keyring's current key (key rotation). */
export async function resealMasterKeyCheck(meta: Collection<HubMetaDoc>, keyring: Keyring): Promise<void> {
  await meta.updateOne(
    { _id: CANARY_ID },
    { $set: { sealed: keyring.seal(CANARY_TEXT, CANARY_ID), updatedAt: new Date() } },
    { upsert: true },
  );
}
