/** What a caller is told: go on, or come back after `retryAfterMs`. */
export interface RateDecision {
  allowed: boolean;
  /** 0 when allowed; otherwise how long until one more request is allowed */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  /** when `tokens` was last brought up to date */
  at: number;
}

/**
 * A token bucket per caller (an API key, a client address): `burst` requests
 * at once, refilled at `perMinute`. In process only: several hub processes
 * each hold their own buckets.
 *
 * Memory is bounded whatever the number of callers. Buckets are kept in the
 * order they were last used; one idle long enough to be full again is the
 * same as none and is dropped as soon as it is the oldest, and when
 * `maxKeys` are held the least recently used goes, so a flood of distinct
 * addresses evicts its own buckets (each comes back full: a caller with that
 * many addresses could spread its requests over them anyway).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly tokensPerMs: number;
  private readonly burst: number;
  private readonly fullAfterMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: { perMinute: number; burst: number; maxKeys?: number; now?: () => number }) {
    if (!(options.perMinute > 0) || !(options.burst >= 1)) throw new Error('a rate limit needs a rate above 0 and a burst of at least 1');
    this.tokensPerMs = options.perMinute / 60_000;
    this.burst = options.burst;
    this.fullAfterMs = this.burst / this.tokensPerMs;
    this.maxKeys = options.maxKeys ?? 50_000;
    this.now = options.now ?? Date.now;
  }

  /** Spends one token of `key`'s bucket when it has one. */
  take(key: string): RateDecision {
    const now = this.now();
    this.forgetIdle(now);
    const bucket = this.refilled(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.tokensPerMs) };
  }

  /** Returns a token taken for a request that turned out not to count (an API request that did authenticate). */
  giveBack(key: string): void {
    const bucket = this.buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.burst, bucket.tokens + 1);
  }

  /** buckets held */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, now: number): Bucket {
    const held = this.buckets.get(key);
    const bucket = held
      ? { tokens: Math.min(this.burst, held.tokens + Math.max(0, now - held.at) * this.tokensPerMs), at: now }
      : { tokens: this.burst, at: now };
    // re-inserted, so the map stays in the order of last use
    this.buckets.delete(key);
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value);
    }
    this.buckets.set(key, bucket);
    return bucket;
  }

  /** Drops the oldest buckets while they are full again; stops at the first that is not (those after it are younger). */
  private forgetIdle(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at < this.fullAfterMs) return;
      this.buckets.delete(key);
    }
  }
}
