import type { z } from 'zod';
import type { CallContext, CallOptions, ConnectorHttp, RawResponse } from '../kit/definition.ts';
import { KIT_ERROR_CODES, partnerErrorCode, type ConnectorError } from '../kit/errors.ts';
import { parseAnswer } from '../kit/parse.ts';
import { RateLimitExceeded, TokenBucket } from '../kit/rate-limit.ts';
import {
  cardsListAnswerSchema,
  cardsListRequestSchema,
  createSupplyRequestSchema,
  flagErrorSchema,
  gatewayErrorSchema,
  marketplaceErrorSchema,
  newOrdersAnswerSchema,
  orderStatusesAnswerSchema,
  orderStatusesRequestSchema,
  priceErrorCode,
  priceUploadAnswerSchema,
  priceUploadRequestSchema,
  stocksConflictSchema,
  stocksRequestSchema,
  suppliesPageSchema,
  supplyCreatedSchema,
  supplyOrdersRequestSchema,
  supplySchema,
  warehousesAnswerSchema,
  WB_BATCH,
  WB_HOSTS,
  WB_PATHS,
  WB_RATE_LIMITS,
  type WbCardsListRequest,
  type WbOrder,
  type WbOrderStatus,
  type WbPriceItem,
  type WbRateCategory,
  type WbStockItem,
  type WbSupply,
  type WbWarehouse,
} from './protocol.ts';

export interface WildberriesCredentials {
  /** the API token from the seller cabinet (Settings → API access), with the Marketplace, Prices and Content categories */
  token: string;
}

/** Where the prices and content methods are sent: hosts of their own at WB, the marketplace host's sandbox otherwise. */
export interface WildberriesHosts {
  pricesBaseUrl: string;
  contentBaseUrl: string;
}

/** The hosts a configuration means: its settings, else the sandbox's own URL when sandboxed, else WB's. */
export function resolveHosts(
  settings: { pricesBaseUrl?: string | undefined; contentBaseUrl?: string | undefined },
  config: { baseUrl: string; sandboxed: boolean },
): WildberriesHosts {
  return {
    pricesBaseUrl: settings.pricesBaseUrl ?? (config.sandboxed ? config.baseUrl : WB_HOSTS.prices),
    contentBaseUrl: settings.contentBaseUrl ?? (config.sandboxed ? config.baseUrl : WB_HOSTS.content),
  };
}

/** How long a call waits for its category's token before it fails as rate limited. */
const CATEGORY_MAX_WAIT_MS = 30_000;

/**
 * One item of a stock update that WB refused (409), as the error message carries it: the kit keeps
 * only a code and a message of an error answer, so `describeWildberriesError` writes the refused
 * items into the message and `refusedStockItems` reads them back.
 */
export interface RefusedStockItem {
  chrtId?: number;
  sku?: string;
}
const ITEMS_MARK = ' (items: ';

/** The partner's error body → its code and message, for each of WB's error shapes. */
export function describeWildberriesError(status: number, body: unknown): { code?: string; message?: string } | null {
  const conflict = stocksConflictSchema.safeParse(body);
  if (conflict.success && conflict.data.length > 0) {
    const [first] = conflict.data;
    const items = conflict.data.flatMap((entry) =>
      (entry.data ?? []).map((item) => ({
        ...(item.chrtId === undefined ? {} : { chrtId: item.chrtId }),
        ...(item.sku === undefined ? {} : { sku: item.sku }),
      })),
    );
    const message = conflict.data.map((entry) => entry.message ?? entry.code).join('; ');
    return { code: first?.code, message: items.length > 0 ? `${message}${ITEMS_MARK}${JSON.stringify(items)})` : message };
  }
  const marketplace = marketplaceErrorSchema.safeParse(body);
  // the gateway's 401/429 also carry a `code`, an internal trace: its `title` tells them apart
  if (marketplace.success && !gatewayErrorSchema.safeParse(body).success) {
    return { code: marketplace.data.code, message: marketplace.data.message || marketplace.data.code };
  }
  const flagged = flagErrorSchema.safeParse(body);
  if (flagged.success) return { code: priceErrorCode(flagged.data.errorText), message: flagged.data.errorText };
  const gateway = gatewayErrorSchema.safeParse(body);
  if (gateway.success) {
    // no code: the kit's own (unauthorized, partner_rate_limited, http_404) says it better than a trace id
    return { message: gateway.data.detail ? `${gateway.data.title}: ${gateway.data.detail}` : gateway.data.title };
  }
  return status >= 400 && typeof body === 'string' && body.length > 0 ? { message: body.slice(0, 200) } : null;
}

/** The items a 409 of the stock update named, or null when it named none. */
export function refusedStockItems(error: ConnectorError): RefusedStockItem[] | null {
  const at = error.message.lastIndexOf(ITEMS_MARK);
  if (at < 0 || !error.message.endsWith(')')) return null;
  try {
    const parsed: unknown = JSON.parse(error.message.slice(at + ITEMS_MARK.length, -1));
    if (!Array.isArray(parsed)) return null;
    return parsed.filter((item): item is RefusedStockItem => typeof item === 'object' && item !== null);
  } catch {
    return null;
  }
}

/**
 * Typed client of the Wildberries seller API over the kit's pipeline. The
 * connector's base URL is the marketplace host; prices and content live on
 * hosts of their own and are called by absolute URL (axios leaves an
 * absolute URL as is). The kit's token bucket keeps the marketplace
 * category's pace; the client adds a bucket for each stricter category, so
 * prices, content and cancels stay under their own limits.
 */
export class WildberriesClient {
  private readonly buckets: Record<Exclude<WbRateCategory, 'marketplace'>, TokenBucket>;

  constructor(
    private readonly http: ConnectorHttp,
    private readonly credentials: WildberriesCredentials,
    readonly hosts: WildberriesHosts,
  ) {
    const bucket = (category: WbRateCategory) => {
      const rule = WB_RATE_LIMITS[category];
      return new TokenBucket({ perSecond: (rule.limit * 1000) / rule.windowMs, burst: rule.burst });
    };
    this.buckets = { cancel: bucket('cancel'), prices: bucket('prices'), content: bucket('content') };
  }

  /** A path on another host: absolute unless that host is the connector's own (the sandbox serves every path). */
  private on(base: string, path: string): string {
    return base.replace(/\/+$/, '') === this.http.baseUrl.replace(/\/+$/, '') ? path : `${base.replace(/\/+$/, '')}${path}`;
  }

  private async pace(category: Exclude<WbRateCategory, 'marketplace'>, signal?: AbortSignal): Promise<void> {
    try {
      await this.buckets[category].take(CATEGORY_MAX_WAIT_MS, signal);
    } catch (error) {
      if (error instanceof RateLimitExceeded) {
        throw this.http.error(KIT_ERROR_CODES.rateLimited, `wildberries ${category} rate limit is saturated`, { retryable: true });
      }
      throw error;
    }
  }

  private call<T>(options: Omit<CallOptions<T>, 'headers'>): Promise<T> {
    return this.http.call({ ...options, headers: { Authorization: this.credentials.token } });
  }

  private parsed<T>(schema: z.ZodType<T>, operation: string): (response: RawResponse) => T {
    return (response) => parseAnswer(this.http, schema, response.data, operation, response.status);
  }

  /** A refusal found by the hub's side of the connector (not WB's answer), typed like WB's: not retryable. */
  refusal(code: string, message: string): ConnectorError {
    return this.http.error(partnerErrorCode(code), message, { retryable: false });
  }

  /** The seller's warehouses (also the connection test). */
  warehouses(context?: CallContext): Promise<WbWarehouse[]> {
    return this.call({
      operation: 'warehouses.list',
      method: 'GET',
      path: WB_PATHS.warehouses,
      context,
      parse: this.parsed(warehousesAnswerSchema, 'warehouses.list'),
    });
  }

  /** Every assembly task that is `new` now (WB gives them all at once). */
  async newOrders(context?: CallContext): Promise<WbOrder[]> {
    const answer = await this.call({
      operation: 'orders.new',
      method: 'GET',
      path: WB_PATHS.newOrders,
      context,
      parse: this.parsed(newOrdersAnswerSchema, 'orders.new'),
    });
    return answer.orders;
  }

  /** Statuses of up to 1000 orders; WB leaves out ids it does not know (ASSUMED). */
  async orderStatuses(orderIds: readonly number[], context?: CallContext): Promise<WbOrderStatus[]> {
    const answer = await this.call({
      operation: 'orders.status',
      method: 'POST',
      path: WB_PATHS.orderStatuses,
      json: orderStatusesRequestSchema.parse({ orders: [...orderIds] }),
      // it only reads
      idempotent: true,
      context,
      parse: this.parsed(orderStatusesAnswerSchema, 'orders.status'),
    });
    return answer.orders;
  }

  /** Cancels an assembly task (WB takes no reason). */
  async cancelOrder(orderId: number, context?: CallContext): Promise<void> {
    await this.pace('cancel', context?.signal);
    await this.call({
      operation: 'orders.cancel',
      method: 'PATCH',
      path: WB_PATHS.cancelOrder(orderId),
      // cancelling twice cannot cancel more: a repeat answers 409, which the caller reads as done
      idempotent: true,
      context,
      parse: () => undefined,
    });
  }

  /** Creates an empty supply; not idempotent (a repeat makes a second one). */
  async createSupply(name: string, context?: CallContext): Promise<string> {
    const created = await this.call({
      operation: 'supplies.create',
      method: 'POST',
      path: WB_PATHS.supplies,
      json: createSupplyRequestSchema.parse({ name }),
      context,
      parse: this.parsed(supplyCreatedSchema, 'supplies.create'),
    });
    return created.id;
  }

  /** One page of the seller's supplies, oldest first; `next` 0 starts. */
  suppliesPage(next: number, limit: number = WB_BATCH.supplies, context?: CallContext): Promise<{ next: number; supplies: WbSupply[] }> {
    return this.call({
      operation: 'supplies.list',
      method: 'GET',
      path: WB_PATHS.supplies,
      query: { limit, next },
      context,
      parse: this.parsed(suppliesPageSchema, 'supplies.list'),
    });
  }

  supply(supplyId: string, context?: CallContext): Promise<WbSupply> {
    return this.call({
      operation: 'supplies.get',
      method: 'GET',
      path: WB_PATHS.supply(supplyId),
      context,
      parse: this.parsed(supplySchema, 'supplies.get'),
    });
  }

  /** Adds up to 100 orders to a supply: they become `confirm` (on assembly). */
  async addToSupply(supplyId: string, orderIds: readonly number[], context?: CallContext): Promise<void> {
    await this.call({
      operation: 'supplies.addOrders',
      method: 'PATCH',
      path: WB_PATHS.supplyOrders(supplyId),
      json: supplyOrdersRequestSchema.parse({ orders: [...orderIds] }),
      // an order already in this supply stays there: safe to send again
      idempotent: true,
      context,
      parse: () => undefined,
    });
  }

  /** Closes a supply and hands it to WB: its orders become `complete`. */
  async deliverSupply(supplyId: string, context?: CallContext): Promise<void> {
    await this.call({
      operation: 'supplies.deliver',
      method: 'PATCH',
      path: WB_PATHS.deliverSupply(supplyId),
      context,
      parse: () => undefined,
    });
  }

  /** Sets absolute stock levels at one warehouse (up to 1000 sizes); a 409 names the refused items in its message. */
  async setStocks(warehouseId: number, stocks: readonly WbStockItem[], context?: CallContext): Promise<void> {
    await this.call({
      operation: 'stocks.update',
      method: 'PUT',
      path: WB_PATHS.stocks(warehouseId),
      json: stocksRequestSchema.parse({ stocks: [...stocks] }),
      context,
      parse: () => undefined,
    });
  }

  /** Uploads prices (whole units) of up to 1000 goods; answers the upload id. */
  async uploadPrices(items: readonly WbPriceItem[], context?: CallContext): Promise<{ id: number; alreadyExists: boolean }> {
    await this.pace('prices', context?.signal);
    const answer = await this.call({
      operation: 'prices.upload',
      method: 'POST',
      path: this.on(this.hosts.pricesBaseUrl, WB_PATHS.priceUpload),
      json: priceUploadRequestSchema.parse({ data: [...items] }),
      // absolute prices: sending them twice sets the same values (WB answers "already set" or 208)
      idempotent: true,
      context,
      parse: (response) => {
        const parsed = parseAnswer(this.http, priceUploadAnswerSchema, response.data, 'prices.upload', response.status);
        if (parsed.error || parsed.data === null) {
          throw this.http.error(KIT_ERROR_CODES.badResponse, `wildberries prices.upload: ${parsed.errorText || 'no upload id'}`, {
            status: response.status,
          });
        }
        return { id: parsed.data.id, alreadyExists: parsed.data.alreadyExists ?? response.status === 208 };
      },
    });
    return answer;
  }

  /** One page of the seller's product cards (at most 100), newest change first. */
  async cardsPage(cursor: { updatedAt?: string; nmID?: number }, context?: CallContext) {
    await this.pace('content', context?.signal);
    const request: WbCardsListRequest = {
      settings: { filter: { withPhoto: -1 }, cursor: { limit: WB_BATCH.cards, ...cursor } },
    };
    return this.call({
      operation: 'cards.list',
      method: 'POST',
      path: this.on(this.hosts.contentBaseUrl, WB_PATHS.cardsList),
      json: cardsListRequestSchema.parse(request),
      // it only reads
      idempotent: true,
      context,
      parse: this.parsed(cardsListAnswerSchema, 'cards.list'),
    });
  }
}
