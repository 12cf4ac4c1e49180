/**
 * A partner's rate limit as its sandbox enforces it: at most `limit` requests
 * per `windowMs` for one key (an endpoint, a token), counted over a sliding
 * window. Past the limit the sandbox answers 429 with Retry-After in the
 * partner's own error shape, so a client that ignores the limit fails its tests.
 */
export interface SandboxRateLimit {
  /** null: go ahead; a number: refused, retry after this many whole seconds */
  take(key: string): number | null;
  /** changes the limit (tests tighten it); `null` lifts it */
  set(limit: { limit: number; windowMs: number } | null): void;
  /** requests refused so far */
  refused(): number;
  reset(): void;
}

export function sandboxRateLimit(initial: { limit: number; windowMs: number } | null, now: () => number = Date.now): SandboxRateLimit {
  let rule = initial;
  const seen = new Map<string, number[]>();
  let refusals = 0;
  return {
    take(key) {
      const current = rule;
      if (!current) return null;
      const at = now();
      const recent = (seen.get(key) ?? []).filter((t) => t > at - current.windowMs);
      if (recent.length >= current.limit) {
        seen.set(key, recent);
        refusals += 1;
        const oldest = recent[0] ?? at;
        return Math.max(1, Math.ceil((oldest + current.windowMs - at) / 1000));
      }
      recent.push(at);
      seen.set(key, recent);
      return null;
    },
    set(limit) {
      rule = limit;
      seen.clear();
    },
    refused: () => refusals,
    reset() {
      rule = initial;
      seen.clear();
      refusals = 0;
    },
  };
}
