import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEchoSandbox, type EchoSandbox } from '../../actors/platform/connectors/echo/sandbox.ts';
import { parsePaymeCheckout, PAYME_TIMEOUT_MS } from '../../actors/platform/connectors/payme/protocol.ts';
import { PAYME_SANDBOX_CREDENTIALS, type PaymeSandbox } from '../../actors/platform/connectors/payme/sandbox.ts';
import { loadConfig } from '../../common/config.ts';
import { ShtrihMEmulator } from '../../hardware/emulators/shtrih-m-emulator.ts';
import { startHub, type Hub } from '../../http/server.ts';
import order from '../../machines/order.ts';
import payment from '../../machines/payment.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { printedReceipt } from '../support/fiscal.ts';
import { hubClient, sandboxCredentialsOf, TEST_ADMIN_KEY, TEST_MASTER_KEY } from '../support/hub-process.ts';
import { waitForShipment } from '../support/parcels.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';
import { quietLogger } from '../support/runtime-harness.ts';
import { orderBody, waitForOrder } from '../support/shop.ts';

/**
 * Payme's Merchant API on a running hub (in this process, so its clock is the test's and its Payme sandbox is
 * at hand): `POST /webhooks/payme` method by method, every error code, repeats, the 12-hour timeout, a cancel
 * after perform, concurrency, ChangePassword, and a UZS order paid through the sandbox up to its fiscal
 * receipt and shipment. The sandbox checks every answer as strictly as Payme; it must see no violation.
 */

/** the key the hub generated for its own Payme sandbox (in its DATA_DIR) */
let KEY = '';
/** the hub's clock: real time plus what the test adds */
const clock = { offset: 0, now: () => Date.now() + clock.offset };

let dir = '';
let dbName = '';
let echo: EchoSandbox;
let register: ShtrihMEmulator;
let hub: Hub;
let client: ReturnType<typeof hubClient>;
let sandbox: PaymeSandbox;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'payme-'));
  echo = await startEchoSandbox();
  register = await ShtrihMEmulator.start({ dir, name: 'till' });
  dbName = uniqueDatabaseName('payme');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_URI: databaseUri(),
    MONGODB_DB: dbName,
    DATA_DIR: dir,
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    HUB_MASTER_KEY: TEST_MASTER_KEY,
    HUB_WORKER_POLL_MS: '100',
    HUB_DEVICE_EMULATORS: 'off',
    HUB_ORDER_POLICY: JSON.stringify({ fiscalRegister: 'main' }),
  });
  hub = await startHub(config, { logger: quietLogger, echoBaseUrl: echo.url, clock });
  client = hubClient(hub.url);
  sandbox = hub.connectors.sandboxOf('payme') as PaymeSandbox;
  KEY = (await sandboxCredentialsOf(dir, 'payme')).key ?? '';
  // the hub tells its sandbox where it is, as a merchant fills in Payme's cabinet
  await eventually(() => sandbox.merchant().endpoint === `${hub.url}/webhooks/payme` || undefined, 10_000, 'the sandbox told of the hub');
  const device = await client.call('PUT', '/admin/devices/main', {
    kind: 'fiscal-register',
    driver: 'shtrih-m',
    path: register.hostPath,
    operatorPassword: 1,
    adminPassword: 30,
  });
  assert.equal(device.status, 201, JSON.stringify(device.body));
});

after(async () => {
  await hub?.stop();
  await echo?.close();
  await register?.stop();
  await rm(dir, { recursive: true, force: true });
  if (dbName) await assertHubJournalsReplay([dbName], [order, payment]);
});

interface RpcBody {
  id: unknown;
  result: Record<string, unknown> | null;
  error: { code: number; message: { ru: string; uz: string; en: string }; data: string | null } | null;
}

/** One call as Payme makes it, straight to the hub. */
async function rpc(body: unknown, options: { key?: string | null; raw?: string } = {}): Promise<RpcBody & { status: number }> {
  const key = options.key === undefined ? KEY : options.key;
  const response = await fetch(`${hub.url}/webhooks/payme`, {
    method: 'POST',
    headers: {
      'content-type': 'text/json; charset=UTF-8',
      ...(key === null ? {} : { authorization: `Basic ${Buffer.from(`Paycom:${key}`).toString('base64')}` }),
    },
    body: options.raw ?? JSON.stringify(body),
  });
  return { status: response.status, ...((await response.json()) as RpcBody) };
}

const call = (method: string, params: Record<string, unknown>, id: number | string = 1) => rpc({ method, params, id });

function assertError(answer: RpcBody & { status: number }, code: number, data: string | null = null) {
  assert.equal(answer.status, 200, 'Payme is always answered HTTP 200');
  assert.equal(answer.result, null, JSON.stringify(answer));
  assert.equal(answer.error?.code, code, JSON.stringify(answer));
  assert.equal(answer.error?.data ?? null, data);
  for (const language of ['ru', 'uz', 'en'] as const) assert.ok(answer.error?.message[language], `a message in ${language}`);
}

const newId = () => Array.from({ length: 24 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');

let orders = 0;
/** a UZS order paying by Payme (500 soums), once its payment link is there */
async function paymeOrder(externalId: string, overrides: Record<string, unknown> = {}) {
  orders += 1;
  const sku = `PM-${orders}`;
  await client.call('PUT', `/admin/products/${sku}`, { name: 'Piyola', price: 25_000, stock: 10 });
  const base = orderBody();
  const created = await client.post(
    '/orders',
    orderBody({
      externalId,
      currency: 'UZS',
      payment: { method: 'payme' },
      customer: { ...base.customer, phone: '+998901234567' },
      items: [{ ...base.items[0], sku }],
      ...overrides,
    }),
    { 'Idempotency-Key': `payme-${externalId}` },
  );
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const paying = await waitForOrder(client, externalId, (o) => typeof o.paymentUrl === 'string', 'a Payme link');
  return { link: String(paying.paymentUrl), amount: 50_000, account: { order_id: externalId } };
}

const paymentState = async (id: string) =>
  (await client.get(`/actors/payment/${id}`)).body as { state: string; context: { providerStatus: string; refundStatus: string | null } };

test('malformed, unauthorised and unknown calls: -32700, -32504, -32600, -32601, always with HTTP 200', async () => {
  const notJson = await rpc(null, { raw: '{"method": "CheckTransaction", ' });
  assertError(notJson, -32700);
  assert.equal(notJson.id, null);

  assertError(await rpc({ method: 'CheckTransaction', params: { id: 'x' }, id: 7 }, { key: 'wrong' }), -32504);
  assertError(await rpc({ method: 'CheckTransaction', params: { id: 'x' }, id: 7 }, { key: null }), -32504);
  // the sandbox's key in the source opens nothing: the hub's own sandbox runs with a key of this installation
  assertError(await rpc({ method: 'CheckTransaction', params: { id: 'x' }, id: 7 }, { key: PAYME_SANDBOX_CREDENTIALS.key }), -32504);
  // a stranger learns nothing of our methods: the key is checked first
  assertError(await rpc({ method: 'Steal', params: {}, id: 7 }, { key: 'wrong' }), -32504);

  const noParams = await rpc({ method: 'CheckTransaction', id: 8 });
  assertError(noParams, -32600);
  assert.equal(noParams.id, 8, 'the id is answered back');
  assertError(await call('CreateTransaction', { id: newId(), time: 'yesterday', amount: 100, account: { order_id: 'x' } }), -32600, 'time');
  assertError(await call('CheckPerformTransaction', { amount: -5, account: { order_id: 'x' } }), -32600, 'amount');
  assertError(await call('Refund', {}), -32601, 'Refund');
});

test('CheckPerformTransaction: an unknown or missing order -31050 (order_id), an order not paying by Payme -31052, a wrong amount -31001, else allowed', async () => {
  const { amount, account } = await paymeOrder('PM-CHECK');
  assertError(await call('CheckPerformTransaction', { amount, account: { order_id: 'NO-SUCH-ORDER' } }), -31050, 'order_id');
  assertError(await call('CheckPerformTransaction', { amount, account: { phone: '903595731' } }), -31050, 'order_id');
  assertError(await call('CheckPerformTransaction', { amount: amount + 100, account }), -31001);

  // a hryvnia order (Monobank) is not Payme's to take
  await client.call('PUT', '/admin/products/UAH-1', { name: 'Чашка', price: 25_000, stock: 10 });
  await client.post('/orders', orderBody({ externalId: 'PM-UAH', items: [{ ...orderBody().items[0], sku: 'UAH-1' }] }), {
    'Idempotency-Key': 'pm-uah',
  });
  await waitForOrder(client, 'PM-UAH', (o) => typeof o.paymentUrl === 'string', 'a Monobank page');
  assertError(await call('CheckPerformTransaction', { amount, account: { order_id: 'PM-UAH' } }), -31052, 'order_id');

  const allowed = await call('CheckPerformTransaction', { amount, account }, 'abc');
  assert.deepEqual([allowed.status, allowed.id, allowed.result, allowed.error], [200, 'abc', { allow: true }, null]);
});

test('end to end: a UZS order paid through the Payme sandbox (Check → Create → Perform) gets its fiscal receipt and its shipment; repeats answer the same', async () => {
  const { link } = await paymeOrder('PM-E2E');
  assert.ok(link.startsWith(`${sandbox.url}/`), `the link points at the sandbox: ${link}`);
  const params = parsePaymeCheckout(link);
  assert.deepEqual(
    [params.merchantId, params.account, params.amount, params.lang],
    [sandbox.merchantId, { order_id: 'PM-E2E' }, 50_000, 'ru'],
  );
  assert.match(String(params.returnUrl), /\/payments\/thank-you\?order=PM-E2E$/);

  const page = await fetch(link);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /500\.00 UZS[\s\S]*order_id: PM-E2E/);
  // the payer pays on the checkout page: Payme runs its calls against our endpoint, then sends the payer back
  const paid = await fetch(`${sandbox.url}/pay`, {
    method: 'POST',
    body: new URLSearchParams({ params: link.slice(sandbox.url.length + 1) }),
    redirect: 'manual',
  });
  assert.equal(paid.status, 303);
  assert.equal(paid.headers.get('location'), params.returnUrl);
  const methods = sandbox.calls().slice(-3);
  assert.deepEqual(
    methods.map((c) => c.method),
    ['CheckPerformTransaction', 'CreateTransaction', 'PerformTransaction'],
  );
  const tx = sandbox.transactions().find((t) => t.account.order_id === 'PM-E2E');
  assert.equal(tx?.state, 2);

  await waitForOrder(client, 'PM-E2E', (o) => o.state === 'fulfilment.awaitingShipment', 'paid and confirmed');
  const paidPayment = await paymentState('PM-E2E-P1');
  assert.deepEqual([paidPayment.state, paidPayment.context.providerStatus], ['succeeded', 'transaction_performed']);
  const receipt = await printedReceipt(client, 'R-O-PM-E2E');
  assert.deepEqual([receipt.kind, receipt.total], ['sale', 50_000]);
  assert.ok(register.documents().some((d) => d.number === receipt.documentNumber && d.kind === 'sale'));
  const parcel = await waitForShipment(client, 'PM-E2E', 'awaitingPickup');
  assert.ok(parcel.context.waybill?.number);

  // repeats: Create and Perform replayed, a Perform whose answer was lost and repeated, CheckTransaction
  const create = methods[1];
  const perform = methods[2];
  assert.ok(create && perform);
  assert.equal((await sandbox.replay(perform.seq)).identical, true);
  // Create again of a transaction performed since: Payme must hear -31008
  assert.equal((await sandbox.replay(create.seq)).again.error?.code, -31008);
  assert.equal((await sandbox.timeOut('PerformTransaction', { id: tx?.id ?? '' })).identical, true);
  const checked = await sandbox.checkTransaction(tx?.id ?? '');
  assert.deepEqual([checked.result?.state, checked.result?.reason, checked.result?.cancel_time], [2, null, 0]);
  // the daily report reconciles the payment with Payme's view of it (our record of its transactions): it matches
  const run = await client.post('/admin/jobs/daily-report/run', {});
  assert.equal(run.status, 200, JSON.stringify(run.body));
  const report = (await client.get(`/admin/reports/${new Date(clock.now()).toISOString().slice(0, 10)}`)).body as {
    reconciliation: { mismatches: Array<{ paymentId: string }> };
    orders: Array<{ paymentId: string | null; currency: string }>;
    totals: { amountPaidByCurrency: Record<string, number> };
  };
  assert.ok(report.orders.some((o) => o.paymentId === 'PM-E2E-P1' && o.currency === 'UZS'));
  assert.deepEqual(
    report.reconciliation.mismatches.filter((m) => m.paymentId === 'PM-E2E-P1'),
    [],
  );
  assert.ok((report.totals.amountPaidByCurrency.UZS ?? 0) >= 50_000);
  // the order is paid: another transaction for it is refused as busy
  assertError(await call('CheckPerformTransaction', { amount: 50_000, account: { order_id: 'PM-E2E' } }), -31051, 'order_id');
  assertError(
    await call('CreateTransaction', { id: newId(), time: Date.now(), amount: 50_000, account: { order_id: 'PM-E2E' } }),
    -31051,
    'order_id',
  );
  assert.deepEqual(sandbox.violations(), []);
});

test('transactions: unknown -31003; a created one cancelled (-1) frees the order, then Perform and Create of it are -31008; a new one pays', async () => {
  for (const method of ['PerformTransaction', 'CancelTransaction', 'CheckTransaction'])
    assertError(await call(method, { id: newId(), ...(method === 'CancelTransaction' ? { reason: 1 } : {}) }), -31003);

  const { link } = await paymeOrder('PM-CANCEL');
  const created = await sandbox.createOnly(link);
  assert.equal(created.ok, true);
  const id = created.transaction?.id ?? '';
  await eventually(
    async () => (await paymentState('PM-CANCEL-P1')).context.providerStatus === 'transaction_created' || undefined,
    10_000,
    'the payment told',
  );
  // Create repeated (Payme did not hear the answer): the same transaction and create_time
  const createCall = sandbox.calls().findLast((c) => c.method === 'CreateTransaction' && c.params.id === id);
  assert.ok(createCall);
  const repeated = await sandbox.replay(createCall.seq);
  assert.equal(repeated.identical, true);
  assert.deepEqual(repeated.again.result, createCall.answer?.result);
  // while it is created, the order is busy for any other transaction
  assertError(await call('CheckPerformTransaction', { amount: 50_000, account: { order_id: 'PM-CANCEL' } }), -31051, 'order_id');

  const cancelled = await sandbox.cancel(id, 3);
  assert.equal(cancelled.result?.state, -1);
  assert.equal((await sandbox.timeOut('CancelTransaction', { id, reason: 3 })).identical, true);
  const payment = await eventually(
    async () => {
      const view = await paymentState('PM-CANCEL-P1');
      return view.context.providerStatus === 'transaction_cancelled' ? view : undefined;
    },
    10_000,
    'the payment back to waiting',
  );
  assert.equal(payment.state, 'pending.waiting');
  assertError(await call('PerformTransaction', { id }), -31008);
  assertError(
    await call('CreateTransaction', { id, time: created.transaction?.time, amount: 50_000, account: { order_id: 'PM-CANCEL' } }),
    -31008,
  );
  const checked = await sandbox.checkTransaction(id);
  assert.deepEqual([checked.result?.state, checked.result?.reason, checked.result?.perform_time], [-1, 3, 0]);

  const second = await sandbox.pay(link);
  assert.equal(second.ok, true, JSON.stringify(second));
  assert.notEqual(second.transaction?.transaction, created.transaction?.transaction, 'a transaction number of its own');
  await waitForOrder(client, 'PM-CANCEL', (o) => o.state === 'fulfilment.awaitingShipment', 'paid by the second transaction');
  assert.deepEqual(sandbox.violations(), []);
});

test('concurrent CreateTransaction for one order: exactly one is created, the other refused -31051 (order_id)', async () => {
  const { amount, account } = await paymeOrder('PM-RACE');
  const answers = await Promise.all(
    Array.from({ length: 4 }, (_, i) => call('CreateTransaction', { id: newId(), time: Date.now(), amount, account }, i)),
  );
  const created = answers.filter((a) => a.result?.state === 1);
  const refused = answers.filter((a) => a.error);
  assert.equal(created.length, 1, JSON.stringify(answers));
  assert.equal(refused.length, 3);
  for (const answer of refused) assertError(answer, -31051, 'order_id');
  // the winner is let go (Payme cancels it), so nothing of this test is left for the 12-hour job
  const winnerId = (await hub.database.collections.db.collection('payme_transactions').findOne({ accountId: 'PM-RACE', state: 1 }))?._id;
  assert.ok(winnerId !== undefined, 'the created transaction is recorded');
  assert.equal((await call('CancelTransaction', { id: winnerId, reason: 3 })).result?.state, -1);
});

test('CancelTransaction after perform cancels the order and refunds its payment (-2, reason kept); an operator’s refund waits for it; after shipping it is -31007 and nothing changes', async () => {
  const refundable = await paymeOrder('PM-REFUND');
  const paid = await sandbox.pay(refundable.link);
  assert.equal(paid.ok, true);
  await waitForOrder(client, 'PM-REFUND', (o) => o.state === 'fulfilment.awaitingShipment', 'paid');
  const id = paid.transaction?.id ?? '';
  const cancelled = await sandbox.cancel(id, 5);
  assert.equal(cancelled.result?.state, -2);
  assert.equal((await sandbox.timeOut('CancelTransaction', { id, reason: 5 })).identical, true);
  await waitForOrder(client, 'PM-REFUND', (o) => o.state === 'cancelled', 'the order cancelled');
  const refunded = await eventually(
    async () => {
      const view = await paymentState('PM-REFUND-P1');
      return view.state === 'refunded' ? view : undefined;
    },
    15_000,
    'the payment refunded',
  );
  assert.ok(refunded);
  const checked = await sandbox.checkTransaction(id);
  assert.deepEqual([checked.result?.state, checked.result?.reason], [-2, 5]);

  // an operator cancels a paid order: Payme takes no refund from us, so it waits until Payme cancels the transaction
  const byOperator = await paymeOrder('PM-OPERATOR');
  const operatorPaid = await sandbox.pay(byOperator.link);
  await waitForOrder(client, 'PM-OPERATOR', (o) => o.state === 'fulfilment.awaitingShipment', 'paid');
  assert.equal((await client.post('/orders/PM-OPERATOR/cancel', { reason: 'out of stock' })).status, 200);
  const waiting = await eventually(
    async () => {
      const view = await paymentState('PM-OPERATOR-P1');
      return view.state === 'refundPending.waiting' ? view : undefined;
    },
    15_000,
    'the refund waiting for Payme',
  );
  assert.equal(waiting.context.refundStatus, 'transaction_performed');
  assert.equal((await sandbox.cancel(operatorPaid.transaction?.id ?? '', 5)).result?.state, -2);
  await eventually(
    async () => (await paymentState('PM-OPERATOR-P1')).state === 'refunded' || undefined,
    15_000,
    'refunded once Payme cancelled',
  );

  const shippedOrder = await paymeOrder('PM-SHIPPED');
  const shippedPaid = await sandbox.pay(shippedOrder.link);
  await waitForOrder(client, 'PM-SHIPPED', (o) => o.state === 'fulfilment.awaitingShipment', 'paid');
  const shipped = await client.post('/orders/PM-SHIPPED/shipped', { waybill: '20450000000077' });
  assert.equal(shipped.status, 200, JSON.stringify(shipped.body));
  await waitForOrder(client, 'PM-SHIPPED', (o) => o.state === 'fulfilment.shipped', 'shipped');
  const refused = await call('CancelTransaction', { id: shippedPaid.transaction?.id, reason: 5 });
  assertError(refused, -31007);
  const still = await sandbox.checkTransaction(shippedPaid.transaction?.id ?? '');
  assert.deepEqual([still.result?.state, still.result?.cancel_time, still.result?.reason], [2, 0, null]);
  assert.equal((await client.get('/orders/PM-SHIPPED')).body.state, 'fulfilment.shipped');
  assert.equal((await paymentState('PM-SHIPPED-P1')).state, 'succeeded');
  assert.deepEqual(sandbox.violations(), []);
});

test('GetStatement lists our transactions of [from, to] by Payme time, oldest first; an empty range is an empty list', async () => {
  const from = Date.now() - 60 * 60_000;
  const listed = await sandbox.statement(from, Date.now() + 1_000);
  const transactions = listed.result?.transactions as Array<{ id: string; time: number; state: number; account: { order_id: string } }>;
  assert.ok(transactions.length >= 6, `listed ${transactions.length}`);
  assert.deepEqual(
    transactions.map((t) => t.time),
    [...transactions.map((t) => t.time)].sort((a, b) => a - b),
  );
  assert.ok(transactions.some((t) => t.account.order_id === 'PM-REFUND' && t.state === -2));
  const empty = await call('GetStatement', { from: 1_399_114_284_039, to: 1_399_120_284_000 });
  assert.deepEqual(empty.result, { transactions: [] });
  assert.deepEqual(sandbox.violations(), []);
});

test('12 hours: a created transaction is cancelled by the job (-1, reason 4) on the hub’s clock; a call touching one cancels it first; an old `time` is refused', async () => {
  const byJob = await paymeOrder('PM-LATE-1');
  const byCall = await paymeOrder('PM-LATE-2');
  const first = await sandbox.createOnly(byJob.link);
  const second = await sandbox.createOnly(byCall.link);
  assert.ok(first.ok && second.ok);

  const idle = await client.post('/admin/jobs/payme-timeout/run', {});
  assert.equal((idle.body.output as { cancelled: number }).cancelled, 0, 'nothing is due yet');

  clock.offset += PAYME_TIMEOUT_MS + 60_000;
  // Perform past the 12 hours: cancelled first, so it cannot be performed
  assertError(await call('PerformTransaction', { id: second.transaction?.id }), -31008);
  const late = await sandbox.checkTransaction(second.transaction?.id ?? '');
  assert.deepEqual([late.result?.state, late.result?.reason, late.result?.perform_time], [-1, 4, 0]);

  const run = await client.post('/admin/jobs/payme-timeout/run', {});
  assert.equal(run.status, 200, JSON.stringify(run.body));
  assert.equal((run.body.output as { cancelled: number }).cancelled, 1);
  const timedOut = await sandbox.checkTransaction(first.transaction?.id ?? '');
  assert.deepEqual([timedOut.result?.state, timedOut.result?.reason], [-1, 4]);
  assert.equal(timedOut.result?.cancel_time, (await sandbox.checkTransaction(first.transaction?.id ?? '')).result?.cancel_time, 'stable');
  await eventually(
    async () => (await paymentState('PM-LATE-1-P1')).context.providerStatus === 'transaction_cancelled' || undefined,
    10_000,
    'the payment told',
  );
  // Create of the timed-out transaction again: -31008; and a Create whose Payme time is already 12 hours old
  assertError(
    await call('CreateTransaction', { id: first.transaction?.id, time: first.transaction?.time, amount: 50_000, account: byJob.account }),
    -31008,
  );
  assertError(await call('CreateTransaction', { id: newId(), time: Date.now() - 60_000, amount: 50_000, account: byJob.account }), -31008);
  assert.deepEqual(sandbox.violations(), []);
});

test('ChangePassword: the new key is stored (encrypted, audited, never shown); the old key is refused from then on', async () => {
  const newKey = 'payme-new-key-7f3a9c2e1b';
  const changed = await sandbox.changePassword(newKey);
  assert.deepEqual(changed.result, { success: true });
  assertError(await call('CheckTransaction', { id: newId() }), -32504);
  assertError(await rpc({ method: 'CheckTransaction', params: { id: newId() }, id: 2 }, { key: newKey }), -31003);

  const view = await client.get('/admin/integrations/payme');
  assert.equal(view.status, 200);
  assert.ok(!JSON.stringify(view.body).includes(newKey), 'the integration view hides the key');
  const audit = await client.get('/admin/audit?integration=payme&limit=500');
  assert.ok(!JSON.stringify(audit.body).includes(newKey), 'the audit never holds the key');
  const update = (audit.body.entries as Array<{ operation: string; principal: string }>).find((e) => e.operation === 'integration.update');
  assert.equal(update?.principal, 'payme (ChangePassword)');
  const stored = await hub.database.collections.db.collection('integrations').findOne({ _id: 'payme' as never });
  assert.ok(stored && !JSON.stringify(stored).includes(newKey), 'stored encrypted');
  assert.ok(!JSON.stringify(changed.call.answer).includes(newKey));
  assert.deepEqual(sandbox.violations(), []);
});
