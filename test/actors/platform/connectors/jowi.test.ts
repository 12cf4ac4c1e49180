import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JOWI_ERROR_CODES, type JowiClient } from '../../../../actors/platform/connectors/jowi/client.ts';
import { jowiConnector } from '../../../../actors/platform/connectors/jowi/connector.ts';
import {
  jowiSignature,
  jowiTime,
  normalisePhone,
  saleBody,
  soumsOf,
  tiyinFromSoums,
  verifyJowiAuth,
  verifyWebhookSignature,
  webhookEventSchema,
  webhookSignature,
  type SaleRecord,
} from '../../../../actors/platform/connectors/jowi/protocol.ts';
import type { JowiSandbox } from '../../../../actors/platform/connectors/jowi/sandbox.ts';
import { rejection, withSandboxClient } from '../../../support/connectors.ts';
import { startReceiver } from '../../../support/receiver.ts';

type Setup = Parameters<Parameters<typeof withSandboxClient<JowiClient>>[1]>[0] & { jowi: JowiSandbox };

function withJowi(run: (setup: Setup) => Promise<void>, policy = {}): Promise<void> {
  return withSandboxClient<JowiClient>(jowiConnector, (setup) => run({ ...setup, jowi: setup.sandbox as JowiSandbox }), { policy });
}

const sale = (externalId: string, extra: Partial<SaleRecord> = {}): SaleRecord => ({
  customerId: 'c-1001',
  externalId,
  amount: 14_250_000,
  discount: 750_000,
  bonusSpent: 0,
  items: [{ name: 'Чай', qty: 2, price: 7_500_000 }],
  createdAt: Date.UTC(2026, 11, 2, 5, 15),
  ...extra,
});

// ---- protocol vectors ----

test('sig is the first 10 and last 5 hex characters of sha256(api_key + api_secret): vector T-JOWI-1', () => {
  assert.equal(jowiSignature('test_key', 'test_secret'), '88f1aa6ffecabb9');
  assert.ok(verifyJowiAuth({ apiKey: 'test_key', apiSecret: 'test_secret' }, 'test_key', '88f1aa6ffecabb9'));
  assert.ok(!verifyJowiAuth({ apiKey: 'test_key', apiSecret: 'test_secret' }, 'test_key', '88f1aa6ffecabb8'));
  assert.ok(!verifyJowiAuth({ apiKey: 'test_key', apiSecret: 'test_secret' }, 'other_key', '88f1aa6ffecabb9'));
  assert.ok(!verifyJowiAuth({ apiKey: 'test_key', apiSecret: 'test_secret' }, undefined, undefined));
});

test('X-Jowi-Signature is the hex HMAC-SHA256 of the raw body under api_secret (vector computed with openssl)', () => {
  const body = '{"event":"bonus.changed","id":"ev-1","data":{"customer_id":"c-1001","bonus_balance":13425}}';
  const expected = 'c6db7c47da63b22bc6d83f5bec87ba5118a79fdc7d0376e5bfb899b2a81d0f83';
  assert.equal(webhookSignature(body, 'test_secret'), expected);
  assert.ok(verifyWebhookSignature(Buffer.from(body), 'test_secret', expected));
  assert.ok(verifyWebhookSignature(Buffer.from(body), 'test_secret', expected.toUpperCase()));
  assert.ok(!verifyWebhookSignature(Buffer.from(`${body} `), 'test_secret', expected), 'one byte more');
  assert.ok(!verifyWebhookSignature(Buffer.from(body), 'other_secret', expected));
  assert.ok(!verifyWebhookSignature(Buffer.from(body), 'test_secret', undefined));
  assert.ok(webhookEventSchema.safeParse(JSON.parse(body)).success);
});

test('amounts are soums with at most two decimals on the wire and tiyin integers inside, never through a float product', () => {
  assert.equal(soumsOf(14_250_050), 142500.5);
  assert.equal(soumsOf(1_999), 19.99);
  assert.equal(soumsOf(0), 0);
  assert.equal(tiyinFromSoums.parse(19.99), 1_999);
  assert.equal(tiyinFromSoums.parse(142500.5), 14_250_050);
  assert.equal(tiyinFromSoums.parse(13425), 1_342_500);
  assert.ok(!tiyinFromSoums.safeParse(0.1 + 0.2).success, '0.30000000000000004 has more than two decimals');
  assert.ok(!tiyinFromSoums.safeParse(1.234).success);
  assert.ok(!tiyinFromSoums.safeParse(-1).success);
  assert.throws(() => soumsOf(1.5));
  const body = saleBody(sale('S-1'));
  assert.deepEqual(body, {
    customer_id: 'c-1001',
    external_id: 'S-1',
    amount: 142500,
    discount: 7500,
    bonus_spent: 0,
    items: [{ name: 'Чай', count: 2, price: 75000 }],
    created_at: '2026-12-02T10:15:00+05:00',
  });
});

test('phones are read as 998 and nine digits; times are written in Tashkent time', () => {
  assert.equal(normalisePhone('+998 90 123-45-67'), '998901234567');
  assert.equal(normalisePhone('901234567'), '998901234567');
  assert.equal(normalisePhone('+380501234567'), null);
  assert.equal(normalisePhone('99890123456x'), null);
  assert.equal(jowiTime(Date.UTC(2026, 0, 1, 20, 0, 5)), '2026-01-02T01:00:05+05:00');
});

// ---- the client against the sandbox ----

test('the connection test is an authenticated look-up; a customer is found by phone and by card, money in tiyin', () =>
  withJowi(async ({ client, jowi }) => {
    assert.equal(await jowiConnector.test(client), 'authenticated; customer look-up answered');
    const byPhone = await client.findCustomer({ phone: '998901234567' });
    assert.deepEqual(byPhone, {
      id: 'c-1001',
      name: 'Алишер Каримов',
      phone: '998901234567',
      card: 'JC-0001-0001',
      level: 'silver',
      discountPercent: 5,
      bonusBalance: 1_200_000,
      blocked: false,
    });
    assert.equal((await client.findCustomer({ card: 'JC-0002-0002' }))?.id, 'c-1002');
    assert.equal(await client.findCustomer({ phone: '998909999999' }), null, 'error 40 is "nobody"');
    const [request] = jowi.requests({ path: '/v3/club/customers' });
    const query = new URLSearchParams(request?.query);
    assert.equal(query.get('api_key'), jowi.credentials.apiKey);
    assert.equal(query.get('sig'), jowiSignature(jowi.credentials.apiKey, jowi.credentials.apiSecret));
    assert.equal(query.get('restaurant_id'), jowi.credentials.restaurantId);
  }));

test('a blocked card is error 41; a wrong secret is error 1; a wrong restaurant is 27 — none retried', () =>
  withJowi(async ({ client, clientWith, jowi, calls }) => {
    const blocked = await rejection(client.findCustomer({ card: 'JC-0003-0003' }));
    assert.equal(blocked.code, JOWI_ERROR_CODES.cardBlocked);
    assert.equal(blocked.retryable, false);

    const wrongSecret = clientWith({ ...jowi.credentials, apiSecret: 'not-the-secret' });
    const unsigned = await rejection(wrongSecret.findCustomer({ phone: '998901234567' }));
    assert.equal(unsigned.code, JOWI_ERROR_CODES.badSignature);
    assert.equal(unsigned.retryable, false);
    assert.ok(!JSON.stringify(calls).includes('not-the-secret'), 'the secret never reaches a log or audit excerpt');

    const wrongShop = clientWith({ ...jowi.credentials, restaurantId: 'r-other' });
    assert.equal((await rejection(wrongShop.findCustomer({ phone: '998901234567' }))).code, JOWI_ERROR_CODES.badParameters);
    assert.equal(jowi.requests({ path: '/v3/club/customers' }).length, 3, 'one request each: refusals are not retried');
  }));

test('the sandbox is strict: no sig is error 1, a third decimal or a missing field is 27', async () => {
  const jowi = (await jowiConnector.sandbox.start()) as JowiSandbox;
  try {
    const { apiKey, apiSecret, restaurantId } = jowi.credentials;
    const sig = jowiSignature(apiKey, apiSecret);
    const get = async (query: string) => (await fetch(`${jowi.url}/v3/club/customers?${query}`)).json();
    assert.deepEqual(await get(`api_key=${apiKey}&restaurant_id=${restaurantId}&phone=998901234567`), {
      status: 0,
      error: 1,
      message: 'Неверная подпись запроса',
    });
    assert.equal(((await get(`api_key=${apiKey}&sig=${sig}&restaurant_id=${restaurantId}`)) as { error: number }).error, 27);
    const post = async (body: object) =>
      (await (
        await fetch(`${jowi.url}/v3/club/transactions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ api_key: apiKey, sig, restaurant_id: restaurantId, ...saleBody(sale('S-strict')), ...body }),
        })
      ).json()) as { status: number; error?: number };
    assert.equal((await post({ amount: 142500.123 })).error, 27);
    assert.equal((await post({ created_at: '2026-12-02 10:15' })).error, 27);
    assert.equal((await post({ items: [] })).error, 27);
    assert.equal((await post({ sig: 'x' })).error, 1);
    assert.equal((await post({})).status, 1);
    assert.equal(jowi.transactions().length, 1);
  } finally {
    await jowi.close();
  }
});

test('a sale accrues once: the same external_id answers the same transaction, the balance moves once', () =>
  withJowi(async ({ client, jowi }) => {
    const first = await client.recordSale(sale('S-100'));
    // silver earns 1% of 142 500.00 soums
    assert.equal(first.bonusEarned, 142_500);
    assert.equal(first.bonusBalance, 1_200_000 + 142_500);
    const again = await client.recordSale(sale('S-100'));
    assert.deepEqual(again, first);
    assert.equal(jowi.transactions().length, 1);
    assert.equal(jowi.customer('c-1001')?.bonusBalance, 1_342_500);
    assert.deepEqual(jowi.violations(), []);
  }));

test('bonus spent beyond the balance is error 50; a refund gives back what was earned and spent, once', () =>
  withJowi(async ({ client, jowi }) => {
    assert.equal((await rejection(client.recordSale(sale('S-200', { bonusSpent: 1_200_001 })))).code, JOWI_ERROR_CODES.insufficientBonus);
    const tx = await client.recordSale(sale('S-201', { bonusSpent: 200_000 }));
    assert.equal(tx.bonusBalance, 1_200_000 - 200_000 + 142_500);
    const refunded = await client.refundSale(tx.id, 'R-1');
    assert.equal(refunded.refunded, true);
    assert.equal(refunded.bonusBalance, 1_200_000);
    assert.deepEqual(await client.refundSale(tx.id, 'R-1'), refunded, 'a repeat changes nothing');
    assert.equal(jowi.customer('c-1001')?.bonusBalance, 1_200_000);
    assert.equal((await rejection(client.refundSale('t-unknown', 'R-2'))).code, JOWI_ERROR_CODES.badParameters);
  }));

test('a hanging JOWi times out within the call bound; a refusing one is error 500, retryable; a lost answer is repeated safely', () =>
  withJowi(
    async ({ client, jowi }) => {
      jowi.mode('hang');
      const started = Date.now();
      const hung = await rejection(client.findCustomer({ phone: '998901234567' }, { timeoutMs: 300 }));
      assert.equal(hung.code, 'timeout');
      assert.ok(Date.now() - started < 1_500, `answered after ${Date.now() - started} ms`);

      jowi.mode('refusing');
      const refused = await rejection(client.recordSale(sale('S-300')));
      assert.equal(refused.code, JOWI_ERROR_CODES.internal);
      assert.equal(refused.retryable, true);

      jowi.mode('down');
      assert.equal((await rejection(client.findCustomer({ phone: '998901234567' }))).code, 'network_error');

      // JOWi records the sale, its answer is lost: the pipeline sends it again and JOWi answers the same transaction
      jowi.mode('up');
      jowi.faults.inject({ kind: 'lost', count: 1, path: '/v3/club/transactions' });
      const tx = await client.recordSale(sale('S-301'));
      assert.equal(jowi.requests({ path: '/v3/club/transactions' }).filter((r) => r.body.includes('S-301')).length, 2);
      assert.equal(jowi.transactions().filter((t) => t.externalId === 'S-301').length, 1);
      assert.equal(tx.externalId, 'S-301');
      assert.deepEqual(jowi.violations(), []);
    },
    { timeoutMs: 400, retries: 1, breakerFailureThreshold: 50 },
  ));

test('a customer changed at JOWi is sent as a signed webhook, again until answered 200', async () => {
  const receiver = await startReceiver();
  const jowi = (await jowiConnector.sandbox.start()) as JowiSandbox;
  try {
    jowi.webhookTo(`${receiver.url}/webhooks/jowi`);
    receiver.answerWith(500);
    const { event, delivered } = jowi.upsertCustomer({ id: 'c-1001', name: 'Алишер К.', bonus_balance: 15000 });
    await receiver.waitFor(2);
    receiver.answerWith(200);
    const delivery = await delivered;
    assert.equal(delivery?.status, 200);
    assert.ok((delivery?.attempts ?? 0) >= 3);
    const last = receiver.received.at(-1);
    assert.ok(last && verifyWebhookSignature(last.body, jowi.credentials.apiSecret, String(last.headers['x-jowi-signature'])));
    const parsed = webhookEventSchema.parse(JSON.parse(last.body.toString()));
    assert.equal(parsed.id, event.id);
    assert.equal(parsed.event, 'customer.updated');
    assert.equal(parsed.event === 'customer.updated' && parsed.data.bonus_balance, 15000);
    assert.ok(
      receiver.received.every((r) => r.body.equals(last.body)),
      'every resend carries the same event',
    );
  } finally {
    await jowi.close();
    await receiver.close();
  }
});
