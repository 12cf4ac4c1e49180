import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import order from '../../machines/order.ts';
import payment from '../../machines/payment.ts';
import product from '../../machines/product.ts';
import shipment from '../../machines/shipment.ts';
import { MONOBANK_SANDBOX_TOKEN, startMonobankSandbox } from '../../actors/platform/connectors/monobank/sandbox.ts';
import { waitForAlerts } from '../support/alerts.ts';
import { eventually } from '../support/database.ts';
import { hubDatabases, sandboxCredentialsOf } from '../support/hub-process.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';
import { orderBody, payOnPage, sharedShop, waitForOrder, withShop, type Setup } from '../support/shop.ts';

/**
 * The payment providers' real protocols end to end, over HTTP against a running hub and the Monobank and
 * LiqPay sandboxes: refunds that the provider processes later or refuses, money that arrives after the hub
 * gave up on a payment, webhooks without Monobank's optional fields, and the customer's way back to the shop.
 */

// One hub for the refund tests (each with its own order and product); the others change the hub's policy or integrations.
const shop = sharedShop();

after(async () => {
  await shop.close();
  await assertHubJournalsReplay(hubDatabases(), [order, payment, product, shipment]);
});

interface PaymentView {
  state: string;
  revision: number;
  tags: string[];
  context: {
    providerId: string;
    pageUrl: string;
    refundStatus: string | null;
    refundAttempts: number;
    incident: { code: string; message: string; attempt: number } | null;
    refund: { reason: string; requestedBy: string } | null;
    history: Array<{ status: string; source: string; applied: boolean }>;
  };
}

async function paymentOf(client: Setup['client'], paymentId: string): Promise<PaymentView> {
  return (await client.get(`/actors/payment/${paymentId}`)).body as unknown as PaymentView;
}

async function paymentIn(client: Setup['client'], paymentId: string, state: string): Promise<PaymentView> {
  return eventually(
    async () => {
      const found = await paymentOf(client, paymentId);
      return found.state === state ? found : undefined;
    },
    20_000,
    `payment ${paymentId} in ${state}`,
  );
}

async function monobankSandboxUrl(client: Setup['client']): Promise<string> {
  return String((await client.get('/admin/integrations/monobank')).body.baseUrl);
}

async function sandboxControl(sandboxUrl: string, name: string, body: unknown): Promise<void> {
  const answer = await fetch(`${sandboxUrl}/__sandbox/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(answer.status < 300, `sandbox control ${name} answered ${answer.status}: ${await answer.text()}`);
}

async function paidOrder(client: Setup['client'], id: string, body: typeof orderBody = orderBody): Promise<void> {
  await client.post('/orders', body({ externalId: id }), { 'Idempotency-Key': id });
  const paying = await waitForOrder(client, id, (o) => typeof o.paymentUrl === 'string', `${id} payment page`);
  await payOnPage(String(paying.paymentUrl), 'success');
  await waitForOrder(client, id, (o) => o.state === 'fulfilment.awaitingShipment', `${id} paid`);
}

test('Monobank refund answered "processing" is polled (invoice/status, its cancelList) until the bank settles it; only then refunded', () =>
  shop.run(async ({ client, sku, orderBody: ownOrderBody }) => {
    await paidOrder(client, 'RF-1', ownOrderBody);
    const monobank = await monobankSandboxUrl(client);
    await sandboxControl(monobank, 'refund-answer', { status: 'processing' });

    const cancelled = await client.post(
      '/orders/RF-1/cancel',
      { reason: 'customer changed their mind' },
      { 'Idempotency-Key': 'rf-1-cancel' },
    );
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const processing = await paymentIn(client, 'RF-1-P1', 'refundPending.waiting');
    assert.equal(processing.context.refundStatus, 'processing');
    const view = await waitForOrder(client, 'RF-1', (o) => o.state === 'cancelled', 'the order cancelled');
    const current = (view.payment as { current: { state: string; paid: boolean; incident: unknown } }).current;
    assert.deepEqual(
      [current.state, current.paid, current.incident],
      ['refundPending.waiting', true, null],
      'not refunded yet: still paid',
    );

    // the bank has not decided: a poll asks invoice/status and waits on
    assert.equal((await client.post('/admin/jobs/payment-status-poll/run', {})).status, 200);
    const stillProcessing = await eventually(
      async () => {
        const found = await paymentOf(client, 'RF-1-P1');
        return found.state === 'refundPending.waiting' && found.context.refundStatus === 'refund processing' ? found : undefined;
      },
      15_000,
      'the poll to hear the refund is still processing',
    );
    assert.equal(stillProcessing.context.refundAttempts, 1);

    // the bank settles it; its webhook is lost (signed with another key), so only the poll can find out
    const faults = await fetch(`${monobank}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'badSignature', count: 1 }),
    });
    assert.equal(faults.status, 201);
    await sandboxControl(monobank, 'settle-refunds', { invoiceId: processing.context.providerId, status: 'success' });
    assert.equal((await paymentOf(client, 'RF-1-P1')).state, 'refundPending.waiting', 'the lost webhook changed nothing');
    assert.equal((await client.post('/admin/jobs/payment-status-poll/run', {})).status, 200);
    const refunded = await paymentIn(client, 'RF-1-P1', 'refunded');
    assert.equal(refunded.context.refundStatus, 'reversed');
    assert.ok(!refunded.tags.includes('paid'));

    // the refund named our reference and carried the basket the invoice was sold with
    const requests = (await (await fetch(`${monobank}/__sandbox/requests`)).json()) as {
      requests: Array<{ path: string; body: string }>;
    };
    const cancels = requests.requests.filter((r) => r.path === '/api/merchant/invoice/cancel').map((r) => JSON.parse(r.body) as unknown);
    assert.deepEqual(cancels, [
      {
        invoiceId: processing.context.providerId,
        amount: 50_000,
        extRef: 'RF-1-P1-R1',
        items: [{ name: 'Чашка', qty: 2, sum: 25_000, code: sku }],
      },
    ]);
  }));

test('Monobank refund answered "failure": the payment stays paid with a refund_failed incident and an alert, and an operator retries it (audited)', () =>
  shop.run(async ({ client, orderBody: ownOrderBody }) => {
    await paidOrder(client, 'RF-2', ownOrderBody);
    const monobank = await monobankSandboxUrl(client);
    await sandboxControl(monobank, 'refund-answer', { status: 'failure' });
    await client.post('/orders/RF-2/cancel', { reason: 'out of stock after all' }, { 'Idempotency-Key': 'rf-2-cancel' });

    const refused = await paymentIn(client, 'RF-2-P1', 'refundFailed');
    assert.equal(refused.context.incident?.code, 'refund_failed');
    assert.ok(refused.tags.includes('paid') && refused.tags.includes('alert'));
    const view = await waitForOrder(client, 'RF-2', (o) => o.state === 'cancelled', 'the order cancelled');
    const current = (view.payment as { current: { paid: boolean; incident: { code: string; message: string } | null } }).current;
    assert.equal(current.paid, true);
    assert.equal(current.incident?.code, 'refund_failed');
    assert.match(current.incident?.message ?? '', /refused the refund \(failure\)/);
    const alerts = await waitForAlerts(client, 'actor_needs_attention', 'payment/RF-2-P1');
    assert.match(alerts[0]?.message ?? '', /refundFailed/);
    const incidents = await client.get('/admin/incidents');
    assert.ok(
      (incidents.body.needsAttention as Array<{ type: string; id: string }>).some((a) => a.type === 'payment' && a.id === 'RF-2-P1'),
      'listed among the incidents',
    );

    // an operator retries over the admin API once the bank accepts refunds again
    await sandboxControl(monobank, 'refund-answer', { status: 'success' });
    const noReason = await client.post('/admin/actors/payment/RF-2-P1/events', { event: { type: 'RETRY_REFUND', by: 'operator-1' } });
    assert.equal(noReason.status, 400, 'a manual event says why');
    const retried = await client.post('/admin/actors/payment/RF-2-P1/events', {
      event: { type: 'RETRY_REFUND', by: 'operator-1' },
      reason: 'the bank lifted its block on refunds',
    });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    const refunded = await paymentIn(client, 'RF-2-P1', 'refunded');
    assert.deepEqual([refunded.context.refundAttempts, refunded.context.incident], [2, null]);
    const audit = await client.get('/admin/audit?operation=actor.event&actor=payment/RF-2-P1');
    const entries = (audit.body as { entries: Array<{ principal: string; details: { event: string; reason: string } }> }).entries;
    assert.deepEqual(
      entries.map((e) => [e.details.event, e.details.reason]),
      [['RETRY_REFUND', 'the bank lifted its block on refunds']],
    );
    const again = await client.post('/admin/actors/payment/RF-2-P1/events', {
      event: { type: 'RETRY_REFUND', by: 'operator-1' },
      reason: 'clicked twice',
    });
    assert.equal(again.status, 409, 'a refunded payment takes no retry');
  }));

test('a Monobank payment whose time ran out while the bank was processing, then succeeds (webhook), is credited to the order waiting to retry', () =>
  withShop(
    async ({ client }) => {
      // the bank is still authorising when the customer's time runs out
      await sandboxControl(await monobankSandboxUrl(client), 'next-invoice', { status: 'processing' });
      await client.post('/orders', orderBody({ externalId: 'LATE-1' }), { 'Idempotency-Key': 'late-1' });
      const expired = await paymentIn(client, 'LATE-1-P1', 'lapsed.waiting');
      await waitForOrder(client, 'LATE-1', (o) => o.state === 'awaitingPaymentRetry', 'the order waiting to retry');

      await payOnPage(expired.context.pageUrl, 'success');
      const view = await waitForOrder(client, 'LATE-1', (o) => o.state === 'fulfilment.awaitingShipment', 'the late payment taken');
      assert.equal((view.receipt as { paymentId: string }).paymentId, 'LATE-1-P1');
      assert.equal((view.payment as { attempts: number }).attempts, 1, 'no second attempt was made');
      const paid = await paymentOf(client, 'LATE-1-P1');
      assert.equal(paid.state, 'succeeded');
      // the hub's last check found the bank still processing; the success came after it gave up
      const applied = paid.context.history.filter((h) => h.applied).map((h) => `${h.status}/${h.source}`);
      assert.deepEqual(applied.slice(-2), ['processing/poll', 'success/webhook']);
    },
    { HUB_ORDER_POLICY: JSON.stringify({ paymentValiditySeconds: 1, paymentGraceSeconds: 0, paymentRetryDelayMs: 600_000 }) },
  ));

test('a late Monobank success found by the poll that the order can no longer take (blocked) is refunded at the provider automatically, with an alert', () =>
  withShop(
    async ({ client, hub }) => {
      const monobank = await monobankSandboxUrl(client);
      await sandboxControl(monobank, 'next-invoice', { status: 'processing' });
      await client.post('/orders', orderBody({ externalId: 'LATE-2' }), { 'Idempotency-Key': 'late-2' });
      const lapsed = await paymentIn(client, 'LATE-2-P1', 'lapsed.waiting');
      await waitForOrder(client, 'LATE-2', (o) => o.state === 'blocked', 'the order blocked after its only attempt');

      // the success webhook is lost (signed with another key): the status poll finds it
      const faults = await fetch(`${monobank}/__sandbox/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'badSignature', count: 1 }),
      });
      assert.equal(faults.status, 201);
      await payOnPage(lapsed.context.pageUrl, 'success');
      assert.equal((await paymentOf(client, 'LATE-2-P1')).state, 'lapsed.waiting', 'the lost webhook changed nothing');
      assert.equal((await client.post('/admin/jobs/payment-status-poll/run', {})).status, 200);
      const refunded = await paymentIn(client, 'LATE-2-P1', 'refunded');
      assert.deepEqual(
        refunded.context.history.filter((h) => h.applied && h.status === 'success').map((h) => h.source),
        ['poll'],
      );
      assert.equal(refunded.context.refund?.reason, 'paid after the order stopped waiting for this payment');
      const alerts = await waitForAlerts(client, 'unclaimed_payment_refunded', 'payment/LATE-2-P1');
      assert.match(
        alerts[0]?.message ?? '',
        /LATE-2-P1 of order LATE-2 succeeded after the order stopped waiting for it .*refunded automatically/,
      );
      // asked with the token of the hub's own sandbox (generated into its DATA_DIR)
      const { token } = await sandboxCredentialsOf(hub.dataDir, 'monobank');
      const invoice = await fetch(`${monobank}/api/merchant/invoice/status?invoiceId=${refunded.context.providerId}`, {
        headers: { 'x-token': token ?? '' },
      });
      assert.equal(((await invoice.json()) as { status: string }).status, 'reversed', 'the money went back at Monobank');
      assert.equal((await client.get('/orders/LATE-2')).body.state, 'blocked');
    },
    { HUB_ORDER_POLICY: JSON.stringify({ paymentValiditySeconds: 1, paymentGraceSeconds: 0, maxPaymentAttempts: 1 }) },
  ));

test('Monobank webhooks missing any optional field are taken (200), not refused; one missing a needed field is a 400', async () => {
  // a Monobank sandbox of the test's own, so that the test can sign bodies Monobank could send
  const mono = await startMonobankSandbox();
  try {
    await withShop(async ({ client, hub }) => {
      const configured = await client.call('PUT', '/admin/integrations/monobank', {
        baseUrl: mono.url,
        credentials: { token: MONOBANK_SANDBOX_TOKEN },
      });
      assert.equal(configured.status, 200, JSON.stringify(configured.body));
      await client.post('/orders', orderBody({ externalId: 'OPT-1' }), { 'Idempotency-Key': 'opt-1' });
      const waiting = await paymentIn(client, 'OPT-1-P1', 'pending.waiting');
      const invoice = mono.invoice(waiting.context.providerId);
      assert.ok(invoice);
      const deliver = (body: Record<string, unknown>) => {
        const raw = JSON.stringify(body);
        return fetch(`${hub.url}/webhooks/monobank`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-sign': mono.sign(raw) },
          body: raw,
        });
      };
      const processing: Record<string, unknown> = {
        ...invoice,
        status: 'processing',
        finalAmount: invoice.amount,
        destination: 'Замовлення OPT-1',
        failureReason: '',
        errCode: '',
        paymentInfo: { maskedPan: '444403******1902', paymentSystem: 'visa' },
        cancelList: [],
      };
      const optional = [
        'ccy',
        'finalAmount',
        'createdDate',
        'modifiedDate',
        'destination',
        'failureReason',
        'errCode',
        'paymentInfo',
        'cancelList',
      ];
      for (const field of optional) {
        const body: Record<string, unknown> = { ...processing, modifiedDate: new Date().toISOString() };
        delete body[field];
        const answer = await deliver(body);
        assert.equal(answer.status, 200, `without ${field}: ${await answer.text()}`);
      }
      const withoutStatus = await deliver({ invoiceId: invoice.invoiceId, amount: invoice.amount, reference: 'OPT-1-P1' });
      assert.equal(withoutStatus.status, 400, 'the status is needed');
      // the bare minimum the documentation requires, plus the reference that names our payment
      const paid = await deliver({ invoiceId: invoice.invoiceId, status: 'success', amount: invoice.amount, reference: 'OPT-1-P1' });
      assert.equal(paid.status, 200);
      await waitForOrder(client, 'OPT-1', (o) => o.state === 'fulfilment.awaitingShipment', 'paid by a minimal webhook');
    });
  } finally {
    await mono.close();
  }
});

test('the customer comes back to the shop: Monobank gets redirectUrl and LiqPay result_url (the thank-you page, or the integration setting)', () =>
  withShop(async ({ client, hub }) => {
    await client.post('/orders', orderBody({ externalId: 'BACK-1' }), { 'Idempotency-Key': 'back-1' });
    const paying = await waitForOrder(client, 'BACK-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');
    const paid = await fetch(String(paying.paymentUrl), {
      method: 'POST',
      body: new URLSearchParams({ outcome: 'success' }),
      redirect: 'manual',
    });
    assert.equal(paid.status, 303);
    const back = String(paid.headers.get('location'));
    assert.equal(back, `${hub.url}/payments/thank-you?order=BACK-1`);
    const page = await fetch(back);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /Дякуємо[\s\S]*BACK-1/);
    const escaped = await (await fetch(`${hub.url}/payments/thank-you?order=${encodeURIComponent('<script>')}`)).text();
    assert.ok(!escaped.includes('<script>'), 'the order number is escaped');

    await client.post('/orders', orderBody({ externalId: 'BACK-2', payment: { method: 'liqpay' } }), { 'Idempotency-Key': 'back-2' });
    const checkout = new URL(
      String((await waitForOrder(client, 'BACK-2', (o) => typeof o.paymentUrl === 'string', 'a checkout')).paymentUrl),
    );
    const data = JSON.parse(Buffer.from(checkout.searchParams.get('data') ?? '', 'base64').toString('utf8')) as { result_url: string };
    assert.equal(data.result_url, `${hub.url}/payments/thank-you?order=BACK-2`);

    const settings = [
      ['monobank', { redirectUrl: 'https://shop.example/thanks' }],
      ['liqpay', { resultUrl: 'https://shop.example/thanks' }],
    ] as const;
    for (const [integration, setting] of settings) {
      const set = await client.call('PUT', `/admin/integrations/${integration}`, { settings: setting });
      assert.equal(set.status, 200, JSON.stringify(set.body));
    }
    await client.post('/orders', orderBody({ externalId: 'BACK-3' }), { 'Idempotency-Key': 'back-3' });
    const own = await waitForOrder(client, 'BACK-3', (o) => typeof o.paymentUrl === 'string', 'a payment page');
    const redirected = await fetch(String(own.paymentUrl), {
      method: 'POST',
      body: new URLSearchParams({ outcome: 'success' }),
      redirect: 'manual',
    });
    assert.equal(redirected.headers.get('location'), 'https://shop.example/thanks');
    await client.post('/orders', orderBody({ externalId: 'BACK-4', payment: { method: 'liqpay' } }), { 'Idempotency-Key': 'back-4' });
    const ownCheckout = new URL(
      String((await waitForOrder(client, 'BACK-4', (o) => typeof o.paymentUrl === 'string', 'a checkout')).paymentUrl),
    );
    const ownData = JSON.parse(Buffer.from(ownCheckout.searchParams.get('data') ?? '', 'base64').toString('utf8')) as {
      result_url: string;
    };
    assert.equal(ownData.result_url, 'https://shop.example/thanks');
  }));
