import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { openDatabaseServer } from '../persistence/embedded-database.ts';
import { adminKey, drive, log, round, startHubProcess, type Stats } from './bench-support.ts';

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

function positive(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

async function main() {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  log(`machine: ${machine}`);
  log(
    `workload: ${actors} actors × ${eventsPerActor} events = ${totalEvents} events, concurrency ${concurrency}, actor cache ${process.env.HUB_ACTOR_CACHE_SIZE ?? 'default'}`,
  );
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-bench-'));
  const server = await openDatabaseServer({ dataDir, log: (level, message) => level !== 'info' && log(`db ${level}: ${message}`) });
  const client = await MongoClient.connect(server.uri, { maxPoolSize: concurrency + 4 });
  let hub: Awaited<ReturnType<typeof startHubProcess>> | null = null;
  try {
    hub = await startHubProcess(server.uri, 'bench_hub', dataDir);
    const baseUrl = hub.url;
    const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const post = async (pathname: string, body: unknown, key: string) => {
      const response = await fetch(`${baseUrl}${pathname}`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': key },
        body: JSON.stringify(body),
      });
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
      workload: {
        actors,
        eventsPerActor,
        totalEvents,
        concurrency,
        journalEntryBytes: entrySize,
        actorCache: process.env.HUB_ACTOR_CACHE_SIZE ?? 'default',
      },
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
