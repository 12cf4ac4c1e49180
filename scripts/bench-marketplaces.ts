import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MARKETPLACES, type MarketplaceName } from '../common/marketplaces.ts';
import type { Connectors } from '../actors/platform/connectors/kit/connectors.ts';
import type { RecordedRequest, SandboxServer } from '../actors/platform/connectors/kit/sandbox.ts';
import { Marketplaces } from '../actors/platform/connectors/marketplaces.ts';
import { OZON_SANDBOX_CREDENTIALS, OZON_SANDBOX_WAREHOUSES, startOzonSandbox } from '../actors/platform/connectors/ozon/sandbox.ts';
import { OZON_LIMITS } from '../actors/platform/connectors/ozon/protocol.ts';
import { ROZETKA_SANDBOX_CREDENTIALS, startRozetkaSandbox } from '../actors/platform/connectors/rozetka/sandbox.ts';
import { startUzumSandbox, UZUM_SANDBOX_CREDENTIALS } from '../actors/platform/connectors/uzum/sandbox.ts';
import { startWildberriesSandbox, WILDBERRIES_SANDBOX_CREDENTIALS } from '../actors/platform/connectors/wildberries/sandbox.ts';
import { openDatabaseServer } from '../persistence/embedded-database.ts';
import { adminKey, forEachConcurrently, log, round, startHubProcess, stats } from './bench-support.ts';

/**
 * `npm run bench:marketplaces [-- --products 10000 --minutes 3 --change-rate 0.05 --push-interval 60 --json out.json]`:
 * the marketplace sync at size. N products, each listed at Rozetka, Uzum, Wildberries and Ozon; each minute the stock
 * of 5 % of them changes, spread over the minute. Measured per marketplace: the API calls to its stock and price
 * endpoints per minute against the documented minimum (ceil(changes a minute / the marketplace's `batch.stock`)), and
 * the delay from each change to the moment the marketplace's sandbox holds the new stock (p50 / p99 / max).
 * `--quick`: 30 products, 1 minute, a push every 5 s (a check that the script works, in about 100 s).
 *
 * The hub runs as its own process on a fresh embedded database, the four sandboxes in this process (their catalogues
 * get the N items first: they refuse unknown ones). Half of the changes are sales at the till (`POST /pos/sales`, one
 * unit, paid in cash: the stock is held when the sale answers), half admin edits (`PUT /admin/products/:sku` with a new
 * `stock`). Each product changes at most once in the run, so every change has one value to arrive (a second change
 * before the push would hide the first). A change's time is when its request was sent; its delay ends at the first
 * look that finds the value at the marketplace (the sandboxes are looked at every 200 ms, a marketplace's pending
 * items whenever it received a stock call, and every 5 s anyway). Calls are counted from the sandboxes' own records.
 *
 * Before the measured minutes the first push of every listing has to be over, and then 31 s more: Ozon takes one
 * stock update per product and warehouse in 30 s, and refuses a second one within that time.
 *
 * The embedded FerretDB (SQLite) answers only `_id` lookups from an index, so the hub reads listings, items and
 * what is due by `_id` (or from the small collection of what is still to push): the cost of a change does not grow
 * with the number of products listed.
 */

const { values } = parseArgs({
  options: {
    products: { type: 'string' },
    minutes: { type: 'string' },
    'change-rate': { type: 'string' },
    'push-interval': { type: 'string' },
    /** products listed at once while loading */
    concurrency: { type: 'string', default: '2' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const quick = values.quick ?? false;
const products = whole(values.products ?? (quick ? '30' : '10000'), 'products', 20);
const minutes = whole(values.minutes ?? (quick ? '1' : '3'), 'minutes', 1);
const changeRate = Number(values['change-rate'] ?? '0.05');
if (!(changeRate > 0 && changeRate * minutes <= 1))
  throw new Error('--change-rate: a share of the products a minute, > 0, at most 1 / minutes');
const pushIntervalSeconds = whole(values['push-interval'] ?? (quick ? '5' : '60'), 'push-interval', 1);
const concurrency = whole(values.concurrency ?? '2', 'concurrency', 1);
const changesPerMinute = Math.max(1, Math.round(products * changeRate));

function whole(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: a whole number, at least ${min}`);
  return n;
}

const PRICE = 1_500_000;
const WB_WAREHOUSE = 507001;
const OZON_WAREHOUSE = OZON_SANDBOX_WAREHOUSES[0].warehouse_id;
const POLL_MS = 200;

/** Product i's ids at each marketplace (numbers clear of the sandboxes' seeds). */
function idsOf(i: number) {
  return {
    sku: `MP-${String(i).padStart(6, '0')}`,
    rozetka: { itemId: 1_000_000 + i, rzItemId: 500_000_000 + i },
    uzum: { skuId: 5_000_000 + i, barcode: `479${String(i).padStart(10, '0')}` },
    wildberries: { nmId: 300_000_000 + i, chrtId: 700_000_000 + i, barcode: `2040${String(i).padStart(9, '0')}` },
    ozon: { offerId: `MP-OZ-${i}`, productId: 300_000_000 + i },
  };
}

/** The marketplaces' documented batch maxima, as their implementations declare them (built without a client). */
function batchSizes(): Record<MarketplaceName, number> {
  const noConnectors = new Proxy({} as Connectors, {
    get: () => {
      throw new Error('the benchmark reads batch sizes only');
    },
  });
  const all = new Marketplaces({ connectors: noConnectors });
  return Object.fromEntries(MARKETPLACES.map((name) => [name, all.of(name)?.batch.stock ?? 1])) as Record<MarketplaceName, number>;
}

/** A call that writes stock or prices, per marketplace (the other calls are order imports, logins, catalogue reads). */
const WRITES: Record<MarketplaceName, (r: RecordedRequest) => boolean> = {
  rozetka: (r) => r.method === 'PUT' && r.path === '/items/mass-update',
  uzum: (r) => r.method === 'POST' && (r.path === '/v2/fbs/sku/stocks' || /^\/v1\/product\/\d+\/sendPriceData$/.test(r.path)),
  wildberries: (r) =>
    (r.method === 'PUT' && r.path.startsWith('/api/v3/stocks/')) || (r.method === 'POST' && r.path === '/api/v2/upload/task'),
  ozon: (r) => r.method === 'POST' && (r.path === '/v2/products/stocks' || r.path === '/v1/product/import/prices'),
};

interface Change {
  index: number;
  kind: 'sale' | 'edit';
  /** ms since the epoch: the request was sent */
  at: number;
  /** the hub answered (the change is committed); null while in flight */
  answeredAt: number | null;
  /** units available after the change: what every marketplace must show */
  expected: number;
  /** ms from `at` until the marketplace showed `expected` */
  arrived: Partial<Record<MarketplaceName, number>>;
}

interface MarketplaceSummary {
  batch: number;
  /** ceil(changes a minute / batch): the fewest calls a minute that can carry the changes */
  minimumCallsPerMinute: number;
  /** stock and price calls from the first change until the last change arrived, over the minutes of changes */
  callsPerMinute: number;
  calls: number;
  /** the same calls by minute of the run (the last bucket: after the changes, until the last arrived) */
  callsByMinute: number[];
  /** what the hub counted itself (`GET /admin/marketplaces` push.calls, over the same time) */
  hubCountedCalls: number;
  /** other calls in that time (order imports, logins, catalogue reads) */
  otherCalls: number;
  /** seconds from a change to the new stock at the marketplace */
  delaySeconds: { count: number; p50: number; p99: number; max: number };
  notArrived: number;
}

async function main() {
  const started = performance.now();
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  log(`machine: ${machine}`);
  log(
    `workload: ${products} products at 4 marketplaces, ${changesPerMinute} stock changes a minute (${changeRate * 100} %) for ${minutes} min, push every ${pushIntervalSeconds} s`,
  );
  const batch = batchSizes();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-bench-marketplaces-'));
  const server = await openDatabaseServer({ dataDir, log: (level, message) => level !== 'info' && log(`db ${level}: ${message}`) });
  const rozetka = await startRozetkaSandbox();
  const uzum = await startUzumSandbox();
  const wildberries = await startWildberriesSandbox();
  const ozon = await startOzonSandbox();
  const sandboxes: Record<MarketplaceName, SandboxServer> = { rozetka, uzum, wildberries, ozon };
  const stockAt: Record<MarketplaceName, (i: number) => number | null> = {
    rozetka: (i) => rozetka.stockOf(idsOf(i).rozetka.rzItemId),
    uzum: (i) => uzum.stockOf(idsOf(i).uzum.skuId),
    wildberries: (i) => wildberries.stockOf(idsOf(i).wildberries.barcode, WB_WAREHOUSE),
    ozon: (i) => ozon.stockOf(idsOf(i).ozon.offerId, OZON_WAREHOUSE),
  };
  let hub: Awaited<ReturnType<typeof startHubProcess>> | null = null;
  try {
    // ---- the sandboxes' catalogues ----
    for (let i = 0; i < products; i += 1) {
      const ids = idsOf(i);
      rozetka.addProduct({ name: ids.sku, itemId: ids.rozetka.itemId, rzItemId: ids.rozetka.rzItemId, article: ids.sku, price: 15_000 });
      uzum.addProduct({ title: ids.sku, price: 15_000, skuId: ids.uzum.skuId, barcode: ids.uzum.barcode, sellerItemCode: ids.sku });
      wildberries.addProduct({
        nmId: ids.wildberries.nmId,
        vendorCode: ids.sku,
        sizes: [{ chrtId: ids.wildberries.chrtId, barcodes: [ids.wildberries.barcode] }],
        price: 1_500,
      });
      ozon.addProduct({ offerId: ids.ozon.offerId, name: ids.sku, productId: ids.ozon.productId });
      if ((i + 1) % 1000 === 0) log(`  sandbox catalogues: ${i + 1}/${products}`);
    }

    const settings = { enabled: true, pushIntervalSeconds, ordersIntervalMinutes: 24 * 60 };
    hub = await startHubProcess(server.uri, 'bench_marketplaces', dataDir, {
      HUB_DEVICE_EMULATORS: 'off',
      HUB_INTEGRATION_ROZETKA: JSON.stringify({ baseUrl: rozetka.url, credentials: ROZETKA_SANDBOX_CREDENTIALS, settings }),
      HUB_INTEGRATION_UZUM: JSON.stringify({ baseUrl: uzum.url, credentials: UZUM_SANDBOX_CREDENTIALS, settings }),
      HUB_INTEGRATION_WILDBERRIES: JSON.stringify({
        baseUrl: wildberries.url,
        credentials: WILDBERRIES_SANDBOX_CREDENTIALS,
        settings: { ...settings, pricesBaseUrl: wildberries.url, contentBaseUrl: wildberries.url, warehouseId: WB_WAREHOUSE },
      }),
      HUB_INTEGRATION_OZON: JSON.stringify({
        baseUrl: ozon.url,
        credentials: OZON_SANDBOX_CREDENTIALS,
        settings: { ...settings, warehouseId: OZON_WAREHOUSE },
      }),
    });
    const baseUrl = hub.url;
    const request = async <T>(method: string, pathname: string, body?: unknown, key?: string): Promise<T> => {
      const response = await fetch(`${baseUrl}${pathname}`, {
        method,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(key ? { 'idempotency-key': key } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (response.status >= 300) throw new Error(`${method} ${pathname} answered ${response.status}: ${text}`);
      return (text ? JSON.parse(text) : null) as T;
    };
    interface View {
      name: MarketplaceName;
      listings: number;
      pending: { stock: number; prices: number };
      push: { calls: number; lastError: string | null };
    }
    /** the hub's own view (slow on the embedded database: its counts scan the listings) */
    const views = async () => (await request<{ marketplaces: View[] }>('GET', '/admin/marketplaces')).marketplaces;

    // ---- N products, listed everywhere ----
    const available: number[] = Array.from({ length: products }, (_, i) => 20 + (i % 80));
    const loadStarted = performance.now();
    let loaded = 0;
    const logEvery = Math.min(1000, Math.ceil(products / 10));
    await forEachConcurrently(products, concurrency, async (i) => {
      const ids = idsOf(i);
      await request('PUT', `/admin/products/${ids.sku}`, {
        name: ids.sku,
        price: PRICE,
        stock: available[i],
        marketplaces: {
          rozetka: { itemId: ids.rozetka.rzItemId },
          uzum: { skuId: ids.uzum.skuId, barcode: ids.uzum.barcode },
          wildberries: { nmId: ids.wildberries.nmId, barcode: ids.wildberries.barcode, warehouseId: WB_WAREHOUSE },
          ozon: { offerId: ids.ozon.offerId, productId: ids.ozon.productId, warehouseId: OZON_WAREHOUSE },
        },
      });
      loaded += 1;
      if (loaded % logEvery === 0) log(`  products listed: ${loaded}/${products} (${round((performance.now() - loadStarted) / 1000)} s)`);
    });
    const loadSeconds = round((performance.now() - loadStarted) / 1000);
    log(`${products} products listed in ${loadSeconds} s; waiting for the first push of every listing…`);

    // ---- the first push: every listing told its stock (looked at in the sandboxes: the hub's own counts scan) ----
    const firstPushStarted = performance.now();
    for (let round_ = 1; ; round_ += 1) {
      const told = MARKETPLACES.map((name) => available.filter((units, i) => stockAt[name](i) === units).length);
      if (told.every((n) => n === products)) break;
      if (round_ % 10 === 0) log(`  first push: ${MARKETPLACES.map((name, m) => `${name} ${told[m]}/${products}`).join(', ')}`);
      if (performance.now() - firstPushStarted > 30 * 60_000) throw new Error('the first push did not end within 30 minutes');
      await sleep(1_000);
    }
    const firstPushSeconds = round((performance.now() - firstPushStarted) / 1000);
    const lastOzonStock = ozon.requests({ path: '/v2/products/stocks' }).at(-1);
    const ozonWait = Math.max(0, (lastOzonStock ? Date.parse(lastOzonStock.at) : 0) + OZON_LIMITS.stockPairIntervalMs + 1_000 - Date.now());
    log(`first push over in ${firstPushSeconds} s; ${round(ozonWait / 1000)} s more for Ozon's one stock update per product in 30 s`);
    await sleep(ozonWait);

    // ---- the measured minutes ----
    const seen = new WeakSet<RecordedRequest>();
    for (const sandbox of Object.values(sandboxes)) for (const r of sandbox.requests()) seen.add(r);
    const writes = Object.fromEntries(MARKETPLACES.map((name) => [name, [] as number[]])) as Record<MarketplaceName, number[]>;
    const others = Object.fromEntries(MARKETPLACES.map((name) => [name, [] as number[]])) as Record<MarketplaceName, number[]>;
    const changes: Change[] = [];
    const pending = Object.fromEntries(MARKETPLACES.map((name) => [name, new Set<Change>()])) as Record<MarketplaceName, Set<Change>>;
    const lastLook = Object.fromEntries(MARKETPLACES.map((name) => [name, 0])) as Record<MarketplaceName, number>;
    const look = () => {
      const now = Date.now();
      for (const name of MARKETPLACES) {
        let wrote = false;
        for (const r of sandboxes[name].requests()) {
          if (seen.has(r)) continue;
          seen.add(r);
          if (WRITES[name](r)) {
            writes[name].push(Date.parse(r.at));
            wrote = true;
          } else others[name].push(Date.parse(r.at));
        }
        if (!wrote && now - lastLook[name] < 5_000) continue;
        lastLook[name] = now;
        for (const change of pending[name]) {
          if (stockAt[name](change.index) !== change.expected) continue;
          change.arrived[name] = now - change.at;
          pending[name].delete(change);
        }
      }
    };
    const looking = setInterval(look, POLL_MS);

    const hubCallsBefore = new Map((await views()).map((v) => [v.name, v.push.calls]));
    // each product at most once: a shuffled order of the products
    const order = Array.from({ length: products }, (_, i) => i);
    for (let k = order.length - 1; k > 0; k -= 1) {
      const j = Math.floor(Math.random() * (k + 1));
      [order[k], order[j]] = [order[j] ?? 0, order[k] ?? 0];
    }
    const total = changesPerMinute * minutes;
    const spacingMs = 60_000 / changesPerMinute;
    const runStarted = Date.now();
    const answerMs: number[] = [];
    let failures = 0;
    let sales = 0;
    let edits = 0;
    const inFlight = new Set<Promise<void>>();
    log(`changing ${total} products, one every ${round(spacingMs)} ms…`);
    for (let k = 0; k < total; k += 1) {
      const due = runStarted + k * spacingMs;
      if (due > Date.now()) await sleep(due - Date.now());
      while (inFlight.size >= 32) await Promise.race(inFlight);
      const index = order[k] ?? 0;
      const sku = idsOf(index).sku;
      const before = available[index] ?? 0;
      const kind: Change['kind'] = k % 2 === 0 ? 'edit' : 'sale';
      const expected = kind === 'sale' ? before - 1 : before + (k % 4 === 0 ? 7 : -3);
      available[index] = expected;
      const change: Change = { index, kind, at: Date.now(), answeredAt: null, expected, arrived: {} };
      changes.push(change);
      for (const name of MARKETPLACES) pending[name].add(change);
      const job = (async () => {
        if (kind === 'edit') {
          edits += 1;
          await request('PUT', `/admin/products/${sku}`, { name: sku, price: PRICE, stock: expected });
        } else {
          sales += 1;
          let sale = await request<{ id: string; state: string }>(
            'POST',
            '/pos/sales',
            {
              store: 'main',
              register: `till-${k % 4}`,
              cashier: 'bench',
              currency: 'UZS',
              customer: null,
              items: [{ sku, name: sku, qty: 1, price: PRICE }],
              payment: { method: 'cash' },
            },
            // the sale's id is made from the key's first characters: the part that differs goes first
            `mp-${k}-${runStarted}`,
          );
          // answered at its bound before the stock was held: a till waits for it
          while (sale.state === 'reservingStock') {
            await sleep(50);
            sale = await request('GET', `/pos/sales/${sale.id}`);
          }
          if (!sale.state.startsWith('paying')) throw new Error(`sale of ${sku} ended ${sale.state}`);
          change.answeredAt = Date.now();
          await request('POST', `/pos/sales/${sale.id}/paid`, {});
        }
        change.answeredAt ??= Date.now();
        answerMs.push(change.answeredAt - change.at);
      })()
        .catch((error: unknown) => {
          failures += 1;
          log(`  change ${k} (${kind} of ${sku}) failed: ${error instanceof Error ? error.message : String(error)}`);
        })
        .finally(() => inFlight.delete(job));
      inFlight.add(job);
      if ((k + 1) % changesPerMinute === 0) log(`  minute ${(k + 1) / changesPerMinute}: ${k + 1} changes made`);
    }
    await Promise.all(inFlight);
    const changesEnded = Date.now();

    // ---- until every change arrived everywhere (or a push interval and a minute more) ----
    const deadline = changesEnded + (pushIntervalSeconds + 60) * 1000;
    for (let second = 1; MARKETPLACES.some((name) => pending[name].size > 0) && Date.now() < deadline; second += 1) {
      await sleep(1_000);
      if (second % 10 === 0) log(`  not arrived yet: ${MARKETPLACES.map((name) => `${name} ${pending[name].size}`).join(', ')}`);
    }
    clearInterval(looking);
    for (const name of MARKETPLACES) lastLook[name] = 0;
    look();
    const runEnded = Date.now();
    const hubCallsAfter = new Map((await views()).map((v) => [v.name, v.push.calls]));

    // ---- figures ----
    const minuteOf = (t: number) => Math.min(minutes, Math.floor((t - runStarted) / 60_000));
    const summaries = {} as Record<MarketplaceName, MarketplaceSummary>;
    for (const name of MARKETPLACES) {
      const inRun = writes[name].filter((t) => t >= runStarted && t <= runEnded);
      const byMinute = Array.from({ length: minutes + 1 }, () => 0);
      for (const t of inRun) byMinute[minuteOf(t)] = (byMinute[minuteOf(t)] ?? 0) + 1;
      const delays = changes.flatMap((c) => (c.arrived[name] === undefined ? [] : [c.arrived[name] / 1000]));
      const delay = stats(delays, 1);
      summaries[name] = {
        batch: batch[name],
        minimumCallsPerMinute: Math.ceil(changesPerMinute / batch[name]),
        callsPerMinute: round(inRun.length / minutes),
        calls: inRun.length,
        callsByMinute: byMinute,
        hubCountedCalls: (hubCallsAfter.get(name) ?? 0) - (hubCallsBefore.get(name) ?? 0),
        otherCalls: others[name].filter((t) => t >= runStarted && t <= runEnded).length,
        delaySeconds: { count: delay.count, p50: delay.p50, p99: delay.p99, max: delay.max },
        notArrived: pending[name].size,
      };
    }
    const answers = stats(answerMs, (changesEnded - runStarted) / 1000);
    const summary = {
      machine,
      products,
      minutes,
      changeRate,
      changesPerMinute,
      pushIntervalSeconds,
      changes: { made: changes.length, sales, adminEdits: edits, failed: failures },
      /** ms from a change's request to the hub's answer (a sale: until its stock was held) */
      hubAnswerMs: { p50: answers.p50, p99: answers.p99, max: answers.max },
      loadSeconds,
      firstPushSeconds,
      runSeconds: round((runEnded - runStarted) / 1000),
      totalSeconds: round((performance.now() - started) / 1000),
      marketplaces: summaries,
    };

    const table = [
      `marketplace   batch  min calls/min  calls/min  (hub counted)  delay p50 / p99 / max s      not arrived`,
      ...MARKETPLACES.map((name) => {
        const s = summaries[name];
        return `${name.padEnd(12)}  ${String(s.batch).padStart(5)}  ${String(s.minimumCallsPerMinute).padStart(13)}  ${String(s.callsPerMinute).padStart(9)}  ${`(${s.hubCountedCalls})`.padStart(13)}  ${`${s.delaySeconds.p50} / ${s.delaySeconds.p99} / ${s.delaySeconds.max}`.padStart(22)}  ${String(s.notArrived).padStart(15)}`;
      }),
      `${changes.length} changes (${sales} sales, ${edits} admin edits, ${failures} failed); hub answered p50 ${answers.p50} ms, p99 ${answers.p99} ms; listed ${products} in ${loadSeconds} s, first push ${firstPushSeconds} s, run ${summary.runSeconds} s, total ${summary.totalSeconds} s`,
    ];
    process.stdout.write(`${table.join('\n')}\n${JSON.stringify(summary)}\n`);
    if (values.json) await writeFile(values.json, JSON.stringify(summary, null, 2));
  } finally {
    await hub?.stop();
    for (const sandbox of Object.values(sandboxes)) await sandbox.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
