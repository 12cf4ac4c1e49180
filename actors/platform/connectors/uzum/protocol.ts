import { z } from 'zod';

/**
 * Uzum Market seller OpenAPI (FBS), as far as public material shows it. Every shape we send or read lives here,
 * so correcting a fact against Uzum's own swagger is a change of this file only.
 *
 * Sources (see ../shared/protocols/marketplaces-loyalty-marking.md §7):
 * - [swagger] copies of Uzum's own swagger pages (`source: api-seller.uzum.uz/api/seller-openapi/swagger/...`):
 *   GET /v2/fbs/orders [idx:69710675801], POST /v1/fbs/order/{id}/confirm [idx:69520099314],
 *   POST /v1/fbs/order/{id}/cancel [idx:69535938417], GET /v1/fbs/order/return-reasons [idx:69726540398],
 *   GET /v2/fbs/sku/stocks (deprecated for v3) [idx:69539703430], POST /v1/product/{shopId}/sendPriceData
 *   [idx:69889215990], GET /v1/product/shop/{shopId} [idx:69412809736].
 * - [clients] public clients that call the live API: a Python wrapper checked against the swagger and live
 *   answers [idx:66605702733], an endpoint reference written from a live shop [idx:66546551875], others named inline.
 * - ASSUMED: not found in either; the most plausible value, to be checked against the live API.
 */

/** The seller OpenAPI's base URL [idx:11030002541; idx:66605702733]. */
export const UZUM_BASE_URL = 'https://api-seller.uzum.uz/api/seller-openapi';

export const UZUM_PATHS = {
  shops: '/v1/shops',
  orders: '/v2/fbs/orders',
  ordersCount: '/v2/fbs/orders/count',
  order: (id: number) => `/v1/fbs/order/${id}`,
  confirm: (id: number) => `/v1/fbs/order/${id}/confirm`,
  cancel: (id: number) => `/v1/fbs/order/${id}/cancel`,
  returnReasons: '/v1/fbs/order/return-reasons',
  /** POST only on v2: there is no POST on v3 [idx:57120789176; idx:66605702733] */
  stocksUpdate: '/v2/fbs/sku/stocks',
  /** the paged read that replaced the deprecated GET /v2/fbs/sku/stocks [idx:69539703430; idx:66605702733] */
  stocksRead: '/v3/fbs/sku/stocks',
  prices: (shopId: number) => `/v1/product/${shopId}/sendPriceData`,
  products: (shopId: number) => `/v1/product/shop/${shopId}`,
} as const;

/**
 * `Authorization: <token>`: the raw token from the seller cabinet, no scheme; `Bearer <token>` is refused with
 * `forbidden-001` "Token not found" [idx:66605702733; idx:11030002541].
 */
export const AUTH_HEADER = 'Authorization';

// ---- limits ----

/** `size` of GET /v2/fbs/orders: at most 50, more is refused [swagger idx:69710675801; idx:66605702733]. */
export const ORDERS_PAGE_MAX = 50;
/** `size` of GET /v3/fbs/sku/stocks: 1..100, more answers 400 [idx:66605702733]. */
export const STOCKS_PAGE_MAX = 100;
/** ASSUMED: the stock update's documented maximum was not found; 100 matches the read page and a client's chunks [idx:71210345135]. */
export const STOCK_BATCH_MAX = 100;
/** ASSUMED: sendPriceData takes one product's SKUs; no maximum was found. */
export const PRICE_BATCH_MAX = 100;
/** ASSUMED: no maximum page size was found for GET /v1/product/shop/{shopId}; clients use 100 [idx:66546551875]. */
export const PRODUCTS_PAGE_MAX = 100;
/** fullPrice and sellPrice bounds, whole soums [idx:66546551875, quoting the spec]. */
export const PRICE_MIN_SOUMS = 1;
export const PRICE_MAX_SOUMS = 999_999_000;

/**
 * ASSUMED rate: Uzum runs a token bucket per token and reports it in `X-RateLimit-Replenish-Rate` /
 * `X-RateLimit-Burst-Capacity` headers [idx:66605702733], but the numbers are not published; public clients pace
 * 1-3 requests a second [idx:66605702733; idx:71210345135; idx:39163903695]. We stay at 3 a second, burst 3.
 */
export const UZUM_RATE = { perSecond: 3, burst: 3 } as const;

// ---- statuses and codes ----

/** Order statuses, in lifecycle order [swagger idx:69710675801; idx:66605702733]. */
export const ORDER_STATUSES = [
  'CREATED',
  'PACKING',
  'PENDING_DELIVERY',
  'DELIVERING',
  'DELIVERED',
  'ACCEPTED_AT_DP',
  'DELIVERED_TO_CUSTOMER_DELIVERY_POINT',
  'COMPLETED',
  'CANCELED',
  'PENDING_CANCELLATION',
  'RETURNED',
] as const;
export type UzumOrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDER_SCHEMES = ['FBS', 'DBS', 'FBO'] as const;

/** Order item statuses [swagger idx:69710675801]. */
export const ORDER_ITEM_STATUSES = ['TO_WITHDRAW', 'PROCESSING', 'CANCELED', 'PARTIALLY_CANCELLED'] as const;

/** The cancel body's `reason` enum [swagger idx:69535938417]. */
export const CANCEL_REASONS = [
  'OUT_OF_STOCK',
  'OUT_OF_PACKAGE',
  'OUT_OF_TIME',
  'OTHER',
  'ACCEPTANCE_TIME_EXPIRED',
  'DELIVERY_TIME_EXPIRED',
  'RETURNED_BY_CUSTOMER',
  'CANCELED_BY_CUSTOMER',
  'MARKET_REASON',
] as const;
export type UzumCancelReason = (typeof CANCEL_REASONS)[number];

/**
 * The reasons a seller may choose: the live return-reasons list has only these four; the others are set by Uzum
 * itself [idx:66546551875]. ASSUMED: a cancel with another reason is refused like an unknown one (seller-order-12).
 */
export const SELLER_CANCEL_REASONS = [
  'OUT_OF_STOCK',
  'OUT_OF_PACKAGE',
  'OUT_OF_TIME',
  'OTHER',
] as const satisfies readonly UzumCancelReason[];

/** Error codes of the calls we make [swagger idx:69520099314; idx:69535938417; idx:66605702733; idx:68905366297]. */
export const UZUM_ERROR_CODES = {
  /** wrong, missing or Bearer-prefixed token; also a shop the token may not touch ("Shop is not available") */
  forbidden: 'forbidden-001',
  /** a request the gateway refuses as malformed (seen for a bad `size`) [idx:66605702733] */
  badRequest: 'bad-request-001',
  orderNotFound: 'seller-order-01',
  /** the order's status does not allow the action (confirm of a non-new order, cancel after handover) */
  wrongStatus: 'seller-order-02',
  /** the confirmation deadline (acceptUntil) has passed */
  confirmDeadlinePassed: 'seller-order-03',
  /** a cancel reason outside the enum; also dateTo before dateFrom on the orders list */
  invalidReason: 'seller-order-12',
  alreadyCancelled: 'seller-order-13',
  /** stock update validation / update failed / seller blocked [idx:66605702733] */
  stockValidation: 'storage-service-05',
  stockUpdateFailed: 'storage-service-09',
  sellerBlocked: 'storage-service-04',
  /** the token lacks a permission (SKU_READ, SKU_UPDATE) [idx:69539703430] */
  accessDenied: 'fbs-2-seller-access-denied',
  /** sendPriceData refused: the SKU takes part in an Uzum promotion [idx:68905366297] */
  skuInPromo: 'sku-price-001',
  /** ASSUMED: the code of a 429 answer was not found */
  tooManyRequests: 'too-many-requests',
  /** ASSUMED: the code of an unknown path */
  notFound: 'not-found',
} as const;

// ---- the envelope ----

/** One entry of `errors[]`: code and message required, detailMessage and payload optional [swagger]. */
export const uzumErrorSchema = z.looseObject({
  code: z.string(),
  message: z.string(),
  detailMessage: z.string().nullish(),
  payload: z.unknown().optional(),
});

/** `{payload, errors, timestamp, trace, error}` around most answers [swagger idx:69710675801]. */
export function envelopeSchema<T extends z.ZodType>(payload: T) {
  return z.looseObject({
    payload,
    errors: z.array(uzumErrorSchema).nullish(),
    timestamp: z.string().nullish(),
    trace: z.string().nullish(),
    error: z.string().nullish(),
  });
}

/** An error answer: at least one entry in `errors`. */
export const uzumErrorBodySchema = z.looseObject({ errors: z.array(uzumErrorSchema).min(1) });

// ---- orders ----

/**
 * A time as Uzum writes it: the swagger says date-time, clients reading live answers see Unix epoch milliseconds
 * [idx:66546551875; idx:71210345135]. Both are read into an ISO string.
 */
export const uzumTime = z.union([z.number().int(), z.string()]).transform((value, ctx) => {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'not a time' });
    return z.NEVER;
  }
  return at.toISOString();
});

/** Whole soums: the API's money is integer<int64> [swagger]. */
export const soums = z.number().int().nonnegative();

/**
 * An order line. The swagger copy lists no skuId here, but public clients read `skuId` from live order items
 * [idx:66546551875; idx:71210345135] (and it is in the invoice's order items [idx:66605702733]): it names the SKU.
 * ASSUMED: `sellerPrice` is the price of one unit (what the seller is paid before commission), in whole soums.
 */
export const orderItemSchema = z.looseObject({
  id: z.number().int(),
  status: z.string().nullish(),
  orderId: z.number().int().nullish(),
  skuId: z.number().int().positive(),
  barcode: z.union([z.string(), z.number()]).nullish(),
  skuTitle: z.string().nullish(),
  productTitle: z.string().nullish(),
  productId: z.number().int().nullish(),
  sellerSkuCode: z.string().nullish(),
  sellerPrice: soums,
  amount: z.number().int().positive(),
});
export type UzumOrderItem = z.infer<typeof orderItemSchema>;

export const orderSchema = z.looseObject({
  id: z.number().int().positive(),
  status: z.enum(ORDER_STATUSES),
  scheme: z.enum(ORDER_SCHEMES).nullish(),
  shopId: z.number().int().nullish(),
  dateCreated: uzumTime,
  acceptUntil: uzumTime.nullish(),
  deliverUntil: uzumTime.nullish(),
  cancelReason: z.string().nullish(),
  price: soums.nullish(),
  orderItems: z.array(orderItemSchema),
  deliveryInfo: z
    .looseObject({
      deliveryAddress: z.string().nullish(),
      customerFullname: z.string().nullish(),
      customerPhone: z.string().nullish(),
      deliveryComment: z.string().nullish(),
    })
    .nullish(),
});
export type UzumOrder = z.infer<typeof orderSchema>;

/** GET /v2/fbs/orders: `payload.orders` and `payload.totalAmount` [swagger idx:69710675801]. */
export const ordersAnswerSchema = envelopeSchema(
  z.looseObject({ orders: z.array(orderSchema), totalAmount: z.number().int().nonnegative().nullish() }),
);
export const orderAnswerSchema = envelopeSchema(orderSchema);
/** GET /v2/fbs/orders/count: `payload` is the number [idx:66605702733]. */
export const countAnswerSchema = envelopeSchema(z.number().int().nonnegative());

export interface OrdersQuery {
  status?: UzumOrderStatus;
  scheme?: 'FBS' | 'DBS';
  /** from 0 */
  page: number;
  size: number;
}

/** The cancel body [swagger idx:69535938417]: reason required, comment optional. */
export const cancelBodySchema = z.object({ reason: z.enum(CANCEL_REASONS), comment: z.string().max(1000).optional() }).strict();
export type UzumCancelBody = z.infer<typeof cancelBodySchema>;
/** The cancel answer's payload is an object, usually empty [swagger; idx:66605702733]. */
export const cancelAnswerSchema = envelopeSchema(z.unknown());

export const returnReasonsAnswerSchema = envelopeSchema(
  z.looseObject({ reasons: z.array(z.looseObject({ reason: z.string(), title: z.string().nullish() })) }),
);

// ---- stocks ----

/**
 * One stock row of POST /v2/fbs/sku/stocks: `barcode` and `amount` are required, the rest optional
 * ("для обновления необязательное поле") [swagger idx:69539703430; idx:57120789176].
 */
export const stockItemSchema = z
  .object({
    skuId: z.number().int().positive().optional(),
    skuTitle: z.string().optional(),
    productTitle: z.string().optional(),
    barcode: z.string().min(1),
    amount: z.number().int().nonnegative(),
    sellerSkuCode: z.string().optional(),
    fbsAllowed: z.boolean().optional(),
    dbsAllowed: z.boolean().optional(),
    fbsLinked: z.boolean().optional(),
    dbsLinked: z.boolean().optional(),
  })
  .strict();
export type UzumStockItem = z.infer<typeof stockItemSchema>;

export const stockUpdateBodySchema = z.object({ skuAmountList: z.array(stockItemSchema).min(1) }).strict();
export type UzumStockUpdate = z.infer<typeof stockUpdateBodySchema>;

/** ASSUMED: the update's answer was not found; read as the envelope with any payload (`updatedRecords` in the sandbox). */
export const stockUpdateAnswerSchema = envelopeSchema(z.unknown());

/** A row of the stock read [swagger idx:69539703430]. */
export const stockRowSchema = z.looseObject({
  skuId: z.number().int(),
  skuTitle: z.string().nullish(),
  productTitle: z.string().nullish(),
  barcode: z.union([z.string(), z.number()]).transform(String),
  amount: z.number().int(),
  fbsAllowed: z.boolean().nullish(),
  dbsAllowed: z.boolean().nullish(),
  fbsLinked: z.boolean().nullish(),
  dbsLinked: z.boolean().nullish(),
  sellerSkuCode: z.string().nullish(),
});
export const stocksAnswerSchema = envelopeSchema(z.looseObject({ skuAmountList: z.array(stockRowSchema) }));

// ---- prices ----

const priceSoums = z.number().int().min(PRICE_MIN_SOUMS).max(PRICE_MAX_SOUMS);

/**
 * The body of sendPriceData [swagger idx:69889215990]: one product and its SKUs; only skuId is marked required.
 * fullPrice is the crossed-out price, sellPrice the price the buyer pays [idx:66546551875]. Clients group the SKUs
 * by product, one call each [idx:39163903695; idx:71210345135]. (Some clients wrap items in `priceData`; the
 * swagger copy does not.)
 */
export const priceBodySchema = z
  .object({
    productId: z.number().int().positive(),
    skuList: z
      .array(
        z
          .object({
            skuId: z.number().int().positive(),
            skuTitle: z.string().optional(),
            fullPrice: priceSoums.optional(),
            sellPrice: priceSoums.optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
export type UzumPriceUpdate = z.infer<typeof priceBodySchema>;

// ---- shops and products ----

/** GET /v1/shops: a bare array of `{id, name}` [idx:66546551875; idx:11030002541]. */
export const shopsAnswerSchema = z.array(z.looseObject({ id: z.number().int().positive(), name: z.string().nullish() }));
export type UzumShop = z.infer<typeof shopsAnswerSchema>[number];

/** A SKU of the catalogue [swagger idx:69412809736]: `barcode` is an integer<int64> there. */
export const productSkuSchema = z.looseObject({
  skuId: z.number().int().positive(),
  skuTitle: z.string().nullish(),
  skuFullTitle: z.string().nullish(),
  productTitle: z.string().nullish(),
  barcode: z
    .union([z.string(), z.number().int()])
    .nullish()
    .transform((value) => (value === null || value === undefined || value === '' ? null : String(value))),
  price: z.number().int().nullish(),
  quantityFbs: z.number().int().nullish(),
  sellerItemCode: z.string().nullish(),
  article: z.string().nullish(),
  archived: z.boolean().nullish(),
  blocked: z.boolean().nullish(),
});
export type UzumProductSku = z.infer<typeof productSkuSchema>;

/** GET /v1/product/shop/{shopId}: no envelope, `productList` and `totalProductsAmount` [swagger idx:69412809736; idx:66546551875]. */
export const productsAnswerSchema = z.looseObject({
  productList: z.array(
    z.looseObject({ productId: z.number().int().positive(), title: z.string().nullish(), skuList: z.array(productSkuSchema).nullish() }),
  ),
  totalProductsAmount: z.number().int().nonnegative().nullish(),
});
export type UzumProductsPage = z.infer<typeof productsAnswerSchema>;
