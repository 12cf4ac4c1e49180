import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ozonConnector, ozonSettingsSchema } from '../../../../actors/platform/connectors/ozon/connector.ts';
import type { OzonClient } from '../../../../actors/platform/connectors/ozon/client.ts';
import { ozonMarketplace } from '../../../../actors/platform/connectors/ozon/marketplace.ts';
import {
  kopecksToRubles,
  OZON_PATHS,
  postingAnswerSchema,
  postingListAnswerSchema,
  pricesAnswerSchema,
  productListAnswerSchema,
  rublesToKopecks,
  shipAnswerSchema,
  cancelAnswerSchema,
  stocksAnswerSchema,
} from '../../../../actors/platform/connectors/ozon/protocol.ts';
import {
  OZON_SANDBOX_CREDENTIALS,
  OZON_SANDBOX_WAREHOUSES,
  type OzonSandbox,
} from '../../../../actors/platform/connectors/ozon/sandbox.ts';
import type { HttpPolicy } from '../../../../actors/platform/connectors/kit/definition.ts';
import type { Marketplace, MarketplaceOrder, StockLevel } from '../../../../actors/platform/connectors/ports/marketplace.ts';
import { withSandboxClient, rejection } from '../../../support/connectors.ts';
import * as published from '../../../fixtures/ozon-published.ts';

type Setup = Parameters<Parameters<typeof withSandboxClient<OzonClient>>[1]>[0] & { ozon: OzonSandbox; market: Marketplace };

const WAREHOUSE: number = OZON_SANDBOX_WAREHOUSES[0].warehouse_id;
const SECOND_WAREHOUSE: number = OZON_SANDBOX_WAREHOUSES[1].warehouse_id;

const withOzon = (
  run: (setup: Setup) => Promise<void>,
  options: { settings?: Record<string, unknown>; policy?: Partial<HttpPolicy> } = {},
) => {
  const settings = ozonSettingsSchema.parse(options.settings ?? {});
  return withSandboxClient<OzonClient>(
    ozonConnector,
    (setup) =>
      run({
        ...setup,
        ozon: setup.sandbox as OzonSandbox,
        market: ozonMarketplace({ client: () => setup.client, settings: () => settings }),
      }),
    { settings, policy: options.policy },
  );
};

/** Every page of new orders from `cursor` on, and the cursor after the last. */
async function drain(market: Marketplace, cursor: string | null): Promise<{ orders: MarketplaceOrder[]; cursor: string; calls: number }> {
  const orders: MarketplaceOrder[] = [];
  let at = cursor;
  for (let calls = 1; calls < 50; calls += 1) {
    const page = await market.newOrders(at);
    orders.push(...page.orders);
    at = page.cursor;
    if (!page.more) return { orders, cursor: page.cursor, calls };
  }
  throw new Error('the import never finished');
}

const bodyOf = (request: { body: string } | undefined): unknown => JSON.parse(request?.body ?? 'null');

const listing = (offerId: string, productId: number, warehouseId = WAREHOUSE) => ({ offerId, productId, warehouseId });

// ---- the published examples ----

test("Ozon's published answers parse with our schemas, prices and all", () => {
  const list = postingListAnswerSchema.parse(published.POSTING_LIST_ANSWER);
  assert.deepEqual(
    [list.result.has_next, list.result.postings[0]?.posting_number, list.result.postings[0]?.products[0]?.price],
    [true, '05708065-0029-1', '1390.000000'],
  );
  assert.equal(postingListAnswerSchema.shape.result.shape.postings.parse(published.UNFULFILLED_LIST_ANSWER.result.postings).length, 1);
  const one = postingAnswerSchema.parse(published.POSTING_GET_ANSWER).result;
  assert.deepEqual([one.status, one.products[0]?.sku, one.customer], ['awaiting_packaging', 180550365, null]);
  assert.deepEqual(shipAnswerSchema.parse(published.SHIP_ANSWER).result, ['89491381-0072-1']);
  assert.equal(cancelAnswerSchema.parse(published.CANCEL_ANSWER).result, true);
  assert.deepEqual(stocksAnswerSchema.parse(published.STOCKS_ANSWER).result[0]?.errors, []);
  assert.equal(pricesAnswerSchema.parse(published.PRICES_ANSWER).result[0]?.updated, true);
  assert.equal(productListAnswerSchema.parse(published.PRODUCT_LIST_ANSWER).result.items[0]?.product_id, 223681945);
  // the three ways Ozon writes a posting's price
  assert.deepEqual(['1390.000000', '279.0000', '1259'].map(rublesToKopecks), [139000, 27900, 125900]);
});

test('kopecks become decimal strings and back by their digits, never through a float', () => {
  assert.deepEqual([129950, 129900, 5, 1999].map(kopecksToRubles), ['1299.50', '1299', '0.05', '19.99']);
  assert.deepEqual(['19.99', '0.1', '1299.505', '1299.504999', '12a', '-1'].map(rublesToKopecks), [1999, 10, 129951, 129950, null, null]);
  assert.throws(() => kopecksToRubles(10.5), RangeError);
});

test("the sandbox accepts Ozon's published requests, and ours have their shape", () =>
  withOzon(async ({ ozon, market }) => {
    const send = async (path: string, body: unknown) => {
      const response = await fetch(ozon.url + path, {
        method: 'POST',
        headers: {
          'Client-Id': OZON_SANDBOX_CREDENTIALS.clientId,
          'Api-Key': OZON_SANDBOX_CREDENTIALS.apiKey,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    assert.equal((await send(OZON_PATHS.postingsList, published.POSTING_LIST_REQUEST)).status, 200);
    assert.equal((await send(OZON_PATHS.productList, published.PRODUCT_LIST_REQUEST)).status, 200);
    // unknown products: accepted calls whose items are refused, as Ozon answers
    const stocks = await send(OZON_PATHS.stocks, published.STOCKS_REQUEST);
    assert.deepEqual([stocks.status, stocksAnswerSchema.parse(stocks.json).result[0]?.errors[0]?.code], [200, 'offer_id_not_found']);
    const prices = await send(OZON_PATHS.prices, published.PRICES_REQUEST);
    assert.deepEqual([prices.status, pricesAnswerSchema.parse(prices.json).result[0]?.errors[0]?.code], [200, 'NOT_FOUND_ERROR']);
    assert.deepEqual((await send(OZON_PATHS.posting, published.POSTING_GET_REQUEST)).json.message, 'POSTING_NOT_FOUND');

    await market.pushStock([{ sku: 'TS-M', listing: listing('OZ-TSHIRT-M', 214800001), available: 3 }]);
    const [ours] = (bodyOf(ozon.requests({ path: OZON_PATHS.stocks }).at(-1)) as { stocks: object[] }).stocks;
    assert.deepEqual(Object.keys(ours ?? {}).sort(), Object.keys(published.STOCKS_REQUEST.stocks[0]).sort());
    await market.pushPrices([{ sku: 'TS-M', listing: listing('OZ-TSHIRT-M', 214800001), price: 129950 }]);
    const [price] = (bodyOf(ozon.requests({ path: OZON_PATHS.prices }).at(-1)) as { prices: object[] }).prices;
    const publishedPriceKeys = Object.keys(published.PRICES_REQUEST.prices[0]);
    assert.ok(Object.keys(price ?? {}).every((key) => publishedPriceKeys.includes(key)));
    const [first] = (await market.newOrders(null)).orders;
    await market.pushStatus(first?.externalId ?? '', { status: 'confirmed' });
    const ship = bodyOf(ozon.requests({ path: OZON_PATHS.ship })[0]) as Record<string, unknown>;
    assert.deepEqual(Object.keys(ship).sort(), ['packages', 'posting_number']);
    assert.deepEqual(
      Object.keys((ship.packages as Array<{ products: object[] }>)[0]?.products[0] ?? {}),
      Object.keys(published.SHIP_REQUEST.packages[0].products[0]),
    );
  }));

// ---- authentication ----

test('the connection test lists the warehouses; a wrong Api-Key is HTTP 404 code 5 (not retryable); missing headers are 401', () =>
  withOzon(async ({ client, clientWith, ozon, calls }) => {
    assert.equal(await ozonConnector.test(client), 'authenticated; 2 FBS warehouse(s)');
    const [first] = ozon.requests({ path: OZON_PATHS.warehouses });
    assert.deepEqual(
      [first?.headers['client-id'], first?.headers['api-key']],
      [OZON_SANDBOX_CREDENTIALS.clientId, OZON_SANDBOX_CREDENTIALS.apiKey],
    );

    const error = await rejection(
      ozonConnector.test(clientWith({ clientId: OZON_SANDBOX_CREDENTIALS.clientId, apiKey: 'wrong-key-0000' })),
    );
    assert.deepEqual(
      [error.code, error.status, error.retryable, error.message],
      ['5', 404, false, 'Invalid Api-Key, please check the key and try again'],
    );
    assert.ok(!JSON.stringify(calls).includes(OZON_SANDBOX_CREDENTIALS.apiKey), 'the Api-Key reached a call record');

    const bare = await fetch(ozon.url + OZON_PATHS.warehouses, { method: 'POST', body: '{}' });
    assert.deepEqual([bare.status, ((await bare.json()) as { code: number }).code], [401, 16]);
    const badId = await fetch(ozon.url + OZON_PATHS.warehouses, {
      method: 'POST',
      body: '{}',
      headers: { 'Client-Id': 'abc', 'Api-Key': 'x' },
    });
    assert.deepEqual([badId.status, ((await badId.json()) as { code: number }).code], [400, 3]);
  }));

// ---- orders ----

test('new orders come page by page with the cursor: each posting awaiting packaging once, in kopecks, nothing new on a repeat', () =>
  withOzon(
    async ({ ozon, market }) => {
      const minute = 60_000;
      const mug = ozon.addOrder({
        lines: [{ offerId: 'OZ-MUG-330', qty: 2, price: 54950 }],
        inProcessAt: new Date(Date.now() - 50 * minute).toISOString(),
      });
      const pair = ozon.addOrder({
        lines: [
          { offerId: 'OZ-SOCKS-3', qty: 3, price: 39900 },
          { offerId: 'OZ-CAP-BLK', qty: 1, price: 89000 },
        ],
        inProcessAt: new Date(Date.now() - 40 * minute).toISOString(),
      });
      const waiting = ozon.addOrder({
        lines: [{ offerId: 'OZ-CAP-BLK', qty: 1 }],
        status: 'awaiting_registration',
        inProcessAt: new Date(Date.now() - 30 * minute).toISOString(),
      });
      ozon.addOrder({
        lines: [{ offerId: 'OZ-CAP-BLK', qty: 1 }],
        status: 'cancelled',
        inProcessAt: new Date(Date.now() - 20 * minute).toISOString(),
      });
      const last = ozon.addOrder({
        lines: [{ offerId: 'OZ-TSHIRT-M', qty: 1, price: 129950 }],
        inProcessAt: new Date(Date.now() - 10 * minute).toISOString(),
      });

      // 7 postings (2 seeded), 2 a page: 4 calls
      const first = await drain(market, null);
      assert.equal(first.calls, 4);
      assert.equal(ozon.requests({ path: OZON_PATHS.postingsList }).length, 4);
      const seeded = ozon
        .requests({ path: OZON_PATHS.postingsList })
        .map((r) => bodyOf(r) as { offset: number; limit: number; dir: string });
      assert.deepEqual(
        seeded.map((b) => [b.offset, b.limit, b.dir]),
        [
          [0, 2, 'ASC'],
          [2, 2, 'ASC'],
          [4, 2, 'ASC'],
          [6, 2, 'ASC'],
        ],
      );
      const numbers = first.orders.map((o) => o.externalId);
      assert.equal(numbers.length, 4);
      assert.deepEqual(numbers.slice(1), [mug.posting_number, pair.posting_number, last.posting_number]);
      const pairOrder = first.orders.find((o) => o.externalId === pair.posting_number);
      assert.deepEqual(pairOrder, {
        externalId: pair.posting_number,
        createdAt: pair.in_process_at,
        currency: 'RUB',
        total: 3 * 39900 + 89000,
        paidAtMarketplace: true,
        customer: { name: null, phone: null, email: null },
        delivery: { kind: 'marketplace', service: 'ozon-fbs' },
        lines: [
          { itemKey: 'OZ-SOCKS-3', name: 'Носки, 3 пары', qty: 3, price: 39900 },
          { itemKey: 'OZ-CAP-BLK', name: 'Кепка чёрная', qty: 1, price: 89000 },
        ],
      });
      assert.equal(first.orders.find((o) => o.externalId === last.posting_number)?.lines[0]?.price, 129950);

      const again = await drain(market, first.cursor);
      assert.deepEqual(again.orders, []);

      // the posting that was registering becomes ready; a posting Ozon lists late, older than the newest one seen (but within the lookback), appears
      ozon.setStatus(waiting.posting_number, 'awaiting_packaging');
      const late = ozon.addOrder({
        lines: [{ offerId: 'OZ-MUG-330', qty: 1 }],
        inProcessAt: new Date(Date.now() - 15 * minute).toISOString(),
      });
      const fresh = ozon.addOrder({ lines: [{ offerId: 'OZ-SOCKS-3', qty: 1 }] });
      const next = await drain(market, again.cursor);
      assert.deepEqual(
        next.orders.map((o) => o.externalId).sort(),
        [waiting.posting_number, late.posting_number, fresh.posting_number].sort(),
      );
      assert.deepEqual((await drain(market, next.cursor)).orders, []);
    },
    { settings: { ordersPageSize: 2 } },
  ));

test('a buyer cancellation is seen by orderStates; a delivered posting is closed; an unknown one is left out', () =>
  withOzon(async ({ ozon, market }) => {
    const a = ozon.addOrder({ lines: [{ offerId: 'OZ-MUG-330', qty: 1 }] });
    const b = ozon.addOrder({ lines: [{ offerId: 'OZ-CAP-BLK', qty: 1 }] });
    const delivered = ozon.addOrder({ lines: [{ offerId: 'OZ-CAP-BLK', qty: 1 }], status: 'delivered' });
    ozon.cancelByBuyer(b.posting_number);
    const states = await market.orderStates([a.posting_number, b.posting_number, delivered.posting_number, '00000000-0000-1']);
    assert.deepEqual(states, { [a.posting_number]: 'open', [b.posting_number]: 'cancelled', [delivered.posting_number]: 'closed' });
  }));

test('confirmed packs the posting (SKUs and quantities), once; shipped and delivered call nothing', () =>
  withOzon(async ({ ozon, market }) => {
    const posting = ozon.addOrder({
      lines: [
        { offerId: 'OZ-SOCKS-3', qty: 2 },
        { offerId: 'OZ-MUG-330', qty: 1 },
      ],
    });
    await market.pushStatus(posting.posting_number, { status: 'confirmed' });
    assert.equal(ozon.order(posting.posting_number)?.status, 'awaiting_deliver');
    assert.deepEqual(bodyOf(ozon.requests({ path: OZON_PATHS.ship })[0]), {
      packages: [
        {
          products: [
            { product_id: 1457000003, quantity: 2 },
            { product_id: 1457000002, quantity: 1 },
          ],
        },
      ],
      posting_number: posting.posting_number,
    });
    await market.pushStatus(posting.posting_number, { status: 'confirmed' });
    assert.equal(ozon.requests({ path: OZON_PATHS.ship }).length, 1, 'a repeated confirm packs nothing again');

    const before = ozon.requests().length;
    await market.pushStatus(posting.posting_number, { status: 'shipped', waybill: null });
    await market.pushStatus(posting.posting_number, { status: 'delivered' });
    assert.equal(ozon.requests().length, before);
  }));

test("Ozon's refusal of a second or a short pack has its codes; a push racing another that took effect does not fail", () =>
  withOzon(async ({ ozon, client }) => {
    const posting = ozon.addOrder({ lines: [{ offerId: 'OZ-MUG-330', qty: 1 }] });
    const pack = { packages: [{ products: [{ product_id: 1457000002, quantity: 1 }] }], posting_number: posting.posting_number };
    const stale = await client.getPosting(posting.posting_number);
    await client.ship(pack);
    const twice = await rejection(client.ship(pack));
    assert.deepEqual([twice.code, twice.status, twice.retryable], ['POSTING_ALREADY_SHIPPED', 400, false]);
    const partial = ozon.addOrder({ lines: [{ offerId: 'OZ-MUG-330', qty: 2 }] });
    const short = await rejection(client.ship({ ...pack, posting_number: partial.posting_number }));
    assert.equal(short.code, 'HAS_INCORRECT_PRODUCT_QUANTITY');

    // the posting was read before another push packed (or cancelled) it: Ozon's "already" is success
    const racing = ozonMarketplace({
      client: () => Object.assign(Object.create(client) as OzonClient, { getPosting: () => Promise.resolve(stale) }),
      settings: () => ozonSettingsSchema.parse({}),
    });
    await racing.pushStatus(posting.posting_number, { status: 'confirmed' });
    assert.equal(ozon.requests({ path: OZON_PATHS.ship }).at(-1)?.status, 400);
    ozon.cancelByBuyer(posting.posting_number);
    await racing.pushStatus(posting.posting_number, { status: 'cancelled', reason: 'out_of_stock' });
    assert.deepEqual(
      ozon.requests({ path: OZON_PATHS.cancel }).map((r) => r.status),
      [400],
    );
  }));

test('cancelled sends the reason id (352 out of stock; 402 with its text otherwise); a repeat is harmless', () =>
  withOzon(async ({ ozon, market }) => {
    const a = ozon.addOrder({ lines: [{ offerId: 'OZ-MUG-330', qty: 1 }] });
    const b = ozon.addOrder({ lines: [{ offerId: 'OZ-CAP-BLK', qty: 1 }] });
    const c = ozon.addOrder({ lines: [{ offerId: 'OZ-CAP-BLK', qty: 1 }] });
    await market.pushStatus(a.posting_number, { status: 'cancelled', reason: 'out_of_stock' });
    await market.pushStatus(b.posting_number, { status: 'cancelled', reason: 'cannot_deliver', comment: 'Склад закрыт на инвентаризацию' });
    await market.pushStatus(c.posting_number, { status: 'cancelled', reason: 'customer_cancelled' });
    const sent = ozon.requests({ path: OZON_PATHS.cancel }).map(bodyOf);
    assert.deepEqual(sent, [
      { posting_number: a.posting_number, cancel_reason_id: 352, cancel_reason_message: 'Товар закончился на складе продавца' },
      { posting_number: b.posting_number, cancel_reason_id: 402, cancel_reason_message: 'Склад закрыт на инвентаризацию' },
      { posting_number: c.posting_number, cancel_reason_id: 402, cancel_reason_message: 'Покупатель попросил отменить заказ' },
    ]);
    assert.deepEqual(
      [ozon.order(a.posting_number)?.status, ozon.order(a.posting_number)?.cancellation.cancel_reason_id],
      ['cancelled', 352],
    );
    await market.pushStatus(a.posting_number, { status: 'cancelled', reason: 'out_of_stock' });
    assert.equal(ozon.requests({ path: OZON_PATHS.cancel }).length, 3);
  }));

test('refused pushes throw non-retryable errors: packing a cancelled posting, cancelling one on its way', () =>
  withOzon(async ({ ozon, market }) => {
    const cancelled = ozon.addOrder({ lines: [{ offerId: 'OZ-MUG-330', qty: 1 }] });
    ozon.cancelByBuyer(cancelled.posting_number);
    const pack = await rejection(market.pushStatus(cancelled.posting_number, { status: 'confirmed' }));
    assert.deepEqual([pack.code, pack.retryable, pack.status], ['POSTING_ALREADY_CANCELLED', false, 400]);

    const travelling = ozon.addOrder({ lines: [{ offerId: 'OZ-MUG-330', qty: 1 }], status: 'delivering' });
    const cancel = await rejection(market.pushStatus(travelling.posting_number, { status: 'cancelled', reason: 'seller_cancelled' }));
    assert.deepEqual([cancel.code, cancel.retryable], ['HAS_INCORRECT_STATUS', false]);
    assert.equal(ozon.order(travelling.posting_number)?.status, 'delivering');

    const registering = ozon.addOrder({ lines: [{ offerId: 'OZ-MUG-330', qty: 1 }], status: 'awaiting_registration' });
    const early = await rejection(market.pushStatus(registering.posting_number, { status: 'confirmed' }));
    assert.deepEqual([early.code, early.retryable], ['posting_not_ready', true]);
    const unknown = await rejection(market.pushStatus('00000000-0000-1', { status: 'confirmed' }));
    assert.deepEqual([unknown.code, unknown.retryable], ['POSTING_NOT_FOUND', false]);
  }));

// ---- stock and prices ----

test('stock for 250 pairs over two warehouses goes in exactly 3 calls of at most 100; refusals come back per item', () =>
  withOzon(async ({ ozon, market }) => {
    const levels: StockLevel[] = [];
    for (let i = 0; i < 125; i += 1) {
      const product = ozon.addProduct({ offerId: `BULK-${i}`, name: `Товар ${i}` });
      levels.push({ sku: `S-${i}`, listing: listing(product.offer_id, product.product_id), available: i });
      levels.push({ sku: `S-${i}`, listing: listing(product.offer_id, product.product_id, SECOND_WAREHOUSE), available: i + 1000 });
    }
    const outcome = await market.pushStock(levels);
    assert.deepEqual(outcome, { refused: [], calls: 3 });
    const sent = ozon.requests({ path: OZON_PATHS.stocks }).map((r) => (bodyOf(r) as { stocks: unknown[] }).stocks.length);
    assert.deepEqual(sent, [100, 100, 50]);
    assert.deepEqual(
      [ozon.stockOf('BULK-7'), ozon.stockOf('BULK-7', SECOND_WAREHOUSE), ozon.stockOf('BULK-124', SECOND_WAREHOUSE)],
      [7, 1007, 1124],
    );

    const refused = await market.pushStock([
      { sku: 'S-1', listing: listing('BULK-1', 214800006), available: 9 },
      { sku: 'NOPE', listing: listing('NO-SUCH-OFFER', 999), available: 1 },
      { sku: 'FAR', listing: listing('BULK-2', 214800007, 99), available: 1 },
      { sku: 'RZ', listing: { itemId: 5 }, available: 1 },
    ]);
    assert.deepEqual(
      refused.refused.map((r) => [r.sku, r.code]),
      [
        ['RZ', 'invalid_listing'],
        ['S-1', 'TOO_MANY_REQUESTS'],
        ['NOPE', 'offer_id_not_found'],
        ['FAR', 'WAREHOUSE_NOT_FOUND'],
      ],
    );
    assert.equal(refused.calls, 1);
    assert.equal(ozon.stockOf('BULK-1'), 1, 'a pair set less than 30 s ago keeps its value');
  }));

test('the sandbox refuses a stock call of 101 pairs as Ozon does', () =>
  withOzon(async ({ client, ozon }) => {
    const items = Array.from({ length: 101 }, (_, i) => ({ offer_id: `X-${i}`, product_id: i + 1, stock: 1, warehouse_id: WAREHOUSE }));
    // our own client refuses to build it
    await assert.rejects(client.updateStocks(items), /too big/i);
    assert.equal(ozon.requests({ path: OZON_PATHS.stocks }).length, 0);
    const response = await fetch(ozon.url + OZON_PATHS.stocks, {
      method: 'POST',
      headers: { 'Client-Id': OZON_SANDBOX_CREDENTIALS.clientId, 'Api-Key': OZON_SANDBOX_CREDENTIALS.apiKey },
      body: JSON.stringify({ stocks: items }),
    });
    const body = (await response.json()) as { code: number; message: string };
    assert.deepEqual([response.status, body.code], [400, 3]);
    assert.match(body.message, /^Request validation error: invalid ProductsStocksRequest\.Stocks/);
  }));

test('prices go as decimal strings in RUB (129950 → "1299.50"), 1000 a call; a refused price comes back in refused', () =>
  withOzon(async ({ ozon, market }) => {
    const outcome = await market.pushPrices([
      { sku: 'TS-M', listing: listing('OZ-TSHIRT-M', 214800001), price: 129950 },
      { sku: 'MUG', listing: listing('OZ-MUG-330', 214800002), price: 60000 },
      { sku: 'CHEAP', listing: listing('OZ-SOCKS-3', 214800003), price: 50 },
      { sku: 'GONE', listing: listing('NO-SUCH-OFFER', 999), price: 1000 },
    ]);
    assert.deepEqual(outcome, {
      refused: [
        { sku: 'CHEAP', code: 'invalid_category_price', message: 'invalid_category_price' },
        { sku: 'GONE', code: 'NOT_FOUND_ERROR', message: 'NOT_FOUND_ERROR' },
      ],
      calls: 1,
    });
    const sent = (bodyOf(ozon.requests({ path: OZON_PATHS.prices })[0]) as { prices: unknown[] }).prices;
    assert.deepEqual(sent[0], { offer_id: 'OZ-TSHIRT-M', price: '1299.50', old_price: '0', currency_code: 'RUB' });
    assert.deepEqual(sent[1], { offer_id: 'OZ-MUG-330', price: '600', old_price: '0', currency_code: 'RUB' });
    assert.deepEqual([ozon.priceOf('OZ-TSHIRT-M'), ozon.priceOf('OZ-MUG-330'), ozon.priceOf('OZ-SOCKS-3')], ['1299.50', '600', '399']);

    const many = Array.from({ length: 1001 }, (_, i) => ({ sku: `P-${i}`, listing: listing('OZ-CAP-BLK', 214800004), price: 100000 + i }));
    assert.deepEqual(await market.pushPrices(many), { refused: [], calls: 2 });
    // the sandbox refuses more than 1000 in a call; the first body is too long for the request record, the second is not
    const [, big, rest] = ozon.requests({ path: OZON_PATHS.prices });
    assert.ok(big && big.status === 200 && big.body.length > 64 * 1024);
    assert.equal((bodyOf(rest) as { prices: unknown[] }).prices.length, 1);
    assert.equal(ozon.priceOf('OZ-CAP-BLK'), '1010');
  }));

// ---- the wire: rate limit, time-out ----

test("a 429 with Retry-After is waited out and the call succeeds (Ozon's code 8 body)", () =>
  withOzon(async ({ ozon, market, calls }) => {
    const posting = ozon.addOrder({ lines: [{ offerId: 'OZ-MUG-330', qty: 1 }] });
    ozon.setRateLimit({ limit: 2, windowMs: 1000 });
    const states = await market.orderStates([posting.posting_number, posting.posting_number, posting.posting_number]);
    assert.deepEqual(states, { [posting.posting_number]: 'open' });
    const seen = ozon.requests({ path: OZON_PATHS.posting });
    const refused = seen.find((r) => r.status === 429);
    const after = seen.at(-1);
    assert.ok(refused && after && after.status === 200, 'one request was refused with 429, then answered');
    const waited = Date.parse(after.at) - Date.parse(refused.at);
    assert.ok(waited >= 900 && waited <= 2000, `waited ${waited} ms for Retry-After: 1`);
    assert.equal(calls.at(-1)?.attempts, 2);
  }));

test('a stock call over the per-minute limit is waited out too (idempotent: the same levels again)', () =>
  withOzon(async ({ ozon, market }) => {
    ozon.setStockRateLimit({ limit: 1, windowMs: 1000 });
    const levels = Array.from({ length: 150 }, (_, i) => {
      const product = ozon.addProduct({ offerId: `RL-${i}`, name: `Товар ${i}` });
      return { sku: `RL-${i}`, listing: listing(product.offer_id, product.product_id), available: 5 };
    });
    const outcome = await market.pushStock(levels);
    assert.deepEqual(outcome, { refused: [], calls: 2 });
    assert.deepEqual(
      ozon.requests({ path: OZON_PATHS.stocks }).map((r) => r.status),
      [200, 429, 200],
    );
    assert.equal(ozon.stockOf('RL-149'), 5);
  }));

test('a time-out is a retryable error', () =>
  withOzon(
    async ({ ozon, market }) => {
      ozon.faults.inject({ kind: 'timeout', path: OZON_PATHS.postingsList });
      const error = await rejection(market.newOrders(null));
      assert.deepEqual([error.code, error.retryable], ['timeout', true]);
    },
    { policy: { timeoutMs: 200, retries: 0 } },
  ));

// ---- products ----

test('listProducts pages by last_id, names from the product info, the configured warehouse in each listing', () =>
  withOzon(
    async ({ ozon, market }) => {
      for (let i = 0; i < 150; i += 1) ozon.addProduct({ offerId: `CAT-${i}`, name: `Каталог ${i}` });
      const first = await market.listProducts(null);
      assert.equal(first.products.length, 100);
      assert.deepEqual(first.products[0], {
        listing: { offerId: 'OZ-TSHIRT-M', productId: 214800001, warehouseId: SECOND_WAREHOUSE },
        sku: 'OZ-TSHIRT-M',
        name: 'Футболка хлопковая, M',
      });
      assert.ok(first.cursor);
      const second = await market.listProducts(first.cursor);
      assert.equal(second.products.length, 54);
      assert.equal(second.cursor, null);
      assert.equal(second.products.at(-1)?.name, 'Каталог 149');
      const all = new Set([...first.products, ...second.products].map((p) => (p.listing as { offerId: string }).offerId));
      assert.equal(all.size, 154);
    },
    { settings: { warehouseId: SECOND_WAREHOUSE } },
  ));

test('without a configured warehouse, a seller with two FBS warehouses is told to choose one', () =>
  withOzon(async ({ market }) => {
    const error = await rejection(market.listProducts(null));
    assert.deepEqual([error.code, error.retryable], ['warehouse_not_configured', false]);
  }));

test('the settings accept {} and keep the port’s defaults', () => {
  const settings = ozonSettingsSchema.parse({});
  assert.deepEqual(
    [
      settings.enabled,
      settings.ordersIntervalMinutes,
      settings.pushIntervalSeconds,
      settings.ordersPageSize,
      settings.stockRequestsPerMinute,
    ],
    [false, 5, 60, 100, 80],
  );
  const market = ozonMarketplace({ client: () => assert.fail('no client needed'), settings: () => settings });
  assert.deepEqual(
    [market.name, market.currency, market.pricePrecision, market.batch],
    ['ozon', 'RUB', 'minor', { stock: 100, prices: 1000 }],
  );
  assert.deepEqual(market.settings(), { enabled: false, ordersIntervalMinutes: 5, pushIntervalSeconds: 60 });
});

test('the sandbox controls add an order over HTTP and show the stock', () =>
  withOzon(async ({ ozon, market }) => {
    const created = await fetch(`${ozon.url}/__sandbox/orders`, {
      method: 'POST',
      body: JSON.stringify({ lines: [{ offerId: 'OZ-CAP-BLK', qty: 2, price: 79900 }] }),
    });
    const { posting } = (await created.json()) as { posting: { posting_number: string } };
    assert.equal(created.status, 201);
    const imported = (await market.newOrders(null)).orders.find((o) => o.externalId === posting.posting_number);
    assert.deepEqual([imported?.total, imported?.lines[0]?.itemKey], [2 * 79900, 'OZ-CAP-BLK']);
    const unknown = await fetch(`${ozon.url}/__sandbox/orders`, {
      method: 'POST',
      body: JSON.stringify({ lines: [{ offerId: 'NOPE', qty: 1 }] }),
    });
    assert.equal(unknown.status, 404);

    await market.pushStock([{ sku: 'CAP', listing: listing('OZ-CAP-BLK', 214800004), available: 12 }]);
    const stock = (await (await fetch(`${ozon.url}/__sandbox/stock`)).json()) as { stocks: unknown[] };
    assert.deepEqual(stock.stocks, [{ offer_id: 'OZ-CAP-BLK', product_id: 214800004, warehouse_id: WAREHOUSE, stock: 12 }]);
  }));
