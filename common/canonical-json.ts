import { createHash } from 'node:crypto';

/**
 * One text for one value, whatever the order of its keys: object keys sorted
 * (by UTF-16 code units), keys whose value is `undefined` left out, array
 * items kept in order (an `undefined` item is `null`), scalars as
 * JSON.stringify writes them. Idempotency fingerprints are hashes of it, so
 * the text must never change for a value it has already been computed for.
 *
 * Written with an explicit stack rather than recursion: its input is what a
 * client sent, and no depth of nesting may overflow the call stack.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  /** what is still to be written, last first: a value, or text that closes or separates */
  const pending: Array<{ value: unknown } | string> = [{ value }];
  while (pending.length > 0) {
    const next = pending.pop() as { value: unknown } | string;
    if (typeof next === 'string') {
      out.push(next);
      continue;
    }
    const current = next.value;
    if (Array.isArray(current)) {
      out.push('[');
      pending.push(']');
      for (let i = current.length - 1; i >= 0; i -= 1) {
        pending.push({ value: current[i] as unknown });
        if (i > 0) pending.push(',');
      }
    } else if (current && typeof current === 'object') {
      const entries = Object.entries(current as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      out.push('{');
      pending.push('}');
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const [key, inner] = entries[i] as [string, unknown];
        pending.push({ value: inner });
        pending.push(`${JSON.stringify(key)}:`);
        if (i > 0) pending.push(',');
      }
    } else {
      out.push(String(JSON.stringify(current ?? null)));
    }
  }
  return out.join('');
}

/** The fingerprint of a request under an idempotency key: a key reused with another request is refused. */
export function requestHash(kind: string, target: string, body: unknown): string {
  return createHash('sha256')
    .update(`${kind}\n${target}\n${canonicalJson(body)}`)
    .digest('hex');
}
