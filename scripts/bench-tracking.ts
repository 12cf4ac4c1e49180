import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../common/logger.ts';
import { connectDatabase } from '../persistence/database.ts';
import { openDatabaseServer } from '../persistence/embedded-database.ts';
import { CREATES_IN_FLIGHT, log, round } from './bench-support.ts';
import { startTrackingLoad, type TrackingCycle } from './tracking-load.ts';

/**
 * `npm run bench:tracking -- --shipments 10000`: Nova Poshta tracking at full
 * size, the scenario test/actors/domains/shipments/tracking-load.test.ts runs small.
 *
 * Starts the embedded database and the Nova Poshta sandbox, creates N
 * shipment actors for parcels already in transit through the runtime
 * (`--concurrency`, default 256 creates in flight: one group commit), then
 * times runs of the real tracking job: the first (every parcel's status is
 * news), a quiet one (nothing changed), and one after 100 parcels moved on.
 * `--cache` actors stay in memory (default 1 000: at 10 000 parcels most of a
 * cycle loads its actors from the database; the hub's default is 10 000).
 * Reports the getStatusDocuments calls the sandbox counted (expected: N / 100
 * a cycle) and the process's memory after each step (after a full GC when run
 * with --expose-gc, as npm run does). `--json FILE` saves the figures.
 */

const { values } = parseArgs({
  options: {
    shipments: { type: 'string', default: '10000' },
    cache: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: String(CREATES_IN_FLIGHT) },
    json: { type: 'string' },
  },
});
const shipments = Number(values.shipments);
const cacheSize = Number(values.cache);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(shipments) || shipments < 100 || shipments % 100 !== 0) throw new Error('--shipments: a multiple of 100');
if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new Error('--cache: a positive whole number of actors');
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency: a positive whole number');

const CHANGES = 100;

interface Memory {
  rssMb: number;
  heapUsedMb: number;
}

function memory(): Memory {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMb: round(rss / 2 ** 20), heapUsedMb: round(heapUsed / 2 ** 20) };
}

interface Step {
  step: string;
  seconds: number;
  /** getStatusDocuments calls the sandbox counted during the step */
  calls: number;
  /** shipments the step sent an event (created, for the seeding) */
  changed: number;
  failedCalls: number;
  memory: Memory;
}

async function main() {
  log(
    `machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  if (!(globalThis as { gc?: unknown }).gc) log('no --expose-gc: memory is measured without a full GC first');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-bench-tracking-'));
  const server = await openDatabaseServer({ dataDir, log: (level, message) => level !== 'info' && log(`db ${level}: ${message}`) });
  const database = await connectDatabase(server.uri, 'bench_tracking');
  const logger = createLogger({ level: 'error', json: false });
  const load = await startTrackingLoad({ database, shipments, cacheSize, logger });
  const steps: Step[] = [];
  const callsSoFar = () => load.sandbox.calls('TrackingDocument.getStatusDocuments');
  const timed = async (step: string, run: () => Promise<Omit<TrackingCycle, 'shipments' | 'calls'>>) => {
    const callsBefore = callsSoFar();
    const started = performance.now();
    const { changed, failedCalls } = await run();
    const seconds = round((performance.now() - started) / 1000);
    steps.push({ step, seconds, calls: callsSoFar() - callsBefore, changed, failedCalls, memory: memory() });
    log(`  ${step}: ${seconds} s`);
  };
  try {
    const before = memory();
    await timed(`seed ${shipments} shipments (${concurrency} creates in flight)`, async () => {
      await load.seed(concurrency);
      await load.runtime.flushProjections();
      return { changed: shipments, failedCalls: 0 };
    });
    await timed('first cycle: every status is news', async () => (await load.cycle()).result);
    await timed('quiet cycle: nothing changed', async () => (await load.cycle()).result);
    for (const number of load.waybills.slice(0, CHANGES)) load.sandbox.advance(number, 1);
    await timed(`cycle with ${CHANGES} changes`, async () => (await load.cycle()).result);

    const rows = steps.map(
      (s) =>
        `| ${s.step} | ${s.seconds} | ${s.calls} | ${s.changed} | ${s.failedCalls} | ${Math.round(s.memory.rssMb)} | ${Math.round(s.memory.heapUsedMb)} |`,
    );
    const table = [
      '| step | seconds | getStatusDocuments calls (sandbox) | shipments changed | failed calls | RSS MB | heap used MB |',
      '|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n');
    process.stdout.write(
      `\n${shipments} shipments, ${cacheSize} actors in memory at most, expected ${shipments / 100} calls a cycle; ` +
        `before seeding: RSS ${Math.round(before.rssMb)} MB, heap used ${Math.round(before.heapUsedMb)} MB:\n\n${table}\n`,
    );
    if (values.json) await writeFile(values.json, JSON.stringify({ shipments, cacheSize, concurrency, before, steps }, null, 2));
  } finally {
    await load.close();
    await database.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
