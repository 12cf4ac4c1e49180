import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UzumClient } from '../../../../actors/platform/connectors/uzum/client.ts';
import { uzumConnector, uzumSettingsSchema } from '../../../../actors/platform/connectors/uzum/connector.ts';
import { uzumMarketplace } from '../../../../actors/platform/connectors/uzum/marketplace.ts';
import {
  CANCEL_REASONS,
  cancelBodySchema,
  ordersAnswerSchema,
  priceBodySchema,
  productsAnswerSchema,
  returnReasonsAnswerSchema,
  shopsAnswerSchema,
  stockRowSchema,
  uzumErrorBodySchema,
} from '../../../../actors/platform/connectors/uzum/protocol.ts';
import { UZUM_SANDBOX_CREDENTIALS, UZUM_SANDBOX_SHOP_ID, type UzumSandbox } from '../../../../actors/platform/connectors/uzum/sandbox.ts';
import type { HttpPolicy } from '../../../../actors/platform/connectors/kit/definition.ts';
import type { Marketplace, PriceLevel, StockLevel } from '../../../../actors/platform/connectors/ports/marketplace.ts';
import { rejection, withSandboxClient } from '../../../support/connectors.ts';
import {
  publishedCancelBody,
  publishedCancelReasonEnum,
  publishedConfirmRefusal,
  publishedOrdersAnswer,
  publishedPriceBody,
  publishedProductsAnswer,
  publishedReturnReasonsAnswer,
  publishedShopsAnswer,
  publishedStockFields,
  publishedStockRow,
} from '../../../fixtures/uzum-published.ts';

type Setup = Parameters<Parameters<typeof withSandboxClient<UzumClient>>[1]>[0] & { uzum: UzumSandbox; marketplace: Marketplace };

/** Most tests make many calls: a fast client and no sandbox limit keep them quick (the 429 test uses the limit). */
const FAST: Partial<HttpPolicy> = { rateLimitPerSecond: 200, rateLimitBurst: 200 };

const withUzum = (run: (setup: Setup) => Promise<void>, policy: Partial<HttpPolicy> = FAST) =>
  withSandboxClient<UzumClient>(
    uzumConnector,
    async (setup) => {
      const uzum = setup.sandbox as UzumSandbox;
      if (policy === FAST) uzum.setRateLimit(null);
      const settings = uzumSettingsSchema.parse({});
      const marketplace = uzumMarketplace({ client: () => setup.client, settings: () => settings });
      await run({ ...setup, uzum, marketplace });
    },
    { policy },
  );

const listingOf = (skuId: number, barcode: string) => ({ skuId, barcode });
const bodyOf = (body: string | undefined): unknown => JSON.parse(body ?? 'null');

test('settings: {} parses to the sandbox shop, disabled, with the marketplace defaults', () => {
  const settings = uzumSettingsSchema.parse({});
  assert.equal(settings.shopId, UZUM_SANDBOX_SHOP_ID);
  assert.equal(settings.enabled, false);
  assert.equal(settings.ordersIntervalMinutes, 5);
  assert.throws(() => uzumSettingsSchema.parse({ shopId: 'abc' }));
});

test("Uzum's published shapes parse with our schemas, and what we send has their fields", () =>
  withUzum(async ({ client, uzum, marketplace }) => {
    const orders = ordersAnswerSchema.parse(publishedOrdersAnswer);
    assert.equal(orders.payload.orders[0]?.dateCreated, '2025-03-01T10:15:00.000Z');
    assert.equal(orders.payload.orders[0]?.orderItems[0]?.sellerPrice, 185000);
    assert.equal(uzumErrorBodySchema.parse(publishedConfirmRefusal).errors[0]?.code, 'seller-order-02');
    assert.deepEqual(cancelBodySchema.parse(publishedCancelBody), publishedCancelBody);
    assert.deepEqual([...CANCEL_REASONS], [...publishedCancelReasonEnum]);
    assert.equal(returnReasonsAnswerSchema.parse(publishedReturnReasonsAnswer).payload.reasons.length, 4);
    assert.equal(stockRowSchema.parse(publishedStockRow).barcode, '4780000000017');
    assert.deepEqual(priceBodySchema.parse(publishedPriceBody), publishedPriceBody);
    assert.equal(productsAnswerSchema.parse(publishedProductsAnswer).productList[0]?.skuList?.[0]?.barcode, '4780000000017');
    assert.equal(shopsAnswerSchema.parse(publishedShopsAnswer)[0]?.id, 7701);
    // an answer in epoch milliseconds (what live clients see) reads the same
    const inMs = ordersAnswerSchema.parse({
      ...publishedOrdersAnswer,
      payload: { orders: [{ ...publishedOrder(), dateCreated: Date.parse('2025-03-01T10:15:00Z') }], totalAmount: 1 },
    });
    assert.equal(inMs.payload.orders[0]?.dateCreated, '2025-03-01T10:15:00.000Z');

    await marketplace.pushStock([{ sku: 'CH-1', listing: listingOf(4100001, '4780000000017'), available: 3 }]);
    const [stock] = uzum.requests({ path: '/v2/fbs/sku/stocks', method: 'POST' });
    const sent = bodyOf(stock?.body) as { skuAmountList: Array<Record<string, unknown>> };
    for (const row of sent.skuAmountList) {
      assert.ok(
        Object.keys(row).every((key) => publishedStockFields.includes(key)),
        `unpublished field in ${JSON.stringify(row)}`,
      );
      assert.equal(typeof row.barcode, 'string');
      assert.equal(typeof row.amount, 'number');
    }
    await marketplace.pushPrices([{ sku: 'CH-1', listing: listingOf(4100001, '4780000000017'), price: 18_500_000 }]);
    const [price] = uzum.requests({ path: `/v1/product/${UZUM_SANDBOX_SHOP_ID}/sendPriceData` });
    const priceBody = bodyOf(price?.body) as { skuList: Array<Record<string, unknown>> };
    assert.deepEqual(Object.keys(priceBody).sort(), Object.keys(publishedPriceBody).sort());
    const publishedSkuKeys = Object.keys(publishedPriceBody.skuList[0]);
    assert.ok(priceBody.skuList.every((item) => Object.keys(item).every((key) => publishedSkuKeys.includes(key))));
    assert.equal((await client.returnReasons()).length, 4);
  }));

function publishedOrder() {
  return publishedOrdersAnswer.payload.orders[0];
}

test('a wrong, missing or Bearer-prefixed token is refused 403 forbidden-001, not retryable, and the token stays out of the records', () =>
  withUzum(async ({ client, clientWith, uzum, calls }) => {
    const refused = await rejection(uzumConnector.test(clientWith({ apiToken: 'not-the-token' })));
    assert.deepEqual([refused.code, refused.status, refused.retryable], ['forbidden-001', 403, false]);
    assert.equal(refused.message, 'Token not found');
    for (const authorization of [`Bearer ${UZUM_SANDBOX_CREDENTIALS.apiToken}`, undefined]) {
      const response = await fetch(`${uzum.url}/v1/shops`, { headers: authorization ? { authorization } : {} });
      assert.equal(response.status, 403);
      assert.equal(((await response.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'forbidden-001');
    }
    assert.equal(await uzumConnector.test(client), `authenticated; shop ${UZUM_SANDBOX_SHOP_ID} is among the token's 1 shop(s)`);
    const [shops] = uzum.requests({ path: '/v1/shops' }).slice(-1);
    assert.equal(shops?.headers.authorization, UZUM_SANDBOX_CREDENTIALS.apiToken, 'the raw token, no scheme');
    assert.ok(!JSON.stringify(calls).includes(UZUM_SANDBOX_CREDENTIALS.apiToken), 'the token leaked into a call record');
  }));

test('the connection test fails when the configured shop is not among the token’s shops; other shops are refused', () =>
  withSandboxClient<UzumClient>(
    uzumConnector,
    async ({ client, sandbox }) => {
      const error = await rejection(uzumConnector.test(client));
      assert.equal(error.code, 'forbidden-001');
      assert.match(error.message, /shop 99 is not among/);
      const response = await fetch(`${sandbox.url}/v1/product/shop/99?page=0&size=10`, {
        headers: { authorization: UZUM_SANDBOX_CREDENTIALS.apiToken },
      });
      assert.equal(response.status, 403);
      assert.equal(((await response.json()) as { errors: Array<{ message: string }> }).errors[0]?.message, 'Shop is not available');
    },
    { settings: { shopId: 99 }, policy: FAST },
  ));

test('new orders come over several calls from the cursor: none missed, none twice, nothing new on a repeat', () =>
  withUzum(async ({ uzum, marketplace }) => {
    const added = Array.from({ length: 120 }, (_, i) =>
      uzum.addOrder({ lines: [{ skuId: 4100003, qty: 1 + (i % 3) }], createdAt: Date.now() - 60_000 + i }),
    );
    const seen = new Map<string, number>();
    let cursor: string | null = null;
    const sizes: number[] = [];
    for (let round = 0; round < 10; round += 1) {
      const page = await marketplace.newOrders(cursor);
      sizes.push(page.orders.length);
      for (const order of page.orders) seen.set(order.externalId, (seen.get(order.externalId) ?? 0) + 1);
      cursor = page.cursor;
      if (!page.more) break;
    }
    // the seed: two CREATED orders and one PACKING order, plus the 120
    assert.deepEqual(sizes, [50, 50, 23]);
    assert.equal(seen.size, 123);
    assert.ok(
      [...seen.values()].every((n) => n === 1),
      'an order came twice',
    );
    assert.ok(added.every((order) => seen.has(String(order.id))));
    // Uzum's page size: never more than 50 asked
    assert.ok(uzum.requests({ path: '/v2/fbs/orders' }).every((r) => Number(new URLSearchParams(r.query).get('size')) <= 50));

    const repeat = await marketplace.newOrders(cursor);
    assert.deepEqual([repeat.orders.length, repeat.more], [0, false]);
    // confirmed orders stay handed over; a new one comes alone
    await marketplace.pushStatus(String(added[0]?.id), { status: 'confirmed' });
    const fresh = uzum.addOrder({ lines: [{ skuId: 4100001, qty: 1 }] });
    const next = await marketplace.newOrders(repeat.cursor);
    assert.deepEqual(
      next.orders.map((o) => o.externalId),
      [String(fresh.id)],
    );
    assert.deepEqual((await marketplace.newOrders(next.cursor)).orders, []);
  }));

test('an order maps to tiyin, SKU ids as item keys, FBS delivery, paid at Uzum, no customer', () =>
  withUzum(async ({ marketplace }) => {
    const { orders } = await marketplace.newOrders(null);
    const order = orders.find((o) => o.externalId === '90000002');
    assert.ok(order);
    assert.deepEqual(
      order.lines.map((l) => [l.itemKey, l.qty, l.price]),
      [
        ['4100003', 2, 9_600_000],
        ['4100002', 1, 17_900_000],
      ],
    );
    assert.equal(order.total, 2 * 9_600_000 + 17_900_000);
    assert.equal(order.currency, 'UZS');
    assert.equal(order.paidAtMarketplace, true);
    assert.deepEqual(order.delivery, { kind: 'marketplace', service: 'uzum-fbs' });
    assert.deepEqual(order.customer, { name: null, phone: null, email: null });
    assert.ok(!Number.isNaN(Date.parse(order.createdAt)));
    assert.equal(order.lines[0]?.name, "Piyola to'plami 6 dona");
    // the PACKING order (confirmed in the cabinet) is new to the hub too; the COMPLETED one is not
    assert.deepEqual(orders.map((o) => o.externalId).sort(), ['90000001', '90000002', '90000003']);
  }));

test("order states: a buyer's cancellation is 'cancelled', COMPLETED is 'closed', RETURNED is 'cancelled'", () =>
  withUzum(async ({ uzum, marketplace }) => {
    assert.deepEqual(await marketplace.orderStates(['90000001', '90000003', '90000004']), {
      '90000001': 'open',
      '90000003': 'open',
      '90000004': 'closed',
    });
    uzum.cancelByBuyer(90000001);
    uzum.advance(90000003, 'RETURNED');
    assert.deepEqual(await marketplace.orderStates(['90000001', '90000003']), { '90000001': 'cancelled', '90000003': 'cancelled' });
    const unknown = await rejection(marketplace.orderStates(['12345']));
    assert.deepEqual([unknown.code, unknown.retryable], ['seller-order-01', false]);
  }));

test('status pushes: confirm moves CREATED to PACKING, a repeat is harmless; shipped and delivered make no call', () =>
  withUzum(async ({ uzum, marketplace }) => {
    await marketplace.pushStatus('90000001', { status: 'confirmed' });
    assert.equal(uzum.order(90000001)?.status, 'PACKING');
    await marketplace.pushStatus('90000001', { status: 'confirmed' });
    assert.equal(uzum.requests({ path: '/v1/fbs/order/90000001/confirm' }).length, 2);
    assert.equal(uzum.order(90000001)?.status, 'PACKING');
    const before = uzum.requests().length;
    await marketplace.pushStatus('90000001', { status: 'shipped', waybill: null });
    await marketplace.pushStatus('90000001', { status: 'delivered' });
    assert.equal(uzum.requests().length, before);
  }));

test("cancel pushes carry Uzum's reasons; a repeat and a buyer's earlier cancellation are harmless", () =>
  withUzum(async ({ uzum, marketplace }) => {
    const a = uzum.addOrder({ lines: [{ skuId: 4100001, qty: 1 }] });
    const b = uzum.addOrder({ lines: [{ skuId: 4100001, qty: 1 }] });
    const c = uzum.addOrder({ lines: [{ skuId: 4100001, qty: 1 }] });
    await marketplace.pushStatus('90000002', { status: 'cancelled', reason: 'out_of_stock' });
    await marketplace.pushStatus(String(a.id), { status: 'cancelled', reason: 'cannot_deliver', comment: 'kuryer yo‘q' });
    await marketplace.pushStatus(String(b.id), { status: 'cancelled', reason: 'seller_cancelled' });
    await marketplace.pushStatus(String(c.id), { status: 'cancelled', reason: 'customer_cancelled' });
    assert.deepEqual(
      [uzum.order(90000002), uzum.order(a.id), uzum.order(b.id), uzum.order(c.id)].map((o) => [o?.status, o?.cancelReason]),
      [
        ['CANCELED', 'OUT_OF_STOCK'],
        ['CANCELED', 'OUT_OF_TIME'],
        ['CANCELED', 'OTHER'],
        ['CANCELED', 'OTHER'],
      ],
    );
    const bodies = uzum.requests({ method: 'POST' }).map((r) => bodyOf(r.body));
    assert.deepEqual(bodies, [
      { reason: 'OUT_OF_STOCK' },
      { reason: 'OUT_OF_TIME', comment: 'kuryer yo‘q' },
      { reason: 'OTHER' },
      { reason: 'OTHER', comment: 'Buyer asked to cancel' },
    ]);
    await marketplace.pushStatus('90000002', { status: 'cancelled', reason: 'out_of_stock' });
    uzum.cancelByBuyer(90000001);
    await marketplace.pushStatus('90000001', { status: 'cancelled', reason: 'seller_cancelled' });
    assert.equal(uzum.order(90000001)?.cancelReason, 'CANCELED_BY_CUSTOMER', "the buyer's reason stays");
  }));

test('refused pushes throw non-retryable errors: confirm of a cancelled order, cancel after handover, an unknown order', () =>
  withUzum(async ({ uzum, marketplace }) => {
    uzum.cancelByBuyer(90000001);
    const confirm = await rejection(marketplace.pushStatus('90000001', { status: 'confirmed' }));
    assert.deepEqual([confirm.code, confirm.retryable, confirm.status], ['seller-order-02', false, 400]);
    uzum.advance(90000003, 'DELIVERING');
    const cancel = await rejection(marketplace.pushStatus('90000003', { status: 'cancelled', reason: 'out_of_stock' }));
    assert.deepEqual([cancel.code, cancel.retryable], ['seller-order-02', false]);
    assert.equal(uzum.order(90000003)?.status, 'DELIVERING');
    const unknown = await rejection(marketplace.pushStatus('777', { status: 'confirmed' }));
    assert.deepEqual([unknown.code, unknown.retryable], ['seller-order-01', false]);
    const late = uzum.addOrder({ lines: [{ skuId: 4100001, qty: 1 }], acceptUntil: Date.now() - 1_000 });
    assert.equal((await rejection(marketplace.pushStatus(String(late.id), { status: 'confirmed' }))).code, 'seller-order-03');
  }));

test('stock for more SKUs than one batch: ceil(n/100) calls, the sandbox holds every level; a bigger batch is refused', () =>
  withUzum(async ({ client, uzum, marketplace }) => {
    const skus = Array.from({ length: 246 }, (_, i) => uzum.addProduct({ title: `Mahsulot ${i}`, price: 10_000 + i, stock: 1 }));
    const all = [
      ...skus,
      { skuId: 4100001, barcode: '4780000000017' },
      { skuId: 4100002, barcode: '4780000000024' },
      { skuId: 4100003, barcode: '4780000000031' },
      { skuId: 4100004, barcode: '4780000000048' },
    ];
    const levels: StockLevel[] = all.map((sku, i) => ({
      sku: `S-${sku.skuId}`,
      listing: listingOf(sku.skuId, sku.barcode),
      available: (i * 7) % 50,
    }));
    const outcome = await marketplace.pushStock(levels);
    assert.deepEqual(outcome, { refused: [], calls: Math.ceil(250 / 100) });
    const posts = uzum.requests({ path: '/v2/fbs/sku/stocks', method: 'POST' });
    assert.deepEqual(
      posts.map((r) => (bodyOf(r.body) as { skuAmountList: unknown[] }).skuAmountList.length),
      [100, 100, 50],
    );
    all.forEach((sku, i) => assert.equal(uzum.stockOf(sku.skuId), (i * 7) % 50, `SKU ${sku.skuId}`));

    const tooMany = await rejection(
      client.updateStocks({ skuAmountList: all.slice(0, 101).map((sku) => ({ barcode: sku.barcode, amount: 1 })) }),
    );
    assert.deepEqual([tooMany.code, tooMany.retryable], ['storage-service-05', false]);
    assert.equal(uzum.stockOf(4100001), (246 * 7) % 50, 'a refused batch changed nothing');
  }));

test('stock: a batch Uzum refuses (an unknown barcode) comes back refused, item by item, and changes no stock', () =>
  withUzum(async ({ uzum, marketplace }) => {
    const outcome = await marketplace.pushStock([
      { sku: 'GOOD', listing: listingOf(4100001, '4780000000017'), available: 9 },
      { sku: 'GHOST', listing: listingOf(4199999, '4789999999999'), available: 1 },
      { sku: 'BROKEN', listing: { itemId: 5 }, available: 1 },
    ]);
    assert.equal(outcome.calls, 1);
    assert.deepEqual(
      outcome.refused.map((r) => [r.sku, r.code]),
      [
        ['BROKEN', 'invalid_listing'],
        ['GOOD', 'storage-service-05'],
        ['GHOST', 'storage-service-05'],
      ],
    );
    assert.equal(uzum.stockOf(4100001), 12, 'all or nothing');
  }));

test('prices go out in whole soums, one call per product; a promo SKU, a fraction of a soum and an unknown SKU come back refused', () =>
  withUzum(async ({ uzum, marketplace }) => {
    const prices: PriceLevel[] = [
      { sku: 'CH-4100001', listing: listingOf(4100001, '4780000000017'), price: 19_900_000 },
      { sku: 'CH-4100002', listing: listingOf(4100002, '4780000000024'), price: 18_000_000 },
      { sku: 'CH-4100003', listing: listingOf(4100003, '4780000000031'), price: 9_900_000 },
      { sku: 'CH-4100004', listing: listingOf(4100004, '4780000000048'), price: 23_000_000 },
      { sku: 'HALF', listing: listingOf(4100003, '4780000000031'), price: 1_234_567 },
      { sku: 'GHOST', listing: listingOf(4199999, '4789999999999'), price: 100_000 },
    ];
    const outcome = await marketplace.pushPrices(prices);
    assert.deepEqual(
      outcome.refused.map((r) => [r.sku, r.code]),
      [
        ['HALF', 'not_whole_soums'],
        ['GHOST', 'unknown_sku'],
        ['CH-4100004', 'sku-price-001'],
      ],
    );
    // one catalogue read (to learn the products) and one call for each of the three products
    assert.equal(outcome.calls, 4);
    assert.deepEqual(uzum.priceOf(4100001), { fullPrice: 199_000, sellPrice: 199_000 });
    assert.deepEqual(uzum.priceOf(4100002), { fullPrice: 180_000, sellPrice: 180_000 });
    assert.deepEqual(uzum.priceOf(4100003), { fullPrice: 99_000, sellPrice: 99_000 });
    assert.deepEqual(uzum.priceOf(4100004), { fullPrice: 240_000, sellPrice: 240_000 });
    const [first] = uzum.requests({ path: `/v1/product/${UZUM_SANDBOX_SHOP_ID}/sendPriceData` });
    assert.deepEqual(bodyOf(first?.body), {
      productId: 310001,
      skuList: [
        { skuId: 4100001, fullPrice: 199_000, sellPrice: 199_000 },
        { skuId: 4100002, fullPrice: 180_000, sellPrice: 180_000 },
      ],
    });
    // the products are known now: a second push reads no catalogue
    assert.equal((await marketplace.pushPrices(prices.slice(0, 1))).calls, 1);
  }));

test('a 429 with Retry-After is waited out and the call then succeeds', () =>
  withUzum(
    async ({ client, uzum }) => {
      uzum.setRateLimit({ limit: 2, windowMs: 1_000 });
      await client.listShops();
      await client.listShops();
      const shops = await client.listShops();
      assert.equal(shops[0]?.id, UZUM_SANDBOX_SHOP_ID);
      const requests = uzum.requests({ path: '/v1/shops' });
      assert.deepEqual(
        requests.map((r) => r.status),
        [200, 200, 429, 200],
      );
      const refusedAt = Date.parse(requests[2]?.at ?? '');
      const retriedAt = Date.parse(requests[3]?.at ?? '');
      assert.ok(retriedAt - refusedAt >= 900, `retried after ${retriedAt - refusedAt} ms, before Retry-After`);
      assert.ok(retriedAt - refusedAt <= 2_000);
    },
    { ...FAST, retryBaseDelayMs: 10, retryMaxDelayMs: 50 },
  ));

test('a call Uzum does not answer is a retryable time-out', () =>
  withUzum(
    async ({ client, uzum }) => {
      uzum.faults.inject({ kind: 'timeout', path: '/v2/fbs/orders' });
      const started = Date.now();
      const error = await rejection(client.listOrders({ status: 'CREATED', page: 0, size: 50 }));
      assert.deepEqual([error.code, error.retryable], ['timeout', true]);
      assert.ok(Date.now() - started < 2_000);
    },
    { ...FAST, timeoutMs: 200, retries: 1, breakerFailureThreshold: 50 },
  ));

test('listProducts pages the catalogue: SKU listings with barcodes as strings, the seller code as our SKU', () =>
  withUzum(async ({ uzum, marketplace }) => {
    for (let i = 0; i < 60; i += 1) uzum.addProduct({ title: `Mahsulot ${i}`, price: 5_000 });
    const first = await marketplace.listProducts(null);
    assert.equal(first.cursor, '1');
    // 50 products: the first has two SKUs
    assert.equal(first.products.length, 51);
    assert.deepEqual(first.products[0], {
      listing: { skuId: 4100001, barcode: '4780000000017' },
      sku: 'CH-4100001',
      name: "Chinni choynak Ko'k",
    });
    const second = await marketplace.listProducts(first.cursor);
    assert.equal(second.cursor, null);
    assert.equal(second.products.length, 13);
    const all = [...first.products, ...second.products];
    assert.equal(new Set(all.map((p) => JSON.stringify(p.listing))).size, 64);
  }));

test('the sandbox is strict: page sizes, required parameters, body types and cancel reasons are checked like Uzum', () =>
  withUzum(async ({ uzum }) => {
    const call = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${uzum.url}${path}`, {
        ...init,
        headers: { authorization: UZUM_SANDBOX_CREDENTIALS.apiToken, 'content-type': 'application/json' },
      });
      const body = (await response.json()) as { errors: Array<{ code: string }> };
      return [response.status, body.errors[0]?.code];
    };
    assert.deepEqual(await call(`/v2/fbs/orders?shopIds=${UZUM_SANDBOX_SHOP_ID}&size=51`), [400, 'bad-request-001']);
    assert.deepEqual(await call('/v2/fbs/orders?size=10'), [400, 'bad-request-001']);
    assert.deepEqual(await call(`/v2/fbs/orders?shopIds=${UZUM_SANDBOX_SHOP_ID}&status=NEW`), [400, 'bad-request-001']);
    assert.deepEqual(await call(`/v1/product/shop/${UZUM_SANDBOX_SHOP_ID}?page=0`), [400, 'bad-request-001']);
    const cancel = (body: unknown) => call('/v1/fbs/order/90000001/cancel', { method: 'POST', body: JSON.stringify(body) });
    assert.deepEqual(await cancel({ reason: 'CANCELED_BY_CUSTOMER' }), [400, 'seller-order-12']);
    assert.deepEqual(await cancel({ reason: 'SOMETHING' }), [400, 'seller-order-12']);
    assert.deepEqual(await cancel({ comment: 'no reason' }), [400, 'bad-request-001']);
    assert.deepEqual(await cancel({ reason: 'OTHER', extra: 1 }), [400, 'bad-request-001']);
    const stock = (body: unknown) => call('/v2/fbs/sku/stocks', { method: 'POST', body: JSON.stringify(body) });
    assert.deepEqual(await stock({ skuAmountList: [{ barcode: '4780000000017', amount: '5' }] }), [400, 'storage-service-05']);
    assert.deepEqual(await stock({ skuAmountList: [{ amount: 5 }] }), [400, 'storage-service-05']);
    const price = (body: unknown) =>
      call(`/v1/product/${UZUM_SANDBOX_SHOP_ID}/sendPriceData`, { method: 'POST', body: JSON.stringify(body) });
    assert.deepEqual(await price({ productId: 310001, skuList: [{ skuId: 4100001, sellPrice: 1.5 }] }), [400, 'bad-request-001']);
    assert.deepEqual(await price({ productId: 310001, skuList: [{ skuId: 4100003, sellPrice: 1000 }] }), [400, 'bad-request-001']);
    assert.deepEqual(await price({ productId: 310001, skuList: [{ skuId: 4100001, fullPrice: 1000, sellPrice: 2000 }] }), [
      400,
      'bad-request-001',
    ]);
    assert.deepEqual(await call('/v9/nothing'), [404, 'not-found']);
    assert.equal(uzum.order(90000001)?.status, 'CREATED', 'no refused call changed the order');
    assert.equal(uzum.stockOf(4100001), 12);
  }));

test('the sandbox controls: an order added over HTTP is a new order; stock is read over HTTP; reset restores the seed', () =>
  withUzum(async ({ uzum, marketplace }) => {
    const added = await fetch(`${uzum.url}/__sandbox/orders`, {
      method: 'POST',
      body: JSON.stringify({ lines: [{ skuId: 4100002, qty: 3, price: 170_000 }] }),
    });
    assert.equal(added.status, 201);
    const { order } = (await added.json()) as { order: { id: number; price: number } };
    assert.equal(order.price, 510_000);
    const page = await marketplace.newOrders(null);
    assert.equal(page.orders.find((o) => o.externalId === String(order.id))?.total, 51_000_000);
    const stock = (await (await fetch(`${uzum.url}/__sandbox/stock`)).json()) as { stock: Array<{ skuId: number; amount: number }> };
    assert.deepEqual(
      stock.stock.find((s) => s.skuId === 4100003),
      { skuId: 4100003, barcode: '4780000000031', amount: 30 },
    );
    uzum.reset();
    assert.equal(uzum.order(order.id), null);
  }));
