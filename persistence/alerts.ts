import type { Db } from 'mongodb';
import { defineCollection } from './define-collection.ts';

/** One episode of an alert: repeats while it is open are grouped into it. */
export interface AlertDoc {
  _id: string; // `${fingerprint}#${episode start}`
  fingerprint: string; // `${kind}|${integration ?? '-'}|${subject}`
  kind: string;
  severity: 'critical' | 'warning';
  integration: string | null;
  subject: string;
  message: string;
  details: Record<string, unknown>; // redacted before storing
  status: 'open' | 'acknowledged' | 'resolved';
  count: number;
  firstAt: Date;
  lastAt: Date;
  acknowledgedBy: string | null;
  acknowledgedAt: Date | null;
  resolvedBy: string | null;
  resolvedAt: Date | null;
  notifiedAt: Date | null;
  notifiedCount: number;
  deliveries: Array<{ channel: string; at: Date; ok: boolean; error: string | null; count: number }>;
  pendingChannels: string[];
}

export const alertsCollection = defineCollection<AlertDoc>({
  name: 'alerts',
  description: 'alert episodes: open, acknowledged or resolved, with their deliveries',
  // an alert's open episode is found by its fingerprint and status
  indexes: [{ key: { fingerprint: 1, status: 1 } }, { key: { lastAt: -1 } }],
});

export async function ensureAlertIndexes(db: Db): Promise<void> {
  await alertsCollection.ensureIndexes(db);
}
