import winston, { type Logger } from 'winston';

export type { Logger };

/**
 * Logs never carry secrets: the first format of every logger replaces the
 * entry with a redacted copy, so everything later in the chain — including the
 * serialized line under Symbol.for('message') — only ever sees redacted data.
 *
 * - Values under keys that name secrets (authorization, cookie, password,
 *   token, apiKey, signature, card, cvv, … — case, `-` and `_` ignored, and
 *   also as suffixes such as `dbPassword` or `clientSecret`) become
 *   '[REDACTED]', at any depth, in arrays, in Errors.
 * - Strings are scrubbed of `Bearer`/`Basic` credentials, `user:password@` in
 *   URLs, secret query parameters and `key=value` / `"key":"value"` pairs, and
 *   card numbers (13–19 digits, optionally grouped by single spaces or dashes,
 *   passing the Luhn check).
 * - The caller's objects are never changed; cycles become '[Circular]'.
 */

const REDACTED = '[REDACTED]';
const CARD = '[CARD]';
const MAX_DEPTH = 12;

const LEVEL = Symbol.for('level');
const SPLAT = Symbol.for('splat');

/** Key names (lower case, without `-`, `_`, `.` and spaces) whose values are secret. */
const SECRET_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'cookies',
  'setcookie',
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'tokens',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'authtoken',
  'sessiontoken',
  'xauthtoken',
  'apikey',
  'xapikey',
  'privatekey',
  'masterkey',
  'secretkey',
  'accesskey',
  'credential',
  'credentials',
  'sign',
  'signature',
  'xsignature',
  'card',
  'pan',
  'cardnumber',
  'cardno',
  'cvv',
  'cvv2',
  'cvc',
  'cvc2',
]);
/** …and names that end like these (`dbPassword`, `clientSecret`, `csrfToken`, `partnerApiKey`). */
const SECRET_SUFFIXES = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'privatekey',
  'masterkey',
  'secretkey',
  'signature',
  'cardnumber',
  'credentials',
];
/** Placeholders that say something about a secret without being one (e.g. from describeConfig). */
const PLACEHOLDERS = new Set([REDACTED, '[set]', '[unset]', '***']);

export function isSecretKey(key: string): boolean {
  const name = key.toLowerCase().replace(/[-_.\s]/g, '');
  return SECRET_KEYS.has(name) || SECRET_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** The value stored under a secret key: hidden, unless there is nothing to hide. */
function hidden(value: unknown): unknown {
  if (value === undefined || value === null || value === '' || typeof value === 'boolean') return value;
  if (typeof value === 'string' && PLACEHOLDERS.has(value)) return value;
  return REDACTED;
}

// ---------------------------------------------------------------------------
// Strings

const AUTH_SCHEME = /\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]+/gi;
/** scheme://user:password@ — the password runs to the last `@` before the path. */
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*):[^/?#\s]*@/gi;
const SECRET_NAME =
  'password|passwd|pwd|passphrase|secret|client_secret|token|access_token|refresh_token|id_token|auth_token|api[_-]?key|x-api-key|private[_-]?key|master[_-]?key|signature|sign|sig|authorization|cookie|cvv|cvc|card_?number';
/** `password=…`, `password: …`, `"password":"…"`, `token='…'` inside free text, JSON or query strings. */
const SECRET_PAIR = new RegExp(
  `(["']?)\\b(${SECRET_NAME})\\1(\\s*[:=]\\s*)(?!\\[REDACTED\\]|Bearer\\b|Basic\\b)(?:"(?:[^"\\\\]|\\\\.)*"|'[^']*'|[^\\s"'&,;}\\]]+)`,
  'gi',
);
/** Query parameters called `key` (too common a word to redact in free text). */
const SECRET_QUERY = /([?&](?:key|apikey|api_key|access_key|secret_key)=)[^&#\s"']+/gi;
/** A run of digits in groups separated by single spaces or dashes. */
const DIGIT_RUN = /(?<!\d)\d+(?:[ -]\d+)*(?!\d)/g;

function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

const isCardNumber = (digits: string) => digits.length >= 13 && digits.length <= 19 && luhn(digits);

/**
 * Replaces card numbers in one run of digit groups, left to right: at each
 * group, the longest following groups that form a card number become [CARD],
 * so a card number next to another number (`4111 1111 1111 1111 12 items`)
 * does not slip through. Linear: a card number spans at most 19 groups.
 */
function redactDigitRun(run: string): string {
  const groups = run.split(/[ -]/);
  if (groups.reduce((sum, group) => sum + group.length, 0) < 13) return run;
  const separators = run.match(/[ -]/g) ?? [];
  let out = '';
  let i = 0;
  while (i < groups.length) {
    let cardEnd = -1;
    let digits = '';
    for (let j = i; j < groups.length; j += 1) {
      digits += groups[j] ?? '';
      if (digits.length > 19) break;
      if (isCardNumber(digits)) cardEnd = j;
    }
    if (i > 0) out += separators[i - 1] ?? '';
    if (cardEnd >= 0) {
      out += CARD;
      i = cardEnd + 1;
    } else {
      out += groups[i] ?? '';
      i += 1;
    }
  }
  return out;
}

/** The string with credentials, secret parameters and card numbers replaced. */
export function redactString(text: string): string {
  return text
    .replace(AUTH_SCHEME, (_, scheme: string, space: string) => `${scheme}${space}${REDACTED}`)
    .replace(URL_CREDENTIALS, '$1:***@')
    .replace(
      SECRET_PAIR,
      (_, quote: string, name: string, separator: string) => `${quote}${name}${quote}${separator}${quote ? `"${REDACTED}"` : REDACTED}`,
    )
    .replace(SECRET_QUERY, `$1${REDACTED}`)
    .replace(DIGIT_RUN, redactDigitRun);
}

// ---------------------------------------------------------------------------
// Values

/** Numbers that look like card numbers (13-digit values are left alone: they are millisecond timestamps). */
function redactNumber(value: number | bigint): number | bigint | string {
  if (typeof value === 'number' && !Number.isInteger(value)) return value;
  const digits = (value < 0 ? -value : value).toString();
  return /^\d{14,19}$/.test(digits) && luhn(digits) ? CARD : value;
}

function describeBinary(value: ArrayBuffer | ArrayBufferView): string {
  const name = Buffer.isBuffer(value) ? 'Buffer' : value.constructor.name;
  return `[${name} ${value.byteLength} bytes]`;
}

function copyEntries(source: object, target: Record<string, unknown>, ancestors: Set<object>, depth: number): void {
  let keys: string[];
  try {
    keys = Object.keys(source);
  } catch {
    return;
  }
  for (const key of keys) {
    let inner: unknown;
    try {
      inner = (source as Record<string, unknown>)[key];
    } catch {
      inner = '[Unreadable]';
    }
    target[key] = isSecretKey(key) ? hidden(inner) : walk(inner, ancestors, depth + 1);
  }
}

function walk(value: unknown, ancestors: Set<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return redactString(value);
    case 'number':
    case 'bigint':
      return redactNumber(value);
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (value instanceof Date) return value;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return describeBinary(value);
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? '[Array]' : '[Object]';

  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, ancestors, depth + 1));
    if (value instanceof Map) {
      const copy: Record<string, unknown> = {};
      for (const [key, inner] of value) copy[String(key)] = isSecretKey(String(key)) ? hidden(inner) : walk(inner, ancestors, depth + 1);
      return copy;
    }
    if (value instanceof Set) return [...value].map((item) => walk(item, ancestors, depth + 1));

    const copy: Record<string, unknown> = {};
    if (value instanceof Error) {
      // name, message, stack, cause and errors are not enumerable; keep them, redacted.
      copy.name = value.name;
      copy.message = redactString(String(value.message));
      if (typeof value.stack === 'string') copy.stack = redactString(value.stack);
      copyEntries(value, copy, ancestors, depth);
      if (value.cause !== undefined && !('cause' in copy)) copy.cause = walk(value.cause, ancestors, depth + 1);
      if (value instanceof AggregateError && !('errors' in copy)) copy.errors = walk(value.errors, ancestors, depth + 1);
      return copy;
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      // ObjectIds, Decimals, mongoose documents…: log what JSON would show, redacted.
      let json: unknown;
      try {
        json = toJSON.call(value);
      } catch {
        json = '[Unserializable]';
      }
      if (json !== value) return walk(json, ancestors, depth + 1);
    }
    copyEntries(value, copy, ancestors, depth);
    return copy;
  } finally {
    ancestors.delete(value);
  }
}

/** A redacted deep copy of any value; the value itself is never changed. */
export function redact(value: unknown): unknown {
  return walk(value, new Set(), 0);
}

// ---------------------------------------------------------------------------
// Winston

type Info = winston.Logform.TransformableInfo;

/**
 * Returns a redacted copy of the entry rather than editing it: winston hands
 * formats the caller's own object for `logger.info({ message, … })`, and the
 * Error itself for `logger.error(error)`.
 */
const redaction = winston.format((info: Info): Info => {
  const copy: Record<string | symbol, unknown> = {};
  const ancestors = new Set<object>([info]);
  if (info instanceof Error) {
    copy.message = redactString(String(info.message));
    if (typeof info.stack === 'string') copy.stack = redactString(info.stack);
    if (info.cause !== undefined) copy.cause = walk(info.cause, ancestors, 1);
  }
  for (const key of Object.keys(info)) {
    const value = info[key];
    if (key === 'level') copy[key] = value;
    else copy[key] = isSecretKey(key) ? hidden(value) : walk(value, ancestors, 1);
  }
  if (typeof copy.message !== 'string') copy.message = copy.message === undefined ? '' : copy.message;
  copy[LEVEL] = info[LEVEL] ?? info.level;
  if (info[SPLAT] !== undefined) copy[SPLAT] = walk(info[SPLAT], ancestors, 1);
  return copy as Info;
});

/** JSON.stringify that never throws (BigInts become strings, failures a marker). */
function serialize(value: unknown): string {
  try {
    return JSON.stringify(value, (_, inner: unknown) => (typeof inner === 'bigint' ? inner.toString() : inner)) ?? String(value);
  } catch {
    return '"[Unserializable]"';
  }
}

function textValue(value: unknown): string {
  if (typeof value === 'string') return value === '' || /[\s"=]/.test(value) ? serialize(value) : value;
  return serialize(value);
}

/** `12:00:00.123 info  message key=value …` on one line, no colours. */
const text = winston.format.printf((info) => {
  const { level, message, timestamp, ...rest } = info as Record<string, unknown>;
  const time = typeof timestamp === 'string' ? timestamp.slice(11, 23) : '';
  const body = (typeof message === 'string' ? message : serialize(message)).replace(/\r?\n/g, '\\n');
  const fields = Object.entries(rest)
    .map(([key, value]) => `${key}=${textValue(value)}`)
    .join(' ');
  return `${time} ${String(level).padEnd(5)} ${body}${fields ? ` ${fields}` : ''}`;
});

export interface LoggerOptions {
  level: string;
  /** JSON lines (production) instead of readable text */
  json: boolean;
  silent?: boolean;
  /** where lines go; default the console (errors to stderr) */
  transports?: winston.transport[];
}

export function createLogger(options: LoggerOptions): Logger {
  return winston.createLogger({
    level: options.level,
    silent: options.silent ?? false,
    format: winston.format.combine(redaction(), winston.format.timestamp(), options.json ? winston.format.json() : text),
    transports: options.transports ?? [new winston.transports.Console({ stderrLevels: ['error'] })],
  });
}
