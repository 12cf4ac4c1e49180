import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabaseServer } from '../persistence/embedded-database.ts';
import { log, round, runMemoryProbe, type MemorySample } from './bench-support.ts';

/**
 * `npm run bench:memory -- --actors 100000 --cache 1000`: does the hub's
 * memory grow with the number of actors it has stored? The scenario
 * test/actors/runtime/memory.test.ts runs small.
 *
 * Starts the embedded database and runs scripts/memory-probe.ts in a process
 * of its own: N actors created through the runtime, then every one of them
 * loaded into the runtime's cache of C actors. Reports the probe's memory
 * (after a full GC) once the first C were loaded — the cache full — and
 * after all N, and the difference. Target (the suite's, at 100 000 actors):
 * RSS within 100 MB of the first 1 000.
 */

const { values } = parseArgs({
  options: { actors: { type: 'string', default: '100000' }, cache: { type: 'string', default: '1000' }, json: { type: 'string' } },
});
const actors = Number(values.actors);
const cacheSize = Number(values.cache);
if (!Number.isInteger(cacheSize) || cacheSize < 1) throw new Error('--cache: a positive whole number of actors');
if (!Number.isInteger(actors) || actors <= cacheSize) throw new Error('--actors: more than --cache');

async function main() {
  log(
    `machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-bench-memory-'));
  const server = await openDatabaseServer({ dataDir, log: (level, message) => level !== 'info' && log(`db ${level}: ${message}`) });
  try {
    const result = await runMemoryProbe({ mongodbUri: server.uri, dbName: 'bench_memory', actors, cacheSize });
    const row = (label: string, pick: (sample: MemorySample) => number) => {
      const first = pick(result.afterFirstBatch);
      const all = pick(result.afterAll);
      return `| ${label} | ${Math.round(first)} | ${Math.round(all)} | ${round(all - first)} |`;
    };
    const table = [
      `| memory (MB, after a full GC) | after the first ${result.firstBatch} | after all ${result.total} | growth |`,
      '|---|---|---|---|',
      row('RSS', (s) => s.rssMb),
      row('heap used', (s) => s.heapUsedMb),
      row('external', (s) => s.externalMb),
    ].join('\n');
    process.stdout.write(
      `\n${result.total} actors created in ${result.createSeconds} s, all loaded in ${result.touchSeconds} s; ` +
        `${result.cached} in memory at the end (cache of ${result.cacheSize}); the last one's revision after an event: ${result.lastRevision}\n\n${table}\n`,
    );
    if (values.json) await writeFile(values.json, JSON.stringify(result, null, 2));
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
