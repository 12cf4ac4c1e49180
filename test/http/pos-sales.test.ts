import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JOWI_SANDBOX_CREDENTIALS, startJowiSandbox, type JowiSandbox } from '../../actors/platform/connectors/jowi/sandbox.ts';
import { EscPosEmulator, receiptText } from '../../hardware/emulators/escpos-emulator.ts';
import { ShtrihMEmulator } from '../../hardware/emulators/shtrih-m-emulator.ts';
import payment from '../../machines/payment.ts';
import posSale from '../../machines/pos-sale.ts';
import printJob from '../../machines/print-job.ts';
import product from '../../machines/product.ts';
import receipt from '../../machines/receipt.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { printedReceipt } from '../support/fiscal.ts';
import { hubClient, hubDatabases, startHubProcess, TEST_ADMIN_KEY, type HubProcess } from '../support/hub-process.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';

/**
 * Sales at the till (seed 004) end to end, over HTTP against a hub process: a real register and slip printer
 * (emulators on socat pairs), JOWi Club as its sandbox — in this process, so that it lives on when the hub is
 * killed. JOWi's customers: c-1001 (phone 998901234567, silver 5 %, 12 000 soums of bonus), c-1003 (card
 * JC-0003-0003, blocked).
 */

let dir = '';
let register: ShtrihMEmulator;
let printer: EscPosEmulator;
let jowi: JowiSandbox;
let hub: HubProcess;
let client: ReturnType<typeof hubClient>;
const dbName = uniqueDatabaseName('pos');
let dataDir = '';

const hubEnv = () => ({
  HUB_FISCAL_POLICY: JSON.stringify({ retryDelayMs: 100, maxRetryDelayMs: 500, alertAfterMs: 1_000 }),
  HUB_POS_POLICY: JSON.stringify({ stores: { main: { title: 'Чайхона №1', fiscalRegister: 'main', receiptPrinter: 'slips' } } }),
  HUB_INTEGRATION_JOWI: JSON.stringify({
    baseUrl: jowi.url,
    credentials: JOWI_SANDBOX_CREDENTIALS,
    settings: { lookupTimeoutMs: 800, accrualRetryBaseMs: 200, accrualRetryMaxMs: 1_000, http: { timeoutMs: 1_000, retries: 0 } },
  }),
});

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pos-e2e-'));
  dataDir = path.join(dir, 'hub');
  register = await ShtrihMEmulator.start({ dir, name: 'till' });
  printer = await EscPosEmulator.start({ dir, name: 'slips' });
  jowi = await startJowiSandbox();
  hub = await startHubProcess({ dbName, dataDir, env: hubEnv() });
  client = hubClient(hub.url);
  const fiscal = await client.call('PUT', '/admin/devices/main', {
    kind: 'fiscal-register',
    driver: 'shtrih-m',
    path: register.hostPath,
    operatorPassword: 1,
    adminPassword: 30,
  });
  assert.equal(fiscal.status, 201, JSON.stringify(fiscal.body));
  const slips = await client.call('PUT', '/admin/devices/slips', { kind: 'receipt-printer', driver: 'escpos', path: printer.hostPath });
  assert.equal(slips.status, 201, JSON.stringify(slips.body));
});

after(async () => {
  await hub?.terminate();
  await jowi?.close();
  await register?.stop();
  await printer?.stop();
  await rm(dir, { recursive: true, force: true });
  await assertHubJournalsReplay(hubDatabases(), [posSale, payment, product, receipt, printJob]);
});

let skuCount = 0;
async function stocked(price: number, stock: number): Promise<string> {
  skuCount += 1;
  const sku = `TEA-${skuCount}`;
  const put = await client.call('PUT', `/admin/products/${sku}`, { name: 'Чай', price, stock });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  return sku;
}

const saleBody = (sku: string, overrides: Record<string, unknown> = {}) => ({
  store: 'main',
  register: 'till-1',
  cashier: 'Олена',
  currency: 'UZS',
  customer: { phone: '+998901234567' },
  items: [{ sku, name: 'Чай', qty: 2, price: 1_500_000 }],
  payment: { method: 'cash' },
  ...overrides,
});

type Sale = Record<string, unknown> & {
  id: string;
  state: string;
  total: number;
  discount: number;
  loyalty: { status: string; warning: string | null; customer: { id: string } | null };
  accrual: { status: string; bonusBalance: number | null } | null;
  receipt: { id: string } | null;
  tags: string[];
};

const sell = async (body: unknown, key: string) => {
  const started = Date.now();
  const answer = await client.post('/pos/sales', body, { 'Idempotency-Key': key });
  return { ...answer, ms: Date.now() - started, sale: answer.body as unknown as Sale };
};

const saleOf = async (id: string) => (await client.get(`/pos/sales/${id}`)).body as unknown as Sale;
const completed = (id: string) =>
  eventually(
    async () => {
      const sale = await saleOf(id);
      return sale.state === 'completed' ? sale : undefined;
    },
    // the hub is shared with the 100-sale rush, whose retried effects may still be running
    120_000,
    `sale ${id} completed`,
  );

test('a cash sale with the loyalty discount: receipt on the register, the accrual at JOWi once, the slip with the new balance', async () => {
  const sku = await stocked(1_500_000, 10);
  const { status, sale, ms } = await sell(saleBody(sku), 'sale-1');
  assert.equal(status, 201, JSON.stringify(sale));
  assert.ok(ms < 3_000, `answered in ${ms} ms`);
  assert.equal(sale.state, 'paying.atCounter');
  assert.equal(sale.loyalty.status, 'applied');
  assert.equal(sale.discount, 150_000, '5 % of 30 000 soums');
  assert.equal(sale.total, 2_850_000);

  const short = await client.post(`/pos/sales/${sale.id}/paid`, { tendered: 100_000 });
  assert.equal(short.status, 409, 'less cash than the total is refused');
  const paid = await client.post(`/pos/sales/${sale.id}/paid`, { tendered: 3_000_000 });
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal(paid.body.change, 150_000);

  const done = await completed(sale.id);
  assert.equal(done.accrual?.status, 'delivered');
  const printed = await printedReceipt(client, String(done.receipt?.id));
  assert.equal(printed.state, 'printed');
  const atJowi = jowi.transactions().filter((t) => t.externalId === sale.id);
  assert.equal(atJowi.length, 1, 'one accrual at JOWi');
  assert.equal(atJowi[0]?.customerId, 'c-1001');
  const slip = await eventually(
    () => printer.receipts.map((r) => receiptText(r)).find((text) => text.includes(`Покупка ${sale.id}`)),
    30_000,
    'the slip',
  );
  assert.match(slip, /Баланс бонусов: \d+\.\d\d сум/);
  assert.match(slip, /Скидка: 1500\.00 сум/);

  // the same key again: the same sale, JOWi not asked again; another body under the key: 422
  const asked = jowi.requests({ path: '/v3/club/customers' }).length;
  const again = await sell(saleBody(sku), 'sale-1');
  assert.equal(again.status, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.sale.id, sale.id);
  assert.equal(jowi.requests({ path: '/v3/club/customers' }).length, asked);
  const other = await sell(saleBody(sku, { cashier: 'Другой' }), 'sale-1');
  assert.equal(other.status, 422);
});

test('JOWi hanging: the sale answers within 3 s without the discount, with a warning, listed as offline; its accrual is delivered once after a hub restart when JOWi returns', async () => {
  const sku = await stocked(1_500_000, 10);
  jowi.mode('hang');
  const { sale, ms } = await sell(saleBody(sku), 'sale-offline');
  assert.ok(ms < 3_000, `answered in ${ms} ms`);
  assert.equal(sale.loyalty.status, 'offline');
  assert.match(sale.loyalty.warning ?? '', /JOWi/);
  assert.equal(sale.discount, 0);
  assert.equal(sale.total, 3_000_000);
  assert.ok(sale.tags.includes('loyalty-offline'));
  const listed = (await client.get('/pos/sales?loyalty=offline')).body.sales as Array<{ id: string }>;
  assert.ok(
    listed.some((s) => s.id === sale.id),
    'the console lists it among the offline sales',
  );

  await client.post(`/pos/sales/${sale.id}/paid`, {});
  const done = await completed(sale.id);
  assert.equal(done.accrual?.status, 'queued');

  // the hub dies while JOWi is away; a new one on the same database delivers when JOWi is back
  await hub.crash();
  hub = await startHubProcess({ dbName, dataDir, env: hubEnv() });
  client = hubClient(hub.url);
  jowi.mode('up');
  await eventually(
    async () => {
      await client.post('/admin/jobs/loyalty-accruals/run', {});
      return jowi.transactions().some((t) => t.externalId === sale.id);
    },
    60_000,
    'the accrual delivered',
  );
  await client.post('/admin/jobs/loyalty-accruals/run', {});
  assert.equal(jowi.transactions().filter((t) => t.externalId === sale.id).length, 1, 'once');
  assert.deepEqual(jowi.violations(), []);
});

test('a card JOWi refuses: no discount, a warning, no accrual; an unknown store or Payme in a sum sale paid in hryvnias is a 400', async () => {
  const sku = await stocked(1_500_000, 10);
  const { sale } = await sell(saleBody(sku, { customer: { card: 'JC-0003-0003' } }), 'sale-blocked');
  assert.equal(sale.loyalty.status, 'refused');
  assert.equal(sale.discount, 0);
  assert.ok(sale.loyalty.warning);
  await client.post(`/pos/sales/${sale.id}/paid`, { tendered: 3_000_000 });
  const done = await completed(sale.id);
  assert.equal(done.accrual?.status, 'none');
  assert.equal(jowi.transactions().filter((t) => t.externalId === sale.id).length, 0);

  // keys that differ only after their first 40 characters (a till's prefix, then a counter) are two sales
  const prefix = 'till-07/2026-12-03T10:15:00.000Z/shift-0001/';
  const [first, second] = [await sell(saleBody(sku), `${prefix}a`), await sell(saleBody(sku), `${prefix}b`)];
  assert.deepEqual([first.status, second.status], [201, 201], JSON.stringify(second.body));
  assert.notEqual(first.sale.id, second.sale.id);

  assert.equal((await sell(saleBody(sku, { store: 'nowhere' }), 'sale-bad-1')).status, 400);
  const uahPayme = await sell(saleBody(sku, { currency: 'UAH', payment: { method: 'payme' } }), 'sale-bad-2');
  assert.equal(uahPayme.status, 400);
  assert.match(JSON.stringify(uahPayme.body), /payme takes UZS/);
});

test('a return: money back at the till, a return receipt, the goods on the shelf again, the bonuses taken back at JOWi', async () => {
  const sku = await stocked(1_500_000, 10);
  const { sale } = await sell(saleBody(sku), 'sale-return');
  await client.post(`/pos/sales/${sale.id}/paid`, {});
  await completed(sale.id);
  await printedReceipt(client, String((await saleOf(sale.id)).receipt?.id));

  const back = await client.post(
    `/pos/sales/${sale.id}/return`,
    { lines: [{ sku, qty: 1 }], reason: 'брак' },
    { 'Idempotency-Key': 'ret-1' },
  );
  assert.equal(back.status, 200, JSON.stringify(back.body));
  const returned = await eventually(
    async () => {
      const now = await saleOf(sale.id);
      const entry = (now.returns as Array<{ receiptId: string | null; amount: number }>)[0];
      return now.state === 'completed' && entry?.receiptId ? { now, entry } : undefined;
    },
    60_000,
    'the return processed',
  );
  assert.equal(returned.entry.amount, 1_425_000, 'one tea at the price charged (5 % off)');
  const returnReceipt = await printedReceipt(client, String(returned.entry.receiptId));
  assert.equal(returnReceipt.kind, 'return');
  assert.equal(returnReceipt.total, 1_425_000);
  const shelf = (await client.get(`/admin/products/${sku}`)).body;
  assert.deepEqual([shelf.stock, shelf.sold], [9, 1], 'two sold, one back');
  await eventually(
    async () => {
      await client.post('/admin/jobs/loyalty-accruals/run', {});
      return jowi.transactions().find((t) => t.externalId === sale.id)?.refunded === true;
    },
    60_000,
    'the bonuses refunded at JOWi',
  );
  const tooMany = await client.post(
    `/pos/sales/${sale.id}/return`,
    { lines: [{ sku, qty: 5 }], reason: 'x' },
    { 'Idempotency-Key': 'ret-2' },
  );
  assert.equal(tooMany.status, 409);
});

test('100 sales at once for the last 10 units of one product: exactly 10 are made, the others rejected out of stock', async () => {
  const sku = await stocked(500_000, 10);
  const answers = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      sell(saleBody(sku, { customer: null, items: [{ sku, name: 'Чай', qty: 1, price: 500_000 }] }), `rush-${i}`),
    ),
  );
  assert.ok(
    answers.every((a) => a.status === 201),
    JSON.stringify(answers.find((a) => a.status !== 201)?.body),
  );
  const finals = await Promise.all(
    answers.map((a) =>
      eventually(
        async () => {
          const s = await saleOf(a.sale.id);
          return s.state === 'reservingStock' || s.state === 'releasingRejected' ? undefined : s.state;
        },
        // a bound, not a measure (see the rush of orders in orders.test.ts)
        240_000,
        `sale ${a.sale.id} past its stock check`,
      ),
    ),
  );
  assert.equal(finals.filter((s) => s === 'paying.atCounter').length, 10);
  assert.equal(finals.filter((s) => s === 'rejected').length, 90);
  const shelf = (await client.get(`/admin/products/${sku}`)).body;
  assert.deepEqual([shelf.stock, shelf.reserved, shelf.available], [10, 10, 0]);
});

test('Payme at the till: the sale shows its link and QR code, the customer pays with the phone, the sale completes with a cashless receipt', async () => {
  const sku = await stocked(1_500_000, 10);
  const { sale } = await sell(saleBody(sku, { payment: { method: 'payme' }, customer: null }), 'sale-payme');
  assert.equal(sale.state, 'paying.online');
  const link = String(sale.paymentUrl);
  assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9+/=]+$/, 'the Payme checkout link (on the sandbox)');
  assert.match(Buffer.from(link.split('/').pop() ?? '', 'base64').toString(), new RegExp(`ac\\.order_id=${sale.id};a=3000000`));
  const qr = await fetch(`${hub.url}${String(sale.paymentQr)}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
  assert.equal(qr.status, 200);
  assert.equal(qr.headers.get('content-type'), 'image/svg+xml');

  const payme = String((await client.get('/admin/integrations/payme')).body.baseUrl);
  const paid = await fetch(`${payme}/__sandbox/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ link }),
  });
  assert.equal(paid.status, 200, await paid.clone().text());
  const done = await completed(sale.id);
  assert.equal((done.paid as { paymentId: string }).paymentId, `${sale.id}-P1`);
  const printed = (await printedReceipt(client, String(done.receipt?.id))) as { payments: { card: number; cash: number } };
  assert.deepEqual(printed.payments, { cash: 0, card: 3_000_000 }, 'a cashless receipt');
  const violations = (await (await fetch(`${payme}/__sandbox/violations`)).json()) as unknown;
  assert.deepEqual(violations, { violations: [] });
});

test('bonuses pay part of a sale only with a live answer, bounded by the balance and the share; JOWi books them with the accrual', async () => {
  const sku = await stocked(1_500_000, 10);
  // c-1002: gold, 10 %, 50 000 soums of bonus; the share allowed is half of what is left after the discount
  const { sale } = await sell(saleBody(sku, { customer: { phone: '+998935551122' }, useBonus: 10_000_000 }), 'sale-bonus');
  assert.equal(sale.discount, 300_000);
  assert.equal(sale.bonusSpent, 1_350_000, 'half of 27 000 soums');
  assert.equal(sale.total, 1_350_000);
  await client.post(`/pos/sales/${sale.id}/paid`, {});
  const done = await completed(sale.id);
  assert.equal(done.accrual?.status, 'delivered');
  const booked = jowi.transactions().find((t) => t.externalId === sale.id);
  assert.deepEqual([booked?.bonusSpent, booked?.discount, booked?.amount], [1_350_000, 300_000, 1_350_000]);

  jowi.mode('hang');
  try {
    const offline = await sell(saleBody(sku, { customer: { phone: '+998935551122' }, useBonus: 10_000_000 }), 'sale-bonus-offline');
    assert.equal(offline.sale.loyalty.status, 'offline');
    assert.deepEqual([offline.sale.discount, offline.sale.bonusSpent, offline.sale.total], [0, 0, 3_000_000], 'never offline');
  } finally {
    jowi.mode('up');
  }
});
