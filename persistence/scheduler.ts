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
    defaultLockLifetime: JOB_LOCK_LIFETIME_MS,
    defaultConcurrency: 1,
  });
}

/**
 * How long a job's lock holds without news from its process: a process that died mid-job frees it after this.
 * Agenda also watches every run with a timer of half this length that outlives the run (it keeps a process that
 * has stopped alive that long), so it is short, and a long run keeps its lock by touching it (JOB_TOUCH_EVERY_MS).
 */
export const JOB_LOCK_LIFETIME_MS = 30_000;
export const JOB_TOUCH_EVERY_MS = 10_000;
