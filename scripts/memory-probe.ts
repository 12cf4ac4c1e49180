/**
 * The memory probe, in a process of its own (run with --expose-gc) so that
 * nothing else lives in its heap: creates ACTORS probe actors through the
 * runtime, empties the cache, then touches every actor (a load from the
 * database into the runtime's LRU of CACHE actors) and sends the last one an
 * event. Prints one JSON line (MemoryProbeResult) with the memory after the
 * first CACHE actors (the cache full) and after all of them: if memory grows
 * with the number of stored actors, the two differ.
 *
 * Run by test/actors/runtime/memory.test.ts (small) and `npm run bench:memory`
 * (100 000 actors) through runMemoryProbe in bench-support.ts.
 */
import { probeEffects } from '../actors/domains/probe/effects.ts';
import { createLogger } from '../common/logger.ts';
import probe from '../machines/probe.ts';
import { connectDatabase } from '../persistence/database.ts';
import {
  CREATES_IN_FLIGHT,
  forEachConcurrently,
  round,
  startInProcessRuntime,
  type MemoryProbeResult,
  type MemorySample,
} from './bench-support.ts';

const total = Number(process.env.ACTORS ?? '100000');
const cacheSize = Number(process.env.CACHE ?? '1000');
const database = await connectDatabase(process.env.MONGODB_URI!, process.env.DB_NAME!);
const hub = await startInProcessRuntime({
  database,
  machines: [probe],
  cacheSize,
  startWorker: false,
  // never called here: no probe is sent CALL
  effects: [probeEffects({ baseUrl: 'http://127.0.0.1:9' })],
  logger: createLogger({ level: 'error', json: false }),
});
const origin = { kind: 'event' as const };

function sample(): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rssMb: round(rss / 2 ** 20), heapUsedMb: round(heapUsed / 2 ** 20), externalMb: round(external / 2 ** 20) };
}

const seconds = (since: number) => round((performance.now() - since) / 1000);
let phase = 'creating';
const started = performance.now();
const progress = setInterval(() => process.stderr.write(`memory probe: ${phase}, ${Math.round(seconds(started))} s\n`), 30_000);
progress.unref();

await forEachConcurrently(total, CREATES_IN_FLIGHT, (i) => hub.runtime.create('probe', `m-${i}`, { label: `actor ${i}` }, { origin }));
await hub.store.drain();
const createSeconds = seconds(started);
process.stderr.write(`memory probe: created ${total} actors in ${createSeconds} s\n`);

phase = 'touching';
const touching = performance.now();
hub.runtime.evictAll();
const firstBatch = Math.min(cacheSize, total);
// 64 loads in flight, as before: a busy hub's readers, not a bulk import
await forEachConcurrently(firstBatch, 64, (i) => hub.runtime.get('probe', `m-${i}`));
await hub.store.drain();
const afterFirstBatch = sample();
await forEachConcurrently(total - firstBatch, 64, (i) => hub.runtime.get('probe', `m-${firstBatch + i}`));
await hub.store.drain();
const afterAll = sample();
const touchSeconds = seconds(touching);
process.stderr.write(`memory probe: touched all in ${touchSeconds} s\n`);
const last = (await hub.runtime.of(probe).send(`m-${total - 1}`, { type: 'ADD', amount: 1 }, { origin })).actor;
const result: MemoryProbeResult = {
  total,
  cacheSize,
  cached: hub.runtime.cachedActors,
  firstBatch,
  afterFirstBatch,
  afterAll,
  lastRevision: last.revision,
  createSeconds,
  touchSeconds,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
await hub.close();
await database.close();
