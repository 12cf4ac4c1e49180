import { z } from 'zod';

/**
 * Ozon Seller API (FBS), the part the hub speaks: postings (list, one, pack, cancel), stocks, prices, the
 * product list and warehouses. Every shape the hub sends or reads lives here.
 *
 * Sources, cited below by their tag:
 * - [openapi] Ozon's own OpenAPI document ("Документация Ozon Seller API" 2.1), as copied in
 *   salacoste/ozon-daytona-seller-api:ozon-swagger-docs/swagger.json (commit e09ec01, 2025-09): paths, fields,
 *   maxima, rate limits, statuses, cancel reasons, the error table (tag "Errors") and the error body `rpcStatus`.
 * - [live] idx:61840904303 (an authentication profile "verified live" against api-seller.ozon.ru) and
 *   idx:35328628202 (a test log with real credentials): a wrong Api-Key answers HTTP 404
 *   `{"code":5,"message":"Invalid Api-Key, please check the key and try again"}`; a Client-Id that is not a
 *   positive integer answers HTTP 400 code 3.
 * - [clients] public clients that test against Ozon's answers: idx:70128615805, idx:69803570132 (HTTP 429
 *   `{"code":8,"message":"You have reached request rate limit per second"}`), idx:47176678009,
 *   idx:55595164850 (a refused /v4/posting/fbs/ship is HTTP 400 whose `message` is the error code, e.g.
 *   `POSTING_ALREADY_SHIPPED`).
 * - ASSUMED: marked where a fact was not found; the report lists them.
 */

export const OZON_BASE_URL = 'https://api-seller.ozon.ru'; // [openapi] tag Environment

/** Every method is a POST with a JSON body. [openapi] */
export const OZON_PATHS = {
  postingsList: '/v3/posting/fbs/list',
  posting: '/v3/posting/fbs/get',
  ship: '/v4/posting/fbs/ship',
  cancel: '/v2/posting/fbs/cancel',
  stocks: '/v2/products/stocks',
  prices: '/v1/product/import/prices',
  productList: '/v3/product/list',
  productInfo: '/v3/product/info/list',
  warehouses: '/v1/warehouse/list',
} as const;

/** Headers on every request: `Client-Id: <id>`, `Api-Key: <key>`, `Content-Type: application/json`. [openapi] tag Environment */
export const OZON_HEADERS = { clientId: 'Client-Id', apiKey: 'Api-Key' } as const;

/** The documented maxima and rates. */
export const OZON_LIMITS = {
  /** "За один запрос можно изменить наличие для 100 пар товар-склад" [openapi] /v2/products/stocks */
  stockBatch: 100,
  /** "С одного аккаунта продавца можно отправить до 80 запросов в минуту" [openapi] /v2/products/stocks */
  stockRequestsPerMinute: 80,
  /** one product-warehouse pair at most once in 30 s, else `TOO_MANY_REQUESTS` in `result[].errors` [openapi] */
  stockPairIntervalMs: 30_000,
  /** `prices` maxItems 1000 [openapi] /v1/product/import/prices */
  priceBatch: 1000,
  /** "Цену каждого товара можно обновлять не больше 10 раз в час" [openapi]; not enforced by the sandbox (no documented code) */
  priceUpdatesPerHour: 10,
  /** "не больше 50 запросов в секунду на все методы с одного Client ID" [openapi] tags Process, Errors */
  requestsPerSecond: 50,
  /** `limit` of the posting and product lists: 1…1000 [openapi] */
  listLimit: 1000,
  /** a posting list's period is at most one year [openapi] /v3/posting/fbs/list */
  listPeriodMs: 366 * 24 * 3600 * 1000,
  /** "Укажите количество меньше миллиона" (`STOCK_TOO_BIG`) [openapi] tag Errors */
  stockBelow: 1_000_000,
} as const;

/** Posting statuses. [openapi] /v3/posting/fbs/unfulfilled/list and /v3/posting/fbs/list descriptions */
export const POSTING_STATUSES = [
  'awaiting_registration',
  'acceptance_in_progress',
  'awaiting_approve',
  'awaiting_packaging',
  'awaiting_deliver',
  'arbitration',
  'client_arbitration',
  'delivering',
  'driver_pickup',
  'delivered',
  'cancelled',
  'not_accepted',
  'sent_by_seller',
] as const;
export type PostingStatus = (typeof POSTING_STATUSES)[number];

/** Not ready to pack yet: the posting may still become `awaiting_packaging`. */
export const PRE_PACKAGING_STATUSES: ReadonlySet<string> = new Set(['awaiting_registration', 'awaiting_approve']);
/** Packed or further on: a confirm (ship) already took effect. */
export const PACKED_STATUSES: ReadonlySet<string> = new Set([
  'awaiting_deliver',
  'acceptance_in_progress',
  'arbitration',
  'client_arbitration',
  'delivering',
  'driver_pickup',
  'delivered',
  'not_accepted',
  'sent_by_seller',
]);

/**
 * Cancel reasons [openapi] /v1/posting/fbs/cancel-reason (`id` description) and the example of
 * /v2/posting/fbs/cancel-reason/list (`is_available_for_cancellation`): a seller may cancel with 352, 400 and
 * 402; 401, 665, 666 and 667 are Ozon's own. 402 needs `cancel_reason_message`. [openapi] /v2/posting/fbs/cancel
 */
export const OZON_CANCEL_REASONS = {
  outOfStock: 352,
  onlyDefectiveLeft: 400,
  sellerRejectedArbitration: 401,
  otherSellersFault: 402,
  buyerDidNotCollect: 665,
  noDeliveryToRegion: 666,
  lostByCarrier: 667,
} as const;
export const SELLER_CANCEL_REASON_IDS: ReadonlySet<number> = new Set([352, 400, 402]);
export const CANCEL_REASON_NEEDING_MESSAGE = 402;

/** Error codes Ozon puts in `message` (or in `result[].errors[].code`). [openapi] tag Errors */
export const OZON_ERRORS = {
  postingNotFound: 'POSTING_NOT_FOUND',
  postingAlreadyCancelled: 'POSTING_ALREADY_CANCELLED',
  postingAlreadyShipped: 'POSTING_ALREADY_SHIPPED',
  incorrectStatus: 'HAS_INCORRECT_STATUS',
  incorrectProductQuantity: 'HAS_INCORRECT_PRODUCT_QUANTITY',
  unknownProduct: 'UNKNOWN_PRODUCT_DEFINED',
  // per item of /v2/products/stocks
  offerNotFound: 'offer_id_not_found',
  warehouseNotFound: 'WAREHOUSE_NOT_FOUND',
  tooManyRequests: 'TOO_MANY_REQUESTS',
  stockTooBig: 'STOCK_TOO_BIG',
  // per item of /v1/product/import/prices (and stocks)
  notFound: 'NOT_FOUND_ERROR',
  invalidCategoryPrice: 'invalid_category_price',
  priceNegative: 'price_negative',
} as const;

/** `code` of the error body: gRPC status numbers. 3, 5, 8 [live]/[clients]; 16 and 7 ASSUMED (gRPC's own meaning). */
export const OZON_RPC_CODES = {
  invalidArgument: 3,
  notFound: 5,
  permissionDenied: 7,
  resourceExhausted: 8,
  internal: 13,
  unauthenticated: 16,
} as const;

/** The messages Ozon gives for these. [live]; the missing-headers text ASSUMED (an emulator's, idx:68995257195). */
export const OZON_AUTH_MESSAGES = {
  invalidKey: 'Invalid Api-Key, please check the key and try again',
  missingHeaders: 'Client-Id and Api-Key headers are required',
  badClientId: 'Client-Id header value should be positive integer',
} as const;

/** The error body of every non-2xx answer: `rpcStatus` {code, message, details[]}. [openapi] */
export const ozonErrorSchema = z.looseObject({
  code: z.number().int(),
  message: z.string(),
  details: z.array(z.unknown()).optional(),
});
export type OzonErrorBody = z.infer<typeof ozonErrorSchema>;

/** Ozon writes its own error codes in `message` (`POSTING_ALREADY_SHIPPED`); other messages are prose. */
export function ozonErrorCode(body: OzonErrorBody): string {
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(body.message) && body.message.includes('_') ? body.message : String(body.code);
}

// ---- money: decimal strings on the wire, kopecks inside ----

/**
 * "1390.000000", "279.0000", "1259" → kopecks, by the digits (never a float product). Ozon pads to four or
 * six decimals [openapi examples]; digits past the kopeck round half up. null: not a plain non-negative amount.
 */
export function rublesToKopecks(value: string): number | null {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) return null;
  const fraction = match[2] ?? '';
  const kopecks = Number(match[1]) * 100 + Number(fraction.slice(0, 2).padEnd(2, '0'));
  const roundUp = fraction.length > 2 && Number(fraction[2]) >= 5 ? 1 : 0;
  const total = kopecks + roundUp;
  return Number.isSafeInteger(total) ? total : null;
}

/** kopecks → the decimal string Ozon takes: 129950 → "1299.50", 129900 → "1299" ("до двух знаков после точки" [openapi]). */
export function kopecksToRubles(kopecks: number): string {
  if (!Number.isSafeInteger(kopecks) || kopecks < 0) throw new RangeError(`a price in kopecks is a non-negative integer, not ${kopecks}`);
  const whole = Math.floor(kopecks / 100);
  const rest = kopecks % 100;
  return rest === 0 ? String(whole) : `${whole}.${String(rest).padStart(2, '0')}`;
}

/** A price as Ozon takes it: digits, optionally a point and one or two more. */
export const rublesString = z.string().regex(/^\d+(\.\d{1,2})?$/, 'a decimal amount with at most two decimals');

// ---- what we send (strict: no field Ozon does not know) ----

/** protojson takes an int64 as a number or a numeric string; we send numbers. */
const int64 = z.number().int().nonnegative();

export const postingListRequestSchema = z
  .object({
    dir: z.enum(['ASC', 'DESC']),
    filter: z
      .object({
        /** ISO date-times; the list holds postings whose `in_process_at` is in [since, to] (ASSUMED: the field the period applies to) */
        since: z.iso.datetime(),
        to: z.iso.datetime(),
        status: z.enum(POSTING_STATUSES).optional(),
      })
      .strict(),
    limit: z.number().int().min(1).max(OZON_LIMITS.listLimit),
    offset: z.number().int().min(0),
  })
  .strict();
export type PostingListRequest = z.infer<typeof postingListRequestSchema>;

export const postingGetRequestSchema = z.object({ posting_number: z.string().min(1) }).strict();

export const shipRequestSchema = z
  .object({
    packages: z
      .array(
        z
          .object({
            /** `product_id` here is Ozon's SKU ("идентификатор товара в системе Ozon — SKU") [openapi] */
            products: z.array(z.object({ product_id: int64, quantity: z.number().int().positive() }).strict()).min(1),
          })
          .strict(),
      )
      .min(1),
    posting_number: z.string().min(1),
  })
  .strict();
export type ShipRequest = z.infer<typeof shipRequestSchema>;

export const cancelRequestSchema = z
  .object({
    cancel_reason_id: int64,
    cancel_reason_message: z.string().optional(),
    posting_number: z.string().min(1),
  })
  .strict();
export type CancelRequest = z.infer<typeof cancelRequestSchema>;

export const stockItemSchema = z
  .object({
    offer_id: z.string().min(1),
    product_id: int64,
    stock: z.number().int().min(0),
    warehouse_id: int64,
  })
  .strict();
export type StockItem = z.infer<typeof stockItemSchema>;
export const stocksRequestSchema = z.object({ stocks: z.array(stockItemSchema).min(1).max(OZON_LIMITS.stockBatch) }).strict();

export const priceItemSchema = z
  .object({
    /** one identifier only: with both, Ozon applies the change to `offer_id` ("используйте только один") [openapi] */
    offer_id: z.string().min(1),
    price: rublesString,
    /** "0" clears the crossed-out price [openapi] */
    old_price: rublesString,
    currency_code: z.literal('RUB'),
  })
  .strict();
export type PriceItem = z.infer<typeof priceItemSchema>;
export const pricesRequestSchema = z.object({ prices: z.array(priceItemSchema).min(1).max(OZON_LIMITS.priceBatch) }).strict();

export const productListRequestSchema = z
  .object({
    filter: z.object({ visibility: z.literal('ALL') }).strict(),
    last_id: z.string(),
    limit: z.number().int().min(1).max(OZON_LIMITS.listLimit),
  })
  .strict();
export type ProductListRequest = z.infer<typeof productListRequestSchema>;

/** Up to 1000 ids of one kind; int64 as strings, as the document types them. [openapi] /v3/product/info/list */
export const productInfoRequestSchema = z.object({ product_id: z.array(z.string().regex(/^\d+$/)).min(1).max(1000) }).strict();

// ---- what we read (loose: Ozon adds fields) ----

const id = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

export const postingProductSchema = z.looseObject({
  offer_id: z.string(),
  sku: id,
  name: z.string(),
  quantity: z.number().int(),
  /** "1259", "1390.000000" */
  price: z.string(),
  currency_code: z.string().optional(),
});
export type PostingProduct = z.infer<typeof postingProductSchema>;

const person = z.looseObject({ name: z.string().nullish(), phone: z.string().nullish() }).nullish();

export const postingSchema = z.looseObject({
  posting_number: z.string(),
  order_id: id.optional(),
  order_number: z.string().optional(),
  status: z.string(),
  in_process_at: z.string().nullish(),
  shipment_date: z.string().nullish(),
  products: z.array(postingProductSchema),
  /** FBS: null; rFBS may name the buyer ("phone" is always "") [openapi] */
  customer: person,
  addressee: person,
  cancellation: z.looseObject({ cancel_reason_id: z.number().nullish(), cancellation_type: z.string().nullish() }).nullish(),
});
export type Posting = z.infer<typeof postingSchema>;

export const postingListAnswerSchema = z.looseObject({
  result: z.looseObject({ postings: z.array(postingSchema), has_next: z.boolean() }),
});
export const postingAnswerSchema = z.looseObject({ result: postingSchema });
export const shipAnswerSchema = z.looseObject({ result: z.array(z.string()) });
export const cancelAnswerSchema = z.looseObject({ result: z.boolean() });

const itemErrors = z.array(z.looseObject({ code: z.string(), message: z.string().optional() })).default([]);
export const stocksAnswerSchema = z.looseObject({
  result: z.array(
    z.looseObject({
      offer_id: z.string().optional(),
      product_id: id.optional(),
      warehouse_id: id.optional(),
      updated: z.boolean(),
      errors: itemErrors,
    }),
  ),
});
export const pricesAnswerSchema = z.looseObject({
  result: z.array(z.looseObject({ offer_id: z.string().optional(), product_id: id.optional(), updated: z.boolean(), errors: itemErrors })),
});

export const productListAnswerSchema = z.looseObject({
  result: z.looseObject({
    items: z.array(z.looseObject({ offer_id: z.string(), product_id: id, archived: z.boolean().optional() })),
    total: z.number().int().optional(),
    last_id: z.string(),
  }),
});
/** /v3/product/info/list answers `items` at the top, without `result`. [openapi] */
export const productInfoAnswerSchema = z.looseObject({
  items: z.array(z.looseObject({ id: id, offer_id: z.string(), name: z.string() })),
});
export const warehousesAnswerSchema = z.looseObject({
  result: z.array(z.looseObject({ warehouse_id: id, name: z.string(), status: z.string().optional(), is_rfbs: z.boolean().optional() })),
});
