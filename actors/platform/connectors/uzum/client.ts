import type { z } from 'zod';
import type { CallContext, ConnectorHttp, RawResponse } from '../kit/definition.ts';
import { partnerErrorCode } from '../kit/errors.ts';
import { parseAnswer } from '../kit/parse.ts';
import {
  AUTH_HEADER,
  cancelAnswerSchema,
  cancelBodySchema,
  countAnswerSchema,
  orderAnswerSchema,
  ordersAnswerSchema,
  ORDERS_PAGE_MAX,
  priceBodySchema,
  productsAnswerSchema,
  PRODUCTS_PAGE_MAX,
  returnReasonsAnswerSchema,
  shopsAnswerSchema,
  stocksAnswerSchema,
  STOCKS_PAGE_MAX,
  stockUpdateAnswerSchema,
  stockUpdateBodySchema,
  UZUM_ERROR_CODES,
  UZUM_PATHS,
  uzumErrorBodySchema,
  type OrdersQuery,
  type UzumCancelBody,
  type UzumOrder,
  type UzumOrderStatus,
  type UzumPriceUpdate,
  type UzumProductsPage,
  type UzumShop,
  type UzumStockUpdate,
} from './protocol.ts';

export type UzumCredentials = { apiToken: string };

/** Uzum's own codes as the hub's ConnectorError codes. */
export const UZUM_CONNECTOR_CODES = {
  forbidden: partnerErrorCode(UZUM_ERROR_CODES.forbidden),
  orderNotFound: partnerErrorCode(UZUM_ERROR_CODES.orderNotFound),
  wrongStatus: partnerErrorCode(UZUM_ERROR_CODES.wrongStatus),
  confirmDeadlinePassed: partnerErrorCode(UZUM_ERROR_CODES.confirmDeadlinePassed),
  invalidReason: partnerErrorCode(UZUM_ERROR_CODES.invalidReason),
  alreadyCancelled: partnerErrorCode(UZUM_ERROR_CODES.alreadyCancelled),
  stockValidation: partnerErrorCode(UZUM_ERROR_CODES.stockValidation),
  skuInPromo: partnerErrorCode(UZUM_ERROR_CODES.skuInPromo),
  badRequest: partnerErrorCode(UZUM_ERROR_CODES.badRequest),
} as const;

/**
 * Typed client of the Uzum seller OpenAPI. Every call carries the raw token; answers are parsed with the
 * protocol's schemas; an `errors[]` entry inside a 2xx answer is a refusal like a 4xx one.
 */
export class UzumClient {
  constructor(
    private readonly http: ConnectorHttp,
    private readonly credentials: UzumCredentials,
    /** the shop whose orders, prices and products the calls are about (stock is the token's) */
    readonly shopId: number,
  ) {}

  private get headers(): Record<string, string> {
    return { [AUTH_HEADER]: this.credentials.apiToken };
  }

  /** The answer parsed; a business error inside a 2xx answer thrown with Uzum's code, not retryable. */
  private read<T>(response: RawResponse, schema: z.ZodType<T>, operation: string): T {
    const refused = uzumErrorBodySchema.safeParse(response.data);
    if (refused.success) {
      const [first] = refused.data.errors;
      if (first) throw this.http.error(partnerErrorCode(first.code), first.message, { status: response.status });
    }
    return parseAnswer(this.http, schema, response.data, operation, response.status);
  }

  private get<T>(
    operation: string,
    path: string,
    query: Record<string, string | number | undefined>,
    schema: z.ZodType<T>,
    context?: CallContext,
  ): Promise<T> {
    return this.http.call({
      operation,
      method: 'GET',
      path,
      query,
      headers: this.headers,
      context,
      parse: (response) => this.read(response, schema, operation),
    });
  }

  /** A POST that is safe to repeat: an absolute value, or a status change whose repeat is refused harmlessly. */
  private post<T>(operation: string, path: string, json: unknown, schema: z.ZodType<T>, context?: CallContext): Promise<T> {
    return this.http.call({
      operation,
      method: 'POST',
      path,
      json,
      headers: this.headers,
      idempotent: true,
      context,
      parse: (response) => this.read(response, schema, operation),
    });
  }

  /** The shops this token sees (the cheapest authenticated call). */
  listShops(context?: CallContext): Promise<UzumShop[]> {
    return this.get('shops.list', UZUM_PATHS.shops, {}, shopsAnswerSchema, context);
  }

  /** The token's shops, refused when our shop is not among them (the connection test). */
  async checkShop(context?: CallContext): Promise<UzumShop[]> {
    const shops = await this.listShops(context);
    if (!shops.some((shop) => shop.id === this.shopId)) {
      const seen = shops.map((shop) => shop.id).join(', ') || 'none';
      throw this.http.error(
        UZUM_CONNECTOR_CODES.forbidden,
        `shop ${this.shopId} is not among the token's shops (${seen}): set settings.shopId`,
      );
    }
    return shops;
  }

  /** One page of the shop's orders with a status (FBS and DBS unless `scheme` says which). */
  async listOrders(query: OrdersQuery, context?: CallContext): Promise<{ orders: UzumOrder[]; total: number | null }> {
    const answer = await this.get(
      'orders.list',
      UZUM_PATHS.orders,
      {
        shopIds: this.shopId,
        status: query.status,
        scheme: query.scheme,
        page: query.page,
        size: Math.min(query.size, ORDERS_PAGE_MAX),
      },
      ordersAnswerSchema,
      context,
    );
    return { orders: answer.payload.orders, total: answer.payload.totalAmount ?? null };
  }

  async countOrders(status: UzumOrderStatus, context?: CallContext): Promise<number> {
    const answer = await this.get('orders.count', UZUM_PATHS.ordersCount, { shopIds: this.shopId, status }, countAnswerSchema, context);
    return answer.payload;
  }

  async getOrder(id: number, context?: CallContext): Promise<UzumOrder> {
    return (await this.get('orders.get', UZUM_PATHS.order(id), {}, orderAnswerSchema, context)).payload;
  }

  /** CREATED → PACKING. A repeat is refused with seller-order-02 (the caller decides whether that means "done"). */
  async confirmOrder(id: number, context?: CallContext): Promise<UzumOrder> {
    return (await this.post('orders.confirm', UZUM_PATHS.confirm(id), undefined, orderAnswerSchema, context)).payload;
  }

  /** Cancels with one of Uzum's reasons; a repeat is refused with seller-order-13. */
  async cancelOrder(id: number, body: UzumCancelBody, context?: CallContext): Promise<void> {
    await this.post('orders.cancel', UZUM_PATHS.cancel(id), cancelBodySchema.parse(body), cancelAnswerSchema, context);
  }

  async returnReasons(context?: CallContext): Promise<string[]> {
    const answer = await this.get('orders.returnReasons', UZUM_PATHS.returnReasons, {}, returnReasonsAnswerSchema, context);
    return answer.payload.reasons.map((r) => r.reason);
  }

  /** Sets absolute FBS stock levels by barcode (the token decides the shop). */
  async updateStocks(update: UzumStockUpdate, context?: CallContext): Promise<void> {
    await this.post('stocks.update', UZUM_PATHS.stocksUpdate, stockUpdateBodySchema.parse(update), stockUpdateAnswerSchema, context);
  }

  /** One page (from 0) of the stock levels Uzum lets us update. */
  async readStocks(page: number, size: number, context?: CallContext) {
    const answer = await this.get(
      'stocks.read',
      UZUM_PATHS.stocksRead,
      { page, size: Math.min(size, STOCKS_PAGE_MAX) },
      stocksAnswerSchema,
      context,
    );
    return answer.payload.skuAmountList;
  }

  /**
   * Sets one product's SKU prices (whole soums). The answer has no documented body: any 2xx without `errors`
   * is success.
   */
  async sendPrices(update: UzumPriceUpdate, context?: CallContext): Promise<void> {
    await this.http.call({
      operation: 'prices.send',
      method: 'POST',
      path: UZUM_PATHS.prices(this.shopId),
      json: priceBodySchema.parse(update),
      headers: this.headers,
      idempotent: true,
      context,
      parse: (response) => {
        const refused = uzumErrorBodySchema.safeParse(response.data);
        const first = refused.success ? refused.data.errors[0] : undefined;
        if (first) throw this.http.error(partnerErrorCode(first.code), first.message, { status: response.status });
      },
    });
  }

  /** One page (from 0) of the shop's products with their SKUs. */
  listProducts(page: number, size: number, context?: CallContext): Promise<UzumProductsPage> {
    return this.get(
      'products.list',
      UZUM_PATHS.products(this.shopId),
      { page, size: Math.min(size, PRODUCTS_PAGE_MAX) },
      productsAnswerSchema,
      context,
    );
  }
}
