import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'winston';
import { systemClock } from '../actors/runtime/clock.ts';
import type { BoundEffects } from '../actors/runtime/effects.ts';
import type { ActorRuntime } from '../actors/runtime/runtime.ts';
import { MAX_BATCH, type ActorStore } from '../actors/runtime/store.ts';
import type { DurableWorker } from '../actors/runtime/worker.ts';
import { createDurableRuntime } from '../actors/system.ts';
import { PersonalDataSealer } from '../actors/runtime/personal-data.ts';
import { loadPersonalDataKey } from '../persistence/personal-data-key.ts';
import { Keyring } from '../persistence/secret-box.ts';

const BENCH_MASTER_KEY = Buffer.alloc(32, 7);
import type { AnyMachineModule } from '../machines/machine-module.ts';
import type { Database } from '../persistence/database.ts';

/**
 * What the benchmark scripts share: timing, a driver of concurrent jobs, the
 * hub as its own process, and the actor runtime in this process (for the
 * scenarios that the suite runs small and the benchmarks full size).
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const adminKey = 'bench-admin-key-0123456789abcdef';

export function log(message: string) {
  process.stderr.write(`${message}\n`);
}

export interface Stats {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

export function stats(latencies: number[], seconds: number): Stats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    count: sorted.length,
    seconds: round(seconds),
    perSecond: round(sorted.length / seconds),
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

export const round = (n: number) => Math.round(n * 100) / 100;

/** Runs `total` jobs with `parallel` workers, timing each; progress on stderr. */
export async function drive(label: string, total: number, parallel: number, job: (index: number) => Promise<void>): Promise<Stats> {
  const latencies: number[] = [];
  let next = 0;
  let done = 0;
  const started = performance.now();
  const progress = setInterval(() => log(`  ${label}: ${done}/${total}`), 2000);
  try {
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < total) {
          const index = next++;
          const t0 = performance.now();
          await job(index);
          latencies.push(performance.now() - t0);
          done += 1;
        }
      }),
    );
  } finally {
    clearInterval(progress);
  }
  return stats(latencies, (performance.now() - started) / 1000);
}

export async function startHubProcess(
  /** undefined: the hub starts its own embedded database in `dataDir`, as `npm start` does (HUB_EMBEDDED_DB in `env`) */
  mongodbUri: string | undefined,
  dbName: string,
  dataDir: string,
  /** more of the hub's configuration (HUB_* variables) */
  env: Record<string, string> = {},
): Promise<{ url: string; pid: number; stop: () => Promise<void>; crash: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/start.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: '0',
      MONGODB_URI: mongodbUri ?? '', // blank is unset
      MONGODB_DB: dbName,
      DATA_DIR: dataDir,
      ADMIN_API_KEY: adminKey,
      HUB_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      LOG_LEVEL: 'warn',
      ...(process.env.HUB_ACTOR_CACHE_SIZE ? { HUB_ACTOR_CACHE_SIZE: process.env.HUB_ACTOR_CACHE_SIZE } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`hub exited (${code}):\n${output}`)));
  });
  const ended = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  return {
    url,
    pid: child.pid ?? 0,
    stop: () => ended('SIGTERM'),
    /** kill -9: no shutdown of any kind (the recovery benchmarks) */
    crash: () => ended('SIGKILL'),
  };
}

/**
 * Creates in flight when a script fills the database through the runtime:
 * as many as one group commit takes (more would only queue in memory).
 */
export const CREATES_IN_FLIGHT = MAX_BATCH;

/** Runs `job(0 … count-1)` with `concurrency` of them in flight at a time. */
export async function forEachConcurrently(count: number, concurrency: number, job: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

export interface InProcessRuntime {
  runtime: ActorRuntime;
  store: ActorStore;
  worker: DurableWorker;
  /** stops the worker and waits for every command and projection write; the database stays open */
  close(): Promise<void>;
}

/**
 * An actor runtime on `database`, put together as the hub puts it together
 * (registry checked, group-committing store, LRU of `cacheSize` actors, a
 * durable worker for the effects), without HTTP, jobs or connectors.
 */
export async function startInProcessRuntime(options: {
  database: Database;
  machines: AnyMachineModule[];
  effects: BoundEffects[];
  cacheSize: number;
  logger: Logger;
  /** false: effects and timers are left in the database (nothing here invokes any) */
  startWorker?: boolean;
}): Promise<InProcessRuntime> {
  const { runtime, store, worker } = createDurableRuntime({
    collections: options.database.collections,
    logger: options.logger,
    clock: systemClock,
    machines: options.machines,
    effects: options.effects,
    cacheSize: options.cacheSize,
    // the bench's own master key: its databases are thrown away
    personalData: new PersonalDataSealer(await loadPersonalDataKey(options.database.collections.hubMeta, new Keyring(BENCH_MASTER_KEY))),
    ownerId: `in-process-${process.pid}`,
    worker: { pollMs: 200, maxAttempts: 3, backoff: { baseMs: 20, maxMs: 100 } },
  });
  if (options.startWorker !== false) await worker.start();
  return {
    runtime,
    store,
    worker,
    async close() {
      await worker.stop(1000);
      await runtime.idle();
    },
  };
}

export interface MemorySample {
  rssMb: number;
  heapUsedMb: number;
  /** memory of C++ objects bound to JS ones (Buffers among them) */
  externalMb: number;
}

/** What scripts/memory-probe.ts prints. */
export interface MemoryProbeResult {
  total: number;
  cacheSize: number;
  /** actors in memory at the end */
  cached: number;
  /** actors touched before the first sample: enough to fill the cache */
  firstBatch: number;
  afterFirstBatch: MemorySample;
  afterAll: MemorySample;
  /** of the last actor, after one event: 2 proves it was really loaded and changed */
  lastRevision: number;
  createSeconds: number;
  touchSeconds: number;
}

/** Runs scripts/memory-probe.ts in a process of its own (with --expose-gc) on a database, and returns what it measured. */
export function runMemoryProbe(options: {
  mongodbUri: string;
  dbName: string;
  actors: number;
  cacheSize: number;
}): Promise<MemoryProbeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(repoRoot, 'scripts/memory-probe.ts')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        MONGODB_URI: options.mongodbUri,
        DB_NAME: options.dbName,
        ACTORS: String(options.actors),
        CACHE: String(options.cacheSize),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`memory probe exited with ${code}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as MemoryProbeResult);
      } catch (error) {
        reject(new Error(`memory probe printed no result: ${String(error)}\n${stdout}`));
      }
    });
  });
}
