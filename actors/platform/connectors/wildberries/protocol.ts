import { z } from 'zod';

/**
 * Wildberries seller API, the parts the hub uses. One token
 * (`Authorization: <token>`, no scheme) on three hosts: the marketplace API
 * (FBS orders, supplies, stock, warehouses), the prices API and the content
 * API (product cards). Every fact below names its source:
 *
 *  - [fbs]      WB's OpenAPI "Заказы FBS" (orders-fbs), as published in
 *               eslazarev/wildberries-sdk:specs/03-orders-fbs.yaml (snapshot of 2025-12-27)
 *  - [products] WB's OpenAPI "Работа с товарами" (work-with-products),
 *               eslazarev/wildberries-sdk:specs/02-products.yaml (same snapshot)
 *  - [general]  eslazarev/wildberries-sdk:specs/01-general.yaml
 *  - [kb-limits] https://dev.wildberries.ru/knowledge-base/articles/019d49a1-28ca-7735-bf2f-98210695abc7 (token bucket: period, limit, burst)
 *  - [x-ratelimit] the 429 header WB clients read: idx:62068319212, https://habr.com/ru/articles/1020124/comments,
 *               github MissiaL/wildberries-api README ("honors X-Ratelimit-Retry")
 *  - [brief]    shared/protocols/marketplaces-loyalty-marking.md §7
 *
 * Facts that no source gave are marked ASSUMED.
 */

/** The real hosts [fbs] [products] `servers:`. */
export const WB_HOSTS = {
  marketplace: 'https://marketplace-api.wildberries.ru',
  prices: 'https://discounts-prices-api.wildberries.ru',
  content: 'https://content-api.wildberries.ru',
} as const;

export const WB_PATHS = {
  /** GET: every FBS assembly task still `new`, all at once, no paging [fbs] */
  newOrders: '/api/v3/orders/new',
  /** POST {orders:[ids]} (1..1000) → supplierStatus / wbStatus [fbs] */
  orderStatuses: '/api/v3/orders/status',
  /** PATCH, no body → 204; 409 StatusMismatch / StatusChangeNotAllowed [fbs] */
  cancelOrder: (orderId: number) => `/api/v3/orders/${orderId}/cancel`,
  /** POST {name} → 201 {id}; GET ?limit&next → {next, supplies} [fbs] */
  supplies: '/api/v3/supplies',
  /** GET → the supply [fbs] */
  supply: (supplyId: string) => `/api/v3/supplies/${encodeURIComponent(supplyId)}`,
  /**
   * PATCH {orders:[ids]} (1..100) → 204: the orders join the supply and become `confirm`.
   * Replaces the per-order `PATCH /api/v3/supplies/{supplyId}/orders/{orderId}`, deprecated and
   * removed on 18 December [fbs].
   */
  supplyOrders: (supplyId: string) => `/api/marketplace/v3/supplies/${encodeURIComponent(supplyId)}/orders`,
  /** PATCH → 204: closes the supply, its orders become `complete` [fbs] */
  deliverSupply: (supplyId: string) => `/api/v3/supplies/${encodeURIComponent(supplyId)}/deliver`,
  /** PUT {stocks:[{chrtId, amount}]} → 204; POST {chrtIds} reads them back [products] */
  stocks: (warehouseId: number) => `/api/v3/stocks/${warehouseId}`,
  /** GET → the seller's warehouses [products] */
  warehouses: '/api/v3/warehouses',
  /** POST {data:[{nmID, price, discount}]} on the prices host [products] */
  priceUpload: '/api/v2/upload/task',
  /** POST {settings:{cursor, filter}} on the content host [products] */
  cardsList: '/content/v2/get/cards/list',
} as const;

/** The documented maxima of one call. */
export const WB_BATCH = {
  /** `stocks` maxItems 1000 [products] */
  stocks: 1000,
  /** "Максимум 1 000 товаров" in one upload [products] (the 400 text says 10 000; the description says to read 1000) */
  prices: 1000,
  /** `orders` maxItems 1000 [fbs] */
  statuses: 1000,
  /** "добавляет до 100 сборочных заданий" [fbs] */
  supplyOrders: 100,
  /** `limit` maximum 1000 for the supplies list [fbs] */
  supplies: 1000,
  /** "Чтобы получить больше 100 карточек ... используйте пагинацию" [products] */
  cards: 100,
} as const;

/** The largest stock amount one item may be given (`amount` maximum 100000; more is 409 UploadDataLimit) [products]. */
export const WB_MAX_STOCK_AMOUNT = 100_000;
/** The longest supply name [fbs]. */
export const WB_SUPPLY_NAME_MAX = 128;

/**
 * Rate limits per seller account, per category of methods [fbs] [products] [kb-limits]. WB counts
 * a request answered 409 as 10 [fbs].
 */
export const WB_RATE_LIMITS = {
  /** FBS orders, supplies, seller warehouses, stock: 300 a minute, burst 20 */
  marketplace: { limit: 300, windowMs: 60_000, burst: 20 },
  /** the cancel call alone: 100 a minute, burst 20 */
  cancel: { limit: 100, windowMs: 60_000, burst: 20 },
  /** every method of "Цены и скидки": 10 per 6 seconds, burst 5 */
  prices: { limit: 10, windowMs: 6_000, burst: 5 },
  /** every method of "Контент" (cards list included): 100 a minute, burst 5 */
  content: { limit: 100, windowMs: 60_000, burst: 5 },
} as const;
export type WbRateCategory = keyof typeof WB_RATE_LIMITS;

/**
 * The 429's wait header. WB clients read `X-Ratelimit-Retry` (seconds) [x-ratelimit]; whether WB also sends
 * `Retry-After` is not documented in the sources (ASSUMED not) — the kit honours only `Retry-After`.
 */
export const WB_RETRY_HEADER = 'x-ratelimit-retry';

/** ISO 4217 numeric code of the rouble, the hub's currency at WB [fbs] (`convertedCurrencyCode` example 643). */
export const RUB_NUMERIC_CODE = 643;

// ---------------------------------------------------------------------------------------------
// statuses [fbs] `/api/v3/orders/status`

/** Set by the seller's own actions. */
export const WB_SUPPLIER_STATUSES = ['new', 'confirm', 'complete', 'cancel'] as const;
/** WB's own. */
export const WB_STATUSES = [
  'waiting',
  'sorted',
  'sold',
  'canceled',
  'canceled_by_client',
  'declined_by_client',
  'defect',
  'ready_for_pickup',
  'postponed_delivery',
  'accepted_by_carrier',
  'sent_to_carrier',
] as const;
export type WbSupplierStatus = (typeof WB_SUPPLIER_STATUSES)[number];
export type WbStatus = (typeof WB_STATUSES)[number];

/**
 * wbStatus values that end the order unsold: cancelled by WB, by the buyer at pick-up, by the
 * buyer within the first hour (declined), or for a defect [fbs].
 */
export const WB_CANCELLED_STATUSES: ReadonlySet<string> = new Set(['canceled', 'canceled_by_client', 'declined_by_client', 'defect']);
/** wbStatus of an order the buyer received [fbs]. */
export const WB_SOLD_STATUS = 'sold';

/** Cargo types of an order and a supply: 1 small, 2 oversize (СГТ), 3 large (КГТ+) [fbs]. */
export const WB_CARGO_TYPES = [1, 2, 3] as const;

// ---------------------------------------------------------------------------------------------
// error bodies

/** The marketplace API's error: `{code, message, data?}` [fbs] `Error`, with the codes of its examples. */
export const marketplaceErrorSchema = z.looseObject({ code: z.string().min(1), message: z.string(), data: z.unknown().optional() });
export const WB_ERROR_CODES = {
  incorrectRequestBody: 'IncorrectRequestBody',
  incorrectRequest: 'IncorrectRequest',
  incorrectParameter: 'IncorrectParameter',
  notFound: 'NotFound',
  accessDenied: 'AccessDenied',
  statusMismatch: 'StatusMismatch',
  statusChangeNotAllowed: 'StatusChangeNotAllowed',
  failedToAddSupplyOrder: 'FailedToAddSupplyOrder',
  supplyHasZeroOrders: 'SupplyHasZeroOrders',
  /** ASSUMED: the code for delivering a supply that is already closed (not among the published examples) */
  supplyNotActive: 'SupplyNotActive',
  uploadDataLimit: 'UploadDataLimit',
  storeIsProcessing: 'StoreIsProcessing',
} as const;

/** The stock update's 409: an array of `{code, message, data: [{sku, amount}]}` [products] `StocksWarehouseError`. */
export const stocksConflictItemSchema = z.looseObject({
  /** the barcode in the published examples; ASSUMED `chrtId` since the barcode key was switched off */
  sku: z.string().optional(),
  chrtId: z.number().int().optional(),
  amount: z.number().optional(),
});
export const stocksConflictSchema = z.array(
  z.looseObject({ code: z.string().min(1), message: z.string().optional(), data: z.array(stocksConflictItemSchema).nullish() }),
);
export type WbStocksConflict = z.infer<typeof stocksConflictSchema>;

/** The prices and content APIs' error: `{data: null, error: true, errorText}` [products] `ResponseError`. */
export const flagErrorSchema = z.looseObject({
  data: z.unknown().optional(),
  error: z.literal(true),
  errorText: z.string(),
  additionalErrors: z.unknown().optional(),
});

/** The gateway's 401 / 429 / unknown path: `{title, detail, code, requestId, origin, status, statusText, timestamp}` [fbs] responses 401, 429. */
export const gatewayErrorSchema = z.looseObject({
  title: z.string(),
  detail: z.string().optional(),
  code: z.string().optional(),
  requestId: z.string().optional(),
  origin: z.string().optional(),
  status: z.number(),
  statusText: z.string().optional(),
  timestamp: z.string().optional(),
});

/**
 * The price upload's refusals (HTTP 400, `errorText`) [products] examples, under the names the examples
 * carry: the text is all WB gives, so the name is our stable code.
 */
export const WB_PRICE_ERRORS = {
  UploadLimitExceeded: 'Upload limit exceeded: You can upload a maximum of 10 000 items',
  DuplicateItemNos: 'Duplicate item Nos.',
  TheSpecifiedPricesAndDiscountsAreAlreadySet: 'The specified prices and discounts are already set',
  TheSpecifiedPricesAreAlreadySet: 'The specified prices are already set',
  InvalidDataFormat: 'Invalid data format',
  PriceShouldBeAWholeNumber: 'Price should be a whole number',
  InvalidPriceValue: 'Invalid price value',
  InvalidDiscountValue: 'Invalid discount value',
  InvalidItemNo: 'Invalid item No.',
  PriceAndDiscountNotSpecified: 'Price and discount not specified',
  EmptyData: 'Empty data',
  AllItemNosAreSpecifiedIncorrectlyOrPricesAndDiscounts:
    'All item Nos. are specified incorrectly, or the specified prices and discounts are already set',
  UnexpectedResult: 'Unexpected result',
  AccessDenied: 'Access denied',
} as const;
export type WbPriceErrorCode = keyof typeof WB_PRICE_ERRORS;

/** The stable code of a price refusal's text (`PriceUploadRefused` for a text the examples do not have). */
export function priceErrorCode(errorText: string): string {
  const known = Object.entries(WB_PRICE_ERRORS).find(([, text]) => text === errorText.trim());
  return known ? known[0] : 'PriceUploadRefused';
}

/** Refusals that mean "nothing to change": a repeated upload of the same prices. */
export const PRICES_ALREADY_SET: ReadonlySet<string> = new Set([
  'TheSpecifiedPricesAndDiscountsAreAlreadySet',
  'TheSpecifiedPricesAreAlreadySet',
]);

// ---------------------------------------------------------------------------------------------
// orders [fbs] `OrderNew`

/**
 * One assembly task: ONE unit of one size (WB splits a buyer's cart into tasks sharing `orderUid`).
 * Prices are integers ×100: `price` in the sale currency (`currencyCode`), `convertedPrice` in the
 * seller's currency (`convertedCurrencyCode`, 643 for a Russian seller), both after every discount
 * but the WB Wallet's.
 */
export const wbOrderSchema = z.looseObject({
  id: z.number().int().positive(),
  rid: z.string().optional(),
  orderUid: z.string().optional(),
  createdAt: z.string().min(1),
  warehouseId: z.number().int().positive(),
  officeId: z.number().int().optional(),
  nmId: z.number().int().positive(),
  chrtId: z.number().int().optional(),
  article: z.string().optional(),
  /** barcodes of the size */
  skus: z.array(z.string()).min(1),
  price: z.number().int(),
  convertedPrice: z.number().int().optional(),
  currencyCode: z.number().int().optional(),
  convertedCurrencyCode: z.number().int().optional(),
  cargoType: z.number().int().optional(),
  deliveryType: z.string().optional(),
  comment: z.string().optional(),
});
export type WbOrder = z.infer<typeof wbOrderSchema>;

export const newOrdersAnswerSchema = z.looseObject({ orders: z.array(wbOrderSchema) });

export const orderStatusesRequestSchema = z.object({ orders: z.array(z.number().int().positive()).min(1).max(WB_BATCH.statuses) }).strict();
export const orderStatusSchema = z.looseObject({
  id: z.number().int(),
  /** kept as text: a value WB adds later is read as "open", not as a broken answer */
  supplierStatus: z.string(),
  wbStatus: z.string(),
});
export type WbOrderStatus = z.infer<typeof orderStatusSchema>;
export const orderStatusesAnswerSchema = z.looseObject({ orders: z.array(orderStatusSchema) });

// ---------------------------------------------------------------------------------------------
// supplies [fbs]

export const createSupplyRequestSchema = z.object({ name: z.string().min(1).max(WB_SUPPLY_NAME_MAX) }).strict();
export const supplyCreatedSchema = z.looseObject({ id: z.string().min(1) });
export const supplySchema = z.looseObject({
  id: z.string().min(1),
  done: z.boolean(),
  name: z.string(),
  createdAt: z.string().optional(),
  closedAt: z.string().nullish(),
  cargoType: z.number().int().nullish(),
});
export type WbSupply = z.infer<typeof supplySchema>;
export const suppliesPageSchema = z.looseObject({ next: z.number().int(), supplies: z.array(supplySchema) });
export const supplyOrdersRequestSchema = z
  .object({ orders: z.array(z.number().int().positive()).min(1).max(WB_BATCH.supplyOrders) })
  .strict();

// ---------------------------------------------------------------------------------------------
// stock [products]

/**
 * One stock level, keyed by the size's `chrtId`: the barcode key (`sku`) was switched off on
 * 9 February (release note 386) [products]; WB does not validate key names, so a request still
 * keyed by `sku` answers 204 and changes nothing — hence the strict schema.
 */
export const stockItemSchema = z
  .object({ chrtId: z.number().int().positive(), amount: z.number().int().min(0).max(WB_MAX_STOCK_AMOUNT) })
  .strict();
export const stocksRequestSchema = z.object({ stocks: z.array(stockItemSchema).min(1).max(WB_BATCH.stocks) }).strict();
export type WbStockItem = z.infer<typeof stockItemSchema>;
export const stocksReadRequestSchema = z.object({ chrtIds: z.array(z.number().int().positive()).min(1).max(WB_BATCH.stocks) }).strict();
export const stocksReadAnswerSchema = z.looseObject({
  stocks: z.array(z.looseObject({ chrtId: z.number().int(), amount: z.number().int(), sku: z.string().optional() })),
});

export const warehouseSchema = z.looseObject({
  id: z.number().int().positive(),
  name: z.string(),
  officeId: z.number().int().optional(),
  cargoType: z.number().int().optional(),
  /** 1 FBS (to a WB warehouse), 2 DBS, 3 DBW, 5 click & collect */
  deliveryType: z.number().int().optional(),
});
export type WbWarehouse = z.infer<typeof warehouseSchema>;
export const warehousesAnswerSchema = z.array(warehouseSchema);
export const WB_FBS_DELIVERY_TYPE = 1;

// ---------------------------------------------------------------------------------------------
// prices [products] `SupplierTaskRequest` / `TaskCreated`

/** Whole units of the goods' currency; `discount` in percent. Price and discount may not both be missing. */
export const priceItemSchema = z
  .object({
    nmID: z.number().int().positive(),
    price: z.number().int().positive().optional(),
    discount: z.number().int().min(0).max(99).optional(),
  })
  .strict();
export const priceUploadRequestSchema = z.object({ data: z.array(priceItemSchema).min(1).max(WB_BATCH.prices) }).strict();
export type WbPriceItem = z.infer<typeof priceItemSchema>;
/** 200 (a new upload) or 208 (the same upload exists: `alreadyExists: true`) */
export const priceUploadAnswerSchema = z.looseObject({
  data: z.looseObject({ id: z.number().int(), alreadyExists: z.boolean().optional() }).nullable(),
  error: z.boolean(),
  errorText: z.string(),
});

// ---------------------------------------------------------------------------------------------
// product cards [products] `/content/v2/get/cards/list`

export const cardsCursorSchema = z.object({
  limit: z.number().int().min(1).max(WB_BATCH.cards),
  updatedAt: z.string().optional(),
  nmID: z.number().int().optional(),
});
export const cardsListRequestSchema = z
  .object({
    settings: z
      .object({
        sort: z.object({ ascending: z.boolean() }).strict().optional(),
        filter: z
          .object({
            withPhoto: z.union([z.literal(-1), z.literal(0), z.literal(1)]),
            textSearch: z.string().optional(),
            tagIDs: z.array(z.number().int()).optional(),
            objectIDs: z.array(z.number().int()).optional(),
            brands: z.array(z.string()).optional(),
            imtID: z.number().int().optional(),
            allowedCategoriesOnly: z.boolean().optional(),
          })
          .strict(),
        cursor: cardsCursorSchema.strict(),
      })
      .strict(),
  })
  .strict();
export type WbCardsListRequest = z.infer<typeof cardsListRequestSchema>;

export const cardSizeSchema = z.looseObject({
  chrtID: z.number().int().positive(),
  techSize: z.string().optional(),
  skus: z.array(z.string()),
});
export const cardSchema = z.looseObject({
  nmID: z.number().int().positive(),
  vendorCode: z.string(),
  title: z.string().optional(),
  subjectName: z.string().optional(),
  sizes: z.array(cardSizeSchema),
  updatedAt: z.string().optional(),
});
export type WbCard = z.infer<typeof cardSchema>;
export const cardsListAnswerSchema = z.looseObject({
  cards: z.array(cardSchema),
  cursor: z.looseObject({ updatedAt: z.string().optional(), nmID: z.number().int().optional(), total: z.number().int() }),
});

/** The connection test's cheap call: the seller's warehouses (the `/ping` methods allow 3 calls per 30 s [general]). */
export const CONNECTION_TEST_PATH = WB_PATHS.warehouses;
