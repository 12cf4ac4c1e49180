import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { paymeCheckoutUrl } from '../../../../actors/platform/connectors/payme/protocol.ts';
import { PAYME_SANDBOX_CREDENTIALS, startPaymeSandbox, type PaymeSandbox } from '../../../../actors/platform/connectors/payme/sandbox.ts';

/**
 * The Payme sandbox is as strict as Payme: driven against a merchant written here to answer what each test
 * wants (right or wrong), it runs Payme's call sequence with Payme's login and records every wrong answer.
 */

interface Received {
  method: string;
  params: Record<string, unknown>;
  id: number;
  headers: IncomingHttpHeaders;
}

type Script = (call: Received) => { status?: number; body: unknown };

let merchant: Server;
let endpoint = '';
let received: Received[] = [];
let script: Script = () => ({ body: {} });
let sandbox: PaymeSandbox;

const message = { ru: 'Ошибка', uz: 'Xato', en: 'Error' };
const ok = (call: Received, result: unknown) => ({ body: { id: call.id, result, error: null } });
const fail = (call: Received, code: number, data: string | null = null) => ({
  body: { id: call.id, result: null, error: { code, message, data } },
});

/** a merchant that does what Payme expects: one transaction number per Payme id, times kept */
function rightMerchant(): Script {
  const txs = new Map<
    string,
    { transaction: string; create: number; perform: number; cancel: number; state: number; reason: number | null }
  >();
  let clock = 1_700_000_000_000;
  return (call) => {
    clock += 1000;
    const id = String(call.params.id ?? '');
    const tx = txs.get(id);
    switch (call.method) {
      case 'CheckPerformTransaction':
        return ok(call, { allow: true });
      case 'CreateTransaction':
        if (!tx) txs.set(id, { transaction: String(txs.size + 1), create: clock, perform: 0, cancel: 0, state: 1, reason: null });
        return ok(call, { create_time: txs.get(id)?.create, transaction: txs.get(id)?.transaction, state: 1 });
      case 'PerformTransaction':
        if (!tx) return fail(call, -31003);
        if (tx.state === 1) Object.assign(tx, { state: 2, perform: clock });
        return ok(call, { transaction: tx.transaction, perform_time: tx.perform, state: 2 });
      case 'CancelTransaction':
        if (!tx) return fail(call, -31003);
        if (tx.state > 0) Object.assign(tx, { state: -tx.state, cancel: clock, reason: call.params.reason });
        return ok(call, { transaction: tx.transaction, cancel_time: tx.cancel, state: tx.state });
      case 'CheckTransaction':
        if (!tx) return fail(call, -31003);
        return ok(call, {
          create_time: tx.create,
          perform_time: tx.perform,
          cancel_time: tx.cancel,
          transaction: tx.transaction,
          state: tx.state,
          reason: tx.reason,
        });
      default:
        return fail(call, -32601, call.method);
    }
  };
}

before(async () => {
  merchant = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<Received, 'headers'>;
      const call = { ...body, headers: req.headers };
      received.push(call);
      const answer = script(call);
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/webhooks/payme`;
  sandbox = await startPaymeSandbox();
});

after(async () => {
  await sandbox.close();
  await new Promise<void>((resolve) => merchant.close(() => resolve()));
});

const link = (orderId: string, amount = 50_000) =>
  paymeCheckoutUrl({
    checkoutUrl: sandbox.url,
    merchantId: PAYME_SANDBOX_CREDENTIALS.merchantId,
    account: { order_id: orderId },
    amount,
    lang: 'uz',
    returnUrl: 'https://shop.example/thanks',
  });

function fresh(next: Script) {
  sandbox.reset();
  received = [];
  script = next;
}

test('the checkout page shows the order of a link; another merchant is 404, a link that does not decode is 400', async () => {
  const page = await fetch(link('ORD-7', 1_234_567));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /12[\s\u00a0]?345\.67 UZS[\s\S]*order_id: ORD-7/);
  const stranger = paymeCheckoutUrl({
    checkoutUrl: sandbox.url,
    merchantId: '587f72c72cac0d162c722ae2',
    account: { order_id: '197' },
    amount: 500,
  });
  assert.equal((await fetch(stranger)).status, 404);
  assert.equal((await fetch(`${sandbox.url}/${Buffer.from('m=x;a=oops').toString('base64')}`)).status, 400);
});

test('told of the merchant over /__sandbox/merchant, paying runs Check → Create → Perform with Basic "Paycom:<key>"; a right merchant has no violation', async () => {
  fresh(rightMerchant());
  const told = await fetch(`${sandbox.url}/__sandbox/merchant`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint, key: 'cabinet-key-1' }),
  });
  assert.equal(told.status, 200);
  assert.deepEqual(await told.json(), { merchantId: PAYME_SANDBOX_CREDENTIALS.merchantId, endpoint });

  const paid = (await (
    await fetch(`${sandbox.url}/__sandbox/pay`, { method: 'POST', body: JSON.stringify({ link: link('ORD-1') }) })
  ).json()) as { ok: boolean; transaction: { state: number; transaction: string }; returnUrl: string };
  assert.equal(paid.ok, true);
  assert.deepEqual([paid.transaction.state, paid.transaction.transaction, paid.returnUrl], [2, '1', 'https://shop.example/thanks']);
  assert.deepEqual(
    received.map((r) => r.method),
    ['CheckPerformTransaction', 'CreateTransaction', 'PerformTransaction'],
  );
  assert.deepEqual(received[1]?.params.account, { order_id: 'ORD-1' });
  assert.equal(received[1]?.params.amount, 50_000);
  assert.match(String(received[1]?.params.id), /^[0-9a-f]{24}$/);
  assert.ok(Math.abs(Number(received[1]?.params.time) - Date.now()) < 5_000, 'time is Payme’s, in milliseconds');
  for (const call of received) {
    assert.equal(call.headers.authorization, `Basic ${Buffer.from('Paycom:cabinet-key-1').toString('base64')}`);
    assert.equal(call.headers['content-type'], 'text/json; charset=UTF-8');
  }
  const id = String(received[1]?.params.id);
  assert.equal((await sandbox.cancel(id, 5)).result?.state, -2);
  assert.equal((await sandbox.checkTransaction(id)).result?.reason, 5);
  assert.equal((await sandbox.timeOut('CheckTransaction', { id })).identical, true);
  assert.deepEqual(sandbox.violations(), []);
  const listed = (await (await fetch(`${sandbox.url}/__sandbox/violations`)).json()) as { violations: string[] };
  assert.deepEqual(listed.violations, []);
});

test('a merchant answering wrongly is caught: HTTP 500, another id, a result and an error, -31050 without data, a bad shape', async () => {
  sandbox.setMerchant(endpoint, 'k');
  fresh((call) => ({ status: 500, body: { id: call.id, result: { allow: true } } }));
  await sandbox.call('CheckPerformTransaction', { amount: 1, account: { order_id: 'a' } });
  assert.match(sandbox.violations().join('\n'), /answered HTTP 500/);

  fresh((call) => ok({ ...call, id: call.id + 1 }, { allow: true }));
  await sandbox.call('CheckPerformTransaction', { amount: 1, account: { order_id: 'a' } });
  assert.match(sandbox.violations().join('\n'), /answered id \d+ to the call/);

  fresh((call) => ({ body: { id: call.id, result: { allow: true }, error: { code: -31050, message, data: 'order_id' } } }));
  await sandbox.call('CheckPerformTransaction', { amount: 1, account: { order_id: 'a' } });
  assert.match(sandbox.violations().join('\n'), /a result or an error, exactly one/);

  fresh((call) => fail(call, -31050));
  await sandbox.call('CheckPerformTransaction', { amount: 1, account: { order_id: 'a' } });
  assert.match(sandbox.violations().join('\n'), /-31050 must name the account field/);

  fresh((call) => ok(call, { create_time: Date.now(), transaction: 5, state: 2 }));
  const created = await sandbox.createOnly(link('ORD-2'));
  assert.equal(created.ok, false);
  assert.match(sandbox.violations().join('\n'), /shape is wrong/);

  fresh((call) => ({ body: { id: call.id, error: { code: -31008, message: 'один язык' } } }));
  await sandbox.call('PerformTransaction', { id: 'x' });
  assert.match(sandbox.violations().join('\n'), /envelope is wrong/);
});

test('wrong semantics are caught: a repeat answering another transaction, an unknown transaction with a result, a wrong key let in', async () => {
  sandbox.setMerchant(endpoint, 'k');
  let n = 0;
  const right = rightMerchant();
  const forgetful: Script = (call) => {
    n += 1;
    if (call.method === 'CreateTransaction') return ok(call, { create_time: 1_700_000_000_000 + n, transaction: String(n), state: 1 });
    return right(call);
  };
  fresh(forgetful);
  const created = await sandbox.createOnly(link('ORD-3'));
  assert.equal(created.ok, true);
  const createCall = sandbox.calls().find((c) => c.method === 'CreateTransaction');
  const replay = await sandbox.replay(createCall?.seq ?? 0);
  assert.equal(replay.identical, false);
  assert.match(sandbox.violations().join('\n'), /repeated Create answered another transaction/);

  fresh((call) => ok(call, { transaction: '1', perform_time: 1_700_000_000_000, state: 2 }));
  await sandbox.perform('000000000000000000000000');
  assert.match(sandbox.violations().join('\n'), /never created was answered with a result/);

  fresh((call) => ok(call, { allow: true }));
  await sandbox.call('CheckPerformTransaction', { amount: 1, account: { order_id: 'a' } }, { key: 'not-the-key' });
  assert.match(sandbox.violations().join('\n'), /wrong key must be answered -32504/);

  // a Perform the merchant refuses: Payme takes the money back by cancelling (reason 3)
  const refusing = rightMerchant();
  fresh((call) => (call.method === 'PerformTransaction' ? fail(call, -31008) : refusing(call)));
  const refused = await sandbox.pay(link('ORD-4'));
  assert.deepEqual([refused.ok, refused.step, refused.error?.code], [false, 'perform', -31008]);
  assert.equal(received.at(-1)?.method, 'CancelTransaction');
  assert.equal(received.at(-1)?.params.reason, 3);
});
