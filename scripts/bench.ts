import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { openDatabaseServer } from '../persistence/embedded-database.ts';

/**
 * `npm run bench`: the hub against its floor.
 *
 * 1. Starts the embedded database (FerretDB/SQLite, as `npm start` does) and
 *    the service as a separate process on it.
 * 2. Drives N actors × M events over HTTP with C concurrent clients, each
 *    event with an Idempotency-Key; latency is request → persisted response.
 * 3. The floor: the same number of single-document inserts, each the size of
 *    a journal entry the hub wrote, straight through the mongodb driver with
 *    the same concurrency, on the same database server.
 * 4. Prints events/s, p50/p99 and the ratios against the targets
 *    (hub ≥ 0.5 × raw throughput, hub p99 ≤ 3 × raw p99).
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    actors: { type: 'string', default: '200' },
    events: { type: 'string', default: '25' },
    concurrency: { type: 'string', default: '32' },
    json: { type: 'string' },
  },
});
const actors = positive(values.actors, 'actors');
const eventsPerActor = positive(values.events, 'events');
const concurrency = positive(values.concurrency, 'concurrency');
const totalEvents = actors * eventsPerActor;
const adminKey = 'bench-admin-key-0123456789abcdef';

function positive(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

interface Stats {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

function stats(latencies: number[], seconds: number): Stats {
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

const round = (n: number) => Math.round(n * 100) / 100;

/** Runs `total` jobs with `parallel` workers, timing each; progress on stderr. */
async function drive(label: string, total: number, parallel: number, job: (index: number) => Promise<void>): Promise<Stats> {
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

async function startHubProcess(mongodbUri: string, dbName: string, dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/start.ts')], {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'production', PORT: '0', MONGODB_URI: mongodbUri, MONGODB_DB: dbName, DATA_DIR: dataDir, ADMIN_API_KEY: adminKey, HUB_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'), LOG_LEVEL: 'warn', ...(process.env.HUB_ACTOR_CACHE_SIZE ? { HUB_ACTOR_CACHE_SIZE: process.env.HUB_ACTOR_CACHE_SIZE } : {}) },
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

async function main() {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  log(`machine: ${machine}`);
  log(`workload: ${actors} actors × ${eventsPerActor} events = ${totalEvents} events, concurrency ${concurrency}, actor cache ${process.env.HUB_ACTOR_CACHE_SIZE ?? 'default'}`);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-bench-'));
  const server = await openDatabaseServer({ dataDir, log: (level, message) => level !== 'info' && log(`db ${level}: ${message}`) });
  const client = await MongoClient.connect(server.uri, { maxPoolSize: concurrency + 4 });
  let hub: Awaited<ReturnType<typeof startHubProcess>> | null = null;
  try {
    hub = await startHubProcess(server.uri, 'bench_hub', dataDir);
    const baseUrl = hub.url;
    const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const post = async (pathname: string, body: unknown, key: string) => {
      const response = await fetch(`${baseUrl}${pathname}`, { method: 'POST', headers: { ...headers, 'idempotency-key': key }, body: JSON.stringify(body) });
      if (response.status >= 300) throw new Error(`${pathname} answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    };

    log('creating actors…');
    const creates = await drive('create', actors, concurrency, (i) => post('/actors/probe', { id: `bench-${i}` }, `create-${i}`));

    log('sending events…');
    // Event i goes to actor i % actors, so concurrent requests spread over actors
    // and events to one actor arrive in order from different clients.
    const events = await drive('events', totalEvents, concurrency, (i) =>
      post(`/actors/probe/bench-${i % actors}/events`, { type: 'ADD', amount: 1 }, `event-${i}`),
    );

    const hubDb = client.db('bench_hub');
    const sample = await hubDb.collection('journal').find({ eventType: 'ADD' }).limit(50).toArray();
    const entrySize = Math.round(sample.reduce((sum, doc) => sum + Buffer.byteLength(JSON.stringify(doc)), 0) / Math.max(1, sample.length));

    log(`raw floor: ${totalEvents} single-document inserts of ~${entrySize} bytes…`);
    const raw = client.db('bench_raw').collection<{ _id: string; payload: string; n: number; at: Date }>('writes');
    await raw.insertOne({ _id: 'warmup', payload: '', n: 0, at: new Date() });
    const payload = 'x'.repeat(Math.max(0, entrySize - 60));
    const floor = await drive('raw', totalEvents, concurrency, async (i) => {
      await raw.insertOne({ _id: `w-${i}`, payload, n: i, at: new Date() });
    });

    const throughputRatio = round(events.perSecond / floor.perSecond);
    const p99Ratio = round(events.p99 / floor.p99);
    const result = {
      machine,
      database: 'embedded FerretDB 1.24 (SQLite)',
      workload: { actors, eventsPerActor, totalEvents, concurrency, journalEntryBytes: entrySize, actorCache: process.env.HUB_ACTOR_CACHE_SIZE ?? 'default' },
      hub: { creates, events },
      raw: floor,
      ratios: { throughput: throughputRatio, p99: p99Ratio },
      targets: { throughput: '≥ 0.5', p99: '≤ 3', throughputMet: throughputRatio >= 0.5, p99Met: p99Ratio <= 3 },
    };
    const table = [
      '',
      `                     count   seconds   per second   p50 ms   p99 ms   max ms`,
      line('hub creates', creates),
      line('hub events', events),
      line('raw inserts', floor),
      '',
      `hub events/s ÷ raw writes/s = ${throughputRatio}  (target ≥ 0.5: ${result.targets.throughputMet ? 'met' : 'NOT met'})`,
      `hub p99 ÷ raw p99          = ${p99Ratio}  (target ≤ 3: ${result.targets.p99Met ? 'met' : 'NOT met'})`,
      '',
    ].join('\n');
    process.stdout.write(`${table}\n`);
    if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await hub?.stop();
    await client.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function line(label: string, s: Stats): string {
  return `${label.padEnd(18)} ${String(s.count).padStart(8)} ${String(s.seconds).padStart(9)} ${String(s.perSecond).padStart(12)} ${String(s.p50).padStart(8)} ${String(s.p99).padStart(8)} ${String(s.max).padStart(8)}`;
}

await main();
