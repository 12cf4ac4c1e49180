export interface BackOff {
  /** first delay after a failed open */
  initialMs: number;
  /** the delay never grows past this */
  maxMs: number;
  /** growth per failed attempt */
  factor: number;
}

export const DEFAULT_BACK_OFF: BackOff = { initialMs: 100, maxMs: 5_000, factor: 2 };

/** The delay before reconnect attempt `attempt` (0-based): exponential, capped, with ±20 % jitter. */
export function backOffDelay(backOff: BackOff, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(backOff.maxMs, backOff.initialMs * backOff.factor ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}
