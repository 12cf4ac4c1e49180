import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpPolicy } from '../../../../actors/platform/connectors/kit/definition.ts';
import { listingKey, type PriceLevel, type StockLevel } from '../../../../actors/platform/connectors/ports/marketplace.ts';
import { describeWildberriesError, type WildberriesClient } from '../../../../actors/platform/connectors/wildberries/client.ts';
import { wildberriesConnector, wildberriesSettingsSchema } from '../../../../actors/platform/connectors/wildberries/connector.ts';
import { wildberriesMarketplace, type WildberriesMarketplace } from '../../../../actors/platform/connectors/wildberries/marketplace.ts';
import {
  cardsListAnswerSchema,
  cardsListRequestSchema,
  createSupplyRequestSchema,
  newOrdersAnswerSchema,
  orderStatusesAnswerSchema,
  orderStatusesRequestSchema,
  priceUploadAnswerSchema,
  priceUploadRequestSchema,
  stocksConflictSchema,
  stocksRequestSchema,
  supplyCreatedSchema,
  supplyOrdersRequestSchema,
  supplySchema,
  WB_PATHS,
} from '../../../../actors/platform/connectors/wildberries/protocol.ts';
import {
  startWildberriesSandbox,
  WILDBERRIES_SANDBOX_CREDENTIALS,
  type WildberriesSandbox,
} from '../../../../actors/platform/connectors/wildberries/sandbox.ts';
import * as published from '../../../fixtures/wildberries-published.ts';
import { connectorHttpFor, rejection, withSandboxClient } from '../../../support/connectors.ts';

type Setup = Parameters<Parameters<typeof withSandboxClient<WildberriesClient>>[1]>[0] & {
  wb: WildberriesSandbox;
  marketplace: WildberriesMarketplace;
  /** another marketplace object over the same client: the hub after a restart */
  restarted(): WildberriesMarketplace;
};

const withWildberries = (run: (setup: Setup) => Promise<void>, options: { policy?: Partial<HttpPolicy>; settings?: unknown } = {}) =>
  withSandboxClient<WildberriesClient>(
    wildberriesConnector,
    (setup) => {
      const settings = wildberriesSettingsSchema.parse(options.settings ?? {});
      const make = () => wildberriesMarketplace({ client: () => setup.client, settings: () => settings });
      return run({ ...setup, wb: setup.sandbox as WildberriesSandbox, marketplace: make(), restarted: make });
    },
    options,
  );

const W1 = 507001;
const W2 = 507002;
const listing = (nmId: number, barcode: string, warehouseId = W1) => ({ nmId, barcode, warehouseId });

test('the token goes raw in Authorization; a wrong one is 401 unauthorized (not retryable) and never reaches a record', () =>
  withWildberries(async ({ client, clientWith, wb, calls }) => {
    assert.equal(await wildberriesConnector.test(client), 'authenticated; 2 seller warehouse(s)');
    assert.equal(wb.requests({ path: WB_PATHS.warehouses })[0]?.headers.authorization, WILDBERRIES_SANDBOX_CREDENTIALS.token);
    const error = await rejection(wildberriesConnector.test(clientWith({ token: 'wb-wrong-token-0123456789' })));
    assert.deepEqual([error.code, error.retryable, error.status], ['unauthorized', false, 401]);
    assert.match(error.message, /^unauthorized: token problem/);
    const recorded = JSON.stringify(calls);
    assert.ok(!recorded.includes('wb-wrong-token-0123456789') && !recorded.includes(WILDBERRIES_SANDBOX_CREDENTIALS.token));
  }));

test('new orders come a page at a time, each once, as one-line orders in kopecks; a repeated cursor adds nothing', () =>
  withWildberries(async ({ marketplace, wb }) => {
    for (let i = 0; i < 230; i += 1) wb.addOrder({ lines: [{ barcode: '4601234500042', qty: 1, price: 99_000 + i * 100 }] });
    const seen: string[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    for (;;) {
      const page = await marketplace.newOrders(cursor);
      sizes.push(page.orders.length);
      seen.push(...page.orders.map((o) => o.externalId));
      cursor = page.cursor;
      if (!page.more) break;
    }
    assert.deepEqual(sizes, [100, 100, 32]);
    assert.equal(new Set(seen).size, 232);
    assert.deepEqual((await marketplace.newOrders(cursor)).orders, []);

    const [first] = (await marketplace.newOrders(null)).orders;
    const seeded = wb.orders()[0];
    assert.deepEqual(first, {
      externalId: String(seeded?.id),
      createdAt: new Date(seeded?.createdAt ?? 0).toISOString(),
      currency: 'RUB',
      total: 134_100,
      paidAtMarketplace: true,
      customer: { name: null, phone: null, email: null },
      delivery: { kind: 'marketplace', service: 'wildberries-fbs' },
      lines: [{ itemKey: '4601234500011', name: 'TSHIRT-WHITE', qty: 1, price: 134_100 }],
    });
    assert.equal(first?.lines[0]?.itemKey, listingKey('wildberries', listing(246810101, '4601234500011')));

    // one more order, and one of the seen ones confirmed (it leaves WB's list and the cursor)
    const late = wb.addOrder({ lines: [{ barcode: '4601234500035', qty: 1, price: 59_000 }], warehouseId: W2 });
    await marketplace.pushStatus(seen[0] ?? '', { status: 'confirmed' });
    const next = await marketplace.newOrders(cursor);
    assert.deepEqual(
      next.orders.map((o) => o.externalId),
      [String(late.id)],
    );
    assert.ok(!next.cursor.split('.').includes(Number(seen[0]).toString(36)));
    assert.deepEqual((await marketplace.newOrders(next.cursor)).orders, []);
  }));

test('orderStates: a buyer cancellation is cancelled, a sold order closed, others open; unknown ids are left out', () =>
  withWildberries(async ({ marketplace, wb }) => {
    const [a, b] = wb.orders();
    const c = wb.addOrder({ lines: [{ barcode: '4601234500042', qty: 1, price: 99_000 }] });
    wb.cancelByBuyer(a?.id ?? 0);
    wb.setWbStatus(c.id, 'sold');
    const states = await marketplace.orderStates([String(a?.id), String(b?.id), String(c.id), '999', 'not-an-id']);
    assert.deepEqual(states, { [String(a?.id)]: 'cancelled', [String(b?.id)]: 'open', [String(c.id)]: 'closed' });
    assert.equal(wb.order(a?.id ?? 0)?.wbStatus, 'declined_by_client');
  }));

test('confirm adds the order to the open supply of its warehouse; repeats and a restart open no second supply', () =>
  withWildberries(async ({ marketplace, restarted, wb }) => {
    const [a, b] = wb.orders(); // a at W1, b at W2
    const c = wb.addOrder({ lines: [{ barcode: '4601234500028', qty: 1, price: 134_100 }] });
    await marketplace.newOrders(null);
    await marketplace.pushStatus(String(a?.id), { status: 'confirmed' });
    await marketplace.pushStatus(String(c.id), { status: 'confirmed' });
    await marketplace.pushStatus(String(b?.id), { status: 'confirmed' });
    const supplies = wb.supplies();
    assert.equal(supplies.length, 2);
    assert.equal(wb.order(a?.id ?? 0)?.supplyId, wb.order(c.id)?.supplyId);
    assert.notEqual(wb.order(a?.id ?? 0)?.supplyId, wb.order(b?.id ?? 0)?.supplyId);
    assert.ok(wb.orders().every((o) => o.supplierStatus === 'confirm'));
    assert.match(supplies[0]?.name ?? '', /^hub wh507001 c1 \d{4}-\d{2}-\d{2}$/);

    // a repeat (from memory, then after a restart: WB no longer lists it as new) changes nothing
    await marketplace.pushStatus(String(a?.id), { status: 'confirmed' });
    const fresh = restarted();
    await fresh.pushStatus(String(c.id), { status: 'confirmed' });
    // after the restart the open supply is found by its name, not created again
    const d = wb.addOrder({ lines: [{ barcode: '4601234500042', qty: 1, price: 99_000 }] });
    await fresh.pushStatus(String(d.id), { status: 'confirmed' });
    assert.equal(wb.supplies().length, 2);
    assert.equal(wb.order(d.id)?.supplyId, wb.order(a?.id ?? 0)?.supplyId);
    assert.equal(wb.requests({ path: WB_PATHS.supplies, method: 'POST' }).length, 2);
  }));

test('shipped hands the open supply over (its orders complete), a repeat and delivered do nothing; a closed supply is replaced', () =>
  withWildberries(async ({ marketplace, wb }) => {
    const [a] = wb.orders();
    const unconfirmed = await rejection(marketplace.pushStatus(String(a?.id), { status: 'shipped', waybill: null }));
    assert.deepEqual([unconfirmed.code, unconfirmed.retryable], ['order_not_in_supply', false]);
    await marketplace.pushStatus(String(a?.id), { status: 'confirmed' });
    const supplyId = wb.order(a?.id ?? 0)?.supplyId ?? '';
    await marketplace.pushStatus(String(a?.id), { status: 'shipped', waybill: null });
    assert.equal(wb.requests({ path: `/api/v3/supplies/${supplyId}/deliver`, method: 'PATCH' }).length, 1);
    assert.equal(wb.order(a?.id ?? 0)?.supplierStatus, 'complete');
    assert.equal(wb.supplies().find((s) => s.id === supplyId)?.done, true);
    const before = wb.requests({ method: 'PATCH' }).length;
    await marketplace.pushStatus(String(a?.id), { status: 'shipped', waybill: null });
    await marketplace.pushStatus(String(a?.id), { status: 'delivered' });
    assert.equal(wb.requests({ method: 'PATCH' }).length, before, 'nothing more was handed over');
    assert.deepEqual(await marketplace.deliverOpenSupplies(), [], 'no supply was left open');
    // the next confirm opens a new supply for the warehouse
    const b = wb.addOrder({ lines: [{ barcode: '4601234500042', qty: 1, price: 99_000 }] });
    await marketplace.pushStatus(String(b.id), { status: 'confirmed' });
    assert.notEqual(wb.order(b.id)?.supplyId, wb.order(a?.id ?? 0)?.supplyId);
    assert.equal(wb.supplies().filter((s) => !s.done).length, 1);

    // the same when the supply was closed behind the hub's back (in the cabinet)
    const closedId = wb.order(b.id)?.supplyId ?? '';
    const e = wb.addOrder({ lines: [{ barcode: '4601234500042', qty: 1, price: 99_000 }] });
    await marketplace.newOrders(null);
    const supply = wb.supplies().find((s) => s.id === closedId);
    if (supply) supply.done = true;
    await marketplace.pushStatus(String(e.id), { status: 'confirmed' });
    assert.notEqual(wb.order(e.id)?.supplyId, closedId);
    assert.equal(wb.order(e.id)?.supplierStatus, 'confirm');

    // cancelling a handed-over order is refused for good
    const refused = await rejection(marketplace.pushStatus(String(a?.id), { status: 'cancelled', reason: 'seller_cancelled' }));
    assert.deepEqual([refused.code, refused.retryable, refused.status], ['StatusChangeNotAllowed', false, 409]);
  }));

test('every cancel reason is the one cancel call (WB takes no reason); a repeat is harmless; confirming it then is refused', () =>
  withWildberries(async ({ marketplace, wb }) => {
    const reasons = ['out_of_stock', 'cannot_deliver', 'seller_cancelled', 'customer_cancelled'] as const;
    const made = reasons.map(() => wb.addOrder({ lines: [{ barcode: '4601234500042', qty: 1, price: 99_000 }] }));
    for (const [i, reason] of reasons.entries()) {
      await marketplace.pushStatus(String(made[i]?.id), { status: 'cancelled', reason, comment: 'test' });
    }
    assert.ok(made.every((o) => wb.order(o.id)?.supplierStatus === 'cancel'));
    const cancels = wb.requests({ method: 'PATCH' });
    assert.deepEqual(
      cancels.map((r) => [r.path, r.body]),
      made.map((o) => [WB_PATHS.cancelOrder(o.id), '']),
    );
    await marketplace.pushStatus(String(made[0]?.id), { status: 'cancelled', reason: 'out_of_stock' });
    // a buyer's cancellation counts as done too
    const byBuyer = wb.addOrder({ lines: [{ barcode: '4601234500042', qty: 1, price: 99_000 }] });
    wb.cancelByBuyer(byBuyer.id);
    await marketplace.pushStatus(String(byBuyer.id), { status: 'cancelled', reason: 'customer_cancelled' });

    const confirm = await rejection(marketplace.pushStatus(String(made[1]?.id), { status: 'confirmed' }));
    assert.deepEqual([confirm.code, confirm.retryable], ['order_cancelled', false]);
    const unknown = await rejection(marketplace.pushStatus('77', { status: 'cancelled', reason: 'out_of_stock' }));
    assert.deepEqual([unknown.code, unknown.retryable, unknown.status], ['NotFound', false, 404]);
  }));

test('stock goes by chrtId per warehouse, at most 1000 a call: ceil(n/1000) calls per warehouse, and WB holds the values', () =>
  withWildberries(async ({ marketplace, wb }) => {
    const barcodes = Array.from({ length: 1500 }, (_, i) => `2000000${String(i).padStart(6, '0')}`);
    wb.addProduct({ nmId: 555000001, vendorCode: 'SOCKS', sizes: barcodes.map((b) => ({ barcodes: [b] })) });
    const levels: StockLevel[] = [
      ...barcodes.map((barcode, i) => ({ sku: `S-${i}`, listing: listing(555000001, barcode, W1), available: i % 7 })),
      ...barcodes.slice(0, 600).map((barcode, i) => ({ sku: `S-${i}`, listing: listing(555000001, barcode, W2), available: 3 })),
      { sku: 'GHOST', listing: listing(555000001, '9999999999999'), available: 1 },
      { sku: 'BAD', listing: { itemId: 5 }, available: 1 },
    ];
    const first = await marketplace.pushStock(levels);
    // the cards are read once to learn the chrtIds (one call: one card), then 2 + 1 stock calls
    assert.equal(first.calls, 4);
    assert.deepEqual(
      first.refused.map((r) => [r.sku, r.code]),
      [
        ['BAD', 'invalid_listing'],
        ['GHOST', 'barcode_not_found'],
      ],
    );
    const puts = wb.requests({ method: 'PUT' });
    assert.deepEqual(
      puts.map((r) => [r.path, (JSON.parse(r.body) as { stocks: unknown[] }).stocks.length]),
      [
        [WB_PATHS.stocks(W1), 1000],
        [WB_PATHS.stocks(W1), 500],
        [WB_PATHS.stocks(W2), 600],
      ],
    );
    assert.deepEqual(Object.keys((JSON.parse(puts[0]?.body ?? '{}') as { stocks: object[] }).stocks[0] ?? {}), ['chrtId', 'amount']);
    assert.equal(wb.stockOf(barcodes[1499] ?? '', W1), 1499 % 7);
    assert.equal(wb.stockOf(barcodes[599] ?? '', W2), 3);
    assert.equal(wb.stockOf(barcodes[600] ?? '', W2), null);

    const second = await marketplace.pushStock(levels.slice(0, 2100));
    assert.deepEqual([second.calls, second.refused], [3, []]);
  }));

test('a 409 naming some stock items refuses those; the rest is sent again and taken', () =>
  withWildberries(async ({ marketplace, wb }) => {
    const levels: StockLevel[] = [
      { sku: 'TS-M', listing: listing(246810101, '4601234500011'), available: 5 },
      { sku: 'TS-L', listing: listing(246810101, '4601234500028'), available: 6 },
      { sku: 'MUG', listing: listing(246810202, '4601234500035'), available: 7 },
    ];
    const body = [
      {
        code: 'SubjectDBSRestriction',
        message: "The product category cannot be sold with 'Fulfillment By Wildberries'.",
        data: [{ chrtId: 389100102, sku: '4601234500028', amount: 6 }],
      },
    ];
    wb.faults.inject({ kind: 'status', status: 409, count: 1, path: '/api/v3/stocks', body });
    const outcome = await marketplace.pushStock(levels);
    assert.deepEqual(outcome.refused, [
      { sku: 'TS-L', code: 'SubjectDBSRestriction', message: "The product category cannot be sold with 'Fulfillment By Wildberries'." },
    ]);
    assert.equal(outcome.calls, 3); // cards, the refused PUT, the PUT of the rest
    assert.deepEqual([wb.stockOf('4601234500011', W1), wb.stockOf('4601234500028', W1), wb.stockOf('4601234500035', W1)], [5, null, 7]);
  }));

test('prices go in whole roubles per nmID, 1000 a call; refused ones come back in refused; a repeat changes nothing', () =>
  withWildberries(
    async ({ marketplace, wb }) => {
      const cards = Array.from({ length: 1001 }, () => wb.addProduct());
      const levels: PriceLevel[] = [
        ...cards.map((card, i) => ({ sku: `P-${i}`, listing: listing(card.nmID, card.sizes[0]?.skus[0] ?? ''), price: 150_000 + i * 100 })),
        { sku: 'TS-M', listing: listing(246810101, '4601234500011'), price: 159_900 },
        { sku: 'TS-L', listing: listing(246810101, '4601234500028'), price: 169_900 },
        { sku: 'MUG', listing: listing(246810202, '4601234500035'), price: 59_950 },
      ];
      const outcome = await marketplace.pushPrices(levels);
      assert.equal(outcome.calls, 2);
      assert.deepEqual(
        outcome.refused.map((r) => [r.sku, r.code]),
        [
          ['MUG', 'PriceShouldBeAWholeNumber'],
          ['TS-M', 'conflicting_size_prices'],
          ['TS-L', 'conflicting_size_prices'],
        ],
      );
      const [firstUpload] = wb.requests({ path: WB_PATHS.priceUpload });
      const sent = JSON.parse(firstUpload?.body ?? '{}') as { data: Array<{ nmID: number; price: number; discount: number }> };
      assert.equal(sent.data.length, 1000);
      assert.deepEqual(sent.data[0], { nmID: cards[0]?.nmID, price: 1500, discount: 15 });
      assert.deepEqual(wb.priceOf(cards[1000]?.nmID ?? 0), { price: 2500, discount: 15 });

      // the same prices again: WB answers "already set", which is no refusal
      const again = await marketplace.pushPrices(levels.slice(0, 1));
      assert.deepEqual([again.calls, again.refused], [1, []]);
      // an nmID WB does not know: the upload is refused and the item comes back
      const unknown = await marketplace.pushPrices([{ sku: 'GONE', listing: listing(999999, '1'), price: 10_000 }]);
      assert.deepEqual(
        unknown.refused.map((r) => [r.sku, r.code]),
        [['GONE', 'AllItemNosAreSpecifiedIncorrectlyOrPricesAndDiscounts']],
      );
    },
    { settings: { discountPercent: 15 } },
  ));

test("a 429 is waited out for its Retry-After (WB's X-Ratelimit-Retry beside it) and the call then succeeds", () =>
  withWildberries(async ({ marketplace, wb }) => {
    wb.setRateLimit({ limit: 1, windowMs: 1_000 });
    await marketplace.orderStates(['1']);
    const states = await marketplace.orderStates([String(wb.orders()[0]?.id)]);
    assert.deepEqual(Object.values(states), ['open']);
    const sent = wb.requests({ path: WB_PATHS.orderStatuses });
    assert.deepEqual(
      sent.map((r) => r.status),
      [200, 429, 200],
    );
    const waited = Date.parse(sent[2]?.at ?? '') - Date.parse(sent[1]?.at ?? '');
    assert.ok(waited >= 900 && waited < 2_000, `waited ${waited} ms`);
  }));

test('a time-out is a retryable error', () =>
  withWildberries(
    async ({ marketplace, wb }) => {
      wb.faults.inject({ kind: 'timeout', count: 1, path: WB_PATHS.newOrders });
      const error = await rejection(marketplace.newOrders(null));
      assert.deepEqual([error.code, error.retryable], ['timeout', true]);
    },
    { policy: { timeoutMs: 200, retries: 0 } },
  ));

test('listProducts pages the cards 100 at a time: one listing per size with its first barcode, at the FBS warehouse', () =>
  withWildberries(async ({ marketplace, wb }) => {
    for (let i = 0; i < 150; i += 1) wb.addProduct();
    const products = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await marketplace.listProducts(cursor);
      products.push(...page.products);
      cursor = page.cursor;
      pages += 1;
    } while (cursor !== null);
    assert.equal(pages, 2);
    assert.equal(products.length, 154); // 153 cards, the T-shirt with two sizes
    assert.equal(new Set(products.map((p) => (p.listing as { barcode: string }).barcode)).size, 154);
    assert.deepEqual(
      products.filter((p) => p.sku === 'TSHIRT-WHITE'),
      [
        { listing: listing(246810101, '4601234500011'), sku: 'TSHIRT-WHITE', name: 'Футболка белая (M)' },
        { listing: listing(246810101, '4601234500028'), sku: 'TSHIRT-WHITE', name: 'Футболка белая (L)' },
      ],
    );
    assert.equal(wb.requests({ path: WB_PATHS.warehouses }).length, 1);
  }));

test("WB's published examples parse with our schemas, our requests have their shapes, and each error shape is described", () =>
  withWildberries(async ({ client, wb }) => {
    assert.equal(newOrdersAnswerSchema.parse({ orders: [published.ORDER_NEW] }).orders[0]?.convertedPrice, 28_322);
    assert.deepEqual(orderStatusesRequestSchema.parse(published.STATUS_REQUEST), published.STATUS_REQUEST);
    assert.equal(orderStatusesAnswerSchema.parse(published.STATUS_ANSWER).orders[0]?.wbStatus, 'waiting');
    assert.deepEqual(createSupplyRequestSchema.parse(published.SUPPLY_CREATE_REQUEST), published.SUPPLY_CREATE_REQUEST);
    assert.equal(supplyCreatedSchema.parse(published.SUPPLY_CREATED).id, 'WB-GI-1234567');
    assert.equal(supplySchema.parse(published.SUPPLY).done, true);
    assert.deepEqual(supplyOrdersRequestSchema.parse(published.SUPPLY_ORDERS_REQUEST), published.SUPPLY_ORDERS_REQUEST);
    assert.deepEqual(stocksRequestSchema.parse(published.STOCKS_REQUEST), published.STOCKS_REQUEST);
    assert.equal(stocksConflictSchema.parse(published.STOCKS_NOT_FOUND)[0]?.code, 'NotFound');
    assert.deepEqual(priceUploadRequestSchema.parse(published.PRICE_REQUEST), published.PRICE_REQUEST);
    assert.equal(priceUploadAnswerSchema.parse(published.PRICE_ACCEPTED).data?.id, 1_111_111);
    assert.equal(priceUploadAnswerSchema.parse(published.PRICE_ALREADY_EXISTS).data?.alreadyExists, true);
    assert.deepEqual(cardsListRequestSchema.parse(published.CARDS_REQUEST), published.CARDS_REQUEST);
    assert.equal(cardsListAnswerSchema.parse(published.CARDS_ANSWER).cards[0]?.sizes[0]?.chrtID, 316_399_238);

    assert.deepEqual(describeWildberriesError(409, published.STATUS_MISMATCH), published.STATUS_MISMATCH);
    assert.deepEqual(describeWildberriesError(409, published.STOCKS_NOT_FOUND), {
      code: 'NotFound',
      message: 'Not found (items: [{"sku":"skuTest4"}])',
    });
    assert.deepEqual(describeWildberriesError(400, published.PRICE_INVALID_ITEM), { code: 'InvalidItemNo', message: 'Invalid item No.' });
    assert.deepEqual(describeWildberriesError(401, published.UNAUTHORIZED), { message: `unauthorized: ${published.UNAUTHORIZED.detail}` });
    assert.deepEqual(describeWildberriesError(429, published.TOO_MANY_REQUESTS), {
      message: `too many requests: ${published.TOO_MANY_REQUESTS.detail}`,
    });

    // the sandbox takes WB's own published requests; what our client sends matches them key for key
    const res = await fetch(`${wb.url}${WB_PATHS.cardsList}`, {
      method: 'POST',
      headers: { Authorization: WILDBERRIES_SANDBOX_CREDENTIALS.token, 'Content-Type': 'application/json' },
      body: JSON.stringify(published.CARDS_REQUEST),
    });
    assert.equal(res.status, 200);
    await client.cardsPage({});
    const ours = JSON.parse(wb.requests({ path: WB_PATHS.cardsList }).at(-1)?.body ?? '{}') as typeof published.CARDS_REQUEST;
    assert.deepEqual(Object.keys(ours.settings.cursor), ['limit']);
    assert.equal(ours.settings.filter.withPhoto, -1);
  }));

test('the sandbox refuses what WB refuses: a batch over the maximum, a barcode-keyed stock item, a malformed status request', () =>
  withWildberries(async ({ wb }) => {
    const send = (method: string, path: string, body: unknown) =>
      fetch(`${wb.url}${path}`, {
        method,
        headers: { Authorization: WILDBERRIES_SANDBOX_CREDENTIALS.token, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => [r.status, (await r.json()) as unknown] as const);
    const stocks = Array.from({ length: 1001 }, (_, i) => ({ chrtId: i + 1, amount: 1 }));
    assert.deepEqual(await send('PUT', WB_PATHS.stocks(W1), { stocks }), [
      400,
      { code: 'IncorrectRequestBody', message: 'Некорректное тело запроса' },
    ]);
    assert.equal((await send('PUT', WB_PATHS.stocks(W1), { stocks: [{ sku: '4601234500011', amount: 1 }] }))[0], 400);
    assert.equal((await send('PUT', WB_PATHS.stocks(1), { stocks: [{ chrtId: 389100101, amount: 1 }] }))[0], 404);
    const prices = Array.from({ length: 1001 }, (_, i) => ({ nmID: i + 1, price: 100 }));
    assert.deepEqual((await send('POST', WB_PATHS.priceUpload, { data: prices }))[1], {
      data: null,
      error: true,
      errorText: 'Upload limit exceeded: You can upload a maximum of 10 000 items',
    });
    assert.equal((await send('POST', WB_PATHS.priceUpload, { data: [{ nmID: 246810202, price: 590.5 }] }))[0], 400);
    assert.equal((await send('POST', WB_PATHS.orderStatuses, { orders: ['1'] }))[0], 400);
    assert.equal((await send('POST', WB_PATHS.orderStatuses, { orders: [] }))[0], 400);
    const [status, body] = await send('PATCH', WB_PATHS.supplyOrders('WB-GI-1'), { orders: Array.from({ length: 101 }, (_, i) => i + 1) });
    assert.deepEqual([status, body], [400, { code: 'IncorrectRequestBody', message: 'Некорректное тело запроса' }]);
    const missing = await fetch(`${wb.url}${WB_PATHS.newOrders}`);
    assert.equal(missing.status, 401);
  }));

test('prices and cards go to their own hosts by absolute URL; the marketplace calls stay on the base URL', async () => {
  const marketplaceHost = await startWildberriesSandbox();
  const pricesHost = await startWildberriesSandbox();
  const contentHost = await startWildberriesSandbox();
  try {
    const { client } = connectorHttpFor<WildberriesClient>(wildberriesConnector, {
      baseUrl: marketplaceHost.url,
      settings: { pricesBaseUrl: pricesHost.url, contentBaseUrl: contentHost.url },
    });
    const marketplace = wildberriesMarketplace({ client: () => client, settings: () => wildberriesSettingsSchema.parse({}) });
    await marketplace.pushPrices([{ sku: 'MUG', listing: listing(246810202, '4601234500035'), price: 61_000 }]);
    await marketplace.listProducts(null);
    assert.deepEqual(pricesHost.priceOf(246810202), { price: 610, discount: 0 });
    assert.deepEqual(marketplaceHost.priceOf(246810202), { price: 590, discount: 0 });
    assert.equal(contentHost.requests({ path: WB_PATHS.cardsList }).length, 1);
    assert.deepEqual(
      marketplaceHost.requests().map((r) => r.path),
      [WB_PATHS.warehouses],
    );
  } finally {
    await Promise.all([marketplaceHost.close(), pricesHost.close(), contentHost.close()]);
  }
});

test('a cursor listProducts never gave is refused, not thrown as a crash', () =>
  withWildberries(async ({ marketplace }) => {
    const error = await rejection(marketplace.listProducts('{"page":2}'));
    assert.deepEqual([error.code, error.retryable], ['invalid_cursor', false]);
  }));
