import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { monobankConnector } from '../../../../actors/platform/connectors/monobank/connector.ts';
import type { MonobankClient } from '../../../../actors/platform/connectors/monobank/client.ts';
import { invoiceStatusSchema, verifyPublicKeySignature } from '../../../../actors/platform/connectors/monobank/protocol.ts';
import type { MonobankSandbox } from '../../../../actors/platform/connectors/monobank/sandbox.ts';
import { withSandboxClient, rejection } from '../../../support/connectors.ts';
import { eventually } from '../../../support/database.ts';
import { startReceiver, type Receiver } from '../../../support/receiver.ts';

type Setup = Parameters<Parameters<typeof withSandboxClient<MonobankClient>>[1]>[0] & { mono: MonobankSandbox; hooks: Receiver };

async function withMonobank(run: (setup: Setup) => Promise<void>, policy = {}): Promise<void> {
  const hooks = await startReceiver();
  try {
    await withSandboxClient<MonobankClient>(
      monobankConnector,
      (setup) => run({ ...setup, mono: setup.sandbox as MonobankSandbox, hooks }),
      { policy },
    );
  } finally {
    await hooks.close();
  }
}

const invoice = (hooks: Receiver, extra = {}) => ({
  amount: 50_000,
  ccy: 980,
  merchantPaymInfo: { reference: 'ORDER-1', destination: 'Чашка ×2', basketOrder: [{ name: 'Чашка', qty: 2, sum: 25_000, code: 'CUP-1' }] },
  webHookUrl: `${hooks.url}/webhooks/monobank`,
  ...extra,
});

test('the connection test fetches the webhook public key with the X-Token, decoded to PEM', () =>
  withMonobank(async ({ client, mono }) => {
    assert.equal(await monobankConnector.test(client), 'authenticated; webhook public key fetched');
    assert.equal(await client.publicKey(), mono.publicKeyPem);
    const [request] = mono.requests();
    assert.equal(request?.headers['x-token'], monobankConnector.sandbox.credentials.token);
  }));

test('a wrong token is FORBIDDEN (403, not retryable) and never appears in a call record', () =>
  withMonobank(async ({ clientWith, calls }) => {
    const error = await rejection(clientWith({ token: 'forged-token-0001' }).publicKey());
    assert.deepEqual([error.code, error.status, error.retryable, error.message], ['FORBIDDEN', 403, false, 'forbidden']);
    assert.equal(calls[0]?.outcome, 'rejected');
    assert.ok(!JSON.stringify(calls).includes('forged-token-0001'));
  }));

test('an invoice paid on its page goes created → processing → success, each change a webhook signed over the raw body', () =>
  withMonobank(async ({ client, mono, hooks }) => {
    const created = await client.createInvoice(invoice(hooks));
    assert.match(created.invoiceId, /^p2_/);
    assert.match(created.pageUrl, new RegExp(`/pay/${created.invoiceId}$`));
    assert.equal((await client.invoiceStatus(created.invoiceId)).status, 'created');

    const page = await fetch(created.pageUrl);
    assert.match(await page.text(), /500\.00 ₴/);
    const paid = await fetch(created.pageUrl, { method: 'POST', body: new URLSearchParams({ outcome: 'success' }) });
    assert.equal(paid.status, 200);

    const status = await client.invoiceStatus(created.invoiceId);
    assert.equal(status.status, 'success');
    assert.equal(status.finalAmount, 50_000);
    assert.equal(status.reference, 'ORDER-1');
    assert.match(status.paymentInfo?.maskedPan ?? '', /^\d{6}\*+\d{4}$/);

    const received = await hooks.waitFor(2);
    assert.deepEqual(
      received.map((r) => invoiceStatusSchema.parse(JSON.parse(r.body.toString())).status),
      ['processing', 'success'],
    );
    for (const webhook of received) {
      assert.equal(webhook.path, '/webhooks/monobank');
      assert.equal(
        verifyPublicKeySignature({
          publicKeyPem: mono.publicKeyPem,
          payload: webhook.body,
          signatureBase64: webhook.headers['x-sign'] as string,
        }),
        true,
      );
    }
  }));

test('a declined payment ends in failure with a reason; a bad-signature fault signs one webhook with another key', () =>
  withMonobank(async ({ client, mono, hooks }) => {
    const { invoiceId } = await client.createInvoice(invoice(hooks));
    mono.faults.inject({ kind: 'badSignature', count: 1 });
    await mono.pay(invoiceId, 'failure');
    const status = await client.invoiceStatus(invoiceId);
    assert.equal(status.status, 'failure');
    assert.ok(status.failureReason);
    const verdicts = hooks.received.map((r) =>
      verifyPublicKeySignature({ publicKeyPem: mono.publicKeyPem, payload: r.body, signatureBase64: r.headers['x-sign'] as string }),
    );
    assert.deepEqual(verdicts, [false, true]);
  }));

test('webhooks are retried until the receiver answers 200', () =>
  withMonobank(async ({ client, mono, hooks }) => {
    const { invoiceId } = await client.createInvoice(invoice(hooks));
    hooks.answerWith(500);
    // the first delivery is refused; every one after it succeeds
    void hooks.waitFor(1).then(
      () => hooks.answerWith(200),
      () => undefined,
    );
    await mono.pay(invoiceId, 'success');
    const deliveries = mono.webhooks();
    assert.equal(deliveries.length, 2);
    assert.ok((deliveries[0]?.attempts ?? 0) > 1, 'the first webhook was not retried');
    assert.equal(deliveries.at(-1)?.status, 200);
  }));

const cup = (qty: number) => ({ name: 'Чашка', qty, sum: 25_000, code: 'CUP-1' });

test('refunds: partial keeps success, the rest reverses; more than was paid is refused', () =>
  withMonobank(async ({ client, mono, hooks }) => {
    const { invoiceId } = await client.createInvoice(invoice(hooks));
    await mono.pay(invoiceId, 'success');
    assert.equal((await client.cancelInvoice({ invoiceId, amount: 25_000, extRef: 'refund-1', items: [cup(1)] })).status, 'success');
    let status = await client.invoiceStatus(invoiceId);
    assert.equal(status.status, 'success');
    assert.deepEqual(
      status.cancelList?.map((entry) => [entry.status, entry.amount, entry.extRef]),
      [['success', 25_000, 'refund-1']],
    );
    const tooMuch = await rejection(client.cancelInvoice({ invoiceId, amount: 50_000, items: [cup(2)] }));
    assert.deepEqual([tooMuch.code, tooMuch.status, tooMuch.retryable], ['BAD_REQUEST', 400, false]);
    await client.cancelInvoice({ invoiceId, items: [cup(1)] });
    status = await client.invoiceStatus(invoiceId);
    assert.equal(status.status, 'reversed');
    assert.equal(status.finalAmount, 0);
  }));

test('a cancel of an invoice sold with a basket must list those goods: missing, unknown, too many or mismatched items are refused', () =>
  withMonobank(async ({ client, mono, hooks }) => {
    const { invoiceId } = await client.createInvoice(invoice(hooks));
    await mono.pay(invoiceId, 'success');
    const refusals = [
      { invoiceId },
      { invoiceId, items: [{ ...cup(1), code: 'TEA-1' }] },
      { invoiceId, items: [cup(3)] },
      { invoiceId, items: [{ ...cup(2), sum: 20_000 }] },
      { invoiceId, amount: 30_000, items: [cup(1)] },
    ];
    const messages = [];
    for (const cancel of refusals) {
      const error = await rejection(client.cancelInvoice(cancel));
      assert.deepEqual([error.code, error.status], ['BAD_REQUEST', 400], JSON.stringify(cancel));
      messages.push(error.message);
    }
    assert.match(messages[0] ?? '', /items/);
    assert.match(messages[1] ?? '', /TEA-1/);
    assert.match(messages[4] ?? '', /add up to 25000/);
    assert.equal((await client.invoiceStatus(invoiceId)).cancelList?.length, 0, 'a refused cancel leaves nothing behind');
    // an invoice without a basket is refunded without items
    const plain = await client.createInvoice(invoice(hooks, { merchantPaymInfo: { reference: 'ORDER-2' } }));
    await mono.pay(plain.invoiceId, 'success');
    assert.equal((await client.cancelInvoice({ invoiceId: plain.invoiceId })).status, 'success');
  }));

test('the sandbox answers refunds as told: processing until settled (then reversed, with a webhook), or failure leaving the invoice paid', () =>
  withMonobank(async ({ client, mono, hooks }) => {
    const control = (name: string, body: unknown) =>
      fetch(`${mono.url}/__sandbox/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await control('refund-answer', { status: 'later' })).status, 400);
    assert.equal((await control('refund-answer', { status: 'processing' })).status, 200);
    const { invoiceId } = await client.createInvoice(invoice(hooks));
    await mono.pay(invoiceId, 'success');
    const answer = await client.cancelInvoice({ invoiceId, amount: 50_000, extRef: 'o-P1-R1', items: [cup(2)] });
    assert.equal(answer.status, 'processing');
    let status = await client.invoiceStatus(invoiceId);
    assert.deepEqual([status.status, status.cancelList?.map((e) => [e.status, e.extRef])], ['success', [['processing', 'o-P1-R1']]]);
    const webhooksBefore = hooks.received.length;
    const settled = await control('settle-refunds', { invoiceId, status: 'success' });
    assert.equal(settled.status, 200);
    status = await client.invoiceStatus(invoiceId);
    assert.deepEqual([status.status, status.finalAmount, status.cancelList?.map((e) => e.status)], ['reversed', 0, ['success']]);
    const [reversed] = await hooks.waitFor(webhooksBefore + 1).then((all) => all.slice(webhooksBefore));
    assert.equal(invoiceStatusSchema.parse(JSON.parse(reversed?.body.toString() ?? '{}')).status, 'reversed');

    assert.equal((await control('refund-answer', { status: 'failure' })).status, 200);
    const second = await client.createInvoice(invoice(hooks));
    await mono.pay(second.invoiceId, 'success');
    assert.equal((await client.cancelInvoice({ invoiceId: second.invoiceId, extRef: 'o-P2-R1', items: [cup(2)] })).status, 'failure');
    status = await client.invoiceStatus(second.invoiceId);
    assert.deepEqual([status.status, status.finalAmount, status.cancelList?.map((e) => e.status)], ['success', 50_000, ['failure']]);
    assert.equal(
      (await control('settle-refunds', { invoiceId: second.invoiceId, status: 'success' })).status,
      400,
      'nothing is processing',
    );
    // a refused refund gave nothing back: the whole amount can be refunded again
    mono.answerRefunds('success');
    assert.equal((await client.cancelInvoice({ invoiceId: second.invoiceId, extRef: 'o-P2-R2', items: [cup(2)] })).status, 'success');
    assert.equal((await client.invoiceStatus(second.invoiceId)).status, 'reversed');
  }));

test("after paying, Monobank's page sends the customer to the invoice's redirectUrl", () =>
  withMonobank(async ({ client, hooks }) => {
    const { pageUrl } = await client.createInvoice(
      invoice(hooks, { redirectUrl: 'https://shop.example/payments/thank-you?order=ORDER-1' }),
    );
    const paid = await fetch(pageUrl, { method: 'POST', body: new URLSearchParams({ outcome: 'success' }), redirect: 'manual' });
    assert.equal(paid.status, 303);
    assert.equal(paid.headers.get('location'), 'https://shop.example/payments/thank-you?order=ORDER-1');
  }));

test('next-invoice: an invoice whose bank is still authorising stays processing past its validity, and its page completes it', () =>
  withMonobank(async ({ client, mono, hooks }) => {
    const told = await fetch(`${mono.url}/__sandbox/next-invoice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'processing' }),
    });
    assert.equal(told.status, 200);
    const { invoiceId, pageUrl } = await client.createInvoice(invoice(hooks, { validity: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal((await client.invoiceStatus(invoiceId)).status, 'processing');
    const removal = await rejection(client.removeInvoice(invoiceId));
    assert.equal(removal.code, 'BAD_REQUEST', 'a payment under way cannot be withdrawn');
    await fetch(pageUrl, { method: 'POST', body: new URLSearchParams({ outcome: 'success' }) });
    assert.equal((await client.invoiceStatus(invoiceId)).status, 'success');
    const statuses = (await hooks.waitFor(2)).map((r) => invoiceStatusSchema.parse(JSON.parse(r.body.toString())).status);
    assert.deepEqual(statuses, ['processing', 'success']);
    const next = await client.createInvoice(invoice(hooks));
    assert.equal((await client.invoiceStatus(next.invoiceId)).status, 'created', 'the control applies to one invoice');
    assert.equal(mono.invoice(invoiceId)?.status, 'success');
  }));

test('hold then finalize; remove invalidates an unpaid invoice; an invoice past its validity reads expired', () =>
  withMonobank(async ({ client, mono, hooks }) => {
    const held = await client.createInvoice(invoice(hooks, { paymentType: 'hold' }));
    await mono.pay(held.invoiceId, 'success');
    assert.equal((await client.invoiceStatus(held.invoiceId)).status, 'hold');
    await client.finalizeInvoice(held.invoiceId);
    assert.equal((await client.invoiceStatus(held.invoiceId)).status, 'success');

    const unpaid = await client.createInvoice(invoice(hooks));
    await client.removeInvoice(unpaid.invoiceId);
    assert.equal((await client.invoiceStatus(unpaid.invoiceId)).status, 'expired');

    const brief = await client.createInvoice(invoice(hooks, { validity: 1 }));
    await eventually(
      async () => (await client.invoiceStatus(brief.invoiceId)).status === 'expired',
      5_000,
      'the invoice valid for one second to read expired',
    );
  }));

test('an invalid invoice is BAD_REQUEST naming the field; an unknown id is refused', () =>
  withMonobank(async ({ client, hooks }) => {
    const error = await rejection(client.createInvoice(invoice(hooks, { amount: 0 })));
    assert.equal(error.code, 'BAD_REQUEST');
    assert.match(error.message, /amount/);
    assert.equal((await rejection(client.invoiceStatus('p2_nope'))).code, 'BAD_REQUEST');
  }));

test('creating an invoice is never repeated by the pipeline; reading status is retried through a 503', () =>
  withMonobank(async ({ client, mono, hooks, calls }) => {
    mono.faults.inject({
      kind: 'status',
      status: 503,
      count: 1,
      path: '/api/merchant/invoice/create',
      body: { errCode: 'INTERNAL_ERROR', errText: 'internal server error' },
    });
    const error = await rejection(client.createInvoice(invoice(hooks)));
    assert.deepEqual([error.code, error.retryable], ['INTERNAL_ERROR', true]);
    assert.equal(mono.requests({ path: '/api/merchant/invoice/create' }).length, 1);
    assert.equal(calls.at(-1)?.attempts, 1);

    const { invoiceId } = await client.createInvoice(invoice(hooks));
    mono.faults.inject({ kind: 'status', status: 503, count: 1 });
    assert.equal((await client.invoiceStatus(invoiceId)).status, 'created');
    assert.equal(calls.at(-1)?.attempts, 2);

    mono.faults.inject({ kind: 'status', status: 429, count: 3, body: { errCode: 'TMR', errText: 'too many requests' } });
    const limited = await rejection(client.invoiceStatus(invoiceId));
    assert.deepEqual([limited.code, limited.retryable, limited.status], ['TMR', true, 429]);
  }));

test('ECDSA P-256 signatures over SHA-256 of the raw body (Monobank X-Sign) verify, and anything else fails without throwing', () => {
  const body = Buffer.from('{"invoiceId":"p2_9ZgpZVsl3","status":"success"}');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const signature = sign('sha256', body, privateKey).toString('base64');
  assert.equal(verifyPublicKeySignature({ publicKeyPem: pem, payload: body, signatureBase64: signature }), true);
  assert.equal(
    verifyPublicKeySignature({ publicKeyPem: pem, payload: Buffer.from(`${body.toString()} `), signatureBase64: signature }),
    false,
  );
  assert.equal(verifyPublicKeySignature({ publicKeyPem: pem, payload: body, signatureBase64: 'bm90IGEgc2lnbmF0dXJl' }), false);
  assert.equal(verifyPublicKeySignature({ publicKeyPem: 'not a key', payload: body, signatureBase64: signature }), false);
});

// Monobank's published example (https://monobank.ua/api-docs/acquiring/instrumenty-rozrobky/webhooks/pryklady-veryfikatsii-pidpysu-webhook,
// the Go example's pubKeyBase64, xSignBase64 and bodyBytes): facts, kept byte for byte because the signature covers the exact bytes.
const PUBLISHED_PUBLIC_KEY_BASE64 =
  'LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFQUc1LzZ3NnZubGJZb0ZmRHlYWE4vS29CbVVjTgo3NWJSUWg4MFBhaEdldnJoanFCQnI3OXNSS0JSbnpHODFUZVQ5OEFOakU1c0R3RmZ5Znhub0ZJcmZBPT0KLS0tLS1FTkQgUFVCTElDIEtFWS0tLS0tCg==';
const PUBLISHED_X_SIGN = 'MEUCIQC/mVKhi8FKoayul2Mim3E2oaIOCNJk5dEXxTqbkeJSOQIgOM0hsW0qcP2H8iXy1aQYpmY0SJWEaWur7nQXlKDCFxA=';
const PUBLISHED_BODY = `{
  "invoiceId": "p2_9ZgpZVsl3",
  "status": "created",
  "failureReason": "string",
  "amount": 4200,
  "ccy": 980,
  "finalAmount": 4200,
  "createdDate": "2019-08-24T14:15:22Z",
  "modifiedDate": "2019-08-24T14:15:22Z",
  "reference": "84d0070ee4e44667b31371d8f8813947",
  "cancelList": [
    {
      "status": "processing",
      "amount": 4200,
      "ccy": 980,
      "createdDate": "2019-08-24T14:15:22Z",
      "modifiedDate": "2019-08-24T14:15:22Z",
      "approvalCode": "662476",
      "rrn": "060189181768",
      "extRef": "635ace02599849e981b2cd7a65f417fe"
    }
  ]
}`;

test("Monobank's published X-Sign example verifies with our verification, byte for byte, and its body parses", () => {
  const publicKeyPem = Buffer.from(PUBLISHED_PUBLIC_KEY_BASE64, 'base64').toString('utf8');
  const payload = Buffer.from(PUBLISHED_BODY, 'utf8');
  assert.equal(verifyPublicKeySignature({ publicKeyPem, payload, signatureBase64: PUBLISHED_X_SIGN }), true);
  // the same JSON re-serialised is other bytes: it must not verify (the signature covers the raw body)
  const reserialised = Buffer.from(JSON.stringify(JSON.parse(PUBLISHED_BODY)));
  assert.equal(verifyPublicKeySignature({ publicKeyPem, payload: reserialised, signatureBase64: PUBLISHED_X_SIGN }), false);
  const parsed = invoiceStatusSchema.parse(JSON.parse(PUBLISHED_BODY));
  assert.deepEqual(
    [parsed.status, parsed.reference, parsed.cancelList?.[0]?.status, parsed.cancelList?.[0]?.extRef],
    ['created', '84d0070ee4e44667b31371d8f8813947', 'processing', '635ace02599849e981b2cd7a65f417fe'],
  );
});

test('a status body is strict about what the hub needs and tolerant of every optional field (missing, null or odd)', () => {
  const full = JSON.parse(PUBLISHED_BODY) as Record<string, unknown>;
  for (const optional of ['failureReason', 'ccy', 'finalAmount', 'createdDate', 'modifiedDate', 'reference', 'cancelList']) {
    const { [optional]: _dropped, ...rest } = full;
    assert.ok(invoiceStatusSchema.safeParse(rest).success, `without ${optional}`);
  }
  const entry = (full.cancelList as Array<Record<string, unknown>>)[0] ?? {};
  for (const optional of ['amount', 'ccy', 'createdDate', 'modifiedDate', 'approvalCode', 'rrn', 'extRef']) {
    const { [optional]: _dropped, ...rest } = entry;
    const parsed = invoiceStatusSchema.safeParse({ ...full, cancelList: [rest] });
    assert.ok(parsed.success && parsed.data.cancelList?.length === 1, `cancelList[] without ${optional}`);
  }
  const odd = invoiceStatusSchema.parse({
    ...full,
    paymentInfo: 'n/a',
    createdDate: 'yesterday',
    cancelList: null,
    walletData: null,
    tipsInfo: null,
  });
  assert.deepEqual([odd.paymentInfo, odd.createdDate, odd.cancelList], [undefined, undefined, undefined]);
  for (const required of ['invoiceId', 'status', 'amount']) {
    const { [required]: _dropped, ...rest } = full;
    assert.equal(invoiceStatusSchema.safeParse(rest).success, false, `without ${required}`);
  }
  assert.equal(invoiceStatusSchema.safeParse({ ...full, status: 'paid' }).success, false, 'an unknown status is refused');
});
