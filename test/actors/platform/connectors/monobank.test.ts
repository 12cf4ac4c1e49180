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

test('refunds: partial keeps success, the rest reverses; more than was paid is refused', () =>
  withMonobank(async ({ client, mono, hooks }) => {
    const { invoiceId } = await client.createInvoice(invoice(hooks));
    await mono.pay(invoiceId, 'success');
    assert.equal((await client.cancelInvoice({ invoiceId, amount: 20_000, extRef: 'refund-1' })).status, 'success');
    let status = await client.invoiceStatus(invoiceId);
    assert.equal(status.status, 'success');
    assert.equal(status.cancelList?.length, 1);
    const tooMuch = await rejection(client.cancelInvoice({ invoiceId, amount: 40_000 }));
    assert.deepEqual([tooMuch.code, tooMuch.status, tooMuch.retryable], ['BAD_REQUEST', 400, false]);
    await client.cancelInvoice({ invoiceId });
    status = await client.invoiceStatus(invoiceId);
    assert.equal(status.status, 'reversed');
    assert.equal(status.finalAmount, 0);
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
