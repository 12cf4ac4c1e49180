import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { constantTimeEqual } from '../../../../common/security.ts';
import { startSandboxServer, type SandboxOptions, type SandboxRequest, type SandboxResponse, type SandboxServer } from '../kit/sandbox.ts';
import { sandboxRateLimit } from '../kit/sandbox-rate-limit.ts';
import {
  AUTH_HEADER,
  cancelBodySchema,
  ORDER_STATUSES,
  ORDERS_PAGE_MAX,
  PRICE_BATCH_MAX,
  priceBodySchema,
  PRODUCTS_PAGE_MAX,
  SELLER_CANCEL_REASONS,
  STOCK_BATCH_MAX,
  stockUpdateBodySchema,
  STOCKS_PAGE_MAX,
  UZUM_ERROR_CODES,
  UZUM_PATHS,
  UZUM_RATE,
  type UzumOrderStatus,
} from './protocol.ts';

/**
 * The Uzum seller OpenAPI sandbox: one shop, a small catalogue (products with SKUs, barcodes, prices in whole
 * soums, FBS stock), FBS orders with Uzum's status rules, and the calls the connector makes — with Uzum's
 * envelope, its error codes, its page limits, a raw-token check and a per-token rate limit answered with 429
 * and Retry-After.
 */

export const UZUM_SANDBOX_SHOP_ID = 7701;
export const UZUM_SANDBOX_CREDENTIALS = { apiToken: 'uzum-sandbox-openapi-token-7701' };

/** A well-behaved client (UZUM_RATE) never meets it; a test tightens it. ASSUMED, like the rate itself. */
const DEFAULT_RATE_LIMIT = { limit: UZUM_RATE.burst * 3, windowMs: 1_000 };
const DAY_MS = 24 * 3_600_000;

export interface UzumSandboxSku {
  skuId: number;
  productId: number;
  productTitle: string;
  skuTitle: string;
  barcode: string;
  sellerItemCode: string | null;
  /** whole soums */
  fullPrice: number;
  sellPrice: number;
  /** FBS stock */
  stock: number;
  /** taking part in an Uzum promotion: sendPriceData is refused (sku-price-001) */
  inPromo: boolean;
}

/** An order as the sandbox sends it (times in Unix epoch milliseconds, money in whole soums). */
export interface UzumSandboxOrder {
  id: number;
  status: UzumOrderStatus;
  scheme: 'FBS';
  shopId: number;
  dateCreated: number;
  acceptUntil: number;
  deliverUntil: number;
  acceptedDate: number | null;
  dateCancelled: number | null;
  cancelReason: string | null;
  price: number;
  orderItems: Array<{
    id: number;
    status: 'PROCESSING' | 'CANCELED';
    orderId: number;
    skuId: number;
    barcode: string;
    skuTitle: string;
    productTitle: string;
    productId: number;
    sellerSkuCode: string | null;
    sellerPrice: number;
    amount: number;
  }>;
  deliveryInfo: null;
}

export interface AddOrderInput {
  /** `price` in whole soums per unit (the SKU's sell price when absent) */
  lines: Array<{ skuId: number; qty: number; price?: number }>;
  status?: UzumOrderStatus;
  /** ms since the epoch; now by default */
  createdAt?: number;
  /** ms since the epoch; a day after creation by default */
  acceptUntil?: number;
}

export interface AddProductInput {
  title: string;
  /** whole soums */
  price: number;
  stock?: number;
  skuId?: number;
  /** another SKU of an existing product when given */
  productId?: number;
  skuTitle?: string;
  barcode?: string;
  sellerItemCode?: string | null;
  inPromo?: boolean;
}

export interface UzumSandbox extends SandboxServer {
  credentials: typeof UZUM_SANDBOX_CREDENTIALS;
  shopId: number;
  addProduct(input: AddProductInput): UzumSandboxSku;
  addOrder(input: AddOrderInput): UzumSandboxOrder;
  /** the buyer cancels: CANCELED with CANCELED_BY_CUSTOMER */
  cancelByBuyer(id: number): UzumSandboxOrder;
  /** moves an order along Uzum's own logistics (handover, delivery) */
  advance(id: number, status: UzumOrderStatus): UzumSandboxOrder;
  order(id: number): UzumSandboxOrder | null;
  stockOf(skuId: number): number | null;
  priceOf(skuId: number): { fullPrice: number; sellPrice: number } | null;
  setPromo(skuId: number, inPromo: boolean): void;
  setRateLimit(limit: { limit: number; windowMs: number } | null): void;
}

// ---- Uzum's envelope ----

const envelope = (payload: unknown, errors: Array<{ code: string; message: string }> = []) => ({
  payload,
  errors,
  timestamp: new Date().toISOString(),
  trace: randomUUID(),
  error: errors[0]?.message ?? null,
});
const ok = (payload: unknown): SandboxResponse => ({ json: envelope(payload) });
const fail = (status: number, code: string, message: string, headers?: Record<string, string>): SandboxResponse => ({
  status,
  json: envelope(null, [{ code, message }]),
  ...(headers ? { headers } : {}),
});
const badRequest = (message: string) => fail(400, UZUM_ERROR_CODES.badRequest, message);

const issuesOf = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

function jsonBody(request: SandboxRequest): { ok: true; body: unknown } | { ok: false; response: SandboxResponse } {
  const text = request.text();
  if (text.trim() === '') return { ok: false, response: badRequest('Required request body is missing') };
  try {
    return { ok: true, body: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, response: badRequest('JSON parse error') };
  }
}

/** An integer query parameter: absent → the default (or a refusal when required), malformed or out of range → 400. */
function intParam(
  request: SandboxRequest,
  name: string,
  rule: { required?: boolean; fallback?: number; min: number; max: number },
): { ok: true; value: number } | { ok: false; response: SandboxResponse } {
  const raw = request.query.get(name);
  if (raw === null || raw === '') {
    if (rule.required || rule.fallback === undefined)
      return { ok: false, response: badRequest(`Required parameter '${name}' is not present`) };
    return { ok: true, value: rule.fallback };
  }
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || value < rule.min || value > rule.max)
    return { ok: false, response: badRequest(`'${name}' must be an integer from ${rule.min} to ${rule.max}`) };
  return { ok: true, value };
}

// ---- the seed ----

function seedCatalogue(): UzumSandboxSku[] {
  const sku = (
    skuId: number,
    productId: number,
    productTitle: string,
    skuTitle: string,
    barcode: string,
    price: number,
    stock: number,
  ) => ({
    skuId,
    productId,
    productTitle,
    skuTitle,
    barcode,
    sellerItemCode: `CH-${skuId}`,
    fullPrice: price,
    sellPrice: price,
    stock,
    inPromo: false,
  });
  return [
    sku(4100001, 310001, 'Chinni choynak', "Ko'k", '4780000000017', 185_000, 12),
    sku(4100002, 310001, 'Chinni choynak', 'Oq', '4780000000024', 185_000, 7),
    sku(4100003, 310002, "Piyola to'plami", '6 dona', '4780000000031', 96_000, 30),
    { ...sku(4100004, 310003, 'Dasturxon', '120x160', '4780000000048', 240_000, 5), inPromo: true },
  ];
}

export async function startUzumSandbox(options: SandboxOptions = {}, credentials = UZUM_SANDBOX_CREDENTIALS): Promise<UzumSandbox> {
  const shopId = UZUM_SANDBOX_SHOP_ID;
  let catalogue = new Map<number, UzumSandboxSku>();
  let orders = new Map<number, UzumSandboxOrder>();
  let nextOrderId = 90_000_001;
  let nextItemId = 50_000_001;
  const limiter = sandboxRateLimit(DEFAULT_RATE_LIMIT);

  const addProduct = (input: AddProductInput): UzumSandboxSku => {
    const skuId = input.skuId ?? Math.max(4_100_000, ...catalogue.keys()) + 1;
    if (catalogue.has(skuId)) throw new Error(`SKU ${skuId} exists`);
    const sibling = input.productId === undefined ? undefined : [...catalogue.values()].find((s) => s.productId === input.productId);
    const productId = input.productId ?? Math.max(310_000, ...[...catalogue.values()].map((s) => s.productId)) + 1;
    const sku: UzumSandboxSku = {
      skuId,
      productId,
      productTitle: sibling?.productTitle ?? input.title,
      skuTitle: input.skuTitle ?? input.title,
      barcode: input.barcode ?? `478${String(skuId).padStart(10, '0')}`,
      sellerItemCode: input.sellerItemCode === undefined ? `CH-${skuId}` : input.sellerItemCode,
      fullPrice: input.price,
      sellPrice: input.price,
      stock: input.stock ?? 0,
      inPromo: input.inPromo ?? false,
    };
    catalogue.set(skuId, sku);
    return { ...sku };
  };

  const wire = (order: UzumSandboxOrder): UzumSandboxOrder => structuredClone(order);

  const addOrder = (input: AddOrderInput): UzumSandboxOrder => {
    if (input.lines.length === 0) throw new Error('an order has lines');
    const id = nextOrderId++;
    const createdAt = input.createdAt ?? Date.now();
    const orderItems = input.lines.map((line) => {
      const sku = catalogue.get(line.skuId);
      if (!sku) throw new Error(`no SKU ${line.skuId} in the sandbox catalogue`);
      return {
        id: nextItemId++,
        status: 'PROCESSING' as const,
        orderId: id,
        skuId: sku.skuId,
        barcode: sku.barcode,
        skuTitle: sku.skuTitle,
        productTitle: sku.productTitle,
        productId: sku.productId,
        sellerSkuCode: sku.sellerItemCode,
        sellerPrice: line.price ?? sku.sellPrice,
        amount: line.qty,
      };
    });
    const status = input.status ?? 'CREATED';
    const order: UzumSandboxOrder = {
      id,
      status,
      scheme: 'FBS',
      shopId,
      dateCreated: createdAt,
      acceptUntil: input.acceptUntil ?? createdAt + DAY_MS,
      deliverUntil: createdAt + 3 * DAY_MS,
      acceptedDate: status === 'CREATED' ? null : createdAt,
      dateCancelled: null,
      cancelReason: null,
      price: orderItems.reduce((sum, item) => sum + item.sellerPrice * item.amount, 0),
      orderItems,
      deliveryInfo: null,
    };
    orders.set(id, order);
    return wire(order);
  };

  const seed = () => {
    catalogue = new Map(seedCatalogue().map((s) => [s.skuId, s]));
    orders = new Map();
    nextOrderId = 90_000_001;
    nextItemId = 50_000_001;
    const now = Date.now();
    addOrder({ lines: [{ skuId: 4100001, qty: 1 }], createdAt: now - 2 * 3_600_000 });
    addOrder({
      lines: [
        { skuId: 4100003, qty: 2 },
        { skuId: 4100002, qty: 1, price: 179_000 },
      ],
      createdAt: now - 3_600_000,
    });
    addOrder({ lines: [{ skuId: 4100003, qty: 1 }], status: 'PACKING', createdAt: now - 5 * 3_600_000 });
    addOrder({ lines: [{ skuId: 4100001, qty: 1 }], status: 'COMPLETED', createdAt: now - 9 * DAY_MS });
  };
  seed();

  const mustOrder = (id: number) => {
    const order = orders.get(id);
    if (!order) throw new Error(`no order ${id} in the sandbox`);
    return order;
  };

  const cancel = (order: UzumSandboxOrder, reason: string) => {
    order.status = 'CANCELED';
    order.cancelReason = reason;
    order.dateCancelled = Date.now();
    for (const item of order.orderItems) item.status = 'CANCELED';
  };

  // ---- the gate: token, then rate ----

  /** null: go on; otherwise the refusal. Wrong, missing or `Bearer`-prefixed tokens are all "Token not found". */
  const gate = (request: SandboxRequest): SandboxResponse | null => {
    const token = request.header(AUTH_HEADER) ?? '';
    if (!constantTimeEqual(token, credentials.apiToken)) return fail(403, UZUM_ERROR_CODES.forbidden, 'Token not found');
    const retryAfter = limiter.take(token);
    if (retryAfter !== null) return fail(429, UZUM_ERROR_CODES.tooManyRequests, 'Too many requests', { 'retry-after': String(retryAfter) });
    return null;
  };

  const shopRefused = (id: string | null | undefined): SandboxResponse | null => {
    if (id === null || id === undefined || !/^\d+$/.test(id)) return badRequest(`Required parameter 'shopId' is not valid`);
    return Number(id) === shopId ? null : fail(403, UZUM_ERROR_CODES.forbidden, 'Shop is not available');
  };

  const guarded =
    (handle: (request: SandboxRequest, params: Record<string, string>) => SandboxResponse) =>
    (request: SandboxRequest, params: Record<string, string>): SandboxResponse =>
      gate(request) ?? handle(request, params);

  const orderParam = (params: Record<string, string>): { ok: true; order: UzumSandboxOrder } | { ok: false; response: SandboxResponse } => {
    const raw = params.id ?? '';
    if (!/^\d+$/.test(raw)) return { ok: false, response: badRequest(`'orderId' must be an integer`) };
    const order = orders.get(Number(raw));
    return order ? { ok: true, order } : { ok: false, response: fail(400, UZUM_ERROR_CODES.orderNotFound, 'Заказ не найден') };
  };

  // ---- routes ----

  const listOrders = (request: SandboxRequest): SandboxResponse => {
    const shops = request.query.getAll('shopIds');
    if (shops.length === 0) return badRequest(`Required parameter 'shopIds' is not present`);
    for (const id of shops) {
      const refused = shopRefused(id);
      if (refused) return refused;
    }
    const status = request.query.get('status');
    if (status !== null && !(ORDER_STATUSES as readonly string[]).includes(status)) return badRequest(`'status' has no value ${status}`);
    const scheme = request.query.get('scheme');
    if (scheme !== null && scheme !== 'FBS' && scheme !== 'DBS') return badRequest(`'scheme' has no value ${scheme}`);
    const page = intParam(request, 'page', { fallback: 0, min: 0, max: 100_000 });
    if (!page.ok) return page.response;
    const size = intParam(request, 'size', { fallback: 20, min: 1, max: ORDERS_PAGE_MAX });
    if (!size.ok) return size.response;
    const found = [...orders.values()]
      .filter((o) => (status === null || o.status === status) && (scheme === null || o.scheme === scheme))
      // newest first (ASSUMED: the order of the list is not documented)
      .sort((a, b) => b.dateCreated - a.dateCreated || b.id - a.id);
    return ok({ orders: found.slice(page.value * size.value, (page.value + 1) * size.value).map(wire), totalAmount: found.length });
  };

  const countOrders = (request: SandboxRequest): SandboxResponse => {
    const shops = request.query.getAll('shopIds');
    if (shops.length === 0) return badRequest(`Required parameter 'shopIds' is not present`);
    for (const id of shops) {
      const refused = shopRefused(id);
      if (refused) return refused;
    }
    const status = request.query.get('status');
    return ok([...orders.values()].filter((o) => status === null || o.status === status).length);
  };

  const getOrder = (_request: SandboxRequest, params: Record<string, string>): SandboxResponse => {
    const found = orderParam(params);
    return found.ok ? ok(wire(found.order)) : found.response;
  };

  const confirm = (_request: SandboxRequest, params: Record<string, string>): SandboxResponse => {
    const found = orderParam(params);
    if (!found.ok) return found.response;
    const { order } = found;
    if (order.status !== 'CREATED') return fail(400, UZUM_ERROR_CODES.wrongStatus, 'Неподходящий статус заказа для подтверждения');
    if (Date.now() > order.acceptUntil) return fail(400, UZUM_ERROR_CODES.confirmDeadlinePassed, 'Истек срок подтверждения заказа');
    order.status = 'PACKING';
    order.acceptedDate = Date.now();
    return ok(wire(order));
  };

  /** ASSUMED: cancellable until the parcel is handed to Uzum (PENDING_DELIVERY included), refused after. */
  const CANCELLABLE: ReadonlySet<UzumOrderStatus> = new Set(['CREATED', 'PACKING', 'PENDING_DELIVERY']);

  const cancelOrder = (request: SandboxRequest, params: Record<string, string>): SandboxResponse => {
    const found = orderParam(params);
    if (!found.ok) return found.response;
    const body = jsonBody(request);
    if (!body.ok) return body.response;
    const reason = (body.body as { reason?: unknown } | null)?.reason;
    if (typeof reason === 'string' && !(SELLER_CANCEL_REASONS as readonly string[]).includes(reason))
      return fail(400, UZUM_ERROR_CODES.invalidReason, 'Недопустимая причина отмены');
    const parsed = cancelBodySchema.safeParse(body.body);
    if (!parsed.success) return badRequest(issuesOf(parsed.error));
    const { order } = found;
    if (order.status === 'CANCELED' || order.status === 'PENDING_CANCELLATION')
      return fail(400, UZUM_ERROR_CODES.alreadyCancelled, 'Заказ уже отменен');
    if (!CANCELLABLE.has(order.status)) return fail(400, UZUM_ERROR_CODES.wrongStatus, 'Неподходящий статус заказа для отмены');
    cancel(order, parsed.data.reason);
    return ok({});
  };

  const returnReasons = (): SandboxResponse =>
    ok({
      reasons: SELLER_CANCEL_REASONS.map((reason) => ({
        reason,
        title: { OUT_OF_STOCK: 'Tovar yoʻq', OUT_OF_PACKAGE: 'Qadoq yoʻq', OUT_OF_TIME: 'Yigʻishga ulgurmayapman', OTHER: 'Boshqa sabab' }[
          reason
        ],
      })),
    });

  const updateStocks = (request: SandboxRequest): SandboxResponse => {
    const body = jsonBody(request);
    if (!body.ok) return body.response;
    const parsed = stockUpdateBodySchema.safeParse(body.body);
    if (!parsed.success) return fail(400, UZUM_ERROR_CODES.stockValidation, issuesOf(parsed.error));
    const rows = parsed.data.skuAmountList;
    // ASSUMED: the documented maximum was not found; the sandbox holds the connector to the one it uses
    if (rows.length > STOCK_BATCH_MAX)
      return fail(400, UZUM_ERROR_CODES.stockValidation, `skuAmountList: at most ${STOCK_BATCH_MAX} SKUs per request`);
    const byBarcode = new Map([...catalogue.values()].map((s) => [s.barcode, s]));
    const seen = new Set<string>();
    for (const row of rows) {
      const sku = byBarcode.get(row.barcode);
      if (!sku) return fail(400, UZUM_ERROR_CODES.stockValidation, `SKU with barcode ${row.barcode} not found`);
      if (row.skuId !== undefined && row.skuId !== sku.skuId)
        return fail(400, UZUM_ERROR_CODES.stockValidation, `barcode ${row.barcode} belongs to another SKU`);
      if (seen.has(row.barcode)) return fail(400, UZUM_ERROR_CODES.stockValidation, `barcode ${row.barcode} must be unique`);
      seen.add(row.barcode);
    }
    // all or nothing: a refused request changed no stock
    for (const row of rows) {
      const sku = byBarcode.get(row.barcode);
      if (sku) sku.stock = row.amount;
    }
    return ok({ updatedRecords: rows.length });
  };

  const stockRows = () =>
    [...catalogue.values()]
      .sort((a, b) => a.skuId - b.skuId)
      .map((s) => ({
        skuId: s.skuId,
        skuTitle: s.skuTitle,
        productTitle: s.productTitle,
        barcode: s.barcode,
        amount: s.stock,
        fbsAllowed: true,
        dbsAllowed: false,
        fbsLinked: true,
        dbsLinked: false,
        sellerSkuCode: s.sellerItemCode,
      }));

  const readStocks = (request: SandboxRequest): SandboxResponse => {
    const page = intParam(request, 'page', { fallback: 0, min: 0, max: 100_000 });
    if (!page.ok) return page.response;
    const size = intParam(request, 'size', { fallback: STOCKS_PAGE_MAX, min: 1, max: STOCKS_PAGE_MAX });
    if (!size.ok) return size.response;
    return ok({ skuAmountList: stockRows().slice(page.value * size.value, (page.value + 1) * size.value) });
  };

  const sendPrices = (request: SandboxRequest, params: Record<string, string>): SandboxResponse => {
    const refused = shopRefused(params.shopId);
    if (refused) return refused;
    const body = jsonBody(request);
    if (!body.ok) return body.response;
    const parsed = priceBodySchema.safeParse(body.body);
    if (!parsed.success) return badRequest(issuesOf(parsed.error));
    const { productId, skuList } = parsed.data;
    if (skuList.length > PRICE_BATCH_MAX) return badRequest(`skuList: at most ${PRICE_BATCH_MAX} SKUs per request`);
    if (![...catalogue.values()].some((s) => s.productId === productId)) return badRequest(`product ${productId} not found`);
    for (const item of skuList) {
      const sku = catalogue.get(item.skuId);
      if (!sku || sku.productId !== productId) return badRequest(`SKU ${item.skuId} is not a SKU of product ${productId}`);
      if (item.fullPrice === undefined && item.sellPrice === undefined) return badRequest(`SKU ${item.skuId}: no price given`);
      const full = item.fullPrice ?? sku.fullPrice;
      const sell = item.sellPrice ?? sku.sellPrice;
      // ASSUMED: the crossed-out price cannot be below the selling price
      if (sell > full) return badRequest(`SKU ${item.skuId}: sellPrice is above fullPrice`);
      if (sku.inPromo) return fail(400, UZUM_ERROR_CODES.skuInPromo, `SKU ${item.skuId} takes part in a promotion`);
    }
    for (const item of skuList) {
      const sku = catalogue.get(item.skuId);
      if (!sku) continue;
      sku.fullPrice = item.fullPrice ?? sku.fullPrice;
      sku.sellPrice = item.sellPrice ?? sku.sellPrice;
    }
    // the swagger documents "200 OK" with no body
    return { status: 200 };
  };

  const listProducts = (request: SandboxRequest, params: Record<string, string>): SandboxResponse => {
    const refused = shopRefused(params.shopId);
    if (refused) return refused;
    const page = intParam(request, 'page', { required: true, min: 0, max: 100_000 });
    if (!page.ok) return page.response;
    const size = intParam(request, 'size', { required: true, min: 1, max: PRODUCTS_PAGE_MAX });
    if (!size.ok) return size.response;
    const products = new Map<number, UzumSandboxSku[]>();
    for (const sku of [...catalogue.values()].sort((a, b) => a.skuId - b.skuId)) {
      products.set(sku.productId, [...(products.get(sku.productId) ?? []), sku]);
    }
    const list = [...products.entries()].sort(([a], [b]) => a - b);
    return {
      json: {
        productList: list.slice(page.value * size.value, (page.value + 1) * size.value).map(([productId, skus]) => ({
          productId,
          title: skus[0]?.productTitle ?? '',
          skuList: skus.map((s) => ({
            skuId: s.skuId,
            skuTitle: s.skuTitle,
            skuFullTitle: `${s.productTitle} ${s.skuTitle}`,
            productTitle: s.productTitle,
            // integer<int64> in the swagger
            barcode: /^\d{1,15}$/.test(s.barcode) ? Number(s.barcode) : s.barcode,
            price: s.sellPrice,
            quantityFbs: s.stock,
            sellerItemCode: s.sellerItemCode,
            archived: false,
            blocked: false,
          })),
          quantityFbs: skus.reduce((sum, s) => sum + s.stock, 0),
        })),
        totalProductsAmount: list.length,
      },
    };
  };

  const controlOrderSchema = z.object({
    lines: z
      .array(
        z.object({ skuId: z.number().int().positive(), qty: z.number().int().positive(), price: z.number().int().positive().optional() }),
      )
      .min(1),
    status: z.enum(ORDER_STATUSES).optional(),
  });

  const server = await startSandboxServer(
    {
      name: 'uzum',
      onReset: () => {
        seed();
        limiter.reset();
      },
      describe: () => ({
        shopId,
        skus: catalogue.size,
        orders: Object.fromEntries(ORDER_STATUSES.map((s) => [s, [...orders.values()].filter((o) => o.status === s).length])),
        rateLimitRefusals: limiter.refused(),
      }),
      notFound: (request) => fail(404, UZUM_ERROR_CODES.notFound, `No handler for ${request.method} ${request.path}`),
      routes: [
        { method: 'GET', path: UZUM_PATHS.shops, handle: guarded(() => ({ json: [{ id: shopId, name: "Sandbox do'kon" }] })) },
        { method: 'GET', path: UZUM_PATHS.orders, handle: guarded(listOrders) },
        { method: 'GET', path: UZUM_PATHS.ordersCount, handle: guarded(countOrders) },
        { method: 'GET', path: UZUM_PATHS.returnReasons, handle: guarded(returnReasons) },
        { method: 'GET', path: '/v1/fbs/order/:id', handle: guarded(getOrder) },
        { method: 'POST', path: '/v1/fbs/order/:id/confirm', handle: guarded(confirm) },
        { method: 'POST', path: '/v1/fbs/order/:id/cancel', handle: guarded(cancelOrder) },
        { method: 'POST', path: UZUM_PATHS.stocksUpdate, handle: guarded(updateStocks) },
        { method: 'GET', path: UZUM_PATHS.stocksRead, handle: guarded(readStocks) },
        { method: 'POST', path: '/v1/product/:shopId/sendPriceData', handle: guarded(sendPrices) },
        { method: 'GET', path: '/v1/product/shop/:shopId', handle: guarded(listProducts) },
      ],
      controls: {
        'POST /orders': (request) => {
          const parsed = controlOrderSchema.safeParse(request.json());
          if (!parsed.success) return { status: 400, json: { error: issuesOf(parsed.error) } };
          try {
            return { status: 201, json: { order: addOrder(parsed.data) } };
          } catch (error) {
            return { status: 400, json: { error: error instanceof Error ? error.message : String(error) } };
          }
        },
        'GET /orders': () => ({ json: { orders: [...orders.values()].map(wire) } }),
        'POST /cancel-by-buyer': (request) => {
          const parsed = z.object({ orderId: z.number().int().positive() }).safeParse(request.json());
          if (!parsed.success) return { status: 400, json: { error: issuesOf(parsed.error) } };
          const order = orders.get(parsed.data.orderId);
          if (!order) return { status: 404, json: { error: `no order ${parsed.data.orderId}` } };
          cancel(order, 'CANCELED_BY_CUSTOMER');
          return { json: { order: wire(order) } };
        },
        'GET /stock': () => ({ json: { stock: stockRows().map(({ skuId, barcode, amount }) => ({ skuId, barcode, amount })) } }),
      },
    },
    options,
  );

  return Object.assign(server, {
    credentials,
    shopId,
    addProduct,
    addOrder,
    cancelByBuyer: (id: number) => {
      const order = mustOrder(id);
      cancel(order, 'CANCELED_BY_CUSTOMER');
      return wire(order);
    },
    advance: (id: number, status: UzumOrderStatus) => {
      const order = mustOrder(id);
      order.status = status;
      return wire(order);
    },
    order: (id: number) => {
      const order = orders.get(id);
      return order ? wire(order) : null;
    },
    stockOf: (skuId: number) => catalogue.get(skuId)?.stock ?? null,
    priceOf: (skuId: number) => {
      const sku = catalogue.get(skuId);
      return sku ? { fullPrice: sku.fullPrice, sellPrice: sku.sellPrice } : null;
    },
    setPromo: (skuId: number, inPromo: boolean) => {
      const sku = catalogue.get(skuId);
      if (!sku) throw new Error(`no SKU ${skuId} in the sandbox`);
      sku.inPromo = inPromo;
    },
    setRateLimit: (limit: { limit: number; windowMs: number } | null) => limiter.set(limit),
  });
}
