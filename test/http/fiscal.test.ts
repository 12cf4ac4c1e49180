import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import order from '../../machines/order.ts';
import payment from '../../machines/payment.ts';
import product from '../../machines/product.ts';
import receipt from '../../machines/receipt.ts';
import { orderBody, payOnPage, waitForOrder } from '../support/shop.ts';
import { EscPosEmulator, receiptText } from '../../hardware/emulators/escpos-emulator.ts';
import { ShtrihMEmulator } from '../../hardware/emulators/shtrih-m-emulator.ts';
import printJob from '../../machines/print-job.ts';
import { waitForAlerts } from '../support/alerts.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { printedReceipt } from '../support/fiscal.ts';
import { hubClient, hubDatabases, startHubProcess, type HubProcess } from '../support/hub-process.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';

/**
 * Devices and fiscal receipts over HTTP: a hub process, and a register
 * emulator in this process on a real PTY the hub opens.
 */

let dir = '';
let emulator: ShtrihMEmulator;
let slips: EscPosEmulator;
let hub: HubProcess;
let client: ReturnType<typeof hubClient>;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fiscal-e2e-'));
  emulator = await ShtrihMEmulator.start({ dir, name: 'till' });
  slips = await EscPosEmulator.start({ dir, name: 'slips' });
  hub = await startHubProcess({
    dbName: uniqueDatabaseName('fiscal'),
    env: {
      HUB_FISCAL_POLICY: JSON.stringify({ retryDelayMs: 100, maxRetryDelayMs: 500, alertAfterMs: 1_000 }),
      HUB_ORDER_POLICY: JSON.stringify({ fiscalRegister: 'main', packingPrinter: 'slips' }),
    },
  });
  client = hubClient(hub.url);
});

after(async () => {
  await hub?.terminate();
  await emulator?.stop();
  await slips?.stop();
  await rm(dir, { recursive: true, force: true });
  await assertHubJournalsReplay(hubDatabases(), [receipt, order, payment, product, printJob]);
});

const printed = (id: string) => printedReceipt(client, id);

const sale = { items: [{ name: 'Чашка', qty: 2, price: 25_000 }], payments: { cash: 60_000 }, cashier: 'Олена' };

test('devices: an admin configures a register (fields of another kind refused), tests it, and sees its health; viewers only read', async () => {
  const printerFields = await client.call('PUT', '/admin/devices/main', {
    kind: 'fiscal-register',
    driver: 'shtrih-m',
    path: emulator.hostPath,
    codePage: 17,
  });
  assert.equal(printerFields.status, 400);
  assert.match(JSON.stringify(printerFields.body), /codePage/);
  const badName = await client.call('PUT', '/admin/devices/Main%20Till', {
    kind: 'fiscal-register',
    driver: 'shtrih-m',
    path: emulator.hostPath,
  });
  assert.equal(badName.status, 400);

  const created = await client.call('PUT', '/admin/devices/main', {
    kind: 'fiscal-register',
    driver: 'shtrih-m',
    path: emulator.hostPath,
    operatorPassword: 1,
    adminPassword: 30,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.passwords, 'set');
  assert.ok(!JSON.stringify(created.body).includes('adminPassword'), 'passwords are never shown');

  const tested = await client.post('/admin/devices/main/test', {});
  assert.equal(tested.status, 200, JSON.stringify(tested.body));
  assert.equal(tested.body.ok, true);
  assert.equal((tested.body.status as { shift: string }).shift, 'closed');

  const listed = (await client.get('/admin/devices')).body.devices as Array<{ name: string; health: { online: boolean; shift: string } }>;
  assert.deepEqual(
    listed.map((d) => [d.name, d.health.online, d.health.shift]),
    [['main', true, 'closed']],
  );

  const viewerKey = await client.post('/admin/api-keys', { name: 'fiscal-viewer', role: 'viewer' });
  const viewer = hubClient(hub.url, String(viewerKey.body.key));
  assert.equal((await viewer.get('/admin/devices')).status, 200);
  assert.equal(
    (await viewer.call('PUT', '/admin/devices/main', { kind: 'fiscal-register', driver: 'shtrih-m', path: '/dev/x' })).status,
    403,
  );

  const audit = await client.get('/admin/audit?operation=device.created');
  assert.equal((audit.body.entries as Array<{ details: { device: string } }>)[0]?.details.device, 'main');
});

test('a receipt is accepted with 202 and printed once; its key answers the same receipt; the register numbers it', async () => {
  const accepted = await client.post('/fiscal/receipts', sale, { 'Idempotency-Key': 'till-1' });
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  assert.equal(accepted.headers.get('location'), `/fiscal/receipts/${String(accepted.body.id)}`);
  const again = await client.post('/fiscal/receipts', sale, { 'Idempotency-Key': 'till-1' });
  assert.equal(again.body.id, accepted.body.id);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  const otherBody = await client.post('/fiscal/receipts', { ...sale, cashier: 'Іван' }, { 'Idempotency-Key': 'till-1' });
  assert.equal(otherBody.status, 422, 'the key of another receipt');

  const done = await printed(String(accepted.body.id));
  const sales = emulator.documents().filter((d) => d.kind === 'sale');
  assert.equal(sales.length, 1);
  assert.deepEqual([done.documentNumber, done.total, done.change], [sales[0]?.number, 50_000, 10_000]);
  const listed = (await client.get('/fiscal/receipts?state=printed')).body.receipts as Array<{ id: string }>;
  assert.ok(listed.some((r) => r.id === accepted.body.id));
});

test('bad receipts are refused before anything is stored: no key, payments short, a card paying more than due, an unknown register', async () => {
  const noKey = await client.post('/fiscal/receipts', sale);
  assert.equal(noKey.status, 400);
  const short = await client.post('/fiscal/receipts', { ...sale, payments: { cash: 49_999 } }, { 'Idempotency-Key': 'bad-1' });
  assert.equal(short.status, 400);
  assert.match(JSON.stringify(short.body), /do not cover the total 50000/);
  const card = await client.post('/fiscal/receipts', { ...sale, payments: { card: 60_000 } }, { 'Idempotency-Key': 'bad-2' });
  assert.equal(card.status, 400);
  const unknownField = await client.post('/fiscal/receipts', { ...sale, discount: 5 }, { 'Idempotency-Key': 'bad-3' });
  assert.equal(unknownField.status, 400);
  const nowhere = await client.post('/fiscal/receipts', { ...sale, register: 'back-office' }, { 'Idempotency-Key': 'bad-4' });
  assert.equal(nowhere.status, 404);
  const returnOfNothing = await client.post(
    '/fiscal/receipts',
    { ...sale, kind: 'return', returnOf: 'R-none' },
    { 'Idempotency-Key': 'bad-5' },
  );
  assert.equal(returnOfNothing.status, 400);
  assert.equal(emulator.documents().filter((d) => d.kind === 'sale').length, 1, 'nothing more was printed');
});

test('a return references a printed receipt and prints as a sale return', async () => {
  const original = await client.post('/fiscal/receipts', sale, { 'Idempotency-Key': 'till-2' });
  await printed(String(original.body.id));
  const back = await client.post(
    '/fiscal/receipts',
    { ...sale, kind: 'return', returnOf: original.body.id, payments: { cash: 50_000 } },
    { 'Idempotency-Key': 'till-2-back' },
  );
  assert.equal(back.status, 202, JSON.stringify(back.body));
  const done = await printed(String(back.body.id));
  assert.equal(done.returnOf, original.body.id);
  assert.deepEqual(emulator.documents().at(-1)?.kind, 'return');
});

test('out of paper: the receipt waits, the device health says so, an alert is raised after a while, and it prints by itself when paper is back', async () => {
  emulator.setPaper('out');
  const accepted = await client.post('/fiscal/receipts', sale, { 'Idempotency-Key': 'till-3' });
  const id = String(accepted.body.id);
  const alerted = await waitForAlerts(client, 'actor_needs_attention', `receipt/${id}`);
  assert.equal(alerted.length, 1, 'one alert for the waiting receipt');
  const waiting = await client.get(`/fiscal/receipts/${id}`);
  assert.match(String(waiting.body.state), /^waiting/);
  assert.equal((waiting.body.fault as { code: string }).code, 'paper_out');
  const health = (await client.get('/admin/devices/main')).body.health as { paper: string };
  assert.equal(health.paper, 'out');
  const sold = emulator.documents().filter((d) => d.kind === 'sale').length;
  emulator.setPaper('present');
  await printed(id);
  assert.equal(emulator.documents().filter((d) => d.kind === 'sale').length, sold + 1);
});

test('reports: an X-report prints the shift so far; a Z-report waits for no receipt (409 while one holds the register); the daily job closes open shifts', async () => {
  const x = await client.post('/fiscal/registers/main/x-report', {});
  assert.equal(x.status, 200, JSON.stringify(x.body));
  assert.equal(emulator.documents().at(-1)?.kind, 'x_report');
  assert.equal(x.body.documentNumber, emulator.documents().at(-1)?.number);

  emulator.setCover(true);
  const held = await client.post('/fiscal/receipts', sale, { 'Idempotency-Key': 'till-4' });
  const id = String(held.body.id);
  await eventually(
    async () => ((await client.get(`/fiscal/receipts/${id}`)).body.fault as { code: string } | null)?.code === 'cover_open' || undefined,
    10_000,
    'the receipt waiting for the cover',
  );
  const refused = await client.post('/fiscal/registers/main/z-report', {});
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal((refused.body.error as { details: { holder: string } }).details.holder, id);
  emulator.setCover(false);
  await printed(id);

  const run = await client.post('/admin/jobs/fiscal-z-report/run', {});
  assert.equal(run.status, 200, JSON.stringify(run.body));
  const output = run.body.output as { closed: Array<{ register: string }>; skipped: unknown[] };
  assert.deepEqual(
    output.closed.map((c) => c.register),
    ['main'],
  );
  assert.equal(emulator.documents().at(-1)?.kind, 'z_report');
  const again = await client.post('/fiscal/registers/main/z-report', {});
  assert.equal(again.status, 409, 'no shift is open');
  const quiet = await client.post('/admin/jobs/fiscal-z-report/run', {});
  assert.deepEqual((quiet.body.output as { closed: unknown[] }).closed, []);
  const audit = await client.get('/admin/audit?operation=fiscal.z_report');
  assert.equal((audit.body.entries as unknown[]).length, 1);
});

test('an order paid online gets its fiscal receipt on the policy’s register (delivery as a line); cancelled and refunded, a return receipt', async () => {
  await client.call('PUT', '/admin/products/CUP-1', { name: 'Чашка', price: 25_000, stock: 10 });
  const printer = await client.call('PUT', '/admin/devices/slips', { kind: 'receipt-printer', driver: 'escpos', path: slips.hostPath });
  assert.equal(printer.status, 201, JSON.stringify(printer.body));
  const body = orderBody({ externalId: 'FISCAL-1', delivery: { ...orderBody().delivery, fee: 5_000 }, total: 55_000 });
  assert.equal((await client.post('/orders', body, { 'Idempotency-Key': 'fiscal-order-1' })).status, 201);
  const paying = await waitForOrder(client, 'FISCAL-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');
  await payOnPage(String(paying.paymentUrl), 'success');
  await waitForOrder(client, 'FISCAL-1', (o) => o.state === 'fulfilment.awaitingShipment', 'paid');

  const sale = await printed('R-O-FISCAL-1');
  assert.deepEqual(
    [sale.kind, sale.total, (sale.payments as { card: number }).card, (sale.source as { id: string }).id],
    ['sale', 55_000, 55_000, 'FISCAL-1'],
  );
  const onDevice = emulator.documents().find((d) => d.number === sale.documentNumber);
  assert.deepEqual(
    onDevice?.lines?.map((l) => [l.name, l.amount]),
    [
      ['Чашка', 50_000],
      ['Доставка', 5_000],
    ],
  );
  assert.deepEqual(onDevice?.payments?.card, 55_000);

  // seed 001's "send for printing": the warehouse's packing slip
  const job = await eventually(
    async () => {
      const { body: view } = await client.get('/actors/print-job/P-O-FISCAL-1-packing');
      return view.state === 'printed' ? view : undefined;
    },
    15_000,
    'the packing slip printed',
  );
  assert.equal((job.context as { printer: string }).printer, 'slips');
  const slip = receiptText(
    slips.receipts.find((r) => r.lines.some((l) => l.text.includes('FISCAL-1'))) ?? {
      lines: [],
      qrCodes: [],
      cut: null,
      drawerPulses: 0,
      codePage: 17,
    },
  );
  assert.match(slip, /Пакувальний лист/);
  assert.match(slip, /CUP-1 Чашка/);
  assert.match(slip, /Отримувач: Олена Петренко/);

  const cancelled = await client.post('/orders/FISCAL-1/cancel', { reason: 'the customer changed their mind' });
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  const back = await printed('R-O-FISCAL-1-return');
  assert.deepEqual([back.kind, back.returnOf, back.total], ['return', 'R-O-FISCAL-1', 55_000]);
  assert.equal(emulator.documents().filter((d) => d.kind === 'return' && d.total === 55_000).length, 1);
});

test('an order cancelled and refunded while its receipt waits for the register: the receipt is voided, nothing reaches fiscal memory', async () => {
  emulator.setCover(true);
  const documents = emulator.documents().length;
  await client.post('/orders', orderBody({ externalId: 'FISCAL-2' }), { 'Idempotency-Key': 'fiscal-order-2' });
  const paying = await waitForOrder(client, 'FISCAL-2', (o) => typeof o.paymentUrl === 'string', 'a payment page');
  await payOnPage(String(paying.paymentUrl), 'success');
  await eventually(
    async () =>
      ((await client.get('/fiscal/receipts/R-O-FISCAL-2')).body.fault as { code: string } | null)?.code === 'cover_open' || undefined,
    15_000,
    'the receipt waiting for the cover',
  );
  await client.post('/orders/FISCAL-2/cancel', { reason: 'changed their mind' });
  const voided = await eventually(
    async () => {
      const { body } = await client.get('/fiscal/receipts/R-O-FISCAL-2');
      return body.state === 'voided' ? body : undefined;
    },
    15_000,
    'the receipt voided',
  );
  assert.equal((voided.voidedBy as { by: string }).by, 'order/FISCAL-2');
  emulator.setCover(false);
  assert.equal((await client.get('/fiscal/receipts/R-O-FISCAL-2-return')).status, 404);
  assert.equal(emulator.documents().length, documents, 'no document printed for it');
});

test('a report on a register that cannot be reached answers 503 with the port’s code, and nothing is left holding the register', async () => {
  await emulator.unplug();
  try {
    const report = await client.post('/fiscal/registers/main/x-report', {});
    assert.equal(report.status, 503, JSON.stringify(report.body));
    assert.match(String((report.body.error as { details: { code: string } }).details.code), /^port_|^no_link$/);
    assert.equal(((await client.get('/admin/devices/main')).body.health as { online: boolean }).online, false);
  } finally {
    await emulator.plug();
  }
  const again = await eventually(
    async () => {
      const answer = await client.post('/fiscal/registers/main/x-report', {});
      return answer.status === 200 ? answer : undefined;
    },
    15_000,
    'the register back',
  );
  assert.equal(again.body.report, 'x');
});
