import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, chown, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { ServerLog } from './embedded-database.ts';
import { FERRETDB_CONNECTIONS_PER_DATABASE } from './ferretdb-limits.ts';
import { ensurePrivateDir } from './private-files.ts';
import { killServerGroup, serverWrapperArgs } from './server-wrapper.ts';

const run = promisify(execFile);

/** The PostgreSQL the embedded FerretDB stores into when HUB_EMBEDDED_DB=postgresql. */
export interface PostgreSqlServer {
  /** what FerretDB connects with: `postgres:///ferretdb?host=<socket dir>&port=5432&user=hub` (no password: see `open`) */
  url: string;
  /** the private directory of its unix socket */
  socketDir: string;
  /** the postmaster's pid */
  pid: number;
  stop(): Promise<void>;
}

/** Debian's PostgreSQL 15 (package postgresql-15) keeps its server binaries off PATH, here. */
export const DEBIAN_POSTGRESQL_BIN = '/usr/lib/postgresql/15/bin';
const REQUIRED_PROGRAMS = ['initdb', 'postgres', 'pg_isready', 'psql', 'createdb'] as const;

const SUPERUSER = 'hub';
const DATABASE = 'ferretdb';
/** With no TCP listener the port only names the socket file, `.s.PGSQL.<port>`. */
const PORT = 5432;
/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;
const readyTimeoutMs = 120_000; // crash recovery after a kill -9 replays the WAL first
const readyPollMs = 100;
/** A fast shutdown (SIGINT) writes a checkpoint; this is the hung case. */
const killAfterSeconds = 20;

/**
 * Settings given on the command line at every start (not written into the
 * cluster's files, so a changed default applies to old clusters too).
 * fsync, synchronous_commit and full_page_writes are PostgreSQL's defaults,
 * spelt out because durability is the product: a write FerretDB acknowledged
 * is on disk. Logging: only FATAL and PANIC (a refused start, a crash);
 * ERRORs are FerretDB's business (each duplicate key of a unique insert is
 * one, and their details hold document values) and never a statement.
 */
function serverSettings(socketDir: string): string[] {
  const settings: Record<string, string> = {
    listen_addresses: '',
    unix_socket_directories: socketDir,
    unix_socket_permissions: '0700',
    port: String(PORT),
    fsync: 'on',
    synchronous_commit: 'on',
    full_page_writes: 'on',
    lc_messages: 'C',
    log_min_messages: 'fatal',
    log_min_error_statement: 'panic',
    // FerretDB's pool for the database (pool_max_conns in the URL below), and room for an operator's psql
    max_connections: String(FERRETDB_CONNECTIONS_PER_DATABASE + 20),
  };
  return Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

const numericId = z
  .string()
  .regex(/^\d+$/)
  .transform((digits) => Number(digits));
/** `postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash` */
/**
 * FATALs that end one connection as expected: pg_isready's polls while it starts or recovers, FerretDB's pooled
 * connections when it stops. Kept for an error message, not logged, and so are their DETAIL and HINT lines.
 */
const routine =
  /FATAL: {2}(the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)|terminating connection due to administrator command)/;
const continuation = /^\S+ \S+ \S+ \[\d+\] (DETAIL|HINT|CONTEXT): /;

const passwdEntry = z
  .string()
  .transform((line) => line.trim().split(':'))
  .pipe(z.tuple([z.string(), z.string(), numericId, numericId]).rest(z.string()));

/** The Debian `postgres` system user (the package creates it): PostgreSQL refuses to run as root. */
async function postgresSystemUser(): Promise<{ uid: number; gid: number }> {
  let line: string;
  try {
    line = (await run('getent', ['passwd', 'postgres'])).stdout;
  } catch {
    throw new Error(
      'the hub runs as root, and PostgreSQL refuses to: it runs the embedded PostgreSQL as the system user "postgres", which does not exist. Install the Debian package postgresql-15 (it creates that user), or run the hub as another user',
    );
  }
  const parsed = passwdEntry.safeParse(line);
  if (!parsed.success) throw new Error(`unexpected passwd entry for the user "postgres": ${line.trim()}`);
  const [, , uid, gid] = parsed.data;
  return { uid, gid };
}

async function executable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * The folder with initdb, postgres, pg_isready, psql and createdb: `binDir` when
 * given (only there); else Debian's PostgreSQL 15, then any other version
 * Debian installed (newest first), then the folder `pg_config --bindir` names.
 */
export async function findPostgreSqlBinaries(binDir?: string): Promise<string> {
  const candidates: string[] = [];
  if (binDir) candidates.push(path.resolve(binDir));
  else {
    candidates.push(DEBIAN_POSTGRESQL_BIN);
    const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
    for (const version of versions.filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a)))
      candidates.push(`/usr/lib/postgresql/${version}/bin`);
    const bindir = await run('pg_config', ['--bindir']).then(
      ({ stdout }) => stdout.trim(),
      () => '',
    );
    if (bindir) candidates.push(bindir);
  }
  for (const dir of [...new Set(candidates)]) {
    if ((await Promise.all(REQUIRED_PROGRAMS.map((name) => executable(path.join(dir, name))))).every(Boolean)) return dir;
  }
  throw new Error(
    `HUB_EMBEDDED_DB=postgresql needs PostgreSQL's server programs (${REQUIRED_PROGRAMS.join(', ')}), found in none of: ${[...new Set(candidates)].join(', ')}. Install the Debian package postgresql-15 (apt-get install postgresql-15), or use HUB_EMBEDDED_DB=sqlite, or set MONGODB_URI`,
  );
}

/** Every folder from `dir` up to / must let `uid`/`gid` pass (x), or PostgreSQL cannot reach its own folder inside. */
async function assertTraversable(dir: string, uid: number, gid: number): Promise<void> {
  for (let current = dir; ; current = path.dirname(current)) {
    const info = await stat(current);
    const bit = info.uid === uid ? 0o100 : info.gid === gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0)
      throw new Error(
        `the embedded PostgreSQL runs as the user "postgres" (the hub runs as root), which cannot pass through ${current} (mode ${(info.mode & 0o777).toString(8)}) to reach DATA_DIR; put DATA_DIR where every parent folder is searchable (e.g. chmod o+x), or use HUB_EMBEDDED_DB=sqlite`,
      );
    if (current === path.dirname(current)) return;
  }
}

/** A folder of the server's user, for it alone (0700), whoever runs the hub. */
async function ownedPrivateDir(dir: string, owner: { uid: number; gid: number } | null): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (owner) await chown(dir, owner.uid, owner.gid);
  await chmod(dir, 0o700);
}

/**
 * Starts PostgreSQL on a cluster under `<dataDir>/postgresql` (created once by
 * initdb: UTF8, locale C, data checksums), reachable only through a unix socket
 * in `<dataDir>/postgresql/run`: no TCP listener at all.
 *
 * Authentication is `trust`, and that is sound only because of where the
 * socket is: its folder is 0700 (and the socket itself 0700), owned by the
 * user PostgreSQL runs as, so only that user and root can connect. Nothing is
 * secret in its URL.
 *
 * `postgres` is run directly (not pg_ctl), through the wrapper of
 * persistence/server-wrapper.ts: we own the process, and it ends with the hub
 * however the hub ends (SIGKILL included: a fast shutdown, SIGINT, then SIGKILL
 * to its process group). A postmaster.pid left by a kill -9 is handled by
 * PostgreSQL itself, or by the wrapper when its pid now belongs to another
 * program. Ready when pg_isready connects (polled; no sleeping in the dark).
 *
 * Root (CI, containers): PostgreSQL refuses to run as root, so it runs as the
 * Debian system user `postgres`, its folders chowned to it. To reach them it
 * must pass through DATA_DIR, which is 0700: in this mode DATA_DIR becomes 0711
 * (others may traverse it, not list it). Everything in DATA_DIR stays 0700 or
 * 0600, so a path known to another user opens nothing of ours. Other users run
 * PostgreSQL as themselves and DATA_DIR stays 0700.
 *
 * Its environment is PATH and the locale only: the hub's secrets stay out of
 * processes of another user.
 */
export async function openPostgreSql(options: { dataDir: string; log: ServerLog; binDir?: string }): Promise<PostgreSqlServer> {
  const { log } = options;
  const bin = await findPostgreSqlBinaries(options.binDir);
  const dataDir = path.resolve(options.dataDir);
  const owner = process.getuid?.() === 0 ? await postgresSystemUser() : null;
  const base = path.join(dataDir, 'postgresql');
  const cluster = path.join(base, 'cluster');
  const socketDir = path.join(base, 'run');
  const socketFile = path.join(socketDir, `.s.PGSQL.${PORT}`);
  if (Buffer.byteLength(socketFile) > MAX_SOCKET_PATH)
    throw new Error(
      `DATA_DIR is too deep for the embedded PostgreSQL's unix socket (${socketFile} is longer than ${MAX_SOCKET_PATH} bytes); choose a shorter DATA_DIR`,
    );

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (owner) await assertTraversable(path.dirname(dataDir), owner.uid, owner.gid);
  await ownedPrivateDir(base, owner);
  await ownedPrivateDir(socketDir, owner);
  // 0711 under root from now on, whoever calls it later (see ensurePrivateDir): PostgreSQL needs it while it runs
  await ensurePrivateDir(dataDir);

  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' };
  const asServer = owner ? { uid: owner.uid, gid: owner.gid } : {};

  if (!(await stat(path.join(cluster, 'PG_VERSION')).catch(() => null))) {
    // initdb into a scratch folder, then one rename: a start killed halfway leaves no half-made cluster behind
    const scratch = path.join(base, 'cluster.initdb');
    await rm(scratch, { recursive: true, force: true });
    log('info', 'creating the embedded PostgreSQL cluster (first start only)', { dir: cluster });
    try {
      await run(
        path.join(bin, 'initdb'),
        ['-D', scratch, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--data-checksums', '--no-instructions'],
        { env, cwd: base, ...asServer },
      );
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      throw new Error(`initdb failed for the embedded PostgreSQL in ${scratch}: ${(stderr ?? '').trim() || message}`, { cause: error });
    }
    await rename(scratch, cluster);
  }

  const command = [path.join(bin, 'postgres'), '-D', cluster, ...serverSettings(socketDir)];
  const child: ChildProcessWithoutNullStreams = spawn(
    '/bin/sh',
    serverWrapperArgs({
      killAfterSeconds,
      lockWaitSeconds: 10,
      lockFile: path.join(base, 'server.lock'),
      title: 'postgres',
      stopSignal: 'INT', // fast shutdown: open transactions rolled back, a checkpoint, a clean exit
      pidFile: path.join(cluster, 'postmaster.pid'),
      command,
    }),
    { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env, cwd: base, ...asServer },
  );
  // Nothing is ever written to stdin; it only has to stay open while postgres runs.
  child.stdin.on('error', () => {});
  child.once('exit', () => child.stdin.destroy());
  child.stdout.resume();

  let stderr = '';
  let quiet = false; // the lines that go on a routine FATAL
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr = `${stderr}${line}\n`.slice(-8000);
    quiet = routine.test(line) || (quiet && continuation.test(line));
    if (!quiet) log(/\b(FATAL|PANIC):/.test(line) ? 'error' : 'warn', `postgres: ${line}`);
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  void closed.then((result) => (exited = result));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const client = (program: string, args: string[]) =>
    run(path.join(bin, program), ['-h', socketDir, '-p', String(PORT), '-U', SUPERUSER, ...args], { env });

  try {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const ready = await client('pg_isready', ['-q', '-d', 'postgres', '-t', '5']).then(
        () => true,
        () => false,
      );
      if (ready) break;
      if (exited) {
        const { code, signal } = exited;
        throw new Error(`the embedded PostgreSQL exited (${signal ?? `code ${code}`}) before it was ready; its log:\n${stderr}`);
      }
      if (Date.now() > deadline)
        throw new Error(`the embedded PostgreSQL did not accept connections within ${readyTimeoutMs / 1000} s; its log:\n${stderr}`);
      const failed = await Promise.race([spawnError, new Promise<null>((resolve) => setTimeout(() => resolve(null), readyPollMs))]);
      if (failed) throw new Error(`could not start the embedded PostgreSQL: ${failed.message}`);
    }
    const { stdout } = await client('psql', ['-d', 'postgres', '-tAc', `SELECT 1 FROM pg_database WHERE datname = '${DATABASE}'`]);
    if (stdout.trim() !== '1') await client('createdb', ['-E', 'UTF8', DATABASE]);
  } catch (error) {
    killServerGroup(child);
    await closed;
    throw error;
  }

  let stopping: Promise<void> | null = null;
  void closed.then(({ code, signal }) => {
    if (!stopping) log('error', 'the embedded PostgreSQL exited unexpectedly', { code, signal, log: stderr.slice(-2000) });
  });
  const pid = child.pid ?? 0;
  log('info', 'embedded PostgreSQL started', { dir: cluster, socketDir, pid, user: owner ? 'postgres' : 'the hub’s own' });

  // as many connections as FerretDB keeps on SQLite, so one pool size per hub process fits both (database.ts)
  const url = `postgres:///${DATABASE}?host=${encodeURIComponent(socketDir)}&port=${PORT}&user=${SUPERUSER}&pool_max_conns=${FERRETDB_CONNECTIONS_PER_DATABASE}`;
  return {
    url,
    socketDir,
    pid,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        const killer = setTimeout(() => killServerGroup(child), killAfterSeconds * 1000);
        await closed;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
}
