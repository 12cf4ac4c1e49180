import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import order from '../../machines/order.ts';
import payment from '../../machines/payment.ts';
import product from '../../machines/product.ts';
import shipment from '../../machines/shipment.ts';
import { encodeData, liqpayTimeMs, signData } from '../../actors/platform/connectors/liqpay/protocol.ts';
import { eventually } from '../support/database.ts';
import { waitForMail } from '../support/mailbox.ts';
import { orderBody, payOnPage, sharedShop, waitForOrder, withShop, type Setup } from '../support/shop.ts';
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import { hubDatabases, sandboxCredentialsOf, TEST_ADMIN_KEY } from '../support/hub-process.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';

// One hub for the tests that touch only their own orders; the others (another policy, a report over every
// payment, a changed integration) start their own.
const shop = sharedShop();

// Every actor these tests drove, replayed from its journal once their hubs have stopped: the machines are deterministic.
after(async () => {
  await shop.close();
  await assertHubJournalsReplay(hubDatabases(), [order, payment, product, shipment]);
});

async function sandboxUrl(client: Setup['client'], integration: string): Promise<string> {
  return String((await client.get(`/admin/integrations/${integration}`)).body.baseUrl);
}

async function paymentOf(client: Setup['client'], paymentId: string) {
  return (await client.get(`/actors/payment/${paymentId}`)).body as {
    state: string;
    revision: number;
    context: { history: Array<{ status: string; source: string; applied: boolean }>; providerId: string };
  };
}

/** A callback as the hub's own LiqPay sandbox signs it (with the keys generated for it, in the hub's DATA_DIR). */
function liqpayCallback(keys: Record<string, string>, params: Record<string, unknown>): { data: string; signature: string } {
  const data = encodeData({ public_key: keys.publicKey, version: 3, ...params });
  return { data, signature: signData(keys.privateKey ?? '', data) };
}

async function postForm(url: string, fields: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('LiqPay: the checkout page takes the payment, the signed callback confirms the order', () =>
  shop.run(async ({ client, orderBody }) => {
    await client.post('/orders', orderBody({ externalId: 'LP-1', payment: { method: 'liqpay' } }), { 'Idempotency-Key': 'lp-1' });
    const paying = await waitForOrder(client, 'LP-1', (o) => typeof o.paymentUrl === 'string', 'a checkout URL');
    const checkoutUrl = new URL(String(paying.paymentUrl));
    assert.equal(checkoutUrl.pathname, '/api/3/checkout');
    assert.match(await (await fetch(checkoutUrl)).text(), /500\.00 UAH/);
    const paid = await fetch(`${checkoutUrl.origin}/api/3/checkout/pay`, {
      method: 'POST',
      body: new URLSearchParams({ order_id: 'LP-1-P1', outcome: 'success' }),
    });
    assert.equal(paid.status, 200);
    await waitForOrder(client, 'LP-1', (o) => o.state === 'fulfilment.awaitingShipment', 'confirmed by the callback');
    const payment = await paymentOf(client, 'LP-1-P1');
    assert.equal(payment.state, 'succeeded');
    assert.deepEqual(
      payment.context.history.filter((h) => h.applied).map((h) => `${h.status}/${h.source}`),
      ['success/webhook'],
    );
  }));

test('a tampered or forged callback is refused with 401 and changes nothing; a repeated one is answered and changes nothing', () =>
  shop.run(async ({ client, hub, orderBody }) => {
    await client.post('/orders', orderBody({ externalId: 'LP-2', payment: { method: 'liqpay' } }), { 'Idempotency-Key': 'lp-2' });
    await waitForOrder(client, 'LP-2', (o) => typeof o.paymentUrl === 'string', 'a checkout URL');
    const before = await paymentOf(client, 'LP-2-P1');

    const keys = await sandboxCredentialsOf(hub.dataDir, 'liqpay');
    const genuine = liqpayCallback(keys, {
      action: 'pay',
      status: 'success',
      order_id: 'LP-2-P1',
      payment_id: 777,
      amount: 500,
      currency: 'UAH',
      end_date: Date.now(),
    });
    const tamperedData = encodeData({
      public_key: keys.publicKey,
      version: 3,
      action: 'pay',
      status: 'success',
      order_id: 'LP-2-P1',
      payment_id: 777,
      amount: 1,
      currency: 'UAH',
      end_date: Date.now(),
    });
    const tampered = await postForm(`${hub.url}/webhooks/liqpay`, { data: tamperedData, signature: genuine.signature });
    assert.equal(tampered.status, 401);
    assert.deepEqual((tampered.body.error as { code: string }).code, 'invalid_signature');

    // signed with our private key but for another shop's public key: not ours to apply
    const otherShopData = encodeData({ ...JSON.parse(Buffer.from(genuine.data, 'base64').toString('utf8')), public_key: 'i99999999' });
    const otherShop = await postForm(`${hub.url}/webhooks/liqpay`, {
      data: otherShopData,
      signature: signData(keys.privateKey ?? '', otherShopData),
    });
    assert.equal(otherShop.status, 401);

    const monobankForged = await fetch(`${hub.url}/webhooks/monobank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sign': Buffer.from('not a signature').toString('base64') },
      body: JSON.stringify({
        invoiceId: 'p2_x',
        status: 'success',
        amount: 50_000,
        ccy: 980,
        createdDate: new Date().toISOString(),
        modifiedDate: new Date().toISOString(),
        reference: 'LP-2-P1',
      }),
    });
    assert.equal(monobankForged.status, 401);
    const unchanged = await paymentOf(client, 'LP-2-P1');
    assert.deepEqual([unchanged.state, unchanged.revision], [before.state, before.revision]);

    const first = await postForm(`${hub.url}/webhooks/liqpay`, genuine);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.duplicate, false);
    await waitForOrder(client, 'LP-2', (o) => o.state === 'fulfilment.awaitingShipment', 'confirmed');
    const applied = await paymentOf(client, 'LP-2-P1');
    const repeat = await postForm(`${hub.url}/webhooks/liqpay`, genuine);
    assert.equal(repeat.status, 200);
    assert.equal(repeat.body.duplicate, true);
    const after = await paymentOf(client, 'LP-2-P1');
    assert.equal(after.revision, applied.revision, 'a repeated callback changes nothing');
    assert.equal(after.context.history.length, applied.context.history.length);
  }));

test('lost webhooks: Monobank signs with a wrong key, the hub refuses them, and the poller finds the payment', () =>
  shop.run(async ({ client, orderBody }) => {
    await client.post('/orders', orderBody({ externalId: 'MB-1' }), { 'Idempotency-Key': 'mb-1' });
    const paying = await waitForOrder(client, 'MB-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');
    const monobank = await sandboxUrl(client, 'monobank');
    const fault = await fetch(`${monobank}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'badSignature', count: 2 }),
    });
    assert.equal(fault.status, 201);
    await payOnPage(String(paying.paymentUrl), 'success');
    const stillPending = await paymentOf(client, 'MB-1-P1');
    assert.equal(stillPending.state, 'pending.waiting', 'forged-looking webhooks changed nothing');

    const run = await client.post('/admin/jobs/payment-status-poll/run', {});
    assert.equal(run.status, 200, JSON.stringify(run.body));
    await waitForOrder(client, 'MB-1', (o) => o.state === 'fulfilment.awaitingShipment', 'confirmed by the poll');
    const payment = await paymentOf(client, 'MB-1-P1');
    assert.deepEqual(
      payment.context.history.filter((h) => h.applied).map((h) => `${h.status}/${h.source}`),
      ['success/poll'],
    );
  }));

test('an invoice that expired unpaid is found by the poller: the payment expires and (last attempt) the order is blocked', () =>
  withShop(
    async ({ client }) => {
      await client.post('/orders', orderBody({ externalId: 'MB-2' }), { 'Idempotency-Key': 'mb-2' });
      const paying = await waitForOrder(client, 'MB-2', (o) => typeof o.paymentUrl === 'string', 'a payment page');
      // valid for a second: the poll runs once Monobank's own page says the invoice expired
      await eventually(
        async () => (await (await fetch(String(paying.paymentUrl))).text()).includes('Статус: expired'),
        10_000,
        'the invoice to expire at Monobank',
      );
      await client.post('/admin/jobs/payment-status-poll/run', {});
      const payment = await eventually(
        async () => {
          const p = await paymentOf(client, 'MB-2-P1');
          return p.state === 'expired' ? p : undefined;
        },
        10_000,
        'the payment expired',
      );
      assert.deepEqual(
        payment.context.history.filter((h) => h.applied).map((h) => `${h.status}/${h.source}`),
        ['expired/poll'],
      );
      await waitForOrder(client, 'MB-2', (o) => o.state === 'blocked', 'blocked after its only attempt');
    },
    { HUB_ORDER_POLICY: JSON.stringify({ paymentValiditySeconds: 1, maxPaymentAttempts: 1 }) },
  ));

test('the daily report reconciles payments with the provider: a discrepancy planted in the sandbox is listed and mailed', () =>
  withShop(async ({ client, mailbox }) => {
    for (const id of ['DR-1', 'DR-2']) {
      await client.post(
        '/orders',
        orderBody({ externalId: id, items: [{ sku: 'CUP-1', name: 'Чашка', qty: 1, unitPrice: 25_000 }], total: 25_000 }),
        { 'Idempotency-Key': id },
      );
      const paying = await waitForOrder(client, id, (o) => typeof o.paymentUrl === 'string', `${id} payment page`);
      await payOnPage(String(paying.paymentUrl), 'success');
      await waitForOrder(client, id, (o) => o.state === 'fulfilment.awaitingShipment', `${id} paid`);
    }
    // money returned at Monobank that the hub never heard of
    const invoiceId = (await paymentOf(client, 'DR-2-P1')).context.providerId;
    const tamper = await fetch(`${await sandboxUrl(client, 'monobank')}/sandbox/invoices/${invoiceId}/tamper`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'reversed' }),
    });
    assert.equal(tamper.status, 200);

    const run = await client.post('/admin/jobs/daily-report/run', {});
    assert.equal(run.status, 200, JSON.stringify(run.body));
    const day = new Date().toISOString().slice(0, 10);
    const report = await client.get(`/admin/reports/${day}`);
    const reconciliation = report.body.reconciliation as {
      checked: number;
      matched: number;
      mismatches: Array<{ paymentId: string; detail: string }>;
    };
    assert.equal(reconciliation.checked, 2);
    assert.equal(reconciliation.matched, 1);
    assert.deepEqual(
      reconciliation.mismatches.map((m) => m.paymentId),
      ['DR-2-P1'],
    );
    assert.match(reconciliation.mismatches[0]?.detail ?? '', /monobank says reversed/);
    const mail = await waitForMail(mailbox, 'management@example.com', /1 mismatches/);
    assert.match(mail.text, /MISMATCHES:\n- order DR-2, payment DR-2-P1/);
    const listed = await client.get('/admin/reports');
    assert.equal((listed.body.reports as Array<{ day: string; mismatches: number }>)[0]?.mismatches, 1);
  }));

test('LiqPay: a 19.99 UAH order gets its checkout and is paid (amounts go to LiqPay from integer kopiykas)', () =>
  shop.run(async ({ client, orderBody }) => {
    const tea = await client.call('PUT', '/admin/products/TEA-1', { name: 'Чай', price: 1_999, stock: 5 });
    assert.ok(tea.status === 201 || tea.status === 200, JSON.stringify(tea.body));
    const body = orderBody({
      externalId: 'LP-1999',
      items: [{ sku: 'TEA-1', name: 'Чай', qty: 1, unitPrice: 1_999 }],
      total: 1_999,
      payment: { method: 'liqpay' },
    });
    const accepted = await client.post('/orders', body, { 'Idempotency-Key': 'lp-1999' });
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    const paying = await waitForOrder(client, 'LP-1999', (o) => typeof o.paymentUrl === 'string', 'a checkout URL');
    const checkoutUrl = new URL(String(paying.paymentUrl));
    const data = JSON.parse(Buffer.from(checkoutUrl.searchParams.get('data') ?? '', 'base64').toString('utf8')) as {
      amount: unknown;
      expired_date: string;
    };
    assert.equal(data.amount, 19.99, 'the checkout carries 19.99 exactly');
    // the link dies with the payment's validity (a day by default)
    const validFor = liqpayTimeMs(data.expired_date) - Date.now();
    assert.ok(validFor > 86_400_000 - 120_000 && validFor <= 86_400_000, `expired_date ${data.expired_date}`);
    assert.match(await (await fetch(checkoutUrl)).text(), /19\.99 UAH/);
    const paid = await fetch(`${checkoutUrl.origin}/api/3/checkout/pay`, {
      method: 'POST',
      body: new URLSearchParams({ order_id: 'LP-1999-P1', outcome: 'success' }),
    });
    assert.equal(paid.status, 200);
    await waitForOrder(client, 'LP-1999', (o) => o.state === 'fulfilment.awaitingShipment', 'confirmed by the callback');
    assert.equal((await paymentOf(client, 'LP-1999-P1')).state, 'succeeded');
  }));

test('LiqPay on a live integration: a test payment (status sandbox) is a failure with an alert, not money received', () =>
  withShop(async ({ client, hub }) => {
    const live = { publicKey: 'i-live-shop', privateKey: 'live-private-key-of-the-shop' };
    const configured = await client.call('PUT', '/admin/integrations/liqpay', { credentials: live });
    assert.equal(configured.status, 200, JSON.stringify(configured.body));
    await client.post('/orders', orderBody({ externalId: 'LP-S', payment: { method: 'liqpay' } }), { 'Idempotency-Key': 'lp-s' });
    await waitForOrder(client, 'LP-S', (o) => typeof o.paymentUrl === 'string', 'a checkout URL');

    const data = encodeData({
      public_key: live.publicKey,
      version: 3,
      action: 'pay',
      status: 'sandbox',
      order_id: 'LP-S-P1',
      payment_id: 901,
      amount: 500,
      currency: 'UAH',
      end_date: Date.now(),
    });
    const delivered = await postForm(`${hub.url}/webhooks/liqpay`, { data, signature: signData(live.privateKey, data) });
    assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
    const failed = await eventually(
      async () => {
        const payment = await paymentOf(client, 'LP-S-P1');
        return payment.state === 'failed' ? payment : undefined;
      },
      15_000,
      'the test payment to fail',
    );
    assert.deepEqual(
      failed.context.history.filter((h) => h.applied).map((h) => `${h.status}/${h.source}`),
      ['failure/webhook'],
    );
    const alerts = await eventually(
      async () => {
        const { body } = await client.get('/admin/alerts?kind=test_payment_in_production');
        const found = (body as { alerts: Array<{ subject: string }> }).alerts;
        return found.length > 0 ? found : undefined;
      },
      10_000,
      'the alert',
    );
    assert.equal(alerts[0]?.subject, 'payment/LP-S-P1');
  }));

test('the payment link as a QR code (PNG or SVG) reads back as the link; an order not waiting for a payment has none (409)', () =>
  shop.run(async ({ hub, client, orderBody }) => {
    await client.post('/orders', orderBody({ externalId: 'QR-1' }), { 'Idempotency-Key': 'qr-1' });
    const paying = await waitForOrder(client, 'QR-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');
    const qr = (format: string) =>
      fetch(`${hub.url}/orders/QR-1/payment-qr?format=${format}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });

    const png = await qr('png');
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    const image = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    // jsqr is CommonJS whose types declare an ES default export: the function is `.default` to the type checker
    const read = jsqr.default(new Uint8ClampedArray(image.data), image.width, image.height);
    assert.equal(read?.data, paying.paymentUrl, 'a phone scanning the code opens the payment page');

    const svg = await qr('svg');
    assert.equal(svg.status, 200);
    assert.match(svg.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.match(await svg.text(), /^<svg [^>]*viewBox="0 0 \d+ \d+"/);
    assert.equal((await qr('gif')).status, 400);

    await payOnPage(String(paying.paymentUrl), 'success');
    await waitForOrder(client, 'QR-1', (o) => o.state === 'fulfilment.awaitingShipment', 'paid');
    const paid = await qr('svg');
    assert.equal(paid.status, 409);
    assert.equal(((await paid.json()) as { error: { code: string } }).error.code, 'conflict');
    assert.equal((await fetch(`${hub.url}/orders/QR-1/payment-qr`)).status, 401, 'operators and viewers only');
  }));
