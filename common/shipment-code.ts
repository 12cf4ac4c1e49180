import { createHash } from 'node:crypto';

/**
 * The code a shipment writes on its waybill (Nova Poshta's
 * `InfoRegClientBarcodes`, "the client's internal order number") and looks
 * its waybill up by after a crash. Our ids may be long (128 characters) and
 * hold any character; the carrier's field is short and refuses some
 * characters, so the code is derived, never the id itself:
 *
 *   `<up to 8 letters or digits of the id, upper-case>-<12 base-32 characters of SHA-256(id)>`
 *
 * e.g. "SHOP1001-3KQ9ZC7M4TXA": at most 21 characters of [A-Z0-9-], the same
 * for the same id in every process and version, readable enough for a person
 * searching the carrier's cabinet. Only the hash tells ids apart (60 bits):
 * two shipments sharing a code within the few days a lookup searches is
 * about 1 in 10^12 at a million shipments a day.
 */

export const SHIPMENT_CODE_MAX_LENGTH = 21;
const HASH_CHARACTERS = 12;
const PREFIX_CHARACTERS = 8;
// Crockford's base-32 alphabet: no I, L, O, U, which people misread
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function shipmentCodeOf(shipmentId: string): string {
  const digest = createHash('sha256').update(shipmentId, 'utf8').digest();
  let bits = 0;
  let buffer = 0;
  let hash = '';
  for (const byte of digest) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && hash.length < HASH_CHARACTERS) {
      hash += ALPHABET[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
    if (hash.length === HASH_CHARACTERS) break;
  }
  const prefix = shipmentId
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '')
    .slice(0, PREFIX_CHARACTERS);
  return prefix ? `${prefix}-${hash}` : hash;
}
