import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the benchmark scripts share: timing, a driver of concurrent jobs, and the hub as its own process. */

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
  mongodbUri: string,
  dbName: string,
  dataDir: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/start.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: '0',
      MONGODB_URI: mongodbUri,
      MONGODB_DB: dbName,
      DATA_DIR: dataDir,
      ADMIN_API_KEY: adminKey,
      HUB_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      LOG_LEVEL: 'warn',
      ...(process.env.HUB_ACTOR_CACHE_SIZE ? { HUB_ACTOR_CACHE_SIZE: process.env.HUB_ACTOR_CACHE_SIZE } : {}),
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
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
