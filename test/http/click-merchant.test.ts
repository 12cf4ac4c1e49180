import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import order from '../../machines/order.ts';
import payment from '../../machines/payment.ts';
import product from '../../machines/product.ts';
import shipment from '../../machines/shipment.ts';
import { clickSignString } from '../../actors/platform/connectors/click/protocol.ts';
import { startClickSandbox, type ClickSandbox } from '../../actors/platform/connectors/click/sandbox.ts';
import { eventually } from '../support/database.ts';
import { hubDatabases } from '../support/hub-process.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';
import { sharedShop, waitForOrder, type SharedSetup } from '../support/shop.ts';

/**
 * Click's SHOP API against a running hub: both endpoints driven request by
 * request with every error code, and a Click sandbox of this process (what
 * a merchant configures in the Click cabinet: the T-CLICK service and
 * secret key) paying through the hub's links and serving its Merchant API.
 */

const CLICK = { serviceId: '12345', merchantId: '54321', secretKey: 'TEST_SECRET', merchantUserId: '777' };
const shop = sharedShop();
let click: ClickSandbox;
let configured: Promise<void> | null = null;

before(async () => {
  click = await startClickSandbox({}, CLICK);
});

after(async () => {
  await shop.close();
  await click?.close();
  await assertHubJournalsReplay(hubDatabases(), [order, payment, product, shipment]);
});

/** What a merchant does once: the Click credentials in the hub, our endpoints in the Click cabinet. */
function configure(setup: SharedSetup): Promise<void> {
  configured ??= (async () => {
    const put = await setup.client.call('PUT', '/admin/integrations/click', {
      baseUrl: click.url,
      credentials: CLICK,
      settings: { paymentUrl: `${click.url}/services/pay` },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    click.announce({
      prepareUrl: `${setup.hub.url}/webhooks/click/prepare`,
      completeUrl: `${setup.hub.url}/webhooks/click/complete`,
      credentials: CLICK,
    });
  })();
  return configured;
}

let ids = 900_000_000;
const nextClickId = () => String((ids += 1));

type Fields = Record<string, string>;

function signed(fields: Fields, secretKey = CLICK.secretKey): Fields {
  const sign = clickSignString(
    {
      click_trans_id: fields.click_trans_id ?? '',
      service_id: fields.service_id ?? '',
      merchant_trans_id: fields.merchant_trans_id ?? '',
      amount: fields.amount ?? '',
      action: fields.action ?? '',
      sign_time: fields.sign_time ?? '',
      ...(fields.merchant_prepare_id === undefined ? {} : { merchant_prepare_id: fields.merchant_prepare_id }),
    },
    secretKey,
  );
  return { ...fields, sign_string: sign };
}

function prepareFields(orderId: string, amount: string, clickTransId = nextClickId(), extra: Fields = {}): Fields {
  return {
    click_trans_id: clickTransId,
    service_id: CLICK.serviceId,
    click_paydoc_id: String(Number(clickTransId) + 5_000_000),
    merchant_trans_id: orderId,
    amount,
    action: '0',
    error: '0',
    error_note: 'Success',
    sign_time: '2026-12-02 10:30:00',
    ...extra,
  };
}

const completeFields = (prepare: Fields, merchantPrepareId: string, extra: Fields = {}): Fields => ({
  ...prepare,
  merchant_prepare_id: merchantPrepareId,
  action: '1',
  sign_time: '2026-12-02 10:31:00',
  ...extra,
});

async function post(setup: SharedSetup, step: 'prepare' | 'complete', fields: Fields) {
  const response = await fetch(`${setup.hub.url}/webhooks/click/${step}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  assert.equal(response.status, 200, 'Click is always answered 200');
  return (await response.json()) as Record<string, unknown>;
}

/** A soum order paying by Click, its payment waiting for the customer; answers its link. */
async function clickOrder(setup: SharedSetup, id: string, qty = 2): Promise<{ id: string; link: string; paymentId: string }> {
  await configure(setup);
  const body = setup.orderBody({
    externalId: id,
    currency: 'UZS',
    customer: { name: 'Dilnoza Karimova', phone: '+998901234567', email: setup.email },
    items: [{ sku: setup.sku, name: 'Чашка', qty, unitPrice: 25_000 }],
    total: qty * 25_000,
    payment: { method: 'click' },
  });
  const accepted = await setup.client.post('/orders', body, { 'Idempotency-Key': `click-${id}` });
  assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  const paying = await waitForOrder(setup.client, id, (o) => typeof o.paymentUrl === 'string', `${id} payment link`);
  await setup.client.waitForState(`/actors/payment/${id}-P1`, 'pending.waiting');
  return { id, link: String(paying.paymentUrl), paymentId: `${id}-P1` };
}

async function paymentOf(setup: SharedSetup, paymentId: string) {
  return (await setup.client.get(`/actors/payment/${paymentId}`)).body as {
    state: string;
    context: { history: Array<{ status: string; providerStatus: string; applied: boolean }> };
  };
}

test('the payment link: Click’s pay page with our service, merchant, the amount in soums and the order id', () =>
  shop.run(async (setup) => {
    const { link } = await clickOrder(setup, 'CL-LINK', 3);
    const url = new URL(link);
    assert.equal(`${url.origin}${url.pathname}`, `${click.url}/services/pay`);
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      service_id: CLICK.serviceId,
      merchant_id: CLICK.merchantId,
      amount: '750.00',
      transaction_param: 'CL-LINK',
      return_url: `${setup.hub.url}/payments/thank-you?order=CL-LINK`,
    });
    const page = await (await fetch(link)).text();
    assert.match(page, /750\.00 UZS/);
    assert.match(page, /CL-LINK/);
  }));

test('T-CLICK-1/2: the documented signatures are what the hub checks; the Prepare id it gives is the one Complete must carry', () =>
  shop.run(async (setup) => {
    // T-CLICK-1: order ORDER-1 for 1000 soums, exactly as the protocol note computes it
    await clickOrder(setup, 'ORDER-1', 4);
    const prepare = {
      click_trans_id: '123456789',
      service_id: '12345',
      click_paydoc_id: '555',
      merchant_trans_id: 'ORDER-1',
      amount: '1000',
      action: '0',
      error: '0',
      error_note: '',
      sign_time: '2024-01-15 10:30:00',
      sign_string: '4a6896e4f29a5895bae702dfd51bd843',
    };
    const prepared = await post(setup, 'prepare', prepare);
    assert.equal(prepared.error, 0, JSON.stringify(prepared));
    assert.equal(prepared.error_note, 'Success');
    assert.equal(prepared.click_trans_id, 123456789);
    assert.equal(prepared.merchant_trans_id, 'ORDER-1');
    const prepareId = prepared.merchant_prepare_id as number;
    assert.ok(Number.isSafeInteger(prepareId) && prepareId > 0);
    assert.notEqual(prepareId, 777);

    // T-CLICK-2 verbatim: its signature is right, but 777 is not the id we gave → -6 (a bad signature would be -1)
    const vector = {
      ...prepare,
      merchant_prepare_id: '777',
      action: '1',
      sign_time: '2024-01-15 10:31:00',
      sign_string: 'a52d9a8a008abd07269dc491bec5efe0',
    };
    assert.deepEqual(await post(setup, 'complete', vector), {
      click_trans_id: 123456789,
      merchant_trans_id: 'ORDER-1',
      merchant_confirm_id: null,
      error: -6,
      error_note: 'Transaction does not exist',
    });
    assert.equal((await post(setup, 'complete', { ...vector, sign_string: vector.sign_string.replace('a5', 'b5') })).error, -1);

    const completed = await post(setup, 'complete', signed({ ...vector, merchant_prepare_id: String(prepareId) }));
    assert.equal(completed.error, 0, JSON.stringify(completed));
    assert.ok(Number.isSafeInteger(completed.merchant_confirm_id) && (completed.merchant_confirm_id as number) > 0);
    await setup.client.waitForState('/actors/payment/ORDER-1-P1', 'succeeded');
  }));

test('Prepare refuses in Click’s order: -8 malformed, -1 signature, -8 another service, -3 action, -5 unknown or not a Click order, -2 amount', () =>
  shop.run(async (setup) => {
    const { id } = await clickOrder(setup, 'CL-ERR');
    const good = prepareFields(id, '500');

    const { sign_time: _missing, ...noTime } = good;
    assert.equal((await post(setup, 'prepare', signed(noTime))).error, -8);
    assert.equal((await post(setup, 'prepare', signed({ ...good, amount: '5e2' }))).error, -8);
    assert.equal((await post(setup, 'prepare', signed({ ...good, click_trans_id: 'abc' }))).error, -8);
    const malformed = await post(setup, 'prepare', { foo: 'bar' });
    assert.deepEqual(malformed, {
      click_trans_id: null,
      merchant_trans_id: null,
      merchant_prepare_id: null,
      error: -8,
      error_note: 'Error in request from click',
    });

    assert.equal((await post(setup, 'prepare', signed(good, 'WRONG_SECRET'))).error, -1);
    const tampered = { ...signed(good), amount: '1' };
    assert.deepEqual(await post(setup, 'prepare', tampered), {
      click_trans_id: Number(good.click_trans_id),
      merchant_trans_id: id,
      merchant_prepare_id: null,
      error: -1,
      error_note: 'SIGN CHECK FAILED!',
    });
    // signed with our key but naming a service that is not ours
    assert.equal((await post(setup, 'prepare', signed({ ...good, service_id: '99999' }))).error, -8);

    assert.equal((await post(setup, 'prepare', signed({ ...good, action: '5' }))).error, -3);
    assert.equal(
      (await post(setup, 'prepare', signed({ ...good, action: '1', merchant_prepare_id: '1' }))).error,
      -3,
      'a Complete sent to the Prepare URL',
    );

    assert.equal((await post(setup, 'prepare', signed({ ...good, merchant_trans_id: 'NO-SUCH-ORDER' }))).error, -5);
    // an order paying in hryvnias by Monobank is not Click's to pay
    await setup.client.post('/orders', setup.orderBody({ externalId: 'CL-UAH' }), { 'Idempotency-Key': 'click-CL-UAH' });
    await waitForOrder(setup.client, 'CL-UAH', (o) => typeof o.paymentUrl === 'string', 'the UAH order asking for payment');
    assert.equal((await post(setup, 'prepare', signed(prepareFields('CL-UAH', '500')))).error, -5);

    for (const amount of ['500.01', '499.99', '500.001', '50000', '5']) {
      const refused = await post(setup, 'prepare', signed(prepareFields(id, amount)));
      assert.equal(refused.error, -2, `amount ${amount}`);
      assert.equal(refused.error_note, 'Incorrect parameter amount');
    }
    // the same 500 soums however Click writes it; each transaction its own id
    const prepareIds = new Set<unknown>();
    for (const amount of ['500', '500.0', '500.00', '500.000']) {
      const accepted = await post(setup, 'prepare', signed(prepareFields(id, amount)));
      assert.equal(accepted.error, 0, `amount ${amount}: ${JSON.stringify(accepted)}`);
      prepareIds.add(accepted.merchant_prepare_id);
    }
    assert.equal(prepareIds.size, 4);
    const processing = await paymentOf(setup, 'CL-ERR-P1');
    assert.equal(processing.state, 'pending.waiting');
    assert.ok(processing.context.history.some((h) => h.providerStatus === 'prepared' && h.applied));
  }));

test('Complete: -6 unknown, -2 another amount, 0 confirmed; repeats answer the same ids; then -4 for every other transaction of the paid order', () =>
  shop.run(async (setup) => {
    const { id, paymentId } = await clickOrder(setup, 'CL-PAY');
    const prepare = signed(prepareFields(id, '500.00'));
    const prepared = await post(setup, 'prepare', prepare);
    assert.equal(prepared.error, 0);
    assert.deepEqual(await post(setup, 'prepare', prepare), prepared, 'a repeated Prepare answers the same id');
    const hijacked = await post(setup, 'prepare', signed({ ...prepare, merchant_trans_id: 'CL-ERR' }));
    assert.deepEqual([hijacked.error, hijacked.merchant_trans_id], [-8, 'CL-ERR'], 'one click_trans_id, another order');
    const prepareId = String(prepared.merchant_prepare_id);
    const other = signed(prepareFields(id, '500'));
    const otherPrepared = await post(setup, 'prepare', other);
    assert.equal(otherPrepared.error, 0);
    assert.notEqual(otherPrepared.merchant_prepare_id, prepared.merchant_prepare_id);

    assert.equal((await post(setup, 'complete', signed(completeFields(prepare, String(Number(prepareId) + 1000))))).error, -6);
    assert.equal((await post(setup, 'complete', signed(completeFields(prepareFields(id, '500'), prepareId)))).error, -6, 'never prepared');
    const { merchant_prepare_id: _omitted, ...noPrepareId } = completeFields(prepare, prepareId);
    assert.equal((await post(setup, 'complete', signed(noPrepareId))).error, -8);
    assert.equal((await post(setup, 'complete', signed(completeFields(prepare, prepareId, { action: '0' })))).error, -3);
    assert.equal((await post(setup, 'complete', signed(completeFields(prepare, prepareId, { amount: '600' })))).error, -2);

    const complete = signed(completeFields(prepare, prepareId));
    const confirmed = await post(setup, 'complete', complete);
    assert.equal(confirmed.error, 0, JSON.stringify(confirmed));
    assert.deepEqual(Object.keys(confirmed).sort(), ['click_trans_id', 'error', 'error_note', 'merchant_confirm_id', 'merchant_trans_id']);
    assert.deepEqual(await post(setup, 'complete', complete), confirmed, 'a repeated Complete answers the same confirm id');
    assert.deepEqual(await post(setup, 'prepare', prepare), prepared, 'a late repeat of its Prepare answers as the first time');

    await setup.client.waitForState(`/actors/payment/${paymentId}`, 'succeeded');
    await waitForOrder(setup.client, id, (o) => o.state === 'fulfilment.awaitingShipment', 'the order paid');
    // the other prepared transaction can no longer take money; nor can a new one
    assert.equal((await post(setup, 'complete', signed(completeFields(other, String(otherPrepared.merchant_prepare_id))))).error, -4);
    assert.deepEqual(await post(setup, 'prepare', signed(prepareFields(id, '500'))), {
      click_trans_id: ids,
      merchant_trans_id: id,
      merchant_prepare_id: null,
      error: -4,
      error_note: 'Already paid',
    });
    const paid = await paymentOf(setup, paymentId);
    const applied = paid.context.history.filter((h) => h.applied).map((h) => `${h.status}/${h.providerStatus}`);
    assert.equal(applied.at(-1), 'success/confirmed');
    assert.deepEqual(new Set(applied.slice(0, -1)), new Set(['processing/prepared']), applied.join(', '));
  }));

test('Click’s own failure (Complete with error < 0) cancels the transaction (-9, repeated the same); the order waits and is paid by the next one', () =>
  shop.run(async (setup) => {
    const { id, paymentId } = await clickOrder(setup, 'CL-FAIL');
    const prepare = signed(prepareFields(id, '500'));
    const prepareId = String((await post(setup, 'prepare', prepare)).merchant_prepare_id);
    const failed = signed(completeFields(prepare, prepareId, { error: '-5017', error_note: 'Insufficient funds' }));
    const cancelled = await post(setup, 'complete', failed);
    assert.deepEqual(cancelled, {
      click_trans_id: Number(prepare.click_trans_id),
      merchant_trans_id: id,
      merchant_confirm_id: null,
      error: -9,
      error_note: 'Transaction cancelled',
    });
    assert.deepEqual(await post(setup, 'complete', failed), cancelled);
    // the cancelled transaction is over even if Click now said it succeeded
    assert.equal((await post(setup, 'complete', signed(completeFields(prepare, prepareId)))).error, -9);
    const waiting = await paymentOf(setup, paymentId);
    assert.equal(waiting.state, 'pending.waiting');
    assert.ok(waiting.context.history.some((h) => h.status === 'created' && h.providerStatus === 'cancelled' && h.applied));

    const retry = await click.pay(
      (await waitForOrder(setup.client, id, (o) => typeof o.paymentUrl === 'string', 'link')).paymentUrl as string,
    );
    assert.deepEqual(retry.violations, []);
    assert.equal(retry.status, 'paid');
    await setup.client.waitForState(`/actors/payment/${paymentId}`, 'succeeded');
  }));

test('-9 for an order cancelled before it was paid: no money moves for it', () =>
  shop.run(async (setup) => {
    const { id } = await clickOrder(setup, 'CL-CANCELLED');
    const prepare = signed(prepareFields(id, '500'));
    const prepareId = String((await post(setup, 'prepare', prepare)).merchant_prepare_id);
    const cancel = await setup.client.post(`/orders/${id}/cancel`, { reason: 'the customer changed their mind' });
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    await waitForOrder(setup.client, id, (o) => String(o.state).startsWith('cancel'), 'cancelled');
    assert.equal((await post(setup, 'prepare', signed(prepareFields(id, '500')))).error, -9);
    assert.equal((await post(setup, 'complete', signed(completeFields(prepare, prepareId)))).error, -9);
  }));

test('concurrent calls for one order: the same Prepare racing answers one id; two transactions completing at once confirm one (the other -4)', () =>
  shop.run(async (setup) => {
    const { id, paymentId } = await clickOrder(setup, 'CL-RACE');
    const prepare = signed(prepareFields(id, '500'));
    const racing = await Promise.all(Array.from({ length: 6 }, () => post(setup, 'prepare', prepare)));
    assert.equal(new Set(racing.map((r) => JSON.stringify(r))).size, 1, JSON.stringify(racing));
    assert.equal(racing[0]?.error, 0);
    const second = signed(prepareFields(id, '500.00'));
    const secondId = String((await post(setup, 'prepare', second)).merchant_prepare_id);
    const completes = await Promise.all([
      post(setup, 'complete', signed(completeFields(prepare, String(racing[0]?.merchant_prepare_id)))),
      post(setup, 'complete', signed(completeFields(second, secondId))),
      post(setup, 'complete', signed(completeFields(prepare, String(racing[0]?.merchant_prepare_id)))),
    ]);
    const codes = completes.map((c) => c.error);
    assert.equal(codes.filter((c) => c === 0).length + codes.filter((c) => c === -4).length, 3, JSON.stringify(completes));
    const winners = new Set(completes.filter((c) => c.error === 0).map((c) => c.click_trans_id));
    assert.equal(winners.size, 1, `one transaction confirmed: ${JSON.stringify(completes)}`);
    await setup.client.waitForState(`/actors/payment/${paymentId}`, 'succeeded');
  }));

test('the Click sandbox pays through the link (lost answers, replays, Complete first, a forged signature) with no violation; refund and reconciliation through the Merchant API', () =>
  shop.run(async (setup) => {
    const { id, link, paymentId } = await clickOrder(setup, 'CL-SANDBOX');
    const paid = await click.pay(link, { timeout: 'complete', replay: true, reorder: true, badSignature: 'prepare' });
    assert.deepEqual(paid.violations, [], paid.violations.join('\n'));
    assert.equal(paid.status, 'paid');
    const purposes = paid.exchanges.map((e) => `${e.step}:${e.purpose}:${String(e.answer?.error)}`);
    assert.deepEqual(purposes, [
      'complete:reorder-probe:-6',
      'prepare:bad-signature-probe:-1',
      'prepare:payment:0',
      'complete:payment:0',
      'complete:timeout-repeat:0',
      'prepare:replay:0',
      'complete:replay:0',
    ]);
    await setup.client.waitForState(`/actors/payment/${paymentId}`, 'succeeded');
    await waitForOrder(setup.client, id, (o) => o.state === 'fulfilment.awaitingShipment', 'paid through the sandbox');

    // the daily reconciliation asks Click (its Merchant API, Auth header checked by the sandbox) and agrees
    const run = await setup.client.post('/admin/jobs/daily-report/run', {});
    assert.equal(run.status, 200, JSON.stringify(run.body));
    const report = await setup.client.get(`/admin/reports/${new Date().toISOString().slice(0, 10)}`);
    const reconciliation = report.body.reconciliation as { mismatches: Array<{ paymentId: string; detail: string }> };
    assert.deepEqual(
      reconciliation.mismatches.filter((m) => m.paymentId === paymentId),
      [],
    );
    const statusCalls = click
      .requests({ method: 'GET' })
      .filter((r) => r.path === `/payment/status/${CLICK.serviceId}/${paid.clickPaydocId}`);
    assert.ok(statusCalls.length >= 1, 'Click was asked');
    assert.match(statusCalls[0]?.headers.auth ?? '', /^777:[0-9a-f]{40}:\d{10}$/);

    // cancelled after payment: the money goes back by Click's reversal, once
    const cancel = await setup.client.post(`/orders/${id}/cancel`, { reason: 'out of stock after all' });
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    await setup.client.waitForState(`/actors/payment/${paymentId}`, 'refunded');
    assert.equal(click.payment(paid.clickTransId)?.status, 'reversed');
    assert.equal(click.requests({ method: 'DELETE' }).filter((r) => r.path.endsWith(`/${paid.clickPaydocId}`)).length, 1);
    assert.deepEqual(click.violations(), []);
  }));

test('the Click sandbox’s failed payment (-9) leaves the order waiting; paid on the page afterwards it returns the payer to the shop', () =>
  shop.run(async (setup) => {
    const { id, link, paymentId } = await clickOrder(setup, 'CL-PAGE');
    const failed = await click.pay(link, { outcome: 'fail', timeout: 'prepare' });
    assert.deepEqual(failed.violations, []);
    assert.deepEqual([failed.status, failed.complete?.error], ['failed', -9]);
    assert.equal((await paymentOf(setup, paymentId)).state, 'pending.waiting');

    const url = new URL(link);
    const form = new URLSearchParams(url.searchParams);
    form.set('outcome', 'success');
    const page = await fetch(`${url.origin}/services/pay`, { method: 'POST', body: form, redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), `${setup.hub.url}/payments/thank-you?order=${id}`);
    await setup.client.waitForState(`/actors/payment/${paymentId}`, 'succeeded');
    await eventually(async () => (click.violations().length === 0 ? true : undefined), 1_000, 'no violations');
  }));
