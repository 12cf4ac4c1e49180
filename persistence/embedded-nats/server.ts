import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isMainThread } from 'node:worker_threads';
import type { ServerLog } from '../embedded-database.ts';
import { ensurePrivateDir, writePrivateFile } from '../private-files.ts';
import { ensureNatsServerBinary } from './build.ts';

export interface NatsServer {
  /** what a client connects to: NATS_URL as given, or nats://127.0.0.1:<port> */
  url: string;
  kind: 'external' | 'embedded';
  stop(): Promise<void>;
}

const readyTimeoutMs = 60_000;
/** JetStream's clean shutdown writes each stream's state; it takes milliseconds, this is the hung case */
const killAfterSeconds = 10;

/**
 * nats-server reads `sync_interval` only from a configuration file. `always`: each write is fsynced
 * before the publish is acknowledged, so an acknowledged event survives a power cut or a kernel crash.
 * A killed nats-server alone loses nothing even without it (a stream of one replica writes each message
 * to its file before the ack); what the default leaves to chance is the fsync, up to two minutes later.
 */
const configuration = `# Written by the hub at each start of its embedded nats-server (persistence/embedded-nats/server.ts).
jetstream {
  sync_interval: always
}
`;

/**
 * nats-server has no exit-when-the-parent-dies option, so it starts through this /bin/sh wrapper
 * (arguments: the lock file, then the binary and its arguments):
 * - it takes an flock on the lock file and keeps it open into nats-server, so a second server on the
 *   same store (two hubs on one DATA_DIR) refuses to start instead of sharing JetStream's files; the
 *   kernel drops the lock when nats-server dies, however it dies, so it is never stale;
 * - it forks a watcher that blocks reading the pipe that is the wrapper's stdin. Only we hold that
 *   pipe's write end, so the read returns when we close it or die in any way, SIGKILL included; the
 *   watcher then sends nats-server SIGTERM (a clean JetStream shutdown) and SIGKILL after
 *   killAfterSeconds. Its pid stays safe to signal: the watcher is in nats-server's session, which
 *   keeps that number from being reused;
 * - it execs nats-server, so the child we spawned *is* nats-server (its pid, exit code and signal).
 * No prctl(PR_SET_PDEATHSIG), which follows the spawning thread rather than the process.
 */
const wrapper = `
lock=$1
shift
if ! command -v flock >/dev/null 2>&1; then
  echo "[$$] [FTL] flock (util-linux) is not on PATH; it keeps a second nats-server off this store" >&2
  exit 69
fi
exec 4>>"$lock"
if ! flock -n 4; then
  echo "[$$] [FTL] the store is in use by another nats-server (another hub on this DATA_DIR?); lock: $lock" >&2
  exit 75
fi
exec 3<&0
server=$$
(
  read -r _ <&3 || :
  kill -TERM "$server" 2>/dev/null
  waited=0
  while kill -0 "$server" 2>/dev/null; do
    if [ "$waited" -ge ${killAfterSeconds * 10} ]; then
      kill -KILL "$server" 2>/dev/null
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
) </dev/null >/dev/null 2>&1 4>&- &
exec "$@" </dev/null 3<&-
`;

/** NATS_URL fit for logs: no `user:pass@` or token in any of its (comma-separated) servers. */
export function redactNatsUrl(url: string): string {
  return url
    .split(',')
    .map((server) => server.trim().replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1'))
    .join(',');
}

/** SIGKILL to nats-server and its watcher (their process group), if still there. */
function killGroup(child: ChildProcessWithoutNullStreams): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

/** `[1234] [INF] Listening for client connections on 127.0.0.1:4222` → level INF and the message. */
function parseLogLine(line: string): { level: string; message: string } | null {
  const match = /^\[\d+\] \[([A-Z]{3})\] (.*)$/.exec(line);
  return match ? { level: match[1] as string, message: match[2] as string } : null;
}

/**
 * NATS_URL set → that server, nothing started. Unset → our nats-server (built
 * into .tools/ on first use) with JetStream, its store under <dataDir>/nats
 * (0700, files 0600), on a port of the kernel's choosing on 127.0.0.1 (`-p -1`),
 * no monitoring port. Ready when it logs "Server is ready", which it does after
 * JetStream is up and the client listener is open (no sleeping). It runs in
 * its own process group (a Ctrl-C in a terminal reaches only us; we stop it
 * after our own shutdown) and does not outlive us (see `wrapper`).
 *
 * Its informational lines (a banner at every start) are kept only for an
 * error message; warnings and errors go to our log.
 */
export async function openNatsServer(options: { natsUrl?: string; dataDir: string; log: ServerLog }): Promise<NatsServer> {
  const { log } = options;
  if (options.natsUrl) {
    log('info', 'using the NATS server at NATS_URL', { url: redactNatsUrl(options.natsUrl) });
    return { url: options.natsUrl, kind: 'external', stop: async () => {} };
  }
  const binary = await ensureNatsServerBinary({ log: (message) => log('info', message) });
  const dir = path.resolve(options.dataDir, 'nats');
  await ensurePrivateDir(dir);
  const configFile = path.join(dir, 'nats-server.conf');
  await writePrivateFile(configFile, configuration);
  const args = ['-c', configFile, '-js', '-sd', dir, '-a', '127.0.0.1', '-p', '-1', '-T=false'];
  // nats-server makes its own files 0600, but whatever else it may write follows the umask it inherits:
  // 077 (ours is put back at once; a worker thread may not change it, and there the 0700 directory alone
  // keeps them private).
  const umask = isMainThread ? process.umask(0o077) : null;
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn('/bin/sh', ['-c', wrapper, 'nats-server-wrapper', path.join(dir, 'server.lock'), binary, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
  } finally {
    if (umask !== null) process.umask(umask);
  }
  // Nothing is ever written to stdin; it only has to stay open while nats-server runs.
  child.stdin.on('error', () => {});
  // Once it is gone, let the watcher go too (it would otherwise wait for us to exit).
  child.once('exit', () => child.stdin.destroy());
  child.stdout.resume(); // nats-server logs to stderr; nothing is expected here

  let stderr = '';
  const lines = createInterface({ input: child.stderr });
  lines.on('line', (line) => {
    stderr = `${stderr}${line}\n`.slice(-8000);
    const parsed = parseLogLine(line);
    if (parsed?.level === 'WRN') log('warn', `nats-server: ${parsed.message}`);
    else if (parsed && ['ERR', 'FTL'].includes(parsed.level)) log('error', `nats-server: ${parsed.message}`);
    else if (!parsed) log('warn', `nats-server: ${line}`);
  });
  // 'close' (not 'exit'): by then all of its stderr has been read.
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );

  let ready = false;
  let stopping: Promise<void> | null = null;
  const url = await new Promise<string>((resolve, reject) => {
    let port: number | null = null;
    const fail = (error: Error) => {
      clearTimeout(timer);
      killGroup(child);
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(new Error(`the embedded nats-server (${binary}) did not become ready within ${readyTimeoutMs / 1000} s; its log:\n${stderr}`)),
      readyTimeoutMs,
    );
    lines.on('line', (line) => {
      if (ready) return;
      const message = parseLogLine(line)?.message ?? '';
      const listening = /^Listening for client connections on 127\.0\.0\.1:(\d+)$/.exec(message);
      if (listening) port = Number(listening[1]);
      if (message !== 'Server is ready') return;
      if (port === null) {
        fail(new Error(`the embedded nats-server said it was ready without saying its port; its log:\n${stderr}`));
        return;
      }
      clearTimeout(timer);
      ready = true;
      resolve(`nats://127.0.0.1:${port}`);
    });
    child.once('error', (error) => fail(new Error(`could not start the embedded nats-server (${binary}): ${error.message}`)));
    void closed.then(({ code, signal }) => {
      if (!ready) fail(new Error(`the embedded nats-server exited (${signal ?? `code ${code}`}) before it was ready; its log:\n${stderr}`));
    });
  });

  void closed.then(({ code, signal }) => {
    if (!stopping) log('error', 'the embedded nats-server exited unexpectedly', { code, signal, log: stderr.slice(-2000) });
  });
  log('info', 'embedded nats-server (JetStream) started', { url, dir });

  return {
    url,
    kind: 'embedded',
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const killer = setTimeout(() => killGroup(child), killAfterSeconds * 1000);
        await closed;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
}
