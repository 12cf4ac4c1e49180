import type { z } from 'zod';
import type { CallContext, ConnectorHttp } from '../kit/definition.ts';
import { parseAnswer } from '../kit/parse.ts';
import { KIT_ERROR_CODES } from '../kit/errors.ts';
import { RateLimitExceeded, TokenBucket } from '../kit/rate-limit.ts';
import {
  cancelAnswerSchema,
  cancelRequestSchema,
  OZON_HEADERS,
  OZON_LIMITS,
  OZON_PATHS,
  postingAnswerSchema,
  postingGetRequestSchema,
  postingListAnswerSchema,
  postingListRequestSchema,
  pricesAnswerSchema,
  pricesRequestSchema,
  productInfoAnswerSchema,
  productInfoRequestSchema,
  productListAnswerSchema,
  productListRequestSchema,
  shipAnswerSchema,
  shipRequestSchema,
  stocksAnswerSchema,
  stocksRequestSchema,
  warehousesAnswerSchema,
  type CancelRequest,
  type Posting,
  type PostingListRequest,
  type PriceItem,
  type ProductListRequest,
  type ShipRequest,
  type StockItem,
} from './protocol.ts';

export type OzonCredentials = { clientId: string; apiKey: string };

/** How long a stock update may wait for its per-minute slot before failing (rate_limited, retryable). */
const STOCK_SLOT_MAX_WAIT_MS = 120_000;
/** Requests a stock push may send at once; the rest are spread so that any minute holds at most the limit. */
const STOCK_BURST = 10;

/**
 * Typed client of the Ozon Seller API. Every call is a POST with `Client-Id` and `Api-Key`; an error is a
 * non-2xx answer with `{code, message, details}`, which the kit maps through the connector's describeError.
 * Stock updates have their own limit (80 a minute per seller) besides the 50 a second of every method: the
 * client paces them with a bucket of its own.
 */
export class OzonClient {
  private readonly stockSlots: TokenBucket;

  constructor(
    private readonly http: ConnectorHttp,
    private readonly credentials: OzonCredentials,
    options: { stockRequestsPerMinute?: number } = {},
  ) {
    const perMinute = Math.min(options.stockRequestsPerMinute ?? OZON_LIMITS.stockRequestsPerMinute, OZON_LIMITS.stockRequestsPerMinute);
    const burst = Math.min(STOCK_BURST, Math.max(1, Math.floor(perMinute / 2)));
    // at most `burst` at once plus (perMinute - burst) refilled over a minute: never more than perMinute in any minute
    this.stockSlots = new TokenBucket({ perSecond: (perMinute - burst) / 60 || 1 / 60, burst });
  }

  private post<T>(
    operation: string,
    path: string,
    json: unknown,
    schema: z.ZodType<T>,
    options: { idempotent: boolean; context?: CallContext },
  ): Promise<T> {
    return this.http.call({
      operation,
      method: 'POST',
      path,
      json,
      headers: { [OZON_HEADERS.clientId]: this.credentials.clientId, [OZON_HEADERS.apiKey]: this.credentials.apiKey },
      idempotent: options.idempotent,
      context: options.context,
      parse: (response) => parseAnswer(this.http, schema, response.data, operation, response.status),
    });
  }

  /** One page of FBS postings in a period, oldest first when `dir` is ASC; `has_next` says another page follows. */
  listPostings(request: PostingListRequest, context?: CallContext) {
    return this.post('postings.list', OZON_PATHS.postingsList, postingListRequestSchema.parse(request), postingListAnswerSchema, {
      idempotent: true,
      context,
    }).then((answer) => answer.result);
  }

  /** One posting; a posting Ozon does not know is HTTP 404 (a ConnectorError, not retryable). */
  getPosting(postingNumber: string, context?: CallContext): Promise<Posting> {
    return this.post(
      'postings.get',
      OZON_PATHS.posting,
      postingGetRequestSchema.parse({ posting_number: postingNumber }),
      postingAnswerSchema,
      { idempotent: true, context },
    ).then((answer) => answer.result);
  }

  /** Packs a posting (awaiting_packaging → awaiting_deliver); not repeated by the kit: a second one is refused. */
  ship(request: ShipRequest, context?: CallContext): Promise<string[]> {
    return this.post('postings.ship', OZON_PATHS.ship, shipRequestSchema.parse(request), shipAnswerSchema, {
      idempotent: false,
      context,
    }).then((answer) => answer.result);
  }

  cancel(request: CancelRequest, context?: CallContext): Promise<boolean> {
    return this.post('postings.cancel', OZON_PATHS.cancel, cancelRequestSchema.parse(request), cancelAnswerSchema, {
      idempotent: false,
      context,
    }).then((answer) => answer.result);
  }

  /** Sets absolute stock levels (at most 100 pairs): safe to send again, so the kit retries it after 5xx and 429. */
  async updateStocks(stocks: StockItem[], context?: CallContext) {
    await this.stockSlots.take(STOCK_SLOT_MAX_WAIT_MS, context?.signal).catch((error: unknown) => {
      if (!(error instanceof RateLimitExceeded)) throw error;
      throw this.http.error(KIT_ERROR_CODES.rateLimited, 'ozon stock updates: the per-minute limit is saturated', { retryable: true });
    });
    return this.post('stocks.update', OZON_PATHS.stocks, stocksRequestSchema.parse({ stocks }), stocksAnswerSchema, {
      idempotent: true,
      context,
    }).then((answer) => answer.result);
  }

  /** Sets absolute prices (at most 1000 items): safe to send again. */
  importPrices(prices: PriceItem[], context?: CallContext) {
    return this.post('prices.import', OZON_PATHS.prices, pricesRequestSchema.parse({ prices }), pricesAnswerSchema, {
      idempotent: true,
      context,
    }).then((answer) => answer.result);
  }

  /** One page of the seller's products (`last_id` paging). */
  listProducts(request: ProductListRequest, context?: CallContext) {
    return this.post('products.list', OZON_PATHS.productList, productListRequestSchema.parse(request), productListAnswerSchema, {
      idempotent: true,
      context,
    }).then((answer) => answer.result);
  }

  /** Names (and more) of up to 1000 products by `product_id`. */
  productInfo(productIds: number[], context?: CallContext) {
    return this.post(
      'products.info',
      OZON_PATHS.productInfo,
      productInfoRequestSchema.parse({ product_id: productIds.map(String) }),
      productInfoAnswerSchema,
      { idempotent: true, context },
    ).then((answer) => answer.items);
  }

  /** The seller's FBS and rFBS warehouses (the connection test). */
  warehouses(context?: CallContext) {
    return this.post('warehouses.list', OZON_PATHS.warehouses, {}, warehousesAnswerSchema, { idempotent: true, context }).then(
      (answer) => answer.result,
    );
  }
}
