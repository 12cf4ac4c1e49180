import { z } from 'zod';
import { constantTimeEqual } from '../../../../common/security.ts';
import { sandboxRateLimit } from '../kit/sandbox-rate-limit.ts';
import {
  SandboxHttpError,
  startSandboxServer,
  type SandboxOptions,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxServer,
} from '../kit/sandbox.ts';
import {
  CANCEL_REASON_NEEDING_MESSAGE,
  kopecksToRubles,
  OZON_AUTH_MESSAGES,
  OZON_ERRORS,
  OZON_HEADERS,
  OZON_LIMITS,
  OZON_PATHS,
  OZON_RPC_CODES,
  PACKED_STATUSES,
  POSTING_STATUSES,
  PRE_PACKAGING_STATUSES,
  rublesToKopecks,
  SELLER_CANCEL_REASON_IDS,
  type PostingStatus,
} from './protocol.ts';

/**
 * The Ozon Seller sandbox: one seller (Client-Id + Api-Key), two FBS warehouses, a few products, FBS postings
 * that move through Ozon's statuses, and the methods the hub uses with Ozon's rules: `Client-Id`/`Api-Key` on
 * every call (missing, malformed or wrong → Ozon's status and `{code, message, details}`), strict types
 * (protojson: an int64 may be a number or a numeric string; unknown fields are ignored), the batch maxima (100
 * stock pairs, 1000 prices), 50 requests a second per Client-Id and 80 stock updates a minute (429 with
 * Retry-After), one stock update per product-warehouse pair in 30 s, packing only of `awaiting_packaging`,
 * cancelling only before the courier takes the posting.
 */

export const OZON_SANDBOX_CREDENTIALS = { clientId: '836411', apiKey: '5f2c3a0e-7d1b-4c6a-9b8e-0a1d2e3f4b5c' };

export const OZON_SANDBOX_WAREHOUSES = [
  { warehouse_id: 22654000000001, name: 'Склад на Ленина (FBS)' },
  { warehouse_id: 22654000000002, name: 'Склад Химки (FBS)' },
] as const;

export interface SandboxProduct {
  product_id: number;
  offer_id: string;
  sku: number;
  name: string;
  /** Ozon's decimal string */
  price: string;
  old_price: string;
  archived: boolean;
}

export interface SandboxPosting {
  posting_number: string;
  order_id: number;
  order_number: string;
  status: PostingStatus;
  in_process_at: string;
  shipment_date: string;
  products: Array<{ offer_id: string; sku: number; name: string; quantity: number; price: string; currency_code: 'RUB' }>;
  customer: null;
  addressee: null;
  cancellation: {
    cancel_reason_id: number;
    cancel_reason: string;
    cancellation_type: string;
    cancelled_after_ship: boolean;
    affect_cancellation_rating: boolean;
    cancellation_initiator: string;
  };
}

export interface OzonSandboxOrderLine {
  offerId: string;
  qty: number;
  /** per unit, kopecks (the product's price when omitted) */
  price?: number;
}

export interface OzonSandbox extends SandboxServer {
  addProduct(product: { offerId: string; name: string; price?: number; productId?: number; sku?: number }): SandboxProduct;
  /** a new FBS posting (awaiting_packaging unless `status` says otherwise), processed now unless `inProcessAt` */
  addOrder(order: { lines: OzonSandboxOrderLine[]; status?: PostingStatus; inProcessAt?: string }): SandboxPosting;
  cancelByBuyer(postingNumber: string): SandboxPosting;
  /** moves a posting as Ozon's logistics would (e.g. `delivering` after the courier's scan) */
  setStatus(postingNumber: string, status: PostingStatus): SandboxPosting;
  order(postingNumber: string): SandboxPosting | null;
  /** the stock of an offer at a warehouse (the first warehouse when omitted); null when never set */
  stockOf(offerId: string, warehouseId?: number): number | null;
  /** the price as Ozon keeps it (a decimal string); null for an unknown offer */
  priceOf(offerId: string): string | null;
  products(): SandboxProduct[];
  /** the limit of every method per Client-Id (50 a second by default); null lifts it */
  setRateLimit(limit: { limit: number; windowMs: number } | null): void;
  /** the stock method's own limit (80 a minute by default) */
  setStockRateLimit(limit: { limit: number; windowMs: number } | null): void;
}

// ---- Ozon's answers ----

const rpcError = (status: number, code: number, message: string): SandboxResponse => ({ status, json: { code, message, details: [] } });
const invalid = (message: string) => new SandboxHttpError(400, { code: OZON_RPC_CODES.invalidArgument, message, details: [] });
/** a business refusal: HTTP 400 whose message is Ozon's code [clients]; `code` 3 ASSUMED */
const refused = (code: string) => rpcError(400, OZON_RPC_CODES.invalidArgument, code);

// ---- request validation, protojson-like: int64 as number or numeric string, unknown fields ignored ----

const int64 = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);
const dateTime = z.iso.datetime({ offset: true });

const listRequest = z.object({
  dir: z.string().optional(),
  filter: z.object({ since: dateTime, to: dateTime, status: z.enum(POSTING_STATUSES).or(z.literal('')).optional() }),
  limit: int64.pipe(z.number().min(1).max(OZON_LIMITS.listLimit)),
  offset: int64.pipe(z.number().min(0)),
});
const getRequest = z.object({ posting_number: z.string().min(1) });
const shipRequest = z.object({
  packages: z
    .array(z.object({ products: z.array(z.object({ product_id: int64, quantity: int64.pipe(z.number().min(1)) })).min(1) }))
    .min(1),
  posting_number: z.string().min(1),
});
const cancelRequest = z.object({
  posting_number: z.string().min(1),
  cancel_reason_id: int64,
  cancel_reason_message: z.string().optional(),
});
const stocksRequest = z.object({
  stocks: z
    .array(
      z.object({
        offer_id: z.string().optional(),
        product_id: int64.optional(),
        stock: int64.pipe(z.number().min(0)),
        warehouse_id: int64,
      }),
    )
    .min(1)
    .max(OZON_LIMITS.stockBatch),
});
const pricesRequest = z.object({
  prices: z
    .array(
      z.object({
        offer_id: z.string().optional(),
        product_id: int64.optional(),
        price: z.string().regex(/^-?\d+(\.\d{1,2})?$/),
        old_price: z
          .string()
          .regex(/^\d+(\.\d{1,2})?$/)
          .optional(),
        currency_code: z.string().optional(),
      }),
    )
    .min(1)
    .max(OZON_LIMITS.priceBatch),
});
const productListRequest = z.object({
  filter: z
    .object({ offer_id: z.array(z.string()).optional(), product_id: z.array(int64).optional(), visibility: z.string().optional() })
    .optional(),
  last_id: z.string().optional(),
  limit: int64.pipe(z.number().min(1).max(OZON_LIMITS.listLimit)).optional(),
});
const productInfoRequest = z.object({
  product_id: z.array(int64).optional(),
  offer_id: z.array(z.string()).optional(),
  sku: z.array(int64).optional(),
});

/** The body parsed, or Ozon's 400 naming the first wrong field (message wording ASSUMED, in Ozon's validator's style). */
function validate<T>(request: SandboxRequest, schema: z.ZodType<T>, what: string): T {
  const parsed = schema.safeParse(request.rawBody.length === 0 ? {} : request.json());
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') ?? '';
  throw invalid(`Request validation error: invalid ${what}${field}: ${issue?.message ?? 'invalid value'}`);
}

// ---- the seed ----

const seedProducts = (): SandboxProduct[] => [
  {
    product_id: 214800001,
    offer_id: 'OZ-TSHIRT-M',
    sku: 1457000001,
    name: 'Футболка хлопковая, M',
    price: '1299',
    old_price: '0',
    archived: false,
  },
  {
    product_id: 214800002,
    offer_id: 'OZ-MUG-330',
    sku: 1457000002,
    name: 'Кружка керамическая 330 мл',
    price: '549.5',
    old_price: '0',
    archived: false,
  },
  { product_id: 214800003, offer_id: 'OZ-SOCKS-3', sku: 1457000003, name: 'Носки, 3 пары', price: '399', old_price: '0', archived: false },
  { product_id: 214800004, offer_id: 'OZ-CAP-BLK', sku: 1457000004, name: 'Кепка чёрная', price: '890', old_price: '0', archived: false },
];

/** "1390.000000": how Ozon writes a posting's price [openapi example] */
const postingPrice = (kopecks: number) => `${Math.floor(kopecks / 100)}.${String(kopecks % 100).padStart(2, '0')}0000`;

const noCancellation = () => ({
  cancel_reason_id: 0,
  cancel_reason: '',
  cancellation_type: '',
  cancelled_after_ship: false,
  affect_cancellation_rating: false,
  cancellation_initiator: '',
});

export async function startOzonSandbox(options: SandboxOptions = {}, account = OZON_SANDBOX_CREDENTIALS): Promise<OzonSandbox> {
  let products = seedProducts();
  let postings: SandboxPosting[] = [];
  let stocks = new Map<string, { stock: number; updatedAt: number }>();
  let nextOrder = 0;
  const limiter = sandboxRateLimit({ limit: OZON_LIMITS.requestsPerSecond, windowMs: 1000 });
  const stockLimiter = sandboxRateLimit({ limit: OZON_LIMITS.stockRequestsPerMinute, windowMs: 60_000 });

  const productByOffer = (offerId: string) => products.find((p) => p.offer_id === offerId);
  const productById = (productId: number) => products.find((p) => p.product_id === productId);
  const postingOf = (number: string) => postings.find((p) => p.posting_number === number);
  const warehouseKnown = (id: number) => OZON_SANDBOX_WAREHOUSES.some((w) => w.warehouse_id === id);

  const addProduct: OzonSandbox['addProduct'] = ({ offerId, name, price = 100_00, productId, sku }) => {
    if (productByOffer(offerId)) throw new Error(`offer ${offerId} exists`);
    const top = Math.max(...products.map((p) => p.product_id), 214800000);
    const product: SandboxProduct = {
      product_id: productId ?? top + 1,
      offer_id: offerId,
      sku: sku ?? 1457000000 + (productId ?? top + 1) - 214800000,
      name,
      price: kopecksToRubles(price),
      old_price: '0',
      archived: false,
    };
    products.push(product);
    return product;
  };

  const addOrder: OzonSandbox['addOrder'] = ({ lines, status = 'awaiting_packaging', inProcessAt }) => {
    if (lines.length === 0) throw new Error('an order has lines');
    nextOrder += 1;
    const orderNumber = `${String(41000000 + nextOrder).padStart(8, '0')}-${String(nextOrder % 10000).padStart(4, '0')}`;
    const at = inProcessAt ?? new Date().toISOString();
    const posting: SandboxPosting = {
      posting_number: `${orderNumber}-1`,
      order_id: 880000000 + nextOrder,
      order_number: orderNumber,
      status,
      in_process_at: at,
      shipment_date: new Date(Date.parse(at) + 24 * 3600 * 1000).toISOString(),
      products: lines.map((line) => {
        const product = productByOffer(line.offerId);
        if (!product) throw new Error(`no product ${line.offerId}`);
        return {
          offer_id: product.offer_id,
          sku: product.sku,
          name: product.name,
          quantity: line.qty,
          price: postingPrice(line.price ?? rublesToKopecks(product.price) ?? 0),
          currency_code: 'RUB',
        };
      }),
      customer: null,
      addressee: null,
      cancellation: noCancellation(),
    };
    postings.push(posting);
    return posting;
  };

  const mustFind = (number: string) => {
    const posting = postingOf(number);
    if (!posting) throw new Error(`no posting ${number}`);
    return posting;
  };

  const cancelPosting = (posting: SandboxPosting, by: 'seller' | 'customer', reasonId: number, reason: string) => {
    posting.cancellation = {
      cancel_reason_id: reasonId,
      cancel_reason: reason,
      cancellation_type: by,
      cancelled_after_ship: PACKED_STATUSES.has(posting.status),
      affect_cancellation_rating: by === 'seller',
      cancellation_initiator: by === 'seller' ? 'Продавец' : 'Покупатель',
    };
    posting.status = 'cancelled';
  };

  const seed = () => {
    products = seedProducts();
    postings = [];
    stocks = new Map();
    nextOrder = 0;
    const hour = 3600 * 1000;
    addOrder({ lines: [{ offerId: 'OZ-TSHIRT-M', qty: 1, price: 1259_00 }], inProcessAt: new Date(Date.now() - 3 * hour).toISOString() });
    addOrder({
      lines: [{ offerId: 'OZ-MUG-330', qty: 2 }],
      status: 'delivered',
      inProcessAt: new Date(Date.now() - 48 * hour).toISOString(),
    });
  };
  seed();

  /** Ozon's header checks, then its rate limits; null: go ahead. */
  const gate = (request: SandboxRequest, stockMethod: boolean): SandboxResponse | null => {
    const clientId = request.header(OZON_HEADERS.clientId);
    const apiKey = request.header(OZON_HEADERS.apiKey);
    if (!clientId || !apiKey) return rpcError(401, OZON_RPC_CODES.unauthenticated, OZON_AUTH_MESSAGES.missingHeaders);
    if (!/^\d+$/.test(clientId) || Number(clientId) <= 0)
      return rpcError(400, OZON_RPC_CODES.invalidArgument, OZON_AUTH_MESSAGES.badClientId);
    if (!constantTimeEqual(clientId, account.clientId) || !constantTimeEqual(apiKey, account.apiKey))
      return rpcError(404, OZON_RPC_CODES.notFound, OZON_AUTH_MESSAGES.invalidKey);
    const wait = limiter.take(clientId);
    if (wait !== null)
      return {
        ...rpcError(429, OZON_RPC_CODES.resourceExhausted, 'You have reached request rate limit per second'),
        headers: { 'retry-after': String(wait) },
      };
    if (stockMethod) {
      const stockWait = stockLimiter.take(clientId);
      if (stockWait !== null)
        return {
          ...rpcError(429, OZON_RPC_CODES.resourceExhausted, 'You have reached request rate limit per minute'),
          headers: { 'retry-after': String(stockWait) },
        };
    }
    return null;
  };

  const route = (path: string, handle: (request: SandboxRequest) => SandboxResponse, stockMethod = false) => ({
    method: 'POST' as const,
    path,
    handle: (request: SandboxRequest) => gate(request, stockMethod) ?? handle(request),
  });

  const listPostings = (request: SandboxRequest): SandboxResponse => {
    const body = validate(request, listRequest, 'GetFbsPostingListRequest');
    const since = Date.parse(body.filter.since);
    const to = Date.parse(body.filter.to);
    if (since > to) throw invalid('Request validation error: invalid GetFbsPostingListRequest.Filter: since is after to');
    if (to - since > OZON_LIMITS.listPeriodMs) throw invalid('PERIOD_IS_TOO_LONG');
    const descending = (body.dir ?? 'ASC').toUpperCase() === 'DESC';
    const found = postings
      .filter((p) => {
        const at = Date.parse(p.in_process_at);
        return at >= since && at <= to && (!body.filter.status || p.status === body.filter.status);
      })
      .sort((a, b) => a.in_process_at.localeCompare(b.in_process_at) || a.posting_number.localeCompare(b.posting_number));
    if (descending) found.reverse();
    const page = found.slice(body.offset, body.offset + body.limit);
    return { json: { result: { postings: page, has_next: body.offset + page.length < found.length } } };
  };

  const getPosting = (request: SandboxRequest): SandboxResponse => {
    const body = validate(request, getRequest, 'GetFbsPostingV3Request');
    const posting = postingOf(body.posting_number);
    // ASSUMED: an unknown posting is HTTP 404 with code 5 (gRPC NotFound) and Ozon's code as the message
    return posting ? { json: { result: posting } } : rpcError(404, OZON_RPC_CODES.notFound, OZON_ERRORS.postingNotFound);
  };

  const ship = (request: SandboxRequest): SandboxResponse => {
    const body = validate(request, shipRequest, 'FbsPostingShipV4Request');
    const posting = postingOf(body.posting_number);
    if (!posting) return refused(OZON_ERRORS.postingNotFound);
    if (posting.status === 'cancelled') return refused(OZON_ERRORS.postingAlreadyCancelled);
    if (PACKED_STATUSES.has(posting.status)) return refused(OZON_ERRORS.postingAlreadyShipped);
    if (posting.status !== 'awaiting_packaging') return refused(OZON_ERRORS.incorrectStatus);
    const packed = new Map<number, number>();
    for (const item of body.packages.flatMap((p) => p.products)) {
      if (!posting.products.some((p) => p.sku === item.product_id)) return refused(OZON_ERRORS.unknownProduct);
      packed.set(item.product_id, (packed.get(item.product_id) ?? 0) + item.quantity);
    }
    const complete = posting.products.every((p) => packed.get(p.sku) === p.quantity) && packed.size === posting.products.length;
    if (!complete) return refused(OZON_ERRORS.incorrectProductQuantity);
    posting.status = 'awaiting_deliver';
    // one package: the posting keeps its number (splitting into several is not modelled)
    return { json: { result: [posting.posting_number] } };
  };

  const cancel = (request: SandboxRequest): SandboxResponse => {
    const body = validate(request, cancelRequest, 'CancelFbsPostingRequest');
    const posting = postingOf(body.posting_number);
    if (!posting) return refused(OZON_ERRORS.postingNotFound);
    if (!SELLER_CANCEL_REASON_IDS.has(body.cancel_reason_id)) return refused('INVALID_CANCEL_REASON_ID'); // ASSUMED code
    if (body.cancel_reason_id === CANCEL_REASON_NEEDING_MESSAGE && !body.cancel_reason_message?.trim())
      throw invalid('Request validation error: invalid CancelFbsPostingRequest.CancelReasonMessage: required when cancel_reason_id is 402');
    // ASSUMED: the same codes as /v4/posting/fbs/ship; a seller may cancel until the courier takes the posting
    if (posting.status === 'cancelled') return refused(OZON_ERRORS.postingAlreadyCancelled);
    if (posting.status !== 'awaiting_deliver' && !PRE_PACKAGING_STATUSES.has(posting.status) && posting.status !== 'awaiting_packaging')
      return refused(OZON_ERRORS.incorrectStatus);
    cancelPosting(posting, 'seller', body.cancel_reason_id, body.cancel_reason_message ?? '');
    return { json: { result: true } };
  };

  const updateStocks = (request: SandboxRequest): SandboxResponse => {
    const body = validate(request, stocksRequest, 'ProductsStocksRequest.Stocks');
    const now = Date.now();
    const result = body.stocks.map((item) => {
      const offerId = item.offer_id ?? '';
      // with both identifiers, the change applies to offer_id [openapi]
      const product = offerId ? productByOffer(offerId) : item.product_id === undefined ? undefined : productById(item.product_id);
      const answer = (code: string | null) => ({
        warehouse_id: item.warehouse_id,
        product_id: product?.product_id ?? item.product_id ?? 0,
        offer_id: product?.offer_id ?? offerId,
        updated: code === null,
        errors: code === null ? [] : [{ code, message: code }],
      });
      if (!product) return answer(offerId ? OZON_ERRORS.offerNotFound : OZON_ERRORS.notFound);
      if (!warehouseKnown(item.warehouse_id)) return answer(OZON_ERRORS.warehouseNotFound);
      if (item.stock >= OZON_LIMITS.stockBelow) return answer(OZON_ERRORS.stockTooBig);
      const key = `${product.product_id}:${item.warehouse_id}`;
      const previous = stocks.get(key);
      if (previous && now - previous.updatedAt < OZON_LIMITS.stockPairIntervalMs) return answer(OZON_ERRORS.tooManyRequests);
      stocks.set(key, { stock: item.stock, updatedAt: now });
      return answer(null);
    });
    return { json: { result } };
  };

  const importPrices = (request: SandboxRequest): SandboxResponse => {
    const body = validate(request, pricesRequest, 'ImportProductsPricesRequest.Prices');
    const result = body.prices.map((item) => {
      const offerId = item.offer_id ?? '';
      const product = offerId ? productByOffer(offerId) : item.product_id === undefined ? undefined : productById(item.product_id);
      const answer = (code: string | null) => ({
        product_id: product?.product_id ?? item.product_id ?? 0,
        offer_id: product?.offer_id ?? offerId,
        updated: code === null,
        errors: code === null ? [] : [{ code, message: code }],
      });
      if (!product) return answer(OZON_ERRORS.notFound);
      if (item.price.startsWith('-')) return answer(OZON_ERRORS.priceNegative);
      const kopecks = rublesToKopecks(item.price) ?? 0;
      // ASSUMED bounds of "a price too high or too low for the category": 1 RUB … 10 000 000 RUB
      if (kopecks < 100 || kopecks > 10_000_000_00) return answer(OZON_ERRORS.invalidCategoryPrice);
      // the cabinet's currency is RUB; another is refused (code ASSUMED)
      if (item.currency_code !== undefined && item.currency_code !== 'RUB') return answer('CURRENCY_CODE_MISMATCH');
      product.price = item.price;
      if (item.old_price !== undefined) product.old_price = item.old_price;
      return answer(null);
    });
    return { json: { result } };
  };

  const listProducts = (request: SandboxRequest): SandboxResponse => {
    const body = validate(request, productListRequest, 'GetProductListRequest');
    const limit = body.limit ?? 100;
    let after = 0;
    if (body.last_id) {
      const decoded = Buffer.from(body.last_id, 'base64').toString('utf8');
      if (!/^\d+$/.test(decoded)) throw invalid('Request validation error: invalid GetProductListRequest.LastId: malformed');
      after = Number(decoded);
    }
    const offers = body.filter?.offer_id;
    const ids = body.filter?.product_id;
    const found = products
      .filter((p) => (!offers?.length || offers.includes(p.offer_id)) && (!ids?.length || ids.includes(p.product_id)))
      .sort((a, b) => a.product_id - b.product_id);
    const page = found.filter((p) => p.product_id > after).slice(0, limit);
    const last = page.at(-1);
    return {
      json: {
        result: {
          items: page.map((p) => ({
            product_id: p.product_id,
            offer_id: p.offer_id,
            archived: p.archived,
            has_fbo_stocks: false,
            has_fbs_stocks: [...stocks.entries()].some(([key, value]) => key.startsWith(`${p.product_id}:`) && value.stock > 0),
            is_discounted: false,
            quants: [],
          })),
          total: found.length,
          last_id: last ? Buffer.from(String(last.product_id)).toString('base64') : '',
        },
      },
    };
  };

  const productInfo = (request: SandboxRequest): SandboxResponse => {
    const body = validate(request, productInfoRequest, 'GetProductInfoListRequest');
    const asked = (body.product_id?.length ?? 0) + (body.offer_id?.length ?? 0) + (body.sku?.length ?? 0);
    if (asked > 1000) throw invalid('Request validation error: at most 1000 identifiers in one request');
    const items = products.filter(
      (p) => body.product_id?.includes(p.product_id) || body.offer_id?.includes(p.offer_id) || body.sku?.includes(p.sku),
    );
    return {
      json: {
        items: items.map((p) => ({
          id: p.product_id,
          offer_id: p.offer_id,
          sku: p.sku,
          name: p.name,
          price: p.price,
          old_price: p.old_price,
          currency_code: 'RUB',
          barcodes: [],
        })),
      },
    };
  };

  const warehouses = (): SandboxResponse => ({
    json: {
      result: OZON_SANDBOX_WAREHOUSES.map((w) => ({
        ...w,
        is_rfbs: false,
        status: 'created',
        has_entrusted_acceptance: false,
        is_kgt: false,
      })),
    },
  });

  const stockList = () =>
    [...stocks.entries()].map(([key, value]) => {
      const [productId, warehouseId] = key.split(':').map(Number);
      return {
        offer_id: productById(productId ?? 0)?.offer_id ?? '',
        product_id: productId,
        warehouse_id: warehouseId,
        stock: value.stock,
      };
    });

  const server = await startSandboxServer(
    {
      name: 'ozon',
      onReset: () => {
        seed();
        limiter.reset();
        stockLimiter.reset();
      },
      describe: () => ({ products: products.length, postings: postings.length, stocks: stocks.size }),
      // an unknown method: 404 code 5 "Not Found" (ASSUMED: the gateway's answer)
      notFound: () => rpcError(404, OZON_RPC_CODES.notFound, 'Not Found'),
      routes: [
        route(OZON_PATHS.postingsList, listPostings),
        route(OZON_PATHS.posting, getPosting),
        route(OZON_PATHS.ship, ship),
        route(OZON_PATHS.cancel, cancel),
        route(OZON_PATHS.stocks, updateStocks, true),
        route(OZON_PATHS.prices, importPrices),
        route(OZON_PATHS.productList, listProducts),
        route(OZON_PATHS.productInfo, productInfo),
        route(OZON_PATHS.warehouses, warehouses),
      ],
      controls: {
        /** `{"lines":[{"offerId":"OZ-MUG-330","qty":2,"price":54950}],"status"?:…}` → the new posting */
        'POST /orders': (request) => {
          const parsed = z
            .object({
              lines: z
                .array(z.object({ offerId: z.string(), qty: z.number().int().positive(), price: z.number().int().min(0).optional() }))
                .min(1),
              status: z.enum(POSTING_STATUSES).optional(),
            })
            .safeParse(request.json());
          if (!parsed.success) return { status: 400, json: { error: 'lines: [{offerId, qty, price?}] required' } };
          if (parsed.data.lines.some((line) => !productByOffer(line.offerId))) return { status: 404, json: { error: 'unknown offerId' } };
          return { status: 201, json: { posting: addOrder(parsed.data) } };
        },
        'GET /stock': () => ({ json: { stocks: stockList() } }),
        /** `{"posting_number":"…"}`: the buyer cancels */
        'POST /cancel': (request) => {
          const body = request.json() as { posting_number?: unknown };
          const posting = typeof body.posting_number === 'string' ? postingOf(body.posting_number) : undefined;
          if (!posting) return { status: 404, json: { error: 'unknown posting_number' } };
          cancelPosting(posting, 'customer', 0, 'Покупатель отменил заказ');
          return { json: { posting } };
        },
      },
    },
    options,
  );

  return Object.assign(server, {
    addProduct,
    addOrder,
    cancelByBuyer: (postingNumber: string) => {
      const posting = mustFind(postingNumber);
      cancelPosting(posting, 'customer', 0, 'Покупатель отменил заказ');
      return posting;
    },
    setStatus: (postingNumber: string, status: PostingStatus) => {
      const posting = mustFind(postingNumber);
      posting.status = status;
      return posting;
    },
    order: (postingNumber: string) => postingOf(postingNumber) ?? null,
    stockOf: (offerId: string, warehouseId: number = OZON_SANDBOX_WAREHOUSES[0].warehouse_id) => {
      const product = productByOffer(offerId);
      return product ? (stocks.get(`${product.product_id}:${warehouseId}`)?.stock ?? null) : null;
    },
    priceOf: (offerId: string) => productByOffer(offerId)?.price ?? null,
    products: () => products,
    setRateLimit: (limit: { limit: number; windowMs: number } | null) => limiter.set(limit),
    setStockRateLimit: (limit: { limit: number; windowMs: number } | null) => stockLimiter.set(limit),
  });
}
