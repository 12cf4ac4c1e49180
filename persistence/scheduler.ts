import { Agenda } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import type { Db } from 'mongodb';

export const AGENDA_COLLECTION = 'agendaJobs';

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
