import { Agenda } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import type { Db } from 'mongodb';
import { defineCollection } from './define-collection.ts';

/** Agenda's own collection: Agenda creates and indexes it, so it is not declared here. */
export const AGENDA_COLLECTION = 'agendaJobs';

/** What the job registry remembers of each job's runs (Agenda keeps only the schedule). */
export interface JobStatusDoc {
  _id: string; // the job's name
  lastRunAt: Date | null;
  lastFinishedAt: Date | null;
  lastResult: 'ok' | 'failed' | null;
  lastError: string | null;
  lastDurationMs: number | null;
  lastOutput: Record<string, unknown> | null;
  lastTrigger: 'schedule' | 'manual' | null;
  runs: number;
}

/** Not ensured at start-up: the registry's first write creates it, and it needs no index. */
export const jobStatusCollection = defineCollection<JobStatusDoc>({
  name: 'job_status',
  description: "each scheduled job's last run and its number of runs",
});

/**
 * Agenda on the hub's own database. On FerretDB v1 its job lock is not a true
 * compare-and-set, so two processes may both run one occurrence of a job:
 * every job we define is therefore idempotent.
 */
export function createAgenda(db: Db, name: string): Agenda {
  return new Agenda({
    backend: new MongoBackend({ mongo: db, collection: AGENDA_COLLECTION }),
    name,
    processEvery: '5 seconds',
    defaultLockLifetime: 10 * 60_000,
    defaultConcurrency: 1,
  });
}
