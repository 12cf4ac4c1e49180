import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clickMerchantAuth, clickPaymentUrl, clickSignString } from '../../../../actors/platform/connectors/click/protocol.ts';
import { CLICK_SANDBOX_CREDENTIALS, startClickSandbox, type ClickSandbox } from '../../../../actors/platform/connectors/click/sandbox.ts';

/**
 * The Click sandbox is as strict as Click: run against a merchant of this
 * test that answers as it is told (right or wrong), it signs what it sends
 * correctly and records every wrong answer as a violation.
 */

const creds = CLICK_SANDBOX_CREDENTIALS;
let click: ClickSandbox;
let merchant: Server;
let merchantUrl = '';
const received: Array<{ path: string; fields: Record<string, string> }> = [];
/** how the merchant answers the next requests: by default correctly */
let behaviour: (path: string, fields: Record<string, string>, n: number) => { status?: number; body: string } = () => ({ body: '' });

const right = (path: string, fields: Record<string, string>, prepareId = 41) =>
  JSON.stringify({
    click_trans_id: Number(fields.click_trans_id),
    merchant_trans_id: fields.merchant_trans_id,
    ...(path.endsWith('prepare') ? { merchant_prepare_id: prepareId } : { merchant_confirm_id: 42 }),
    error: Number(fields.error) < 0 ? -9 : 0,
    error_note: Number(fields.error) < 0 ? 'Transaction cancelled' : 'Success',
  });

before(async () => {
  click = await startClickSandbox();
  merchant = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const fields = Object.fromEntries(new URLSearchParams(body));
      received.push({ path: req.url ?? '', fields });
      const answer = behaviour(req.url ?? '', fields, received.length);
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve));
  merchantUrl = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}`;
  click.announce({ prepareUrl: `${merchantUrl}/prepare`, completeUrl: `${merchantUrl}/complete` });
});

after(async () => {
  await click?.close();
  await new Promise<void>((resolve) => merchant?.close(() => resolve()));
});

const link = (order: string) =>
  clickPaymentUrl({
    payUrl: `${click.url}/services/pay`,
    serviceId: creds.serviceId,
    merchantId: creds.merchantId,
    amountTiyin: 123_450,
    transactionParam: order,
  });

test('it sends Prepare then Complete, form-encoded, signed as documented (sign_time YYYY-MM-DD HH:mm:ss), Complete echoing our prepare id', async () => {
  received.length = 0;
  behaviour = (path, fields) => ({ body: right(path, fields) });
  const paid = await click.pay(link('S-1'));
  assert.deepEqual(paid.violations, []);
  assert.equal(paid.status, 'paid');
  const [prepare, complete] = received;
  assert.deepEqual([prepare?.path, complete?.path], ['/prepare', '/complete']);
  assert.equal(prepare?.fields.amount, '1234.50');
  assert.equal(prepare?.fields.action, '0');
  assert.match(prepare?.fields.sign_time ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.equal(prepare?.fields.sign_string, clickSignString(prepare?.fields as never, creds.secretKey));
  assert.equal(complete?.fields.merchant_prepare_id, '41');
  assert.equal(complete?.fields.action, '1');
  assert.equal(complete?.fields.sign_string, clickSignString(complete?.fields as never, creds.secretKey));
  assert.equal(complete?.fields.click_trans_id, prepare?.fields.click_trans_id);
});

test('wrong answers are violations: not 200, not JSON, ids not echoed, a prepare id that changes on a repeat, a forged request accepted', async () => {
  behaviour = () => ({ status: 500, body: '{}' });
  const down = await click.pay(link('S-2'));
  assert.ok(
    down.violations.some((v) => v.includes('HTTP 500')),
    down.violations.join('\n'),
  );
  assert.equal(down.status, 'failed', 'Click does not complete what was not prepared');

  behaviour = () => ({ body: 'OK' });
  assert.ok((await click.pay(link('S-3'))).violations.some((v) => v.includes('not JSON')));

  behaviour = (path, fields) => ({ body: right(path, { ...fields, merchant_trans_id: 'someone-else' }) });
  assert.ok((await click.pay(link('S-4'))).violations.some((v) => v.includes('merchant_trans_id not echoed')));

  // a merchant that gives a new prepare id each time it hears the same Prepare
  behaviour = (path, fields, n) => ({ body: right(path, fields, 100 + n) });
  const unstable = await click.pay(link('S-5'), { timeout: 'prepare' });
  assert.ok(
    unstable.violations.some((v) => v.includes('merchant_prepare_id changed')),
    unstable.violations.join('\n'),
  );

  // a merchant that does not check signatures (or the order of calls)
  behaviour = (path, fields) => ({ body: right(path, fields) });
  const careless = await click.pay(link('S-6'), { badSignature: 'complete', reorder: true });
  assert.ok(careless.violations.some((v) => v.includes('wrong signature') && v.includes('instead of -1')));
  assert.ok(careless.violations.some((v) => v.includes('Complete before Prepare') && v.includes('instead of -6')));

  // a merchant that confirms a payment Click reports failed
  behaviour = (path, fields) => ({ body: right(path, { ...fields, error: '0' }) });
  const failed = await click.pay(link('S-7'), { outcome: 'fail' });
  assert.ok(failed.violations.some((v) => v.includes('instead of -9')));
  assert.ok(click.violations().length >= 6);
});

test('its Merchant API checks the Auth header; status, status by order and day, and a reversal of a paid payment only', async () => {
  behaviour = (path, fields) => ({ body: right(path, fields) });
  const paid = await click.pay(link('S-8'));
  const auth = (secret = creds.secretKey, at = Date.now()) => clickMerchantAuth(creds.merchantUserId, secret, Math.floor(at / 1000));
  const call = async (method: string, pathname: string, header?: string) => {
    const response = await fetch(`${click.url}${pathname}`, { method, headers: header ? { auth: header } : {} });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const status = `/payment/status/${creds.serviceId}/${paid.clickPaydocId}`;
  assert.equal((await call('GET', status)).status, 401);
  assert.equal((await call('GET', status, auth('wrong'))).status, 401);
  assert.equal((await call('GET', status, auth(creds.secretKey, Date.now() - 3600_000))).status, 401, 'an old timestamp');
  assert.equal((await call('GET', `/payment/status/99999/${paid.clickPaydocId}`, auth())).status, 403);
  assert.deepEqual((await call('GET', status, auth())).body, {
    error_code: 0,
    error_note: 'Success',
    payment_id: Number(paid.clickPaydocId),
    payment_status: 2,
  });
  const day = new Date(Date.now() + 5 * 3600_000).toISOString().slice(0, 10);
  const byOrder = await call('GET', `/payment/status_by_mti/${creds.serviceId}/S-8/${day}`, auth());
  assert.deepEqual([byOrder.body.payment_id, byOrder.body.payment_status], [Number(paid.clickPaydocId), 2]);
  assert.equal((await call('GET', `/payment/status_by_mti/${creds.serviceId}/S-8/2001-01-01`, auth())).status, 404);

  const reversal = `/payment/reversal/${creds.serviceId}/${paid.clickPaydocId}`;
  assert.equal((await call('DELETE', reversal, auth())).body.error_code, 0);
  assert.equal(click.payment(paid.clickTransId)?.status, 'reversed');
  assert.ok(((await call('DELETE', reversal, auth())).body.error_code as number) < 0, 'a reversed payment cannot be reversed again');
  assert.ok(((await call('GET', status, auth())).body.payment_status as number) < 0);
});

test('a link for another merchant is refused on the page and by the control', async () => {
  const foreign = clickPaymentUrl({
    payUrl: `${click.url}/services/pay`,
    serviceId: '1',
    merchantId: creds.merchantId,
    amountTiyin: 100,
    transactionParam: 'X',
  });
  assert.equal((await fetch(foreign)).status, 400);
  const control = await fetch(`${click.url}/__sandbox/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ link: foreign }),
  });
  assert.equal(control.status, 409);
});
