import type { Logger } from 'winston';

/**
 * Expected refusals — a forged signature, a caller off the allow-list, a
 * partner that is not configured — are what anyone on the internet can cause
 * at will, so they must not be able to flood the log: each is one line at
 * `warn`, never a stack, and at most `perWindow` lines per route and caller
 * address per window (a minute). The first line of the next window says how
 * many were left out of the one before.
 *
 * The keys held are bounded (`maxKeys`): a caller with many addresses fills
 * them, after which expired windows are dropped, and if none is, every
 * further route and address shares one overflow key until they are.
 */
export class RefusalLog {
  private readonly windows = new Map<string, { startedAt: number; logged: number; suppressed: number }>();
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: { perWindow?: number; windowMs?: number; maxKeys?: number; now?: () => number } = {}) {
    this.perWindow = options.perWindow ?? 3;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Logs `message` at warn unless this route and address used up their lines; true when logged. */
  warn(logger: Logger, where: { route: string; address: string }, message: string, meta: Record<string, unknown> = {}): boolean {
    const now = this.now();
    const key = this.keyFor(`${where.route} ${where.address}`, now);
    let window = this.windows.get(key);
    let suppressedBefore = 0;
    if (!window || now - window.startedAt >= this.windowMs) {
      suppressedBefore = window?.suppressed ?? 0;
      window = { startedAt: now, logged: 0, suppressed: 0 };
      this.windows.set(key, window);
    }
    if (window.logged >= this.perWindow) {
      window.suppressed++;
      return false;
    }
    window.logged++;
    const last = window.logged === this.perWindow;
    logger.warn(message, {
      ...meta,
      route: where.route,
      remoteAddress: where.address,
      ...(suppressedBefore > 0 ? { suppressedInLastWindow: suppressedBefore } : {}),
      ...(last ? { quietForMs: this.windowMs - (now - window.startedAt) } : {}),
    });
    return true;
  }

  private keyFor(key: string, now: number): string {
    if (this.windows.has(key) || this.windows.size < this.maxKeys) return key;
    for (const [held, window] of this.windows) if (now - window.startedAt >= this.windowMs) this.windows.delete(held);
    return this.windows.size < this.maxKeys ? key : '(too many callers)';
  }
}
