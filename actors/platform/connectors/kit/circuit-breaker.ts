/**
 * A circuit breaker per integration: after `failureThreshold` consecutive
 * failures it opens and refuses calls for `cooldownMs`; then one probe is let
 * through (half-open). The probe's success closes it, its failure opens it
 * again for another cooldown. A failure is the partner being unreachable or
 * broken (network, time-out, 5xx, 429, garbage) — a 4xx answer is the partner
 * working and counts as a success.
 */
export type CircuitState = 'closed' | 'open' | 'halfOpen';

export interface CircuitChange {
  from: CircuitState;
  to: CircuitState;
  consecutiveFailures: number;
}

export type Permit = { allowed: true; probe: boolean } | { allowed: false; retryInMs: number };

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probeInFlight = false;

  constructor(
    private readonly options: {
      failureThreshold: number;
      cooldownMs: number;
      now?: () => number;
      onChange?: (change: CircuitChange) => void;
    },
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** May a request go out now? A half-open circuit lets exactly one probe through. */
  acquire(): Permit {
    const now = this.now();
    if (this.current === 'open') {
      const waited = now - this.openedAt;
      if (waited < this.options.cooldownMs) return { allowed: false, retryInMs: this.options.cooldownMs - waited };
      this.move('halfOpen');
    }
    if (this.current === 'halfOpen') {
      if (this.probeInFlight) return { allowed: false, retryInMs: Math.max(100, Math.round(this.options.cooldownMs / 10)) };
      this.probeInFlight = true;
      return { allowed: true, probe: true };
    }
    return { allowed: true, probe: false };
  }

  success(probe: boolean): void {
    if (probe) this.probeInFlight = false;
    this.failures = 0;
    if (this.current !== 'closed') this.move('closed');
  }

  failure(probe: boolean): void {
    if (probe) this.probeInFlight = false;
    this.failures += 1;
    if (this.current === 'halfOpen' || (this.current === 'closed' && this.failures >= this.options.failureThreshold)) {
      this.openedAt = this.now();
      this.move('open');
    }
  }

  /** A probe that ended without an answer either way (cancelled by the caller). */
  release(probe: boolean): void {
    if (probe) this.probeInFlight = false;
  }

  private move(to: CircuitState): void {
    const from = this.current;
    this.current = to;
    this.options.onChange?.({ from, to, consecutiveFailures: this.failures });
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
