import { MAX_STATEMENTS_PER_COMMAND } from './bulk-write.ts';

/**
 * Connections FerretDB 1.24 keeps for one database: 100 on SQLite (fixed), and on
 * PostgreSQL what the embedded one is given (`pool_max_conns`, embedded-postgresql.ts).
 */
export const FERRETDB_CONNECTIONS_PER_DATABASE = 100;

/** The most connections one process opens, and what one process of one opens. */
export const MAX_POOL_SIZE = 32;

/**
 * How many connections each of `processes` hub processes opens. FerretDB runs an
 * update statement by holding its query's connection while it takes another to
 * write, so once every connection of a database is held by a statement waiting
 * for a second one, none of them ever finishes — every command on that database
 * hangs. A process has at most its pool's commands in flight, one of them a bulk
 * write of MAX_STATEMENTS_PER_COMMAND statements (a projection batch); the
 * processes together must leave FerretDB a connection to write with, and a few
 * for a test's or an operator's reads.
 */
export function databasePoolSizeFor(processes: number): number {
  const perProcess = Math.floor((FERRETDB_CONNECTIONS_PER_DATABASE - 10) / processes) - MAX_STATEMENTS_PER_COMMAND;
  return Math.max(2, Math.min(MAX_POOL_SIZE, perProcess));
}
