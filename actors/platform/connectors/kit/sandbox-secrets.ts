import { randomBytes, randomInt } from 'node:crypto';

/**
 * Random secrets for the sandboxes the hub runs itself: each connector's
 * `sandbox.generateCredentials()` shapes them as its protocol's are (length,
 * alphabet), so the sandbox and the client accept them as they would a real
 * one. Generated once per installation (see sandbox-supervisor.ts).
 */

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` letters and digits, each drawn uniformly (about 5.95 bits each). */
export function randomAlphanumeric(length: number): string {
  let text = '';
  for (let i = 0; i < length; i += 1) text += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return text;
}

/** `bytes` random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** `bytes` random bytes as base64url (no padding). */
export function randomBase64Url(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}
