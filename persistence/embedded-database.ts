import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isMainThread } from 'node:worker_threads';
import type { EmbeddedDbKind } from '../common/config.ts';
import { ensureFerretDbBinary } from './embedded-ferretdb/build.ts';
import { openPostgreSql, type PostgreSqlServer } from './embedded-postgresql.ts';
import { ensurePrivateDir } from './private-files.ts';

export interface DatabaseServer {
  /** the first (or only) front end's URI: where collections and indexes are created */
  uri: string;
  /** every front end's URI, `uri` first: two FerretDB processes on one PostgreSQL, one otherwise */
  uris: readonly string[];
  kind: 'external' | 'ferretdb';
  /** what the embedded FerretDB stores into; null for MONGODB_URI */
  storage: EmbeddedDbKind | null;
  stop(): Promise<void>;
}

/** How an embedded server's launcher reports (the hub's logger, or a benchmark's quiet one). */
export type ServerLog = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;

const readyTimeoutMs = 60_000;
const killAfterMs = 5_000;

/** A MongoDB URI fit for logs: no `user:pass@`, no secrets in the query string. */
export function redactMongoUri(uri: string): string {
  const [base = '', query] = uri.split('?', 2) as [string, string | undefined];
  const withoutUser = base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
  if (query === undefined) return withoutUser;
  const params = query
    .split('&')
    .map((pair) => {
      const name = pair.split('=', 1)[0] ?? '';
      return /pass|secret|token|key|authMechanismProperties/i.test(name) ? `${name}=***` : pair;
    })
    .join('&');
  return `${withoutUser}?${params}`;
}

/**
 * MONGODB_URI set → that server, nothing started (HUB_EMBEDDED_DB other than
 * sqlite is then ignored, and said so). Unset → our embedded FerretDB on a
 * free loopback port, storing into:
 * - sqlite (the default): SQLite files under <dataDir>/ferretdb;
 * - postgresql: an embedded PostgreSQL under <dataDir>/postgresql
 *   (persistence/embedded-postgresql.ts), with `frontEnds` FerretDB processes
 *   on it (2 for a hub of several processes: one FerretDB process is then the
 *   limit). FerretDB loads a database's metadata (collections, indexes) once
 *   per process and never again, so whatever is created through one front end
 *   after another loaded its metadata is invisible to the other: reads find
 *   nothing, inserts fail. Create every collection and index through `uri`
 *   (the first) before anything uses the others (scripts/cluster-primary.ts).
 *   Only the first front end keeps the _id lookup indexes (pgidindex.go).
 *
 * Each FerretDB is ready when it prints its URI (no sleeping) and gone when we
 * stop or die: it exits when its stdin closes, so a killed parent leaves no
 * orphan. It runs in its own process group, so a Ctrl-C in a terminal reaches
 * only us and we decide when the database goes (after our own shutdown
 * flushed what it had to).
 *
 * FerretDB runs with `-log-level error`: at `warn` it logs every failed
 * command's full response (e.g. each unique-index violation by an update),
 * which is the caller's business, not the database's.
 */
export async function openDatabaseServer(options: {
  mongodbUri?: string;
  /** default sqlite */
  embeddedDb?: EmbeddedDbKind;
  /** FerretDB processes on the embedded PostgreSQL (1 or 2; default 1); SQLite always has one */
  frontEnds?: 1 | 2;
  dataDir: string;
  log: ServerLog;
  /** where PostgreSQL's programs are (default: found, see findPostgreSqlBinaries) */
  postgresqlBinDir?: string;
}): Promise<DatabaseServer> {
  const { log } = options;
  const storage = options.embeddedDb ?? 'sqlite';
  if (options.mongodbUri) {
    log('info', 'using the MongoDB at MONGODB_URI', { uri: redactMongoUri(options.mongodbUri) });
    if (storage !== 'sqlite') log('info', `HUB_EMBEDDED_DB=${storage} is ignored: MONGODB_URI is set, so no embedded database starts`);
    return { uri: options.mongodbUri, uris: [options.mongodbUri], kind: 'external', storage: null, stop: async () => {} };
  }
  const binary = await ensureFerretDbBinary({ log: (message) => log('info', message) });
  if (storage === 'sqlite') {
    const dir = path.resolve(options.dataDir, 'ferretdb');
    await ensurePrivateDir(dir);
    const ferretDb = await startFerretDb(binary, ['-handler', 'sqlite', '-dir', dir], log);
    log('info', 'embedded FerretDB (SQLite) started', { uri: ferretDb.uri, dir });
    return { uri: ferretDb.uri, uris: [ferretDb.uri], kind: 'ferretdb', storage, stop: ferretDb.stop };
  }

  const postgresql: PostgreSqlServer = await openPostgreSql({ dataDir: options.dataDir, log, binDir: options.postgresqlBinDir });
  const frontEnds: FerretDbProcess[] = [];
  const stop = async () => {
    // the front ends first: they finish what they are doing while their storage is still there
    await Promise.all(frontEnds.map((frontEnd) => frontEnd.stop()));
    await postgresql.stop();
  };
  try {
    for (let index = 0; index < (options.frontEnds ?? 1); index++) {
      const args = ['-handler', 'postgresql', '-postgresql-url', postgresql.url, `-index-id-lookups=${index === 0}`];
      frontEnds.push(await startFerretDb(binary, args, log));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const uris = frontEnds.map((frontEnd) => frontEnd.uri);
  log('info', 'embedded FerretDB (PostgreSQL) started', { uris, socketDir: postgresql.socketDir });
  let stopped: Promise<void> | null = null;
  return {
    uri: uris[0] as string,
    uris,
    kind: 'ferretdb',
    storage,
    stop: () => (stopped ??= stop()),
  };
}

interface FerretDbProcess {
  uri: string;
  stop(): Promise<void>;
}

/** One FerretDB process of ours, with its storage arguments (-handler …). */
async function startFerretDb(binary: string, storageArgs: string[], log: ServerLog): Promise<FerretDbProcess> {
  // FerretDB creates its SQLite files with the umask it inherits: 077 makes them 0600 (ours is put back
  // at once; a worker thread may not change it, and there the 0700 directory alone keeps them private).
  const umask = isMainThread ? process.umask(0o077) : null;
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(binary, ['-listen', '127.0.0.1:0', ...storageArgs, '-log-level', 'error', '-exit-on-stdin-close=true'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
  } finally {
    if (umask !== null) process.umask(umask);
  }
  // Nothing is ever written to stdin; it only has to stay open. Ignore EPIPE if the child is gone.
  child.stdin.on('error', () => {});

  let stderr = '';
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr = `${stderr}${line}\n`.slice(-8000);
    log('warn', `ferretdb: ${line}`);
  });
  // 'close' (not 'exit'): by then all of its stderr has been read.
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );

  let ready = false;
  let stopping: Promise<void> | null = null;
  const uri = await new Promise<string>((resolve, reject) => {
    const fail = (error: Error) => {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(new Error(`the embedded FerretDB (${binary}) did not become ready within ${readyTimeoutMs / 1000} s; its stderr:\n${stderr}`)),
      readyTimeoutMs,
    );
    createInterface({ input: child.stdout }).once('line', (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      const found = (parsed as { uri?: unknown } | undefined)?.uri;
      if (typeof found !== 'string' || !found.startsWith('mongodb://')) {
        fail(new Error(`unexpected first line from the embedded FerretDB: ${line}`));
        return;
      }
      clearTimeout(timer);
      ready = true;
      resolve(found);
    });
    child.once('error', (error) => fail(new Error(`could not start the embedded FerretDB (${binary}): ${error.message}`)));
    void closed.then(({ code, signal }) => {
      if (!ready) fail(new Error(`the embedded FerretDB exited (${signal ?? `code ${code}`}) before it was ready; its stderr:\n${stderr}`));
    });
  });

  void closed.then(({ code, signal }) => {
    if (!stopping) log('error', 'the embedded FerretDB exited unexpectedly', { code, signal, stderr: stderr.slice(-2000) });
  });
  return {
    uri,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const killer = setTimeout(() => {
          log('warn', `the embedded FerretDB did not stop within ${killAfterMs / 1000} s of SIGTERM; killed`);
          child.kill('SIGKILL');
        }, killAfterMs);
        await closed;
        clearTimeout(killer);
        child.stdin.destroy();
      })();
      return stopping;
    },
  };
}
