import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isMainThread } from 'node:worker_threads';
import { ensureFerretDbBinary } from './embedded-ferretdb/build.ts';
import { ensurePrivateDir } from './private-files.ts';

export interface DatabaseServer {
  uri: string;
  kind: 'external' | 'ferretdb';
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
 * MONGODB_URI set → that server, nothing started. Unset → our embedded
 * FerretDB (SQLite files under <dataDir>/ferretdb) on a free loopback port,
 * ready when it prints its URI (no sleeping), gone when we stop or die: it
 * exits when its stdin closes, so a killed parent leaves no orphan.
 *
 * The child runs in its own process group, so a Ctrl-C in a terminal reaches
 * only us and we decide when the database goes (after our own shutdown
 * flushed what it had to).
 *
 * FerretDB runs with `-log-level error`: at `warn` it logs every failed
 * command's full response (e.g. each unique-index violation by an update),
 * which is the caller's business, not the database's.
 */
export async function openDatabaseServer(options: { mongodbUri?: string; dataDir: string; log: ServerLog }): Promise<DatabaseServer> {
  const { log } = options;
  if (options.mongodbUri) {
    log('info', 'using the MongoDB at MONGODB_URI', { uri: redactMongoUri(options.mongodbUri) });
    return { uri: options.mongodbUri, kind: 'external', stop: async () => {} };
  }
  const binary = await ensureFerretDbBinary({ log: (message) => log('info', message) });
  const dir = path.resolve(options.dataDir, 'ferretdb');
  await ensurePrivateDir(dir);
  // FerretDB creates its SQLite files with the umask it inherits: 077 makes them 0600 (ours is put back
  // at once; a worker thread may not change it, and there the 0700 directory alone keeps them private).
  const umask = isMainThread ? process.umask(0o077) : null;
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(binary, ['-listen', '127.0.0.1:0', '-dir', dir, '-log-level', 'error', '-exit-on-stdin-close=true'], {
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
  log('info', 'embedded FerretDB (SQLite) started', { uri, dir });

  return {
    uri,
    kind: 'ferretdb',
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        await closed;
        clearTimeout(killer);
        child.stdin.destroy();
      })();
      return stopping;
    },
  };
}
