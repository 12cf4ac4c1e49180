import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import type { ActorDoc } from '../persistence/collections.ts';
import { openDatabaseServer } from '../persistence/embedded-database.ts';
import { adminKey, drive, log, startHubProcess, type Stats } from './bench-support.ts';

/**
 * `npm run bench:inspection`: the admin inspection lists on 100 000 actors.
 *
 * Starts the embedded database and the hub (its own process: it creates the
 * indexes), writes N actor documents of four types in realistic states
 * (orders, payments, shipments, products; some tagged `alert`), then asks
 * `GET /admin/actors` with each filter the console uses — by type, type and
 * state, tag, id prefix, updatedBefore, and the next pages of a cursor —
 * and `GET /admin/machines` (state counts), timing every request end to end
 * over HTTP. Target: p99 under 100 ms for the lists.
 */

const { values } = parseArgs({
  options: { actors: { type: 'string', default: '100000' }, requests: { type: 'string', default: '200' }, json: { type: 'string' } },
});
const total = Number(values.actors);
const requests = Number(values.requests);
if (!Number.isInteger(total) || total < 1000 || !Number.isInteger(requests) || requests < 10)
  throw new Error('--actors ≥ 1000 and --requests ≥ 10');

const TYPES: Array<{ type: string; share: number; states: string[] }> = [
  {
    type: 'order',
    share: 0.4,
    states: ['paying', 'fulfilment.awaitingShipment', 'fulfilment.shipped', 'delivered', 'completed', 'cancelled', 'rejected', 'blocked'],
  },
  { type: 'payment', share: 0.3, states: ['pending.waiting', 'succeeded', 'failed', 'expired', 'refunded'] },
  { type: 'shipment', share: 0.28, states: ['awaitingPickup', 'inTransit', 'atWarehouse', 'delivered', 'returned'] },
  { type: 'product', share: 0.02, states: ['active'] },
];

function actorDoc(index: number, base: number): ActorDoc {
  let cut = index / total;
  const kind = TYPES.find((t) => (cut -= t.share) < 0) ?? TYPES[0]!;
  const state = kind.states[index % kind.states.length] ?? 'active';
  const id = `${kind.type.toUpperCase().slice(0, 3)}-${String(index).padStart(6, '0')}`;
  const at = new Date(base - (total - index) * 1000);
  const context = { id, note: 'x'.repeat(400) };
  return {
    _id: `${kind.type}/${id}`,
    type: kind.type,
    id,
    version: 1,
    revision: 1 + (index % 9),
    state,
    status: 'active',
    tags: state === 'blocked' || state === 'returned' ? ['alert'] : state === 'inTransit' ? ['tracked'] : [],
    snapshot: JSON.stringify({ status: 'active', value: state, context }),
    runtime: { effects: [], timers: [] },
    createdAt: at,
    updatedAt: at,
  };
}

async function main() {
  log(
    `machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  );
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-bench-inspection-'));
  const server = await openDatabaseServer({ dataDir, log: (level, message) => level !== 'info' && log(`db ${level}: ${message}`) });
  const client = await MongoClient.connect(server.uri);
  let hub: Awaited<ReturnType<typeof startHubProcess>> | null = null;
  try {
    // the actors are there first, as for a hub restarted on a busy database
    const actors = client.db('bench_inspection').collection<ActorDoc>('actors');
    const base = Date.now();
    const started = performance.now();
    for (let offset = 0; offset < total; offset += 1000) {
      await actors.insertMany(
        Array.from({ length: Math.min(1000, total - offset) }, (_, i) => actorDoc(offset + i, base)),
        { ordered: false },
      );
      if (offset % 20_000 === 0) log(`  writing actors: ${offset}/${total}`);
    }
    log(`${total} actors written in ${Math.round((performance.now() - started) / 1000)} s`);
    const starting = performance.now();
    hub = await startHubProcess(server.uri, 'bench_inspection', dataDir);
    log(`hub ready in ${Math.round((performance.now() - starting) / 1000)} s`);

    const headers = { authorization: `Bearer ${adminKey}` };
    const get = async (pathname: string) => {
      const response = await fetch(`${hub!.url}${pathname}`, { headers });
      const body = (await response.json()) as { nextCursor?: string | null; actors?: unknown[] };
      if (!response.ok) throw new Error(`${pathname}: HTTP ${response.status} ${JSON.stringify(body)}`);
      return body;
    };
    // the lists are answered from the actor index once it has loaded (in the background after the start)
    const loading = performance.now();
    for (;;) {
      const { machines } = (await get('/admin/machines')) as unknown as { machines: Array<{ total: number }> };
      if (machines.reduce((sum, m) => sum + m.total, 0) >= total) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    log(`actor index loaded ${Math.round((performance.now() - loading) / 1000)} s after ready`);
    const cursors: string[] = [];
    let cursor: string | null | undefined = null;
    for (let page = 0; page < 10; page += 1) {
      const body = await get(`/admin/actors?type=order&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      cursor = body.nextCursor;
      if (!cursor) break;
      cursors.push(cursor);
    }
    const middle = new Date(base - (total / 2) * 1000).toISOString();
    const queries: Array<[string, (i: number) => string]> = [
      ['newest of a type', () => '/admin/actors?type=order&limit=50'],
      ['type and state', (i) => `/admin/actors?type=shipment&state=${['inTransit', 'awaitingPickup', 'delivered'][i % 3]}&limit=50`],
      ['tag alert', () => '/admin/actors?tag=alert&limit=50'],
      ['id prefix', (i) => `/admin/actors?q=ORD-0${String((i % 90) + 10)}&limit=50`],
      ['updatedBefore', () => `/admin/actors?type=payment&updatedBefore=${encodeURIComponent(middle)}&limit=50`],
      ['next pages (cursor)', (i) => `/admin/actors?type=order&limit=50&cursor=${encodeURIComponent(cursors[i % cursors.length] ?? '')}`],
      ['machines (state counts)', () => '/admin/machines'],
    ];
    const results: Record<string, Stats> = {};
    for (const [label, url] of queries) {
      await get(url(0)); // warm
      results[label] = await drive(label, requests, 1, async (i) => {
        await get(url(i));
      });
    }
    const rows = Object.entries(results).map(
      ([label, s]) =>
        `| ${label} | ${s.p50} | ${s.p99} | ${s.max} | ${label.startsWith('machines') ? 'n/a' : s.p99 < 100 ? 'yes' : '**no**'} |`,
    );
    const table = ['| query | p50 ms | p99 ms | max ms | p99 < 100 ms |', '|---|---|---|---|---|', ...rows].join('\n');
    process.stdout.write(`\n${total} actors, ${requests} requests per query, one at a time, over HTTP:\n\n${table}\n`);
    if (values.json) await writeFile(values.json, JSON.stringify({ actors: total, requests, results }, null, 2));
  } finally {
    await hub?.stop();
    await client.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
