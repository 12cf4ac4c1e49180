import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isMainThread } from 'node:worker_threads';
import type { ServerLog } from '../embedded-database.ts';
import { ensurePrivateDir, writePrivateFile } from '../private-files.ts';
import { killServerGroup, serverWrapperArgs } from '../server-wrapper.ts';
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

/** NATS_URL fit for logs: no `user:pass@` or token in any of its (comma-separated) servers. */
export function redactNatsUrl(url: string): string {
  return url
    .split(',')
    .map((server) => server.trim().replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1'))
    .join(',');
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
 * after our own shutdown) and does not outlive us (see persistence/server-wrapper.ts).
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
    // Through the wrapper (persistence/server-wrapper.ts): nats-server has no exit-when-the-parent-dies option, and
    // the wrapper's lock keeps a second nats-server off this store. SIGTERM is its clean JetStream shutdown.
    const command = [binary, ...args];
    child = spawn(
      '/bin/sh',
      serverWrapperArgs({ killAfterSeconds, lockFile: path.join(dir, 'server.lock'), title: 'nats-server', stopSignal: 'TERM', command }),
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      },
    );
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
      killServerGroup(child);
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
        const killer = setTimeout(() => killServerGroup(child), killAfterSeconds * 1000);
        await closed;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
}
