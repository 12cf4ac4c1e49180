import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import order from '../../machines/order.ts';
import payment from '../../machines/payment.ts';
import product from '../../machines/product.ts';
import receipt from '../../machines/receipt.ts';
import shipment from '../../machines/shipment.ts';
import { ShtrihMEmulator } from '../../hardware/emulators/shtrih-m-emulator.ts';
import { uniqueDatabaseName } from '../support/database.ts';
import { printedReceipt } from '../support/fiscal.ts';
import { hubClient, hubDatabases, startHubProcess, type HubProcess } from '../support/hub-process.ts';
import { waitForShipment } from '../support/parcels.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';
import { orderBody, waitForOrder } from '../support/shop.ts';

/**
 * A soum order paid through the hub's own Click sandbox (the integration has
 * no credentials, so the hub runs the sandbox and tells it where its
 * Prepare and Complete endpoints are), end to end: its fiscal receipt on
 * the register and its shipment.
 */

let dir = '';
let emulator: ShtrihMEmulator;
let hub: HubProcess;
let client: ReturnType<typeof hubClient>;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'click-e2e-'));
  emulator = await ShtrihMEmulator.start({ dir, name: 'till' });
  hub = await startHubProcess({
    dbName: uniqueDatabaseName('click'),
    env: {
      HUB_FISCAL_POLICY: JSON.stringify({ retryDelayMs: 100, maxRetryDelayMs: 500, alertAfterMs: 1_000 }),
      HUB_ORDER_POLICY: JSON.stringify({ fiscalRegister: 'main' }),
    },
  });
  client = hubClient(hub.url);
});

after(async () => {
  await hub?.terminate();
  await emulator?.stop();
  await rm(dir, { recursive: true, force: true });
  await assertHubJournalsReplay(hubDatabases(), [receipt, order, payment, product, shipment]);
});

async function sandbox(pathname: string, body?: unknown) {
  const base = String((await client.get('/admin/integrations/click')).body.baseUrl);
  const response = await fetch(`${base}/__sandbox${pathname}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  assert.equal(response.status, 200, JSON.stringify(json));
  return json;
}

test('a UZS order paid through the Click sandbox (Prepare → Complete against the hub) gets its fiscal receipt and its shipment', async () => {
  const register = await client.call('PUT', '/admin/devices/main', {
    kind: 'fiscal-register',
    driver: 'shtrih-m',
    path: emulator.hostPath,
    operatorPassword: 1,
    adminPassword: 30,
  });
  assert.equal(register.status, 201, JSON.stringify(register.body));
  const stocked = await client.call('PUT', '/admin/products/CUP-1', { name: 'Чашка', price: 25_000, stock: 10 });
  assert.ok(stocked.status === 201 || stocked.status === 200, JSON.stringify(stocked.body));

  const integration = (await client.get('/admin/integrations/click')).body;
  assert.equal(integration.mode, 'sandbox', JSON.stringify(integration));

  const body = orderBody({
    externalId: 'UZ-CLICK-1',
    currency: 'UZS',
    customer: { name: 'Dilnoza Karimova', phone: '+998901234567', email: 'dilnoza@example.com' },
    payment: { method: 'click' },
  });
  const accepted = await client.post('/orders', body, { 'Idempotency-Key': 'uz-click-1' });
  assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  const paying = await waitForOrder(client, 'UZ-CLICK-1', (o) => typeof o.paymentUrl === 'string', 'a Click link');
  const link = new URL(String(paying.paymentUrl));
  assert.equal(link.pathname, '/services/pay');
  assert.equal(link.searchParams.get('amount'), '500.00');
  assert.equal(link.searchParams.get('transaction_param'), 'UZ-CLICK-1');

  // the hub announced its endpoints to its sandbox once it was reachable
  const state = (await sandbox('/state')).state as { merchant: { prepareUrl: string; completeUrl: string } | null };
  assert.equal(state.merchant?.prepareUrl, `${hub.url}/webhooks/click/prepare`);
  assert.equal(state.merchant?.completeUrl, `${hub.url}/webhooks/click/complete`);

  await client.waitForState('/actors/payment/UZ-CLICK-1-P1', 'pending.waiting');
  const paid = (await sandbox('/pay', { link: link.toString(), timeout: 'prepare', replay: true })) as {
    status: string;
    violations: string[];
  };
  assert.deepEqual(paid.violations, []);
  assert.equal(paid.status, 'paid');

  await client.waitForState('/actors/payment/UZ-CLICK-1-P1', 'succeeded');
  const sale = await printedReceipt(client, 'R-O-UZ-CLICK-1');
  assert.deepEqual([sale.kind, sale.total, (sale.source as { id: string }).id], ['sale', 50_000, 'UZ-CLICK-1']);
  assert.equal(emulator.documents().filter((d) => d.kind === 'sale' && d.number === sale.documentNumber).length, 1);

  const parcel = await waitForShipment(client, 'UZ-CLICK-1', 'awaitingPickup');
  assert.match(parcel.context.waybill?.number ?? '', /^\d{14}$/);
  assert.deepEqual(((await sandbox('/violations')) as { violations: string[] }).violations, []);

  // the daily report asks Click (its Merchant API) about the payment: it matches, and soums are totalled apart
  const run = await client.post('/admin/jobs/daily-report/run', {});
  assert.equal(run.status, 200, JSON.stringify(run.body));
  const report = (await client.get(`/admin/reports/${new Date().toISOString().slice(0, 10)}`)).body as {
    reconciliation: { checked: number; matched: number; mismatches: unknown[] };
    totals: { amountPaid: number; amountPaidByCurrency: Record<string, number> };
  };
  assert.deepEqual(report.reconciliation, { checked: 1, matched: 1, mismatches: [] });
  assert.deepEqual(report.totals.amountPaidByCurrency, { UZS: 50_000 });
  assert.equal(report.totals.amountPaid, 0, 'no hryvnias');
  const asked = await sandbox('/requests');
  assert.ok(
    (asked.requests as Array<{ path: string }>).some((r) => r.path.includes('/payment/status/')),
    'Click was asked',
  );
});
