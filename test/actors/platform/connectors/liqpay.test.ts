import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liqpayConnector } from '../../../../actors/platform/connectors/liqpay/connector.ts';
import type { LiqPayClient } from '../../../../actors/platform/connectors/liqpay/client.ts';
import {
  decodeData,
  encodeData,
  liqpayTime,
  paymentUpdateOfLiqPay,
  refundOutcomeOfLiqPay,
  signData,
  verifySignature,
} from '../../../../actors/platform/connectors/liqpay/protocol.ts';
import { ConnectorError } from '../../../../actors/platform/connectors/kit/errors.ts';
import { LIQPAY_SANDBOX_KEYS, type LiqPaySandbox } from '../../../../actors/platform/connectors/liqpay/sandbox.ts';
import { withSandboxClient, rejection } from '../../../support/connectors.ts';
import { startReceiver, type Receiver } from '../../../support/receiver.ts';

type Setup = Parameters<Parameters<typeof withSandboxClient<LiqPayClient>>[1]>[0] & { liqpay: LiqPaySandbox; hooks: Receiver };

async function withLiqPay(run: (setup: Setup) => Promise<void>): Promise<void> {
  const hooks = await startReceiver();
  try {
    await withSandboxClient<LiqPayClient>(liqpayConnector, (setup) => run({ ...setup, liqpay: setup.sandbox as LiqPaySandbox, hooks }));
  } finally {
    await hooks.close();
  }
}

const order = (hooks: Receiver, orderId: string, extra = {}) => ({
  amount: 500,
  currency: 'UAH' as const,
  description: 'Замовлення SHOP-1001',
  order_id: orderId,
  server_url: `${hooks.url}/webhooks/liqpay`,
  ...extra,
});

function callbackOf(hooks: Receiver, index: number): { data: string; signature: string } {
  const form = new URLSearchParams(hooks.received[index]?.body.toString() ?? '');
  return { data: form.get('data') ?? '', signature: form.get('signature') ?? '' };
}

test("data and signature match the public documentation's example exactly", () => {
  const data = encodeData({
    public_key: 'i00000000',
    version: '3',
    action: 'pay',
    amount: '3',
    currency: 'UAH',
    description: 'test',
    order_id: '000001',
  });
  assert.equal(
    data,
    'eyJwdWJsaWNfa2V5IjoiaTAwMDAwMDAwIiwidmVyc2lvbiI6IjMiLCJhY3Rpb24iOiJwYXkiLCJhbW91bnQiOiIzIiwiY3VycmVuY3kiOiJVQUgiLCJkZXNjcmlwdGlvbiI6InRlc3QiLCJvcmRlcl9pZCI6IjAwMDAwMSJ9',
  );
  assert.equal(signData('a4825234f4bae72a0be04eafe9e8e2bada209255', data), 'wR+UZDC4jjeL/qUOvIsofIWpZh8=');
  assert.equal(verifySignature('a4825234f4bae72a0be04eafe9e8e2bada209255', data, 'wR+UZDC4jjeL/qUOvIsofIWpZh8='), true);
  assert.equal(verifySignature('a4825234f4bae72a0be04eafe9e8e2bada209255', `${data}x`, 'wR+UZDC4jjeL/qUOvIsofIWpZh8='), false);
});

test('the connection test asks for an order that cannot exist: "payment_not_found" proves keys and signature', () =>
  withLiqPay(async ({ client, liqpay }) => {
    assert.equal(await liqpayConnector.test(client), 'authenticated; keys and signature accepted');
    const form = new URLSearchParams(liqpay.requests()[0]?.body ?? '');
    const params = decodeData(form.get('data') ?? '') as Record<string, unknown>;
    assert.deepEqual([params.version, params.public_key, params.action], [3, LIQPAY_SANDBOX_KEYS.publicKey, 'status']);
    assert.equal(form.get('signature'), signData(LIQPAY_SANDBOX_KEYS.privateKey, form.get('data') ?? ''));
  }));

test('a wrong private key is invalid_signature, a wrong public key public_key_not_found; neither is retried, the private key is never recorded', () =>
  withLiqPay(async ({ clientWith, calls }) => {
    const badPrivate = await rejection(
      liqpayConnector.test(clientWith({ publicKey: LIQPAY_SANDBOX_KEYS.publicKey, privateKey: 'not-my-private-key-77' })),
    );
    assert.deepEqual([badPrivate.code, badPrivate.retryable], ['invalid_signature', false]);
    const badPublic = await rejection(
      liqpayConnector.test(clientWith({ publicKey: 'i-unknown', privateKey: LIQPAY_SANDBOX_KEYS.privateKey })),
    );
    assert.equal(badPublic.code, 'public_key_not_found');
    assert.ok(!JSON.stringify(calls).includes('not-my-private-key-77'));
    assert.deepEqual(
      calls.map((c) => c.attempts),
      [1, 1],
    );
  }));

test('a signed checkout page takes the payment; the signed callback reaches server_url and reads back as success', () =>
  withLiqPay(async ({ client, liqpay, hooks }) => {
    const checkout = client.checkout(order(hooks, 'SHOP-1001-1'));
    const page = await fetch(checkout.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /500\.00 UAH/);
    await rejection(client.status('SHOP-1001-1')); // not paid yet: payment_not_found

    const paid = await fetch(`${liqpay.url}/api/3/checkout/pay`, {
      method: 'POST',
      body: new URLSearchParams({ order_id: 'SHOP-1001-1', outcome: 'success' }),
    });
    assert.equal(paid.status, 200);
    const status = await client.status('SHOP-1001-1');
    assert.deepEqual([status.status, status.amount, status.currency], ['success', 500, 'UAH']);

    await hooks.waitFor(1);
    const { data, signature } = callbackOf(hooks, 0);
    const callback = client.readCallback(data, signature);
    assert.equal(callback?.status, 'success');
    assert.equal(callback?.order_id, 'SHOP-1001-1');
  }));

test('a test payment (sandbox: 1) reads "sandbox"; a declined one "failure" with LiqPay\'s reason', () =>
  withLiqPay(async ({ client, liqpay, hooks }) => {
    await fetch(client.checkout(order(hooks, 'T-1', { sandbox: 1 })).url);
    await liqpay.pay('T-1', 'success');
    assert.equal((await client.status('T-1')).status, 'sandbox');
    await fetch(client.checkout(order(hooks, 'T-2')).url);
    await liqpay.pay('T-2', 'failure');
    const declined = await client.status('T-2');
    assert.deepEqual([declined.status, declined.err_code], ['failure', 'limit']);
  }));

test('a payment LiqPay failed with status "error" is answered by the status poll as a failed payment, not a failed call', () =>
  withLiqPay(async ({ client, liqpay, hooks }) => {
    await fetch(client.checkout(order(hooks, 'E-1')).url);
    await liqpay.pay('E-1', 'error');
    const errored = await client.status('E-1');
    assert.deepEqual([errored.status, errored.err_code], ['error', 'err_payment']);
    const update = paymentUpdateOfLiqPay(errored, 'poll');
    assert.deepEqual([update.status, update.reason], ['failure', 'Помилка платежу']);
    await assert.rejects(
      client.status('NOBODY'),
      (error: unknown) => error instanceof ConnectorError && error.code === 'payment_not_found',
    );
  }));

test('a forged or tampered callback is refused by readCallback', () =>
  withLiqPay(async ({ client, liqpay, hooks }) => {
    await fetch(client.checkout(order(hooks, 'F-1')).url);
    liqpay.faults.inject({ kind: 'badSignature', count: 1 });
    await liqpay.pay('F-1', 'success');
    const forged = callbackOf(hooks, 0);
    assert.equal(client.readCallback(forged.data, forged.signature), null);

    const tampered = encodeData({ ...(decodeData(forged.data) as object), amount: 1 });
    assert.equal(client.readCallback(tampered, signData(LIQPAY_SANDBOX_KEYS.privateKey, forged.data)), null);
    const genuine = encodeData(decodeData(forged.data) as Record<string, unknown>);
    assert.equal(client.readCallback(genuine, signData(LIQPAY_SANDBOX_KEYS.privateKey, genuine))?.status, 'success');
  }));

test('refunds: a paid order reverses (with a callback); an unpaid one is refused; a refund is never repeated by the pipeline', () =>
  withLiqPay(async ({ client, liqpay, hooks, calls }) => {
    await fetch(client.checkout(order(hooks, 'R-1')).url);
    await liqpay.pay('R-1', 'success');
    assert.equal((await client.refund('R-1')).status, 'reversed');
    assert.equal((await client.status('R-1')).status, 'reversed');
    await hooks.waitFor(2);

    await fetch(client.checkout(order(hooks, 'R-2')).url);
    assert.equal((await rejection(client.refund('R-2'))).code, 'payment_not_found');

    liqpay.faults.inject({ kind: 'status', status: 502, count: 1 });
    const broken = await rejection(client.refund('R-1'));
    assert.deepEqual([broken.code, broken.retryable], ['http_502', true]);
    assert.equal(calls.at(-1)?.attempts, 1);
    liqpay.faults.inject({ kind: 'status', status: 502, count: 1 });
    assert.equal((await client.status('R-1')).status, 'reversed');
    assert.equal(calls.at(-1)?.attempts, 2);
  }));

test('a checkout with a bad amount is refused before anything is signed', () =>
  withLiqPay(async ({ client, hooks }) => {
    assert.throws(() => client.checkout(order(hooks, 'B-1', { amount: 0 })), /amount/);
    assert.throws(() => client.checkout(order(hooks, 'B-2', { amount: 1.005 })), /two decimals/);
  }));

test('a checkout past its expired_date cannot be paid; a live one can', () =>
  withLiqPay(async ({ client, liqpay, hooks }) => {
    const past = client.checkout(order(hooks, 'X-1', { expired_date: liqpayTime(new Date(Date.now() - 60_000)) }));
    await fetch(past.url);
    const late = await fetch(`${liqpay.url}/api/3/checkout/pay`, {
      method: 'POST',
      body: new URLSearchParams({ order_id: 'X-1', outcome: 'success' }),
    });
    assert.equal(late.status, 410);
    await assert.rejects(client.status('X-1'), (error: unknown) => error instanceof ConnectorError && error.code === 'payment_not_found');

    const future = client.checkout(order(hooks, 'X-2', { expired_date: liqpayTime(new Date(Date.now() + 3_600_000)) }));
    await fetch(future.url);
    const paid = await fetch(`${liqpay.url}/api/3/checkout/pay`, {
      method: 'POST',
      body: new URLSearchParams({ order_id: 'X-2', outcome: 'success' }),
    });
    assert.equal(paid.status, 200);
    assert.equal((await client.status('X-2')).status, 'success');
    assert.throws(() => client.checkout(order(hooks, 'X-3', { expired_date: '2026-12-02T10:00:00Z' })), /YYYY-MM-DD HH:MM:SS/);
  }));

test("after paying, LiqPay's checkout page sends the customer to result_url", () =>
  withLiqPay(async ({ client, liqpay, hooks }) => {
    const checkout = client.checkout(order(hooks, 'RU-1', { result_url: 'https://shop.example/payments/thank-you?order=RU' }));
    assert.equal((decodeData(checkout.data) as { result_url?: string }).result_url, 'https://shop.example/payments/thank-you?order=RU');
    await fetch(checkout.url);
    const paid = await fetch(`${liqpay.url}/api/3/checkout/pay`, {
      method: 'POST',
      body: new URLSearchParams({ order_id: 'RU-1', outcome: 'success' }),
      redirect: 'manual',
    });
    assert.equal(paid.status, 303);
    assert.equal(paid.headers.get('location'), 'https://shop.example/payments/thank-you?order=RU');
  }));

test("a refund's outcome is read from LiqPay's status: reversed is done, failure/error refused, anything else not final", () =>
  withLiqPay(async ({ client, liqpay, hooks }) => {
    await fetch(client.checkout(order(hooks, 'RO-1')).url);
    await liqpay.pay('RO-1', 'success');
    assert.equal(refundOutcomeOfLiqPay((await client.status('RO-1')).status), 'processing', 'paid, not refunded yet');
    assert.equal(refundOutcomeOfLiqPay((await client.refund('RO-1')).status), 'success');
    assert.equal(refundOutcomeOfLiqPay((await client.status('RO-1')).status), 'success');
    assert.deepEqual(
      ['failure', 'error', 'wait_accept', undefined].map((status) => refundOutcomeOfLiqPay(status)),
      ['failure', 'failure', 'processing', 'processing'],
    );
  }));
