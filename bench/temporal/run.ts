import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { z } from 'zod';
import { MONOBANK_SANDBOX_TOKEN } from '../../actors/platform/connectors/monobank/sandbox.ts';
import { NOVAPOSHTA_SANDBOX_API_KEY, SANDBOX_SENDER } from '../../actors/platform/connectors/novaposhta/sandbox.ts';
import { shipmentCodeOf } from '../../common/shipment-code.ts';
import { openDatabaseServer } from '../../persistence/embedded-database.ts';
import { adminKey, startHubProcess } from '../../scripts/bench-support.ts';
import { ensureTemporalBinary, TEMPORAL_CLI_MODULE } from './build-server.ts';
import { runLoad, STEPS, type OrderTrace, type Step, type Target } from './load.ts';
import { coreTicks, descendantsNamed, parseCoreList, processCpuMs } from './cpu.ts';
import { sqliteJournalMode, sqliteLiveBytes } from './sqlite-size.ts';

/**
 * `npm run bench:temporal`: the hub against Temporal on the same order (issue 19), on this machine, in one run.
 *
 * For each concurrency and run, each system in turn on fresh data: the engine (the hub on the embedded FerretDB;
 * Temporal's dev server on a file-backed SQLite in WAL mode, with our worker and HTTP facade), the same Monobank
 * and Nova Poshta sandboxes (`npm run sandbox`, processes of their own), and one load generator sending both the
 * same requests. Then kill -9 of each engine's process mid-run, restarted at once: when it answers again, and
 * whether every order still completes exactly once (one invoice at Monobank, one waybill at Nova Poshta).
 * Everything runs pinned to the same cores (`taskset -c`), the load generator and the sandboxes included.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    orders: { type: 'string' },
    concurrency: { type: 'string' },
    runs: { type: 'string' },
    kill: { type: 'string' },
    'kill-runs': { type: 'string' },
    'kill-concurrency': { type: 'string' },
    systems: { type: 'string', default: 'hub,temporal' },
    skus: { type: 'string', default: '16' },
    'poll-ms': { type: 'string', default: '100' },
    cpus: { type: 'string', default: '0,1' },
    'hub-events': { type: 'string', default: 'off' },
    json: { type: 'string' },
    logs: { type: 'string' },
  },
});

const positive = (value: string, name: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const quick = values.quick === true;
const settings = {
  orders: positive(values.orders ?? (quick ? '24' : '300'), 'orders'),
  concurrencies: (values.concurrency ?? (quick ? '8' : '8,32,64')).split(',').map((c) => positive(c.trim(), 'concurrency')),
  runs: positive(values.runs ?? (quick ? '1' : '3'), 'runs'),
  kill: z.enum(['on', 'off']).parse(values.kill ?? (quick ? 'off' : 'on')) === 'on',
  killRuns: positive(values['kill-runs'] ?? (quick ? '1' : '3'), 'kill-runs'),
  killConcurrency: positive(values['kill-concurrency'] ?? (quick ? '8' : '32'), 'kill-concurrency'),
  systems: z
    .array(z.enum(['hub', 'temporal']))
    .min(1)
    .parse((values.systems ?? '').split(',')),
  skus: positive(values.skus ?? '16', 'skus'),
  pollMs: positive(values['poll-ms'] ?? '100', 'poll-ms'),
  cpus: z
    .string()
    .regex(/^\d+([,-]\d+)*$/)
    .parse(values.cpus),
  hubEvents: z.enum(['on', 'off']).parse(values['hub-events']),
};
const skus = Array.from({ length: settings.skus }, (_, i) => `BENCH-${i + 1}`);
/** an order not delivered in this long is given up and reported; covers a webhook lost in a crash (2-minute polls) */
const ORDER_TIMEOUT_MS = 6 * 60_000;
/** what the workflow waits for a webhook before asking Monobank: the hub's payment status poll runs every 2 minutes */
const PAYMENT_POLL_SECONDS = 120;

const log = (message: string) => process.stderr.write(`${message}\n`);

/* ---------- processes ---------- */

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Spawns a process and resolves with the first URL it prints after `listening on`. */
function spawnListening(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  label: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const logFile = values.logs ? createWriteStream(path.join(values.logs, `${label.replace(/\W+/g, '-')}.log`), { flags: 'a' }) : null;
  if (logFile) child.once('close', () => logFile.end());
  return new Promise((resolve, reject) => {
    const onLine = (line: string) => {
      logFile?.write(`${line}\n`);
      output = `${output}${line}\n`.slice(-4000);
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match?.[1]) resolve({ child, url: match[1] });
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      logFile?.write(`${line}\n`);
      output = `${output}${line}\n`.slice(-4000);
    });
    child.once('exit', (code, signal) => reject(new Error(`${label} exited (${signal ?? code}) before listening:\n${output}`)));
    child.once('error', reject);
  });
}

function ended(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

interface Sandboxes {
  monobank: string;
  novaposhta: string;
  reset(): Promise<void>;
  /** what the sandboxes hold for these orders: invoices and waybills, to see that each order made one of each */
  audit(orderIds: string[]): Promise<{ invoices: number; invoicesPaid: number; waybills: number; ordersWithOneWaybill: number }>;
  stop(): Promise<void>;
}

async function startSandboxes(): Promise<Sandboxes> {
  const start = (name: string) =>
    spawnListening(process.execPath, ['--import', 'tsx', 'scripts/sandbox.ts', name, '--port', '0'], process.env, `the ${name} sandbox`);
  const monobank = await start('monobank');
  const novaposhta = await start('novaposhta');
  const invoicesSchema = z.object({ state: z.object({ invoices: z.array(z.object({ invoiceId: z.string(), status: z.string() })) }) });
  const waybillsSchema = z.object({ waybills: z.array(z.object({ number: z.string(), orderRef: z.string() })) });
  return {
    monobank: monobank.url,
    novaposhta: novaposhta.url,
    async reset() {
      for (const url of [monobank.url, novaposhta.url]) await fetch(`${url}/__sandbox/reset`, { method: 'POST' });
    },
    async audit(orderIds) {
      const invoices = invoicesSchema.parse(await (await fetch(`${monobank.url}/__sandbox/state`)).json()).state.invoices;
      const waybills = waybillsSchema.parse(await (await fetch(`${novaposhta.url}/sandbox/waybills`)).json()).waybills;
      const perCode = new Map<string, number>();
      for (const w of waybills) perCode.set(w.orderRef, (perCode.get(w.orderRef) ?? 0) + 1);
      return {
        invoices: invoices.length,
        invoicesPaid: invoices.filter((i) => i.status === 'success').length,
        waybills: waybills.length,
        ordersWithOneWaybill: orderIds.filter((id) => perCode.get(shipmentCodeOf(id)) === 1).length,
      };
    },
    async stop() {
      await Promise.all([ended(monobank.child, 'SIGTERM'), ended(novaposhta.child, 'SIGTERM')]);
    },
  };
}

/** A system under test, started on a data folder of its own. */
interface Running {
  target: Target;
  /** the products (and anything else an order needs) */
  setup(): Promise<void>;
  /** journal entries (hub) or history events (Temporal) in the database now */
  entries(): Promise<number>;
  /** kill -9 of the engine's process, then at once a new one on the same data and port */
  crashAndRestart(): Promise<void>;
  /** a clean stop of every process (Temporal's server leaves its last commits in the WAL: sqliteLiveBytes reads both files) */
  stop(): Promise<void>;
  /** bytes of the database's live SQLite pages (after stop) */
  databaseBytes(): Promise<number>;
  /** what was checked of the database's durability (Temporal: its SQLite's journal mode) */
  durability(): Promise<string>;
  /** the engine's processes now, by role (their CPU time is measured; the sandboxes and the load generator are not) */
  processes(): Promise<Array<{ role: string; pid: number }>>;
}

const HUB_DB = 'bench_temporal_hub';
/** the hub's call policy for the two sandboxes: no rate limit (its default, 20 calls a second, would be the bottleneck) */
const UNTHROTTLED = { rateLimitPerSecond: 10_000, rateLimitBurst: 10_000 };

async function startHub(dataDir: string, sandboxes: Sandboxes): Promise<Running> {
  const database = await openDatabaseServer({
    dataDir,
    log: (level, message) => level !== 'info' && log(`ferretdb ${level}: ${message}`),
  });
  const port = await freePort();
  const env = {
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    HUB_EVENTS: settings.hubEvents,
    HUB_SANDBOXES: 'off',
    HUB_DEVICE_EMULATORS: 'off',
    HUB_INTEGRATION_MONOBANK: JSON.stringify({
      baseUrl: sandboxes.monobank,
      credentials: { token: MONOBANK_SANDBOX_TOKEN },
      settings: { http: UNTHROTTLED },
    }),
    HUB_INTEGRATION_NOVAPOSHTA: JSON.stringify({
      baseUrl: sandboxes.novaposhta,
      credentials: { apiKey: NOVAPOSHTA_SANDBOX_API_KEY },
      settings: { sender: SANDBOX_SENDER, http: UNTHROTTLED },
    }),
  };
  const hubDir = path.join(dataDir, 'hub');
  let hub = await startHubProcess(database.uri, HUB_DB, hubDir, env);
  const mongo = await MongoClient.connect(database.uri);
  const headers = { authorization: `Bearer ${adminKey}` };
  const target: Target = { baseUrl: hub.url, headers };
  return {
    target,
    async setup() {
      for (const sku of skus) {
        const answer = await fetch(`${hub.url}/admin/products/${sku}`, {
          method: 'PUT',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Чашка', price: 25_000, stock: 1_000_000 }),
        });
        if (answer.status >= 300) throw new Error(`hub: PUT /admin/products/${sku} answered ${answer.status}: ${await answer.text()}`);
      }
      // the directory the hub checks deliveries and fills waybills from
      const sync = await fetch(`${hub.url}/admin/jobs/novaposhta-reference-sync/run`, { method: 'POST', headers });
      if (sync.status !== 200) throw new Error(`hub: the reference sync answered ${sync.status}: ${await sync.text()}`);
    },
    entries: () => mongo.db(HUB_DB).collection('journal').countDocuments(),
    async crashAndRestart() {
      await hub.crash();
      hub = await startHubProcess(database.uri, HUB_DB, hubDir, env);
    },
    async stop() {
      await mongo.close();
      await hub.stop();
      await database.stop();
    },
    databaseBytes: () => sqliteLiveBytes(path.join(dataDir, 'ferretdb', `${HUB_DB}.sqlite`)),
    durability: async () => "FerretDB 1.24 opens SQLite with journal_mode=wal (its default), synchronous left at SQLite's FULL",
    processes: async () => [
      { role: 'hub', pid: hub.pid },
      ...(await descendantsNamed(process.pid, 'hub-ferretdb')).map((pid) => ({ role: 'ferretdb', pid })),
    ],
  };
}

/** Updates one workflow may have in flight at once: above the largest concurrency measured (C = 64) */
const TEMPORAL_MAX_IN_FLIGHT_UPDATES = 256;

async function startTemporal(dataDir: string, sandboxes: Sandboxes): Promise<Running> {
  const binary = await ensureTemporalBinary(log);
  const dbFile = path.join(dataDir, 'temporal.db');
  const [grpcPort, httpPort, metricsPort, facadePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const address = `127.0.0.1:${grpcPort}`;
  let walSeen = false;
  const startServer = async (): Promise<ChildProcess> => {
    const child = spawn(
      binary,
      [
        'server',
        'start-dev',
        '--headless',
        '--db-filename',
        dbFile,
        '--ip',
        '127.0.0.1',
        '--port',
        String(grpcPort),
        '--http-port',
        String(httpPort),
        '--metrics-port',
        String(metricsPort),
        '--log-level',
        values.logs ? 'warn' : 'error',
        // as FerretDB's SQLite: a write-ahead log, and every commit synced to disk
        '--sqlite-pragma',
        'journal_mode=wal',
        '--sqlite-pragma',
        'synchronous=full',
        // The server refuses an Update past 10 in flight on one workflow (RESOURCE_EXHAUSTED) by default; the
        // invoice counter, one workflow every order asks, had that many at C = 64 and its activities' retry
        // backoff (1 s, doubling) stalled deliveries for up to a minute. An operator would raise it as we do.
        '--dynamic-config-value',
        `history.maxInFlightUpdates=${TEMPORAL_MAX_IN_FLIGHT_UPDATES}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    const logFile = values.logs ? createWriteStream(path.join(values.logs, 'temporal-server.log'), { flags: 'a' }) : null;
    if (logFile) child.once('close', () => logFile.end());
    child.stderr?.on('data', (chunk: Buffer) => {
      logFile?.write(chunk);
      stderr = `${stderr}${chunk.toString()}`.slice(-4000);
    });
    // ready once the frontend answers
    for (let attempt = 0; ; attempt += 1) {
      if (child.exitCode !== null) throw new Error(`the Temporal server exited (${child.exitCode}):\n${stderr}`);
      try {
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        await connection.workflowService.getSystemInfo({});
        await connection.close();
        return child;
      } catch (error) {
        if (attempt > 600) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  let server = await startServer();
  const app = await spawnListening(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'app.ts')],
    {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      PORT: String(facadePort),
      MONOBANK_URL: sandboxes.monobank,
      MONOBANK_TOKEN: MONOBANK_SANDBOX_TOKEN,
      NOVAPOSHTA_URL: sandboxes.novaposhta,
      NOVAPOSHTA_API_KEY: NOVAPOSHTA_SANDBOX_API_KEY,
      NOVAPOSHTA_SENDER: JSON.stringify(SANDBOX_SENDER),
      PAYMENT_POLL_SECONDS: String(PAYMENT_POLL_SECONDS),
    },
    'the Temporal facade and worker',
  );
  const client = new Client({ connection: await Connection.connect({ address }) });
  const target: Target = { baseUrl: app.url, headers: { authorization: `Bearer ${adminKey}` } };
  const walWatch = setInterval(() => {
    stat(`${dbFile}-wal`).then(
      () => (walSeen = true),
      () => undefined,
    );
  }, 500);
  return {
    target,
    async setup() {
      for (const sku of skus) {
        const answer = await fetch(`${app.url}/admin/products/${sku}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Чашка', price: 25_000, stock: 1_000_000 }),
        });
        if (answer.status >= 300) throw new Error(`temporal: PUT /admin/products/${sku} answered ${answer.status}: ${await answer.text()}`);
      }
    },
    async entries() {
      // every run of every workflow (orders, products, the invoice counter), its length from the server itself
      let total = 0;
      for await (const execution of client.workflow.list()) {
        const described = await client.workflow.getHandle(execution.workflowId, execution.runId).describe();
        total += described.historyLength;
      }
      return total;
    },
    async crashAndRestart() {
      await ended(server, 'SIGKILL');
      server = await startServer();
    },
    async stop() {
      clearInterval(walWatch);
      await client.connection.close();
      await ended(app.child, 'SIGTERM');
      await ended(server, 'SIGTERM');
    },
    databaseBytes: () => sqliteLiveBytes(dbFile),
    durability: async () =>
      `temporal.db journal mode from its header: ${await sqliteJournalMode(dbFile)}; a -wal file seen while running: ${walSeen ? 'yes' : 'no'}; synchronous=full passed as a pragma`,
    processes: async () => [
      ...(server.pid === undefined ? [] : [{ role: 'server', pid: server.pid }]),
      ...(app.child.pid === undefined ? [] : [{ role: 'worker', pid: app.child.pid }]),
    ],
  };
}

/* ---------- one run ---------- */

const pinnedCores = parseCoreList(settings.cpus);

interface CpuSnapshot {
  byRole: Map<string, number>;
  cores: { busy: number; total: number };
}

async function cpuNow(running: Running): Promise<CpuSnapshot> {
  const byRole = new Map<string, number>();
  for (const { role, pid } of await running.processes()) {
    const ms = await processCpuMs(pid);
    if (ms !== null) byRole.set(role, (byRole.get(role) ?? 0) + ms);
  }
  return { byRole, cores: await coreTicks(pinnedCores) };
}

function cpuPerOrder(before: CpuSnapshot, after: CpuSnapshot, orders: number): NonNullable<RunResult['cpu']> {
  const msPerOrder: Record<string, number> = {};
  for (const [role, ms] of after.byRole) msPerOrder[role] = Math.round(((ms - (before.byRole.get(role) ?? 0)) / orders) * 10) / 10;
  const total = after.cores.total - before.cores.total;
  return { msPerOrder, coresBusyPercent: total === 0 ? 0 : Math.round(((after.cores.busy - before.cores.busy) / total) * 1000) / 10 };
}

interface RunResult {
  system: 'hub' | 'temporal';
  concurrency: number;
  orders: number;
  completed: number;
  failed: string[];
  ordersPerSecond: number;
  steps: Record<Step, { p50: number; p99: number }>;
  databaseBytesPerOrder: number;
  entriesPerOrder: number;
  audit: Awaited<ReturnType<Sandboxes['audit']>>;
  durability: string;
  /** CPU of the engine's processes per order, by role, and how busy the pinned cores were (runs without a kill) */
  cpu: { msPerOrder: Record<string, number>; coresBusyPercent: number } | null;
  /** kill runs only */
  recovery: { answeringAgainSeconds: number | null; firstDeliveryAfterSeconds: number | null; restartSeconds: number } | null;
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 10) / 10;
};
const median = (values: number[]) => quantile(values, 0.5);

/** Bytes of a system's database right after its setup, measured once per system (the same setup every run). */
const emptyBytes = new Map<string, number>();

let runCounter = 0;

async function runOnce(system: 'hub' | 'temporal', concurrency: number, sandboxes: Sandboxes, crash: boolean): Promise<RunResult> {
  runCounter += 1;
  const prefix = `B${Date.now().toString(36).toUpperCase()}${runCounter}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), `bench-temporal-${system}-`));
  const start = system === 'hub' ? startHub : startTemporal;
  try {
    if (!emptyBytes.has(system)) {
      const empty = await start(dataDir, sandboxes);
      await empty.setup();
      await empty.stop();
      emptyBytes.set(system, await empty.databaseBytes());
      await rm(dataDir, { recursive: true, force: true });
      await mkdir(dataDir);
    }
    await sandboxes.reset();
    const running = await start(dataDir, sandboxes);
    let stopped = false;
    try {
      await running.setup();
      const entriesBefore = await running.entries();
      let killAt: number | null = null;
      let restartSeconds = 0;
      let firstAnswerAfter: number | null = null;
      let firstDeliveryAfter: number | null = null;
      let completed = 0;
      let crashing: Promise<void> | null = null;
      log(`${system}: ${settings.orders} orders, concurrency ${concurrency}${crash ? ', kill -9 of the engine at 40 %' : ''}…`);
      const progress = setInterval(() => log(`  ${system}: ${completed}/${settings.orders} delivered`), 5000);
      const cpuBefore = await cpuNow(running);
      const load = await runLoad({
        target: running.target,
        orders: settings.orders,
        concurrency,
        skus,
        pollMs: settings.pollMs,
        orderTimeoutMs: ORDER_TIMEOUT_MS,
        prefix,
        onAnswer: (at) => {
          if (killAt !== null && firstAnswerAfter === null && at > killAt && crashing === null) firstAnswerAfter = at;
        },
        onComplete: (trace) => {
          completed += 1;
          if (killAt !== null && firstDeliveryAfter === null && (trace.completedAt ?? 0) > killAt && crashing === null)
            firstDeliveryAfter = trace.completedAt;
          if (crash && killAt === null && completed >= Math.ceil(settings.orders * 0.4)) {
            killAt = Date.now();
            log(`  ${system}: kill -9 of the engine after ${completed} deliveries`);
            crashing = running.crashAndRestart().then(() => {
              restartSeconds = (Date.now() - (killAt ?? Date.now())) / 1000;
              crashing = null;
            });
          }
        },
      }).finally(() => clearInterval(progress));
      await crashing;
      const cpuAfter = await cpuNow(running);
      // the last Updates' histories settle (visibility is written behind)
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const entriesAfter = await running.entries();
      const traces: OrderTrace[] = load.traces;
      const delivered = traces.filter((t) => t.completedAt !== null);
      const audit = await sandboxes.audit(traces.map((t) => t.id));
      await running.stop();
      stopped = true;
      const bytes = await running.databaseBytes();
      const steps = Object.fromEntries(
        STEPS.map((step) => {
          const times = delivered.map((t) => t.steps[step]).filter((ms): ms is number => ms !== undefined);
          return [step, { p50: quantile(times, 0.5), p99: quantile(times, 0.99) }];
        }),
      ) as RunResult['steps'];
      const seconds = (at: number | null) => (at === null || killAt === null ? null : Math.round((at - killAt) / 100) / 10);
      return {
        system,
        concurrency,
        orders: settings.orders,
        completed: delivered.length,
        failed: traces.filter((t) => t.error !== null).map((t) => `${t.id}: ${t.error ?? ''}`),
        ordersPerSecond: Math.round((delivered.length / load.seconds) * 100) / 100,
        steps,
        databaseBytesPerOrder: Math.round((bytes - (emptyBytes.get(system) ?? 0)) / settings.orders),
        entriesPerOrder: Math.round(((entriesAfter - entriesBefore) / settings.orders) * 10) / 10,
        audit,
        durability: await running.durability(),
        cpu: crash ? null : cpuPerOrder(cpuBefore, cpuAfter, settings.orders),
        recovery: crash
          ? {
              answeringAgainSeconds: seconds(firstAnswerAfter),
              firstDeliveryAfterSeconds: seconds(firstDeliveryAfter),
              restartSeconds: Math.round(restartSeconds * 10) / 10,
            }
          : null,
      };
    } finally {
      if (!stopped) await running.stop().catch(() => undefined);
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/* ---------- the table ---------- */

function summarise(results: RunResult[]) {
  const of = (pick: (r: RunResult) => number | null) => median(results.map(pick).filter((v): v is number => v !== null));
  return {
    runs: results.length,
    completed: `${results.reduce((s, r) => s + r.completed, 0)}/${results.reduce((s, r) => s + r.orders, 0)}`,
    ordersPerSecond: of((r) => r.ordersPerSecond),
    steps: Object.fromEntries(
      STEPS.map((step) => [step, { p50: of((r) => r.steps[step].p50), p99: of((r) => r.steps[step].p99) }]),
    ) as Record<Step, { p50: number; p99: number }>,
    databaseBytesPerOrder: of((r) => r.databaseBytesPerOrder),
    entriesPerOrder: of((r) => r.entriesPerOrder),
    cpu: results.some((r) => r.cpu)
      ? {
          msPerOrder: Object.fromEntries(
            [...new Set(results.flatMap((r) => Object.keys(r.cpu?.msPerOrder ?? {})))].map((role) => [
              role,
              of((r) => r.cpu?.msPerOrder[role] ?? null),
            ]),
          ),
          totalMsPerOrder: of((r) => (r.cpu ? Object.values(r.cpu.msPerOrder).reduce((a, b) => a + b, 0) : null)),
          coresBusyPercent: of((r) => r.cpu?.coresBusyPercent ?? null),
        }
      : null,
    exactlyOnce: results.every(
      (r) =>
        r.audit.invoices === r.orders &&
        r.audit.invoicesPaid === r.completed &&
        r.audit.ordersWithOneWaybill === r.completed &&
        r.audit.waybills === r.completed,
    ),
    recovery: results.some((r) => r.recovery)
      ? {
          answeringAgainSeconds: of((r) => r.recovery?.answeringAgainSeconds ?? null),
          firstDeliveryAfterSeconds: of((r) => r.recovery?.firstDeliveryAfterSeconds ?? null),
          restartSeconds: of((r) => r.recovery?.restartSeconds ?? null),
        }
      : null,
  };
}

type Summary = ReturnType<typeof summarise>;

function table(concurrency: number, hub: Summary | undefined, temporal: Summary | undefined, kill: boolean): string {
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a === null || a === undefined || b === null || b === undefined || b === 0 ? '—' : String(Math.round((a / b) * 100) / 100);
  const cell = (s: Summary | undefined, value: (s: Summary) => string) => (s ? value(s) : '—').padStart(16);
  const row = (label: string, value: (s: Summary) => string, ratioOf: ((s: Summary) => number | null) | null) =>
    `${label.padEnd(30)}${cell(hub, value)}${cell(temporal, value)}${(ratioOf && hub && temporal ? ratio(ratioOf(hub), ratioOf(temporal)) : '').padStart(16)}`;
  const lines = [
    '',
    `${kill ? 'kill -9 of the engine at 40 % of the orders, concurrency' : 'concurrency'} ${concurrency}: ${settings.orders} orders a run, median of ${hub?.runs ?? temporal?.runs ?? 0} run(s)`,
    `${''.padEnd(30)}${'hub'.padStart(16)}${'temporal'.padStart(16)}${'hub ÷ temporal'.padStart(16)}`,
    row('delivered', (s) => s.completed, null),
    row(
      'orders/s',
      (s) => String(s.ordersPerSecond),
      (s) => s.ordersPerSecond,
    ),
  ];
  for (const step of STEPS) {
    lines.push(
      row(
        `${step} p50 ms`,
        (s) => String(s.steps[step].p50),
        (s) => s.steps[step].p50,
      ),
    );
    lines.push(
      row(
        `${step} p99 ms`,
        (s) => String(s.steps[step].p99),
        (s) => s.steps[step].p99,
      ),
    );
  }
  lines.push(
    row(
      'database bytes / order',
      (s) => String(s.databaseBytesPerOrder),
      (s) => s.databaseBytesPerOrder,
    ),
  );
  lines.push(
    row(
      'entries / order (journal, history)',
      (s) => String(s.entriesPerOrder),
      (s) => s.entriesPerOrder,
    ),
  );
  if (!kill) {
    lines.push(
      row(
        'engine CPU ms / order',
        (s) => String(Math.round((s.cpu?.totalMsPerOrder ?? 0) * 10) / 10),
        (s) => s.cpu?.totalMsPerOrder ?? null,
      ),
    );
    const roles = [...new Set([hub, temporal].flatMap((s) => Object.keys(s?.cpu?.msPerOrder ?? {})))];
    for (const role of roles) lines.push(row(`  of which ${role}`, (s) => String(s.cpu?.msPerOrder[role] ?? '—'), null));
    lines.push(row(`cores ${settings.cpus} busy %`, (s) => String(s.cpu?.coresBusyPercent ?? '—'), null));
  }
  lines.push(row('one invoice and one waybill each', (s) => (s.exactlyOnce ? 'yes' : 'NO'), null));
  if (kill) {
    lines.push(
      row(
        'answering again after kill, s',
        (s) => String(s.recovery?.answeringAgainSeconds ?? '—'),
        (s) => s.recovery?.answeringAgainSeconds ?? null,
      ),
    );
    lines.push(
      row(
        'first delivery after kill, s',
        (s) => String(s.recovery?.firstDeliveryAfterSeconds ?? '—'),
        (s) => s.recovery?.firstDeliveryAfterSeconds ?? null,
      ),
    );
    lines.push(
      row(
        'engine restarted in, s',
        (s) => String(s.recovery?.restartSeconds ?? '—'),
        (s) => s.recovery?.restartSeconds ?? null,
      ),
    );
  }
  return lines.join('\n');
}

async function versions(): Promise<{ node: string; temporalCli: string; temporalSdk: string; hubDatabase: string }> {
  const temporalVersion = await new Promise<string>((resolve) => {
    const child = spawn(path.join(repoRoot, '.tools/temporal/temporal'), ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // `go install` stamps no version (0.0.0-DEV): the module's version says which CLI it is
    child.once('exit', () => resolve(`${TEMPORAL_CLI_MODULE.split('@')[1] ?? ''}: ${out.trim()}`));
    child.once('error', () => resolve('not built'));
  });
  const sdk = z
    .object({ version: z.string() })
    .parse(JSON.parse(await readFile(path.join(here, 'node_modules/@temporalio/client/package.json'), 'utf8')));
  return { node: process.version, temporalCli: temporalVersion, temporalSdk: sdk.version, hubDatabase: 'embedded FerretDB 1.24 (SQLite)' };
}

async function main() {
  if (values.logs) await mkdir(values.logs, { recursive: true });
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB; pinned to cores ${settings.cpus}`;
  if (settings.systems.includes('temporal')) await ensureTemporalBinary(log);
  const info = { date: new Date().toISOString().slice(0, 10), machine, ...(await versions()), settings };
  log(JSON.stringify(info));
  const sandboxes = await startSandboxes();
  const results: RunResult[] = [];
  const output: string[] = [];
  try {
    const plan: Array<{ concurrency: number; kill: boolean; runs: number }> = [
      ...settings.concurrencies.map((concurrency) => ({ concurrency, kill: false, runs: settings.runs })),
      ...(settings.kill ? [{ concurrency: settings.killConcurrency, kill: true, runs: settings.killRuns }] : []),
    ];
    for (const step of plan) {
      const own: RunResult[] = [];
      // the systems take turns, so that what else the machine does falls on both
      for (let run = 0; run < step.runs; run += 1)
        for (const system of settings.systems) {
          const result = await runOnce(system, step.concurrency, sandboxes, step.kill);
          if (result.failed.length > 0) log(`  ${system}: ${result.failed.length} order(s) not delivered, e.g. ${result.failed[0] ?? ''}`);
          log(`  ${system}: ${result.completed} delivered, ${result.ordersPerSecond}/s; ${result.durability}`);
          own.push(result);
          results.push(result);
        }
      const bySystem = (system: 'hub' | 'temporal') => {
        const mine = own.filter((r) => r.system === system);
        return mine.length > 0 ? summarise(mine) : undefined;
      };
      const text = table(step.concurrency, bySystem('hub'), bySystem('temporal'), step.kill);
      output.push(text);
      process.stdout.write(`${text}\n`);
    }
  } finally {
    await sandboxes.stop();
  }
  process.stdout.write(`\n${info.date}, ${machine}, Node ${info.node}, ${info.temporalCli}, SDK ${info.temporalSdk}\n`);
  if (values.json) await writeFile(values.json, `${JSON.stringify({ ...info, results }, null, 2)}\n`);
}

/* ---------- pinning: the whole benchmark on the same cores (last: everything above is initialised) ---------- */

if (process.env.BENCH_TEMPORAL_PINNED !== settings.cpus) {
  const child = spawn('taskset', ['-c', settings.cpus, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_TEMPORAL_PINNED: settings.cpus },
  });
  child.once('error', (error) => {
    log(`taskset could not be run (${error.message}): it comes with util-linux`);
    process.exit(1);
  });
  child.once('exit', (code) => process.exit(code ?? 1));
} else {
  await main();
}
