import winston, { type Logger } from 'winston';

export type { Logger };

/**
 * Logs never carry secrets: every line passes `redact()` before it is
 * formatted. Keys that name secrets are blanked wherever they appear, and
 * strings are scrubbed of bearer tokens, credentials in URLs, secret query
 * parameters and card numbers (13–19 digits passing the Luhn check).
 */

const REDACTED = '[REDACTED]';

const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|password|passwd|pass|secret|client_secret|token|access_token|refresh_token|id_token|api[-_]?key|x-api-key|private[-_]?key|master[-_]?key|credentials?|sign|signature|x-signature|card|pan|card[-_]?number|cvv|cvc|cvv2)$/i;

const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]+):[^@/?#\s]+@/gi;
const SECRET_QUERY = /([?&](?:token|access_token|key|api_?key|apikey|password|signature|sign|secret)=)[^&#\s"']+/gi;
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;

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

export function redactString(text: string): string {
  return text
    .replace(BEARER, (_, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(URL_CREDENTIALS, '$1:***@')
    .replace(SECRET_QUERY, `$1${REDACTED}`)
    .replace(CARD_CANDIDATE, (match) => {
      const digits = match.replace(/[ -]/g, '');
      return digits.length >= 13 && digits.length <= 19 && luhn(digits) ? '[CARD]' : match;
    });
}

/** A redacted deep copy; the caller's value is never changed. Handles cycles and Errors. */
export function redact(value: unknown, seen = new WeakMap<object, unknown>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  if (value instanceof Date) return value;
  if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(redact(item, seen));
    return copy;
  }
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  if (value instanceof Error) {
    copy.name = value.name;
    copy.message = redactString(value.message);
    if (value.stack) copy.stack = redactString(value.stack);
  }
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) && inner !== undefined && inner !== null && inner !== '' ? REDACTED : redact(inner, seen);
  }
  return copy;
}

const redaction = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    const value = info[key];
    info[key] = SECRET_KEY.test(key) && value !== undefined && value !== null ? REDACTED : redact(value);
  }
  return info;
});

const text = winston.format.printf((info) => {
  const { level, message, timestamp, ...rest } = info as Record<string, unknown>;
  const time = typeof timestamp === 'string' ? timestamp.slice(11, 23) : '';
  const fields = Object.entries(rest)
    .filter(([key]) => typeof key === 'string')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? (/\s/.test(value) ? JSON.stringify(value) : value) : JSON.stringify(value)}`)
    .join(' ');
  return `${time} ${String(level).padEnd(5)} ${String(message)}${fields ? ` ${fields}` : ''}`;
});

export function createLogger(options: { level: string; json: boolean; silent?: boolean; transports?: winston.transport[] }): Logger {
  return winston.createLogger({
    level: options.level,
    silent: options.silent ?? false,
    format: winston.format.combine(
      redaction(),
      winston.format.timestamp(),
      options.json ? winston.format.json() : text,
    ),
    transports: options.transports ?? [new winston.transports.Console({ stderrLevels: ['error'] })],
  });
}
