import type { AlertSink } from '../connectors/kit/connectors.ts';

/**
 * Counts refused webhook signatures per integration over a sliding window;
 * at the threshold an alert is raised (the alerts module groups repeats, so
 * a flood of forgeries is one alert with a count, not a flood of mail).
 */
export class SignatureFailures {
  private readonly seen = new Map<string, number[]>();

  constructor(private readonly options: { threshold: number; windowMs: number; alerts?: AlertSink; now?: () => number }) {}

  record(integration: string, remoteAddress: string): Promise<unknown> | null {
    const now = (this.options.now ?? Date.now)();
    const recent = (this.seen.get(integration) ?? []).filter((at) => at > now - this.options.windowMs);
    recent.push(now);
    this.seen.set(integration, recent);
    if (recent.length < this.options.threshold || !this.options.alerts) return null;
    return this.options.alerts.raise({
      kind: 'signature_failures',
      integration,
      subject: integration,
      message: `${recent.length} webhook deliveries with an invalid signature in the last ${Math.round(this.options.windowMs / 60_000)} min`,
      details: { failuresInWindow: recent.length, lastRemoteAddress: remoteAddress },
    });
  }
}
