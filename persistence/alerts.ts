import { createCollections } from './collections.ts';
import type { Collection, Db } from 'mongodb';

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

export function alertsCollection(db: Db): Collection<AlertDoc> {
  return db.collection<AlertDoc>('alerts');
}

export async function ensureAlertIndexes(db: Db): Promise<void> {
  await createCollections(db, ['alerts']);
  const alerts = alertsCollection(db);
  await alerts.createIndex({ fingerprint: 1, status: 1 });
  await alerts.createIndex({ lastAt: -1 });
}
