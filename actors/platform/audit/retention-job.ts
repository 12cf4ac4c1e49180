import type { AuditLog } from './audit-log.ts';
import type { JobDefinition } from '../jobs/registry.ts';

/** Enforces the audit log's retention (no TTL indexes on FerretDB, so a job does it). */
export function auditRetentionJob(audit: AuditLog, retentionDays: number, now: () => number): JobDefinition {
  return {
    name: 'audit-retention',
    description: `deletes audit entries older than ${retentionDays} days`,
    every: '1 hour',
    async run() {
      const cutoff = new Date(now() - retentionDays * 24 * 3600 * 1000);
      const deleted = await audit.deleteBefore(cutoff);
      return { deleted, cutoff: cutoff.toISOString() };
    },
  };
}
