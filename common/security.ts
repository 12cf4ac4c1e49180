import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Secret checks for every layer (http/, actors/, the sandboxes): comparison,
 * HMAC, a shared secret in a header, HTTP Basic credentials, a signed
 * timestamp. Every comparison takes constant time: a wrong secret takes as
 * long as a right one, whatever its length or content. Checks answer
 * false (or null) on malformed input rather than throw, and nothing here
 * logs or quotes a secret. Partner-specific schemes (Monobank's X-Sign,
 * LiqPay's signature) stay in their protocol modules and compare with these.
 */

/** Bytes, or a string taken as its UTF-8 bytes (not normalised: "é" composed and decomposed differ). */
export type Bytes = string | Buffer;
export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';
export type DigestEncoding = 'hex' | 'base64' | 'base64url';

/** Drawn once per process, so no one outside can predict the digests that are compared. */
const comparisonKey = randomBytes(32);

/**
 * Whether two values hold the same bytes, in constant time whatever their
 * lengths: both are reduced to fixed-size HMAC digests first, so neither a
 * length nor a common prefix shows in the time taken.
 */
export function constantTimeEqual(a: Bytes, b: Bytes): boolean {
  const left = createHmac('sha256', comparisonKey).update(a).digest();
  const right = createHmac('sha256', comparisonKey).update(b).digest();
  return timingSafeEqual(left, right);
}

/** The HMAC of `data` under `key`, as text in `encoding`. */
export function hmac(algorithm: HmacAlgorithm, key: Bytes, data: Bytes, encoding: DigestEncoding): string {
  return createHmac(algorithm, key).update(data).digest(encoding);
}

/**
 * Whether `signature` is the HMAC of `payload` (the exact raw bytes) under
 * `secret`: hex in either case, base64 or base64url; `prefix` (such as
 * `sha256=`) is required when given. No secret, no match.
 */
export function verifyHmac(options: {
  algorithm: HmacAlgorithm;
  secret: Bytes;
  payload: Bytes;
  signature: string | undefined;
  encoding: DigestEncoding;
  prefix?: string;
}): boolean {
  if (!options.signature || options.secret.length === 0) return false;
  let sent = options.signature.trim();
  if (options.prefix) {
    if (!sent.startsWith(options.prefix)) return false;
    sent = sent.slice(options.prefix.length);
  }
  const expected = hmac(options.algorithm, options.secret, options.payload, options.encoding);
  return constantTimeEqual(options.encoding === 'hex' ? sent.toLowerCase() : sent, expected);
}

/** A shared secret sent as is (in a header, say). An empty secret never matches, so an unset one admits no one. */
export function verifySharedHeader(options: { expected: string; sent: string | undefined }): boolean {
  if (!options.sent || options.expected.length === 0) return false;
  return constantTimeEqual(options.sent, options.expected);
}

export interface BasicCredentials {
  username: string;
  password: string;
}

/** `Basic <token68>`, the scheme in any case (RFC 7235), the base64 padded or not. */
const BASIC_AUTHORIZATION = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i;
/** Credentials that are not UTF-8 are refused rather than patched with U+FFFD (which could make two passwords equal). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The credentials of an `Authorization: Basic …` header (RFC 7617), or null
 * when it is missing, another scheme, not canonical base64, not UTF-8, or
 * without the colon. The user name ends at the first colon; the password
 * may hold more.
 */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | null {
  const token = BASIC_AUTHORIZATION.exec(header ?? '')?.[1];
  if (!token) return null;
  const bytes = Buffer.from(token, 'base64');
  // Node decodes leniently; only a token that encodes back to itself is base64.
  if (bytes.toString('base64').replace(/=+$/, '') !== token.replace(/=+$/, '')) return null;
  let decoded: string;
  try {
    decoded = strictUtf8.decode(bytes);
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The `Authorization` header value for these credentials (what a caller of a Basic-protected endpoint sends). */
export function basicAuthorization(credentials: BasicCredentials): string {
  if (credentials.username.includes(':')) throw new Error('a Basic user name cannot contain a colon (RFC 7617)');
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/**
 * Whether the header carries exactly these credentials (Payme, for one,
 * sends `Basic base64("Paycom:<key>")`). Both halves are always compared,
 * so a wrong user name takes as long as a wrong password; an empty
 * expected password never matches.
 */
export function verifyBasicAuth(options: { username: string; password: string; authorization: string | undefined }): boolean {
  if (options.password.length === 0) return false;
  const sent = parseBasicAuthorization(options.authorization);
  if (!sent) return false;
  const usernameMatches = constantTimeEqual(sent.username, options.username);
  const passwordMatches = constantTimeEqual(sent.password, options.password);
  return usernameMatches && passwordMatches;
}

/** A signed timestamp (Unix seconds or milliseconds) within `toleranceSeconds` of now: replay protection for schemes that sign one. */
export function freshTimestamp(sent: string | undefined, toleranceSeconds: number, now = Date.now()): boolean {
  if (!sent || !/^\d{9,13}$/.test(sent)) return false;
  const value = Number(sent);
  const millis = sent.length > 10 ? value : value * 1000;
  return Math.abs(now - millis) <= toleranceSeconds * 1000;
}
