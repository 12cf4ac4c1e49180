import { createHmac, createPublicKey, timingSafeEqual, verify as verifySignature } from 'node:crypto';

/**
 * Signature checks for partner callbacks, all over the exact raw bytes and
 * all in constant time: a wrong signature takes as long as a right one,
 * whatever its length or content. None throws on malformed input: each
 * answers false.
 */

/** Constant-time comparison of two strings or buffers (lengths are hashed first so they leak nothing either). */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const key = 'integration-hub constant-time compare';
  const left = createHmac('sha256', key).update(a).digest();
  const right = createHmac('sha256', key).update(b).digest();
  return timingSafeEqual(left, right) && Buffer.from(a).length === Buffer.from(b).length;
}

/** HMAC over `payload`, compared with the signature the partner sent (hex or base64, optional prefix such as `sha256=`). */
export function verifyHmac(options: {
  algorithm: 'sha256' | 'sha1' | 'sha512';
  secret: string;
  payload: Buffer;
  signature: string | undefined;
  encoding: 'hex' | 'base64';
  prefix?: string;
}): boolean {
  if (!options.signature || options.secret.length === 0) return false;
  let sent = options.signature.trim();
  if (options.prefix) {
    if (!sent.startsWith(options.prefix)) return false;
    sent = sent.slice(options.prefix.length);
  }
  const expected = createHmac(options.algorithm, options.secret).update(options.payload).digest(options.encoding);
  return constantTimeEqual(options.encoding === 'hex' ? sent.toLowerCase() : sent, expected);
}

/** ECDSA (or RSA) signature over SHA-256 of the raw bytes, DER-encoded and base64 in transit (e.g. Monobank's X-Sign). */
export function verifyPublicKeySignature(options: { publicKeyPem: string; payload: Buffer; signatureBase64: string | undefined }): boolean {
  if (!options.signatureBase64) return false;
  try {
    const key = createPublicKey(options.publicKeyPem);
    return verifySignature('sha256', options.payload, key, Buffer.from(options.signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

/** A shared secret sent as is in a header. */
export function verifySharedHeader(options: { expected: string; sent: string | undefined }): boolean {
  if (!options.sent || options.expected.length === 0) return false;
  return constantTimeEqual(options.sent, options.expected);
}

/** HTTP Basic credentials. */
export function verifyBasicAuth(options: { username: string; password: string; authorization: string | undefined }): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(options.authorization ?? '');
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Both halves are always compared, so a wrong user name takes as long as a wrong password.
  const userOk = constantTimeEqual(decoded.slice(0, colon), options.username);
  const passwordOk = constantTimeEqual(decoded.slice(colon + 1), options.password);
  return userOk && passwordOk;
}

/** A signed timestamp within `toleranceSeconds` of now (replay protection for schemes that sign one). */
export function freshTimestamp(sent: string | undefined, toleranceSeconds: number, now = Date.now()): boolean {
  if (!sent || !/^\d{9,13}$/.test(sent)) return false;
  const value = Number(sent);
  const millis = sent.length > 10 ? value : value * 1000;
  return Math.abs(now - millis) <= toleranceSeconds * 1000;
}
