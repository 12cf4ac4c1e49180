import type { Db } from 'mongodb';
import { collectionsOf } from '../../persistence/collections.ts';
import { loadPersonalDataKey, type PersonalDataCipher } from '../../persistence/personal-data-key.ts';
import { Keyring } from '../../persistence/secret-box.ts';
import { TEST_MASTER_KEY } from './hub-process.ts';

/** The personal data key of a hub the tests started (under TEST_MASTER_KEY), to read or write what it keeps sealed. */
export async function hubCipherOf(db: Db): Promise<PersonalDataCipher> {
  return loadPersonalDataKey(collectionsOf(db).hubMeta, new Keyring(Buffer.from(TEST_MASTER_KEY, 'base64')));
}
