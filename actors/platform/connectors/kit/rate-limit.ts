/**
 * A token bucket per integration: `perSecond` tokens refill continuously up
 * to `burst`. Callers reserve a token and wait for their turn; one that would
 * wait longer than `maxWaitMs` is refused at once (its token given back), so a
 * backlog can never grow without bound.
 */
export class RateLimitExceeded extends Error {
  constructor(readonly waitMs: number) {
    super(`rate limit: the next slot is ${Math.round(waitMs)} ms away`);
  }
}

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(private readonly options: { perSecond: number; burst: number; now?: () => number }) {
    this.tokens = options.burst;
    this.refilledAt = this.now();
  }

  /** Waits for a token; throws RateLimitExceeded, or the signal's reason when aborted. */
  async take(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens / this.options.perSecond) * 1000;
    if (waitMs > maxWaitMs) {
      this.tokens += 1;
      throw new RateLimitExceeded(waitMs);
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, waitMs);
      const onAbort = () => {
        clearTimeout(timer);
        this.tokens += 1;
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** tokens available now (negative: callers are queued) */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = (now - this.refilledAt) / 1000;
    this.refilledAt = now;
    this.tokens = Math.min(this.options.burst, this.tokens + elapsed * this.options.perSecond);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
