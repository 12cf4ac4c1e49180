import type { AlertSink } from '../actors/platform/alerts/alerts.ts';

/**
 * Counts API requests with a missing, malformed or unknown key per client
 * address, in a window that starts at an address's first failure. At the
 * threshold an alert is raised (kind `auth_failures`, subject the address),
 * and again at every further multiple of it in the same window: the alerts
 * module groups the repeats into one alert with a count, and a flood costs
 * one alert write per `threshold` failures, not one per request.
 *
 * The addresses held are bounded (`maxKeys`, least recently failed dropped
 * first), as anyone can fail from as many addresses as they have.
 */
export class AuthenticationFailures {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly options: { threshold: number; windowMs: number; alerts?: AlertSink; maxKeys?: number; now?: () => number }) {
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Counts one failure from `address`; the alert's promise when this one reached the threshold (or a multiple). */
  record(address: string): Promise<unknown> | null {
    const now = this.now();
    const held = this.windows.get(address);
    const window = held && now - held.startedAt < this.options.windowMs ? held : { startedAt: now, count: 0 };
    window.count += 1;
    this.windows.delete(address);
    while (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next();
      if (oldest.done) break;
      this.windows.delete(oldest.value);
    }
    this.windows.set(address, window);

    const { threshold, windowMs, alerts } = this.options;
    if (!alerts || window.count < threshold || window.count % threshold !== 0) return null;
    const minutes = Math.max(1, Math.round(windowMs / 60_000));
    return alerts.raise({
      kind: 'auth_failures',
      severity: 'warning',
      subject: address,
      message: `${window.count} API requests with a missing or unknown key from ${address} within ${minutes} min`,
      details: { address, failuresInWindow: window.count, windowMs },
    });
  }

  /** addresses held */
  get size(): number {
    return this.windows.size;
  }
}
