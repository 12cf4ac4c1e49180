import { eventually } from './database.ts';
import type { hubClient } from './hub-process.ts';

export interface AlertView {
  subject: string;
  severity: string;
  message: string;
  kind: string;
}

/**
 * The hub's alerts of a kind whose subject matches, once there are any. Alerts are raised after the commit
 * that calls for them (an observer), so a test that has just seen a state waits for its alert.
 */
export function waitForAlerts(
  client: ReturnType<typeof hubClient>,
  kind: string,
  subject: string | ((subject: string) => boolean),
  timeoutMs = 15_000,
): Promise<AlertView[]> {
  const matches = typeof subject === 'string' ? (s: string) => s === subject : subject;
  return eventually(
    async () => {
      const { body } = await client.get(`/admin/alerts?kind=${encodeURIComponent(kind)}&limit=200`);
      const found = ((body as { alerts?: AlertView[] }).alerts ?? []).filter((alert) => matches(alert.subject));
      return found.length > 0 ? found : undefined;
    },
    timeoutMs,
    `a ${kind} alert for ${typeof subject === 'string' ? subject : 'the subject'}`,
  );
}
