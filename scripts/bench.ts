import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { EMBEDDED_DB_KINDS, type EmbeddedDbKind } from '../common/config.ts';
import { openDatabaseServer } from '../persistence/embedded-database.ts';
import { adminKey, drive, log, round, startHubProcess, type Stats } from './bench-support.ts';

/**
 * `npm run bench`: the hub against its floor.
 *
 * 1. Starts the service as a separate process with its embedded database
 *    (no MONGODB_URI: FerretDB on SQLite, or on PostgreSQL with `--db`), as
 *    `npm start` does, on a fresh DATA_DIR.
 * 2. Drives N actors × M events over HTTP with C concurrent clients, each
 *    event with an Idempotency-Key; latency is request → persisted response.
 * 3. The floor: the same number of single-document inserts, each the size of
 *    a journal entry the hub wrote, straight through the mongodb driver with
 *    the same concurrency, on the same database (the first hub's DATA_DIR,
 *    opened again once that hub has stopped).
 * 4. Prints events/s, p50/p99 and the ratios against the targets
 *    (hub ≥ 0.5 × raw throughput, hub p99 ≤ 3 × raw p99).
 *
 * `--processes 1,2,3` runs step 2 for a hub of each count of processes in turn (each on a database of its own);
 * `--db sqlite,postgresql` does all of it for each embedded database in turn (default: both when --processes is
 * given, as more processes are where the database is the limit; else sqlite); `--publish off` leaves domain events
 * out (the runtime alone).
 */

const { values } = parseArgs({
  options: {
    actors: { type: 'string', default: '200' },
    events: { type: 'string', default: '25' },
    concurrency: { type: 'string', default: '32' },
    /** domain events on NATS JetStream, as `npm start` runs them (`off`: the runtime alone) */
    publish: { type: 'string', default: 'on' },
    /** hub processes (`HUB_PROCESSES`): one count, or several to compare (`1,2,3`), each run in turn */
    processes: { type: 'string' },
    /** embedded databases (`HUB_EMBEDDED_DB`) to run everything on, in turn */
    db: { type: 'string' },
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
const databases = (values.db ?? (values.processes === undefined ? 'sqlite' : EMBEDDED_DB_KINDS.join(','))).split(',').map((name) => {
  const kind = EMBEDDED_DB_KINDS.find((candidate) => candidate === name.trim().toLowerCase());
  if (!kind) throw new Error(`--db must list ${EMBEDDED_DB_KINDS.join(' and/or ')} (comma-separated), not ${JSON.stringify(name)}`);
  return kind;
});

function positive(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const DATABASE_TITLES: Record<EmbeddedDbKind, string> = {
  sqlite: 'embedded FerretDB 1.24 (SQLite)',
  postgresql: 'embedded FerretDB 1.24 on PostgreSQL 15 (two FerretDB front ends for several processes)',
};

interface DatabaseRuns {
  db: EmbeddedDbKind;
  runs: HubRun[];
  raw: Stats;
  journalEntryBytes: number;
}

async function main() {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  log(`machine: ${machine}`);
  log(
    `workload: ${actors} actors × ${eventsPerActor} events = ${totalEvents} events, concurrency ${concurrency}, actor cache ${process.env.HUB_ACTOR_CACHE_SIZE ?? 'default'}, hub processes ${processCounts.join(', ')}, databases ${databases.join(', ')}`,
  );
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-bench-'));
  // Under root the embedded PostgreSQL runs as the user postgres, which must pass through this folder to each DATA_DIR.
  if (databases.includes('postgresql')) await chmod(dataDir, 0o711);
  try {
    const measured: DatabaseRuns[] = [];
    for (const db of databases) measured.push(await measureDatabase(db, dataDir));

    const firstDb = measured[0]!;
    const first = firstDb.runs[0]!;
    const throughputRatio = round(first.events.perSecond / firstDb.raw.perSecond);
    const p99Ratio = round(first.events.p99 / firstDb.raw.p99);
    const result = {
      machine,
      database: DATABASE_TITLES[firstDb.db],
      databases: measured.map(({ db }) => ({ db, title: DATABASE_TITLES[db] })),
      workload: {
        actors,
        eventsPerActor,
        totalEvents,
        concurrency,
        journalEntryBytes: firstDb.journalEntryBytes,
        actorCache: process.env.HUB_ACTOR_CACHE_SIZE ?? 'default',
      },
      hub: measured.flatMap(({ db, runs }) =>
        runs.map((run) => ({ db, processes: run.processes, creates: run.creates, events: run.events, domainEvents: run.domainEvents })),
      ),
      raw: firstDb.raw,
      rawByDb: Object.fromEntries(measured.map(({ db, raw }) => [db, raw])),
      ratios: { throughput: throughputRatio, p99: p99Ratio },
      ratiosByRun: measured.flatMap(({ db, runs, raw }) =>
        runs.map((run) => ({
          db,
          processes: run.processes,
          throughput: round(run.events.perSecond / raw.perSecond),
          p99: round(run.events.p99 / raw.p99),
        })),
      ),
      targets: { throughput: '≥ 0.5', p99: '≤ 3', throughputMet: throughputRatio >= 0.5, p99Met: p99Ratio <= 3 },
    };
    const severalRuns = measured.length > 1 || processCounts.length > 1;
    const table = [
      '',
      `                               count   seconds   per second   p50 ms   p99 ms   max ms`,
      ...measured.flatMap(({ db, runs, raw }) => [
        ...runs.flatMap((run) => [
          line(`${db} hub creates ×${run.processes}`, run.creates),
          line(`${db} hub events ×${run.processes}`, run.events),
        ]),
        line(`${db} raw inserts`, raw),
      ]),
      '',
      `hub events/s ÷ raw writes/s = ${throughputRatio}  (target ≥ 0.5: ${result.targets.throughputMet ? 'met' : 'NOT met'})${severalRuns ? `, ${firstDb.db} with ${first.processes} process(es)` : ''}`,
      `hub p99 ÷ raw p99          = ${p99Ratio}  (target ≤ 3: ${result.targets.p99Met ? 'met' : 'NOT met'})`,
      ...(severalRuns
        ? [
            '',
            'database     processes   events/s    p99 ms   ÷ raw writes/s   p99 ÷ raw p99   events/s ÷ 1st count',
            ...measured.flatMap(({ db, runs, raw }) =>
              runs.map((run) =>
                [
                  db.padEnd(12),
                  String(run.processes).padStart(9),
                  String(run.events.perSecond).padStart(10),
                  String(run.events.p99).padStart(9),
                  String(round(run.events.perSecond / raw.perSecond)).padStart(16),
                  String(round(run.events.p99 / raw.p99)).padStart(15),
                  String(round(run.events.perSecond / runs[0]!.events.perSecond)).padStart(22),
                ].join(' '),
              ),
            ),
          ]
        : []),
      ...measured.flatMap(({ db, runs }) =>
        runs.flatMap((run) =>
          run.domainEvents
            ? [
                '',
                `domain events${severalRuns ? ` (${db}, ×${run.processes})` : ''}: ${run.domainEvents.published} in the stream, ${run.domainEvents.perSecond}/s while the load ran; commit → JetStream ack p50 ≤ ${run.domainEvents.ackP50Ms} ms, p99 ≤ ${run.domainEvents.ackP99Ms} ms (histogram buckets)`,
                `outbox lag under load: at most ${run.domainEvents.maxWaiting} events waiting, the oldest ${run.domainEvents.maxOldestSeconds} s old; drained ${run.domainEvents.drainSeconds} s after the last answer`,
              ]
            : [],
        ),
      ),
      ...(severalRuns
        ? ['', `(${cpus().length} cores: hub processes beyond that share them; the database servers and nats-server run on the same cores)`]
        : []),
      '',
    ].join('\n');
    process.stdout.write(`${table}\n`);
    if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Every count of processes on `db`, then the raw floor on the same database (the first run's, opened again). */
async function measureDatabase(db: EmbeddedDbKind, dataDir: string): Promise<DatabaseRuns> {
  const runs: HubRun[] = [];
  for (const processes of processCounts) runs.push(await runHub(db, processes, path.join(dataDir, `${db}-${processes}`)));

  const firstProcesses = processCounts[0]!;
  const server = await openDatabaseServer({
    dataDir: path.join(dataDir, `${db}-${firstProcesses}`),
    embeddedDb: db,
    log: (level, message) => level !== 'info' && log(`db ${level}: ${message}`),
  });
  const client = await MongoClient.connect(server.uri, { maxPoolSize: concurrency + 4 });
  try {
    const hubDb = client.db(`bench_hub_${firstProcesses}`);
    const sample = await hubDb.collection('journal').find({ eventType: 'ADD' }).limit(50).toArray();
    const entrySize = Math.round(sample.reduce((sum, doc) => sum + Buffer.byteLength(JSON.stringify(doc)), 0) / Math.max(1, sample.length));

    log(`${db} raw floor: ${totalEvents} single-document inserts of ~${entrySize} bytes…`);
    const raw = client.db('bench_raw').collection<{ _id: string; payload: string; n: number; at: Date }>('writes');
    await raw.insertOne({ _id: 'warmup', payload: '', n: 0, at: new Date() });
    const payload = 'x'.repeat(Math.max(0, entrySize - 60));
    const floor = await drive('raw', totalEvents, concurrency, async (i) => {
      await raw.insertOne({ _id: `w-${i}`, payload, n: i, at: new Date() });
    });
    return { db, runs, raw: floor, journalEntryBytes: entrySize };
  } finally {
    await client.close();
    await server.stop();
  }
}

interface HubRun {
  processes: number;
  creates: Stats;
  events: Stats;
  domainEvents: Awaited<ReturnType<ReturnType<typeof watchOutbox>['finish']>> | null;
}

/** One hub (of `processes` processes) with its own embedded database on `db`: actors created, then the events sent. */
async function runHub(db: EmbeddedDbKind, processes: number, dataDir: string): Promise<HubRun> {
  log(`hub of ${processes} process(es) on ${db}…`);
  const hub = await startHubProcess(undefined, `bench_hub_${processes}`, dataDir, {
    HUB_EMBEDDED_DB: db,
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
  return `${label.padEnd(27)} ${String(s.count).padStart(8)} ${String(s.seconds).padStart(9)} ${String(s.perSecond).padStart(12)} ${String(s.p50).padStart(8)} ${String(s.p99).padStart(8)} ${String(s.max).padStart(8)}`;
}

await main();
