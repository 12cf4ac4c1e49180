import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rozetkaConnector } from '../../../../actors/platform/connectors/rozetka/connector.ts';
import type { RozetkaClient } from '../../../../actors/platform/connectors/rozetka/client.ts';
import { rozetkaSettingsSchema } from '../../../../actors/platform/connectors/rozetka/connector.ts';
import { rozetkaMarketplace, toMarketplaceOrder } from '../../../../actors/platform/connectors/rozetka/marketplace.ts';
import {
  encodePassword,
  goodsPageSchema,
  itemRefusalsSchema,
  massUpdateAnswerSchema,
  massUpdateRequestSchema,
  minorUnits,
  ordersPageSchema,
  paymentSchema,
  ROZETKA_ERROR_CODES,
  ROZETKA_RATE_LIMIT,
  rozetkaEnvelopeSchema,
  rozetkaTime,
  rozetkaTimeToIso,
} from '../../../../actors/platform/connectors/rozetka/protocol.ts';
import { ROZETKA_SANDBOX_CREDENTIALS, type RozetkaSandbox } from '../../../../actors/platform/connectors/rozetka/sandbox.ts';
import type { HttpPolicy } from '../../../../actors/platform/connectors/kit/definition.ts';
import type { Marketplace, MarketplaceOrder } from '../../../../actors/platform/connectors/ports/marketplace.ts';
import { withSandboxClient, rejection } from '../../../support/connectors.ts';
import {
  CARD_PAYMENT,
  CASH_PAYMENT,
  GOODS_ALL_ANSWER,
  MASS_UPDATE_OK,
  MASS_UPDATE_REFUSED,
  ORDERS_SEARCH_ANSWER,
} from '../../../fixtures/rozetka-published.ts';

type Setup = Parameters<Parameters<typeof withSandboxClient<RozetkaClient>>[1]>[0] & { rozetka: RozetkaSandbox };

const withRozetka = (run: (setup: Setup) => Promise<void>) =>
  withSandboxClient<RozetkaClient>(rozetkaConnector, (setup) => run({ ...setup, rozetka: setup.sandbox as RozetkaSandbox }));

test('the password is sent base64-encoded, as Rozetka requires (Passw0rd! → UGFzc3cwcmQh)', () => {
  assert.equal(encodePassword('Passw0rd!'), 'UGFzc3cwcmQh');
});

test('the connection test logs in; later calls carry the bearer token and do not log in again', () =>
  withRozetka(async ({ client, rozetka }) => {
    assert.equal(await rozetkaConnector.test(client), 'authenticated; seller session opened');
    const [login] = rozetka.requests({ path: '/sites' });
    assert.deepEqual(JSON.parse(login?.body ?? '{}'), {
      username: ROZETKA_SANDBOX_CREDENTIALS.username,
      password: encodePassword(ROZETKA_SANDBOX_CREDENTIALS.password),
    });
    const page = await client.searchOrders();
    assert.equal(page.orders.length, 3);
    await client.getOrder(page.orders[0]?.id ?? 0);
    assert.equal(rozetka.logins(), 1);
    const [search] = rozetka.requests({ path: '/orders/search' });
    assert.match(search?.headers.authorization ?? '', /^Bearer [0-9a-f]{48}$/);
  }));

test('a wrong password is code 1004 (not retryable), and neither it nor its base64 nor a token reaches a call record', () =>
  withRozetka(async ({ client, clientWith, calls }) => {
    const error = await rejection(
      rozetkaConnector.test(clientWith({ username: ROZETKA_SANDBOX_CREDENTIALS.username, password: 'Wrong-Secret-99' })),
    );
    assert.deepEqual(
      [error.code, error.message, error.retryable, error.status],
      [ROZETKA_ERROR_CODES.incorrectCredentials, 'incorrect_username_password', false, 401],
    );
    await client.searchOrders();
    const recorded = JSON.stringify(calls);
    assert.ok(!recorded.includes('Wrong-Secret-99') && !recorded.includes(encodePassword('Wrong-Secret-99')));
    assert.ok(!recorded.includes(client.session.token ?? 'no token'), 'the bearer token leaked into a call record');
  }));

test('an expired session (6001) logs in once more and repeats the call; concurrent callers share that one login', () =>
  withRozetka(async ({ client, rozetka }) => {
    await client.searchOrders();
    rozetka.expireSessions();
    const pages = await Promise.all(Array.from({ length: 5 }, () => client.searchOrders()));
    assert.ok(pages.every((p) => p.orders.length === 3));
    assert.equal(rozetka.logins(), 2);
    assert.equal(rozetka.requests({ path: '/sites' }).length, 2);
  }));

test('order search filters by type and pages 20 at a time, newest first', () =>
  withRozetka(async ({ client, rozetka }) => {
    for (let i = 0; i < 25; i += 1) rozetka.addOrder();
    const fresh = await client.searchOrders({ types: 4 });
    assert.equal(fresh._meta.totalCount, 27);
    assert.equal(fresh._meta.pageCount, 2);
    assert.equal(fresh.orders.length, 20);
    assert.ok(fresh.orders.every((o, i, all) => i === 0 || (all[i - 1]?.id ?? 0) > o.id));
    const second = await client.searchOrders({ types: 4, page: 2 });
    assert.equal(second.orders.length, 7);
    const done = await client.searchOrders({ types: 3 });
    assert.deepEqual(
      done.orders.map((o) => o.status),
      [6],
    );
  }));

test("status changes follow Rozetka's waybill rules; an unknown order is 1019", () =>
  withRozetka(async ({ client }) => {
    const [order] = (await client.searchOrders({ types: 4 })).orders;
    const id = order?.id ?? 0;
    const missing = await rejection(client.updateOrder(id, { status: 3 }));
    assert.deepEqual([missing.code, missing.message], [ROZETKA_ERROR_CODES.requiredParameter, 'required_parameter: ttn']);
    const packed = await client.updateOrder(id, { status: 2, ttn: '20450000000001' });
    assert.deepEqual([packed.status, packed.ttn], [61, '20450000000001']);
    assert.equal((await client.updateOrder(id, { status: 3 })).status, 3);
    assert.equal((await client.getOrder(id)).status, 3);
    assert.equal((await rejection(client.getOrder(1))).code, ROZETKA_ERROR_CODES.entityNotFound);
  }));

test('technical maintenance (503) is retried for reads and typed when it persists', () =>
  withRozetka(async ({ client, rozetka, calls }) => {
    await client.signIn();
    const maintenance = { success: false, errors: { message: 'technical_maintenance', code: 5503 } };
    rozetka.faults.inject({ kind: 'status', status: 503, count: 1, path: '/orders', body: maintenance });
    assert.equal((await client.searchOrders()).orders.length, 3);
    assert.equal(calls.at(-1)?.attempts, 2);
    rozetka.faults.inject({ kind: 'status', status: 503, count: 3, path: '/orders', body: maintenance });
    const error = await rejection(client.searchOrders());
    assert.deepEqual([error.code, error.retryable, error.status], [ROZETKA_ERROR_CODES.maintenance, true, 503]);
  }));

// ---- the Marketplace port ----------------------------------------------------------------------

type MarketSetup = Setup & { market: Marketplace };

/** for tests of many calls that are not about pacing: the sandbox's limit is lifted in them */
const UNPACED: Partial<HttpPolicy> = { rateLimitPerSecond: 1000, rateLimitBurst: 1000 };

const withMarket = (run: (setup: MarketSetup) => Promise<void>, options: { settings?: unknown; policy?: Partial<HttpPolicy> } = {}) =>
  withSandboxClient<RozetkaClient>(
    rozetkaConnector,
    (setup) => {
      const settings = rozetkaSettingsSchema.parse(options.settings ?? {});
      const market = rozetkaMarketplace({ client: () => setup.client, settings: () => settings });
      return run({ ...setup, rozetka: setup.sandbox as RozetkaSandbox, market });
    },
    options,
  );

/** every page of new orders from `cursor` on, as the hub reads them (again at once while `more`) */
async function drain(market: Marketplace, cursor: string | null): Promise<{ orders: MarketplaceOrder[]; cursor: string; calls: number }> {
  const orders: MarketplaceOrder[] = [];
  let next = cursor;
  for (let calls = 1; ; calls += 1) {
    const page = await market.newOrders(next);
    orders.push(...page.orders);
    next = page.cursor;
    if (!page.more) return { orders, cursor: page.cursor, calls };
    assert.ok(calls < 20, 'the import never ends');
  }
}

const putsTo = (rozetka: RozetkaSandbox, id: number) => rozetka.requests({ method: 'PUT', path: `/orders/${id}` });

test('money strings become kopiykas by their digits; Rozetka times are Kyiv wall-clock time', () => {
  assert.deepEqual(['1250.00', '0.10', '280.1', '7', '19.99'].map(minorUnits), [125000, 10, 28010, 700, 1999]);
  assert.equal(minorUnits(280.1), 28010);
  assert.throws(() => minorUnits('12.345'));
  // winter (UTC+2) and summer (UTC+3)
  assert.equal(rozetkaTimeToIso('2024-01-15 12:00:00'), '2024-01-15T10:00:00.000Z');
  assert.equal(rozetkaTimeToIso('2024-07-15 12:00:00'), '2024-07-15T09:00:00.000Z');
  assert.equal(rozetkaTime(new Date('2024-07-15T09:00:00Z')), '2024-07-15 12:00:00');
});

test('the settings accept {} with the status table defaults; the connector keeps to the assumed rate', () => {
  const settings = rozetkaSettingsSchema.parse({});
  assert.equal(settings.enabled, false);
  assert.deepEqual(settings.statusCodes, {
    confirmed: 2,
    shipped: 3,
    delivered: null,
    cancelled: { out_of_stock: 42, cannot_deliver: 24, seller_cancelled: 18, customer_cancelled: 40 },
  });
  assert.equal(rozetkaSettingsSchema.parse({ statusCodes: { confirmed: 26 } }).statusCodes.shipped, 3);
  assert.deepEqual(
    [rozetkaConnector.policy?.rateLimitPerSecond, rozetkaConnector.policy?.rateLimitBurst],
    [ROZETKA_RATE_LIMIT.perSecond, ROZETKA_RATE_LIMIT.burst],
  );
});

test("Rozetka's published answers parse with our schemas, and the published order maps to the hub's order", () => {
  const search = rozetkaEnvelopeSchema.parse(ORDERS_SEARCH_ANSWER);
  assert.ok(search.success);
  const page = ordersPageSchema.parse(search.content);
  const [order] = page.orders;
  assert.ok(order);
  const mapped = toMarketplaceOrder(order, rozetkaSettingsSchema.parse({}));
  assert.deepEqual(mapped, {
    externalId: '248888186',
    createdAt: '2019-07-25T08:49:32.000Z',
    currency: 'UAH',
    total: 64000,
    paidAtMarketplace: false,
    customer: { name: 'Test', phone: '380954954374', email: null },
    delivery: {
      kind: 'novaposhta',
      cityName: 'Київ',
      warehouseName: 'Відділення №76: просп. Победы, 89а',
      warehouseRef: '1692281f-e1c2-11e3-8c4a-0050568002cf',
    },
    lines: [{ itemKey: '38221768', name: 'Феномен Инстаграма. Как раскрутить свой аккаунт и заработать', qty: 1, price: 64000 }],
  });
  assert.equal(paymentSchema.parse(CASH_PAYMENT).payment_status, null);
  assert.equal(paymentSchema.parse(CARD_PAYMENT).payment_status?.name, 'expired');
  const goods = rozetkaEnvelopeSchema.parse(GOODS_ALL_ANSWER);
  assert.ok(goods.success);
  assert.equal(goodsPageSchema.parse(goods.content).items[0]?.rz_item_id, 344560030);
  assert.ok(massUpdateAnswerSchema.parse(MASS_UPDATE_OK).success);
  assert.deepEqual(Object.keys(itemRefusalsSchema.parse(MASS_UPDATE_REFUSED.errors)), ['102069758', '192630536']);
  // what we send has the documented UpdatingItem shape
  assert.deepEqual(massUpdateRequestSchema.parse({ items: [{ item_rz_id: 344560030, price: 450, stock_quantity: 15 }] }), {
    items: [{ item_rz_id: 344560030, price: 450, stock_quantity: 15 }],
  });
  assert.throws(() => massUpdateRequestSchema.parse({ items: [{ item_rz_id: 344560030 }] }));
});

test('a wrong token is refused with 1018 and HTTP 401 on every marketplace path', () =>
  withMarket(async ({ rozetka }) => {
    for (const [method, path] of [
      ['GET', '/orders/search'],
      ['GET', '/goods/all'],
      ['PUT', '/items/mass-update'],
      ['PUT', '/orders/701000001'],
    ] as const) {
      const response = await fetch(`${rozetka.url}${path}`, {
        method,
        headers: { authorization: 'Bearer forged' },
        body: method === 'PUT' ? '{}' : undefined,
      });
      assert.equal(response.status, 401, path);
      assert.deepEqual(await response.json(), { success: false, errors: { message: 'incorrect_enter_token', code: 1018, details: null } });
    }
  }));

test('new orders come over several pages with the cursor: each open one once, with lines, delivery and payment; a repeat brings nothing', () =>
  withMarket(async ({ market, rozetka }) => {
    const first = await market.newOrders(null);
    assert.equal(first.more, false);
    // the completed seed order is not imported
    assert.deepEqual(
      first.orders.map((o) => o.externalId),
      ['701000001', '701000002'],
    );
    const paid = first.orders[1];
    assert.deepEqual(paid?.lines, [
      { itemKey: '38221768', name: 'Феномен Інстаграму. Як розкрутити свій акаунт', qty: 2, price: 17950 },
      { itemKey: '410000101', name: 'Чашка керамічна біла 350 мл', qty: 3, price: 12000 },
    ]);
    assert.deepEqual([paid?.total, paid?.paidAtMarketplace, paid?.customer.email], [71900, true, 'taras@example.com']);
    assert.deepEqual(paid?.delivery, {
      kind: 'novaposhta',
      cityName: 'Львів',
      warehouseName: 'Відділення №1: вул. Городоцька, 359',
      warehouseRef: '169227f6-e1c2-11e3-8c4a-0050568002cf',
    });
    assert.equal(first.orders[0]?.paidAtMarketplace, false);
    assert.equal(first.orders[0]?.createdAt, rozetkaTimeToIso(rozetka.order(701000001)?.created ?? ''));

    const added = Array.from({ length: 45 }, (_, i) => rozetka.addOrder({ lines: [{ itemId: 344560030, qty: 1 + (i % 3) }] }).id);
    rozetka.addOrder({ status: 45 }); // cancelled before we saw it
    const searchesBefore = rozetka.requests({ path: '/orders/search' }).length;
    const all = await drain(market, first.cursor);
    assert.equal(all.calls, 3, '46 orders are 3 pages of 20 (plus the re-read overlap)');
    assert.deepEqual(
      all.orders.map((o) => Number(o.externalId)),
      added,
    );
    assert.equal(all.orders[44]?.total, 135000);
    assert.equal(rozetka.requests({ path: '/orders/search' }).length - searchesBefore, 3);
    const query = new URLSearchParams(rozetka.requests({ path: '/orders/search' }).at(-1)?.query);
    assert.equal(query.get('sort'), 'id');
    assert.match(query.get('created_from') ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.deepEqual(query.get('expand')?.split(',').sort(), ['delivery', 'is_payed', 'payment', 'purchases', 'user']);

    const again = await drain(market, all.cursor);
    assert.deepEqual(again.orders, [], 'a repeat with the cursor brings nothing new');
    const late = rozetka.addOrder({ lines: [{ itemId: 273834288, qty: 1, price: '1699.99' }] });
    const next = await drain(market, again.cursor);
    assert.deepEqual(
      next.orders.map((o) => [o.externalId, o.total]),
      [[String(late.id), 169999]],
    );
  }));

test('an order awaiting online payment is held back, and comes in once paid, as paid at Rozetka', () =>
  withMarket(async ({ market, rozetka }) => {
    const start = await drain(market, null);
    const pending = rozetka.addOrder({ paid: 'pending' });
    const before = await drain(market, start.cursor);
    assert.deepEqual(before.orders, []);
    assert.deepEqual((await drain(market, before.cursor)).orders, [], 'still unpaid');
    rozetka.payOrder(pending.id);
    const after = await drain(market, before.cursor);
    assert.deepEqual(
      after.orders.map((o) => [o.externalId, o.paidAtMarketplace]),
      [[String(pending.id), true]],
    );
    assert.deepEqual((await drain(market, after.cursor)).orders, []);
  }));

test("the buyer's cancellation is seen by orderStates; a completed order is closed; an unknown one is left out", () =>
  withMarket(async ({ market, rozetka }) => {
    rozetka.cancelByBuyer(701000001);
    assert.deepEqual(await market.orderStates(['701000001', '701000002', '701000003', '999', 'x']), {
      '701000001': 'cancelled',
      '701000002': 'open',
      '701000003': 'closed',
    });
  }));

test('status pushes: confirmed → 2, shipped → 3 with the TTN, delivered a no-op; repeats change nothing', () =>
  withMarket(async ({ market, rozetka }) => {
    const id = 701000001;
    await market.pushStatus(String(id), { status: 'confirmed' });
    assert.equal(rozetka.order(id)?.status, 2);
    await market.pushStatus(String(id), { status: 'confirmed' });
    assert.equal(putsTo(rozetka, id).length, 1, 'a repeated confirm sends nothing');
    await market.pushStatus(String(id), { status: 'shipped', waybill: '20450000000001' });
    assert.deepEqual([rozetka.order(id)?.status, rozetka.order(id)?.ttn], [3, '20450000000001']);
    assert.deepEqual(JSON.parse(putsTo(rozetka, id).at(-1)?.body ?? '{}'), { status: 3, ttn: '20450000000001' });
    await market.pushStatus(String(id), { status: 'shipped', waybill: '20450000000001' });
    // a late confirm after shipping is no step back
    await market.pushStatus(String(id), { status: 'confirmed' });
    await market.pushStatus(String(id), { status: 'delivered' });
    assert.equal(putsTo(rozetka, id).length, 2);
    assert.equal(rozetka.order(id)?.status, 3);

    const unshipped = rozetka.addOrder().id;
    const noWaybill = await rejection(market.pushStatus(String(unshipped), { status: 'shipped', waybill: null }));
    assert.deepEqual([noWaybill.code, noWaybill.retryable], [ROZETKA_ERROR_CODES.requiredParameter, false]);
  }));

test('cancel reasons map to their Rozetka statuses (with the comment); a repeated cancel is harmless; the table is configurable', () =>
  withMarket(
    async ({ market, rozetka }) => {
      rozetka.setRateLimit(null);
      const expected = { out_of_stock: 42, cannot_deliver: 24, seller_cancelled: 18, customer_cancelled: 40 } as const;
      for (const [reason, status] of Object.entries(expected) as Array<[keyof typeof expected, number]>) {
        const id = rozetka.addOrder().id;
        await market.pushStatus(String(id), { status: 'cancelled', reason, comment: `why: ${reason}` });
        assert.equal(rozetka.order(id)?.status, status, reason);
        assert.equal(rozetka.order(id)?.status_group, 3);
        assert.equal(JSON.parse(putsTo(rozetka, id)[0]?.body ?? '{}').seller_comment, `why: ${reason}`);
        await market.pushStatus(String(id), { status: 'cancelled', reason: 'out_of_stock' });
        assert.equal(putsTo(rozetka, id).length, 1);
      }
      const id = rozetka.addOrder().id;
      await market.pushStatus(String(id), { status: 'confirmed' });
      assert.equal(rozetka.order(id)?.status, 26, 'the configured confirm status');
    },
    { settings: { statusCodes: { confirmed: 26 } }, policy: UNPACED },
  ));

test('a refused push — confirming an order the buyer cancelled — throws a non-retryable error and changes nothing', () =>
  withMarket(async ({ market, rozetka, client }) => {
    rozetka.cancelByBuyer(701000002);
    const error = await rejection(market.pushStatus('701000002', { status: 'confirmed' }));
    assert.deepEqual([error.code, error.retryable], [ROZETKA_ERROR_CODES.checkCorrectnessOfData, false]);
    assert.equal(rozetka.order(701000002)?.status, 45);
    // the sandbox: a completed order cannot be cancelled, but the status it has may be repeated
    assert.equal((await rejection(client.updateOrder(701000003, { status: 42 }))).code, ROZETKA_ERROR_CODES.checkCorrectnessOfData);
    assert.equal((await client.updateOrder(701000003, { status: 6 })).status, 6);
    assert.equal((await rejection(client.updateOrder(701000001, { status: 999 }))).code, ROZETKA_ERROR_CODES.incorrectDataFormat);
  }));

test('stock for 250 items goes in ceil(250/100) = 3 calls; the sandbox holds the new levels; bad listings and unknown items are refused', () =>
  withMarket(async ({ market, rozetka }) => {
    const products = Array.from({ length: 249 }, (_, i) => rozetka.addProduct({ name: `Товар ${i}`, stock: 1 }));
    const levels = [
      ...products.map((p, i) => ({ sku: `SKU-${i}`, listing: { itemId: p.rzItemId ?? 0 }, available: i })),
      { sku: 'GONE', listing: { itemId: 999999 }, available: 3 },
      { sku: 'UZUM', listing: { skuId: 1, barcode: '4870000000001' }, available: 3 },
    ];
    assert.equal(market.batch.stock, 100);
    const outcome = await market.pushStock(levels);
    assert.equal(outcome.calls, 3);
    const batches = rozetka.requests({ path: '/items/mass-update' }).map((r) => JSON.parse(r.body).items.length);
    assert.deepEqual(batches, [100, 100, 50]);
    assert.equal(rozetka.stockOf(products[0]?.rzItemId ?? 0), 0);
    assert.equal(rozetka.stockOf(products[248]?.rzItemId ?? 0), 248);
    assert.deepEqual(outcome.refused.map((r) => [r.sku, r.code]).sort(), [
      ['GONE', 'item_not_found'],
      ['UZUM', 'invalid_listing'],
    ]);
  }));

test('the sandbox refuses a batch above the maximum as a whole, like a malformed one', () =>
  withMarket(async ({ client, rozetka }) => {
    const token = await client.session.obtain();
    const items = Array.from({ length: 101 }, () => ({ item_rz_id: 344560030, stock_quantity: 1 }));
    const put = async (body: unknown) =>
      (
        await fetch(`${rozetka.url}/items/mass-update`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json();
    assert.deepEqual(await put({ items }), {
      success: false,
      errors: { message: 'incorrect_data_format', code: 1002, details: { items: 'at most 100' } },
    });
    assert.equal(((await put({ items: [{ item_rz_id: 'x', price: 1 }] })) as { errors: { code: number } }).errors.code, 1002);
    assert.equal(((await put({})) as { errors: { code: number } }).errors.code, 1001);
    assert.equal(rozetka.stockOf(344560030), 15, 'nothing of a refused batch was applied');
  }));

test('prices go as whole hryvnias; a change Rozetka holds for approval and a price with kopiykas come back refused', () =>
  withMarket(async ({ market, rozetka }) => {
    assert.equal(market.pricePrecision, 'whole');
    const outcome = await market.pushPrices([
      { sku: 'UFI', listing: { itemId: 344560030 }, price: 50000 },
      { sku: 'BOOK', listing: { itemId: 38221768 }, price: 100000 },
      { sku: 'MUG', listing: { itemId: 410000101 }, price: 12345 },
    ]);
    assert.equal(outcome.calls, 1);
    assert.deepEqual(JSON.parse(rozetka.requests({ path: '/items/mass-update' })[0]?.body ?? '{}'), {
      items: [
        { item_rz_id: 344560030, price: 500 },
        { item_rz_id: 38221768, price: 1000 },
      ],
    });
    assert.equal(rozetka.priceOf(344560030), 500);
    assert.deepEqual([rozetka.priceOf(38221768), rozetka.pendingPriceOf(38221768)], [195, 1000]);
    assert.deepEqual(
      outcome.refused.map((r) => [r.sku, r.code]),
      [
        ['MUG', 'price_not_whole'],
        ['BOOK', 'price_held_for_approval'],
      ],
    );
    assert.match(outcome.refused[1]?.message ?? '', /підтвердження/);
    // a cut to less than half is held as well; within the bounds it applies
    const cut = await market.pushPrices([{ sku: 'UFI', listing: { itemId: 344560030 }, price: 20000 }]);
    assert.deepEqual(
      cut.refused.map((r) => r.code),
      ['price_held_for_approval'],
    );
    assert.equal(rozetka.priceOf(344560030), 500);
  }));

test('a 429 with Retry-After is waited out and the call succeeds', () =>
  withMarket(async ({ market, rozetka }) => {
    await market.orderStates(['701000001']);
    rozetka.setRateLimit({ limit: 2, windowMs: 1000 });
    const states = await market.orderStates(['701000001', '701000002', '701000003']);
    assert.deepEqual(Object.values(states), ['open', 'open', 'closed']);
    const gets = rozetka.requests({ method: 'GET' }).filter((r) => r.path.startsWith('/orders/'));
    const refused = gets.findIndex((r) => r.status === 429);
    assert.ok(refused > 0, 'the sandbox answered 429');
    const retried = gets[refused + 1];
    assert.ok(retried && retried.status === 200);
    const waited = Date.parse(retried.at) - Date.parse(gets[refused]?.at ?? '');
    assert.ok(waited >= 900 && waited <= 2000, `waited ${waited} ms`);
  }));

test('a time-out is a retryable error', () =>
  withMarket(
    async ({ market, rozetka, client }) => {
      await client.signIn();
      rozetka.faults.inject({ kind: 'timeout', count: 1, path: '/orders/search' });
      const error = await rejection(market.newOrders(null));
      assert.deepEqual([error.code, error.retryable], ['timeout', true]);
    },
    { policy: { timeoutMs: 200, retries: 0 } },
  ));

test('listProducts pages through the catalogue; an item not on the site yet is left out', () =>
  withMarket(
    async ({ market, rozetka }) => {
      const listed = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await market.listProducts(cursor);
        listed.push(...page.products);
        cursor = page.cursor;
        pages += 1;
      } while (cursor !== null);
      assert.equal(pages, 3);
      assert.deepEqual(
        listed.map((p) => [p.listing, p.sku]),
        [
          [{ itemId: 344560030 }, '2348400'],
          [{ itemId: 38221768 }, 'BOOK-INSTA'],
          [{ itemId: 273834288 }, 'ALDEX-38'],
          [{ itemId: 410000101 }, 'MUG-WHITE'],
        ],
      );
      assert.equal(listed[0]?.name, 'Масляний фільтр UFI (2348400)');
      assert.equal(new URLSearchParams(rozetka.requests({ path: '/goods/all' })[0]?.query).get('pageSize'), '2');
    },
    { settings: { goodsPageSize: 2 } },
  ));

test('a person or a benchmark adds an order and reads stock over the sandbox controls', () =>
  withMarket(async ({ market, rozetka }) => {
    const start = await drain(market, null);
    const created = await fetch(`${rozetka.url}/__sandbox/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ lines: [{ itemId: 410000101, qty: 2 }], paid: true }),
    });
    assert.equal(created.status, 201);
    const { order } = (await created.json()) as { order: { id: number } };
    const refused = await fetch(`${rozetka.url}/__sandbox/orders`, {
      method: 'POST',
      body: JSON.stringify({ lines: [{ itemId: 1, qty: 0 }] }),
    });
    assert.equal(refused.status, 400);
    const next = await drain(market, start.cursor);
    assert.deepEqual(
      next.orders.map((o) => [o.externalId, o.total, o.paidAtMarketplace]),
      [[String(order.id), 24000, true]],
    );
    const stock = (await (await fetch(`${rozetka.url}/__sandbox/stock`)).json()) as {
      items: Array<{ rz_item_id: number | null; stock_quantity: number }>;
    };
    assert.equal(stock.items.find((i) => i.rz_item_id === 344560030)?.stock_quantity, 15);
  }));
