import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import { isDuplicateKeyError } from './collections.ts';
import { MasterKeyError, type HubMetaDoc, type Keyring } from './secret-box.ts';

/**
 * Personal data at rest (customers' names, phones, e-mails, addresses, tax numbers) is sealed with
 * AES-256-GCM under one random data key. The data key itself is stored only wrapped (sealed) by the
 * master key in `hub_meta`, so rotating the master key re-wraps 32 bytes instead of re-encrypting
 * every actor, and a database dump without the master key reveals nothing.
 *
 * A sealed value is one string, so it fits wherever the plain value was (JSON of a snapshot, an event,
 * a stored response): `pd1.<data key id>.<base64url(iv ‖ tag ‖ ciphertext of the value's JSON)>`.
 * An erased value (a customer who asked to be forgotten) is the string `pd1.erased`.
 */

const PREFIX = 'pd1.';
export const ERASED = 'pd1.erased';
/** What an erased value reads as. */
export const ERASED_TEXT = '[erased]';
const AAD = Buffer.from('integration-hub personal data', 'utf8');
const DATA_KEY_ID = 'personal-data-key';

export type BlindIndexKind = 'phone' | 'email' | 'card';

/** Sealed bytes (a client's document) begin with this, then the data key id, IV, tag and ciphertext. */
const BYTES_MAGIC = Buffer.from('pd1b', 'ascii');

export class PersonalDataCipher {
  readonly keyId: string;
  private readonly blindKey: Buffer;

  constructor(private readonly dataKey: Buffer) {
    if (dataKey.length !== 32) throw new MasterKeyError('the personal data key must be 32 bytes');
    this.keyId = createHash('sha256').update('integration-hub personal data key\0').update(dataKey).digest('hex').slice(0, 8);
    // a separate key for look-ups, so the index says nothing the ciphertexts could be checked against
    this.blindKey = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'integration-hub blind index', 32));
  }

  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(PREFIX);
  }

  seal(value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.dataKey, iv);
    cipher.setAAD(AAD);
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return `${PREFIX}${this.keyId}.${Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url')}`;
  }

  /** The value a sealed string holds (`[erased]` once erased). Throws MasterKeyError for another key or a tampered value. */
  open(sealed: string): unknown {
    if (sealed === ERASED) return ERASED_TEXT;
    const [keyId, payload] = sealed.slice(PREFIX.length).split('.');
    if (keyId !== this.keyId || !payload)
      throw new MasterKeyError(`personal data sealed with data key ${keyId ?? '?'}, which is not this hub's (${this.keyId})`);
    const bytes = Buffer.from(payload, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.dataKey, bytes.subarray(0, 12));
      decipher.setAAD(AAD);
      decipher.setAuthTag(bytes.subarray(12, 28));
      const text = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as unknown;
    } catch {
      throw new MasterKeyError('a sealed personal value does not authenticate (tampered)');
    }
  }

  /** Bytes sealed as they are (no JSON, no base64): `pd1b ‖ key id ‖ iv ‖ tag ‖ ciphertext`. */
  sealBytes(bytes: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.dataKey, iv);
    cipher.setAAD(AAD);
    const data = Buffer.concat([cipher.update(bytes), cipher.final()]);
    return Buffer.concat([BYTES_MAGIC, Buffer.from(this.keyId, 'ascii'), iv, cipher.getAuthTag(), data]);
  }

  static areSealedBytes(bytes: Buffer): boolean {
    return bytes.length >= BYTES_MAGIC.length + 8 + 28 && bytes.subarray(0, BYTES_MAGIC.length).equals(BYTES_MAGIC);
  }

  /** The bytes `sealBytes` sealed. Throws MasterKeyError for another key or tampered bytes. */
  openBytes(sealed: Buffer): Buffer {
    const keyId = sealed.subarray(BYTES_MAGIC.length, BYTES_MAGIC.length + 8).toString('ascii');
    if (!PersonalDataCipher.areSealedBytes(sealed) || keyId !== this.keyId)
      throw new MasterKeyError(`personal data sealed with data key ${keyId}, which is not this hub's (${this.keyId})`);
    const body = sealed.subarray(BYTES_MAGIC.length + 8);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.dataKey, body.subarray(0, 12));
      decipher.setAAD(AAD);
      decipher.setAuthTag(body.subarray(12, 28));
      return Buffer.concat([decipher.update(body.subarray(28)), decipher.final()]);
    } catch {
      throw new MasterKeyError('sealed personal bytes do not authenticate (tampered)');
    }
  }

  /** A sealed string's value as text, or the string itself when it was stored before sealing (in clear). */
  openText(stored: string): string {
    return PersonalDataCipher.isSealed(stored) ? String(this.open(stored)) : stored;
  }

  /**
   * A keyed hash of a phone, e-mail or loyalty card, normalised (digits only; lower case; trimmed), to find actors by it
   * without decrypting them. Equal inputs give equal hashes, so it is kept short of a full digest.
   */
  blindIndex(kind: BlindIndexKind, value: string): string | null {
    const normal = kind === 'phone' ? value.replace(/\D/g, '') : kind === 'email' ? value.trim().toLowerCase() : value.trim();
    if (normal === '') return null;
    return `${kind[0]}:${createHmac('sha256', this.blindKey).update(`${kind}\0${normal}`).digest('base64url').slice(0, 22)}`;
  }
}

/**
 * The hub's personal data key, unwrapped with the master key. The first start makes one; a start
 * racing it meets the unique `_id` and reads theirs. A key wrapped under a previous master key is
 * re-wrapped under the current one.
 */
export async function loadPersonalDataKey(meta: Collection<HubMetaDoc>, keyring: Keyring): Promise<PersonalDataCipher> {
  const found = await meta.findOne({ _id: DATA_KEY_ID });
  if (!found?.sealed) {
    const dataKey = randomBytes(32);
    try {
      await meta.insertOne({ _id: DATA_KEY_ID, sealed: keyring.seal(dataKey.toString('base64'), DATA_KEY_ID), updatedAt: new Date() });
      return new PersonalDataCipher(dataKey);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return loadPersonalDataKey(meta, keyring);
    }
  }
  const dataKey = Buffer.from(keyring.open(found.sealed, DATA_KEY_ID), 'base64');
  if (found.sealed.keyId !== keyring.currentKeyId) await rewrapPersonalDataKey(meta, keyring, dataKey);
  return new PersonalDataCipher(dataKey);
}

/** Seals the data key again under the keyring's current master key (`npm run rotate-key`); false when there is none yet. */
export async function rewrapPersonalDataKey(meta: Collection<HubMetaDoc>, keyring: Keyring, known?: Buffer): Promise<boolean> {
  let dataKey = known;
  if (!dataKey) {
    const found = await meta.findOne({ _id: DATA_KEY_ID });
    if (!found?.sealed) return false;
    dataKey = Buffer.from(keyring.open(found.sealed, DATA_KEY_ID), 'base64');
  }
  await meta.updateOne(
    { _id: DATA_KEY_ID },
    { $set: { sealed: keyring.seal(dataKey.toString('base64'), DATA_KEY_ID), updatedAt: new Date() } },
  );
  return true;
}
