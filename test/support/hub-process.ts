import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SandboxCredentialsFile } from '../../persistence/sandbox-credentials.ts';
import { databaseUri, eventually } from './database.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';
/** One master key for every hub the tests start, so restarts on a database open its secrets. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 42).toString('base64');

export interface HubProcess {
  url: string;
  pid: number;
  /** its DATA_DIR */
  dataDir: string;
  child: ChildProcess;
  output(): string;
  /** SIGKILL: no cleanup at all, as in a crash or an OOM kill */
  crash(): Promise<void>;
  /** SIGTERM and wait; resolves with exit code and how long it took */
  terminate(): Promise<{ code: number | null; ms: number }>;
}

const databasesOfThisFile = new Set<string>();

/**
 * The databases the hubs of this test file ran on, for checks once its tests
 * are done (`node --test` runs each test file in a process of its own).
 */
export function hubDatabases(): string[] {
  return [...databasesOfThisFile];
}

/**
 * Starts the real service (`scripts/start.ts`) as a child process on the test database; `viaNpm`: as the
 * README does, `npm start` (then `pid` is npm's, the leader of a process group of its own).
 */
export async function startHubProcess(options: {
  dbName: string;
  env?: Record<string, string>;
  dataDir?: string;
  viaNpm?: boolean;
  /** HUB_PROCESSES: a cluster primary and this many workers (then `pid` is the primary's) */
  processes?: number;
  /** how long it may take to say it listens (default 60 s) */
  startTimeoutMs?: number;
}): Promise<HubProcess> {
  databasesOfThisFile.add(options.dbName);
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'hub-data-')));
  const [command, args] = options.viaNpm
    ? ['npm', ['start']]
    : [process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/start.ts')]];
  const child = spawn(command, args, {
    detached: options.viaNpm === true,
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      MONGODB_URI: databaseUri(),
      MONGODB_DB: options.dbName,
      DATA_DIR: dataDir,
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      HUB_MASTER_KEY: TEST_MASTER_KEY,
      LOG_LEVEL: process.env.TEST_HUB_LOG_LEVEL ?? 'warn',
      HUB_WORKER_POLL_MS: '200',
      // a SIGKILLed hub would leave its emulators' socat behind; tests that print bring their own emulators
      HUB_DEVICE_EMULATORS: 'off',
      ...(options.processes ? { HUB_PROCESSES: String(options.processes) } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const startTimeoutMs = options.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => reject(new Error(`hub did not start within ${startTimeoutMs / 1000} s:\n${output}`)), startTimeoutMs);
    const onData = () => {
      const match = /Integration hub listening on (https?:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before it was ready:\n${output}`));
    });
  });

  return {
    url,
    pid: child.pid ?? -1,
    dataDir,
    child,
    output: () => output,
    async crash() {
      child.kill('SIGKILL');
      await exited;
    },
    async terminate() {
      const started = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      return { code, ms: Date.now() - started };
    },
  };
}

/** The credentials a hub generated for its own sandbox of `integration` (kept in its DATA_DIR). */
export async function sandboxCredentialsOf(dataDir: string, integration: string): Promise<Record<string, string>> {
  const stored = await SandboxCredentialsFile.in(dataDir).read();
  const credentials = stored?.[integration];
  if (!credentials) throw new Error(`no sandbox credentials for ${integration} in ${dataDir}`);
  return credentials;
}

/** A tiny JSON client for the hub's HTTP API. */
export function hubClient(baseUrl: string, apiKey = TEST_ADMIN_KEY) {
  const call = async (method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${baseUrl}${pathname}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return {
      status: response.status,
      headers: response.headers,
      body: json as Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } },
    };
  };
  return {
    call,
    get: (pathname: string, headers?: Record<string, string>) => call('GET', pathname, undefined, headers),
    post: (pathname: string, body?: unknown, headers?: Record<string, string>) => call('POST', pathname, body, headers),
    /** Polls an actor until it is in `state`; answers its view. */
    waitForState: (actorPath: string, state: string, timeoutMs = 15_000) =>
      eventually(
        async () => {
          const response = await call('GET', actorPath);
          return response.body.state === state ? response.body : undefined;
        },
        timeoutMs,
        `${actorPath} to reach ${state}`,
      ),
  };
}
