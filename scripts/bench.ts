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
 *
 * `--processes 1,2,3` runs step 2 for a hub of each count of processes in turn (each on a database of its own);
 * `--publish off` leaves domain events out (the runtime alone).
 */

const { values } = parseArgs({
  options: {
    actors: { type: 'string', default: '200' },
    events: { type: 'string', default: '25' },
    concurrency: { type: 'string', default: '32' },
    /** domain events on NATS JetStream, as `npm start` runs them (`off`: the runtime alone) */
    publish: { type: 'string', default: 'on' },
    /** hub processes (`HUB_PROCESSES`): one count, or several to compare (`1,2,3`), each run in turn */
    processes: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const actors = positive(values.actors, 'actors');
const eventsPerActor = positive(values.events, 'events');
const concurrency = positive(values.concurrency, 'concurrency');
const totalEvents = actors * eventsPerActor;
if (values.publish !== 'on' && values.publish !== 'off') throw new Error('--publish must be on or off');
const publishing = values.publish === 'on';
const processCounts = (values.processes ?? '1').split(',').map((count) => positive(count.trim(), 'processes'));

function positive(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

async function main() {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  log(`machine: ${machine}`);
  log(
    `workload: ${actors} actors × ${eventsPerActor} events = ${totalEvents} events, concurrency ${concurrency}, actor cache ${process.env.HUB_ACTOR_CACHE_SIZE ?? 'default'}, hub processes ${processCounts.join(', ')}`,
  );
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-bench-'));
  const server = await openDatabaseServer({ dataDir, log: (level, message) => level !== 'info' && log(`db ${level}: ${message}`) });
  const client = await MongoClient.connect(server.uri, { maxPoolSize: concurrency + 4 });
  try {
    // each count of processes on a database of its own, one after the other, against the same database server
    const runs: HubRun[] = [];
    for (const processes of processCounts) runs.push(await runHub(server.uri, dataDir, processes));

    const hubDb = client.db(`bench_hub_${processCounts[0]}`);
    const sample = await hubDb.collection('journal').find({ eventType: 'ADD' }).limit(50).toArray();
    const entrySize = Math.round(sample.reduce((sum, doc) => sum + Buffer.byteLength(JSON.stringify(doc)), 0) / Math.max(1, sample.length));

    log(`raw floor: ${totalEvents} single-document inserts of ~${entrySize} bytes…`);
    const raw = client.db('bench_raw').collection<{ _id: string; payload: string; n: number; at: Date }>('writes');
    await raw.insertOne({ _id: 'warmup', payload: '', n: 0, at: new Date() });
    const payload = 'x'.repeat(Math.max(0, entrySize - 60));
    const floor = await drive('raw', totalEvents, concurrency, async (i) => {
      await raw.insertOne({ _id: `w-${i}`, payload, n: i, at: new Date() });
    });

    const first = runs[0]!;
    const throughputRatio = round(first.events.perSecond / floor.perSecond);
    const p99Ratio = round(first.events.p99 / floor.p99);
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
      hub: runs.map((run) => ({ processes: run.processes, creates: run.creates, events: run.events, domainEvents: run.domainEvents })),
      raw: floor,
      ratios: { throughput: throughputRatio, p99: p99Ratio },
      targets: { throughput: '≥ 0.5', p99: '≤ 3', throughputMet: throughputRatio >= 0.5, p99Met: p99Ratio <= 3 },
    };
    const several = runs.length > 1;
    const table = [
      '',
      `                     count   seconds   per second   p50 ms   p99 ms   max ms`,
      ...runs.flatMap((run) => {
        const suffix = several ? ` ×${run.processes}` : '';
        return [line(`hub creates${suffix}`, run.creates), line(`hub events${suffix}`, run.events)];
      }),
      line('raw inserts', floor),
      '',
      `hub events/s ÷ raw writes/s = ${throughputRatio}  (target ≥ 0.5: ${result.targets.throughputMet ? 'met' : 'NOT met'})${several ? `, with ${first.processes} process(es)` : ''}`,
      `hub p99 ÷ raw p99          = ${p99Ratio}  (target ≤ 3: ${result.targets.p99Met ? 'met' : 'NOT met'})`,
      ...(several
        ? runs
            .slice(1)
            .map(
              (run) =>
                `${run.processes} processes ÷ ${first.processes}: events/s × ${round(run.events.perSecond / first.events.perSecond)}, p99 × ${round(run.events.p99 / first.events.p99)}`,
            )
        : []),
      ...runs.flatMap((run) =>
        run.domainEvents
          ? [
              '',
              `domain events${several ? ` (×${run.processes})` : ''}: ${run.domainEvents.published} in the stream, ${run.domainEvents.perSecond}/s while the load ran; commit → JetStream ack p50 ≤ ${run.domainEvents.ackP50Ms} ms, p99 ≤ ${run.domainEvents.ackP99Ms} ms (histogram buckets)`,
              `outbox lag under load: at most ${run.domainEvents.maxWaiting} events waiting, the oldest ${run.domainEvents.maxOldestSeconds} s old; drained ${run.domainEvents.drainSeconds} s after the last answer`,
            ]
          : [],
      ),
      ...(several ? ['', `(${cpus().length} cores: processes beyond that share them; the database server runs on the same cores)`] : []),
      '',
    ].join('\n');
    process.stdout.write(`${table}\n`);
    if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await client.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface HubRun {
  processes: number;
  creates: Stats;
  events: Stats;
  domainEvents: Awaited<ReturnType<ReturnType<typeof watchOutbox>['finish']>> | null;
}

/** One hub (of `processes` processes) on a database of its own: actors created, then the events sent. */
async function runHub(mongodbUri: string, dataDir: string, processes: number): Promise<HubRun> {
  log(`hub of ${processes} process(es)…`);
  const hub = await startHubProcess(mongodbUri, `bench_hub_${processes}`, path.join(dataDir, `hub-${processes}`), {
    HUB_EVENTS: publishing ? 'on' : 'off',
    HUB_PROCESSES: String(processes),
  });
  try {
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

    log(`sending events… (domain events ${publishing ? 'published to NATS JetStream' : 'off'})`);
    const lag = publishing ? watchOutbox(baseUrl) : null;
    // Event i goes to actor i % actors, so concurrent requests spread over actors
    // and events to one actor arrive in order from different clients.
    const events = await drive('events', totalEvents, concurrency, (i) =>
      post(`/actors/probe/bench-${i % actors}/events`, { type: 'ADD', amount: 1 }, `event-${i}`),
    );
    const domainEvents = lag ? await lag.finish() : null;
    return { processes, creates, events, domainEvents };
  } finally {
    await hub.stop();
  }
}

/**
 * Watches the hub's event outbox while the load runs (every 250 ms), then waits for it to drain and reads
 * what was published and how long commit → acknowledgement took (the hub's own histogram).
 */
function watchOutbox(baseUrl: string) {
  const headers = { authorization: `Bearer ${adminKey}` };
  const started = Date.now();
  let maxWaiting = 0;
  let maxOldestSeconds = 0;
  const read = async () => {
    const body = (await (await fetch(`${baseUrl}/admin/events`, { headers })).json()) as {
      stream: { messages: number } | null;
      outbox: { waiting: number; oldestSeconds: number | null };
    };
    maxWaiting = Math.max(maxWaiting, body.outbox.waiting);
    maxOldestSeconds = Math.max(maxOldestSeconds, body.outbox.oldestSeconds ?? 0);
    return body;
  };
  let reading: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    reading = read().catch(() => undefined);
  }, 250);
  return {
    async finish() {
      const loadEnded = Date.now();
      clearInterval(timer);
      await reading;
      let state = await read();
      while (state.outbox.waiting > 0 && Date.now() - loadEnded < 300_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        state = await read();
      }
      const drainSeconds = round((Date.now() - loadEnded) / 1000);
      const metrics = await (await fetch(`${baseUrl}/metrics`, { headers })).text();
      const buckets = [...metrics.matchAll(/^hub_events_publish_latency_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)].map((m) => ({
        le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]),
        count: Number(m[2]),
      }));
      const total = buckets.at(-1)?.count ?? 0;
      const quantile = (q: number) => {
        const bucket = buckets.find((b) => b.count >= q * total);
        return bucket ? round(bucket.le * 1000) : null;
      };
      const published = state.stream?.messages ?? 0;
      return {
        published,
        perSecond: round(published / ((loadEnded - started) / 1000)),
        ackP50Ms: quantile(0.5),
        ackP99Ms: quantile(0.99),
        maxWaiting,
        maxOldestSeconds: round(maxOldestSeconds),
        drainSeconds,
      };
    },
  };
}

function line(label: string, s: Stats): string {
  return `${label.padEnd(18)} ${String(s.count).padStart(8)} ${String(s.seconds).padStart(9)} ${String(s.perSecond).padStart(12)} ${String(s.p50).padStart(8)} ${String(s.p99).padStart(8)} ${String(s.max).padStart(8)}`;
}

await main();
