import type { CallContext, ConnectorHttp, RawResponse } from '../kit/definition.ts';
import { partnerErrorCode } from '../kit/errors.ts';
import { parseAnswer } from '../kit/parse.ts';
import { TokenSession } from '../kit/session.ts';
import { z } from 'zod';
import {
  encodePassword,
  goodsPageSchema,
  loginContentSchema,
  massUpdateAnswerSchema,
  massUpdateRequestSchema,
  ORDER_EXPAND,
  orderUpdateSchema,
  ordersPageSchema,
  RETRYABLE_ROZETKA_CODES,
  ROZETKA_ERROR_CODES,
  ROZETKA_PATHS,
  rozetkaEnvelopeSchema,
  rozetkaErrorSchema,
  rozetkaOrderSchema,
  SESSION_ERROR_CODES,
  type MassUpdateItem,
  type OrdersQuery,
  type RozetkaGoodsPage,
  type RozetkaOrder,
  type RozetkaOrdersPage,
  type RozetkaOrderUpdate,
} from './protocol.ts';

/** Rozetka does not say how long a token lives; it is about a day. Renew well before. */
const TOKEN_LIFETIME_MS = 23 * 3600 * 1000;

/** Typed client of the Rozetka Seller API, with its login session. */
export class RozetkaClient {
  readonly session: TokenSession;

  constructor(
    private readonly http: ConnectorHttp,
    private readonly credentials: { username: string; password: string },
    now: () => number = Date.now,
  ) {
    this.session = new TokenSession(() => this.login(), { renewBeforeMs: 60_000, now });
  }

  /** `{success, content}` → content parsed; `success: false` → a ConnectorError with Rozetka's code. */
  private content<T>(response: RawResponse, schema: z.ZodType<T>, operation: string): T {
    const envelope = parseAnswer(this.http, rozetkaEnvelopeSchema, response.data, operation, response.status);
    if (!envelope.success) throw this.refusal(envelope.errors, response.status);
    return parseAnswer(this.http, schema, envelope.content, operation, response.status);
  }

  private refusal(errors: { code: string; message: string }, status: number) {
    const auth = errors.code === ROZETKA_ERROR_CODES.incorrectCredentials || SESSION_ERROR_CODES.has(errors.code);
    return this.http.error(partnerErrorCode(errors.code), errors.message, {
      retryable: RETRYABLE_ROZETKA_CODES.has(errors.code),
      status: auth ? 401 : status,
    });
  }

  /** Logs in (`POST /sites`); callers use the session, which logs in only when needed. */
  private async login(): Promise<{ token: string; expiresAt: number }> {
    const started = Date.now();
    const content = await this.http.call({
      operation: 'login',
      method: 'POST',
      path: ROZETKA_PATHS.login,
      json: { username: this.credentials.username, password: encodePassword(this.credentials.password) },
      // logging in twice does no harm
      idempotent: true,
      parse: (response) => this.content(response, loginContentSchema, 'login'),
    });
    return { token: content.access_token, expiresAt: started + TOKEN_LIFETIME_MS };
  }

  private authed<T>(
    operation: string,
    request: { method: 'GET' | 'PUT'; path: string; query?: Record<string, string | number | undefined>; json?: unknown },
    schema: z.ZodType<T>,
    context?: CallContext,
  ): Promise<T> {
    return this.session.run(
      (token) =>
        this.http.call({
          operation,
          ...request,
          headers: { Authorization: `Bearer ${token}` },
          secrets: [token],
          context,
          parse: (response) => this.content(response, schema, operation),
        }),
      (error) => SESSION_ERROR_CODES.has(error.code),
    );
  }

  /** Logs in with the stored credentials (the connection test). */
  async signIn(): Promise<void> {
    await this.session.obtain();
  }

  /** One page of orders (pages start at 1, 20 orders each), newest first unless `sort` says otherwise; with lines, delivery and payment. */
  searchOrders(query: OrdersQuery = {}, context?: CallContext): Promise<RozetkaOrdersPage> {
    return this.authed(
      'orders.search',
      {
        method: 'GET',
        path: ROZETKA_PATHS.ordersSearch,
        query: {
          page: query.page,
          id: query.id,
          types: query.types,
          status: query.status,
          created_from: query.createdFrom,
          changed_from: query.changedFrom,
          changed_to: query.changedTo,
          sort: query.sort ?? '-id',
          expand: ORDER_EXPAND.join(','),
        },
      },
      ordersPageSchema,
      context,
    );
  }

  getOrder(id: number, context?: CallContext): Promise<RozetkaOrder> {
    return this.authed(
      'orders.get',
      { method: 'GET', path: ROZETKA_PATHS.order(id), query: { expand: ORDER_EXPAND.join(',') } },
      rozetkaOrderSchema,
      context,
    );
  }

  /** One page of the seller's goods (`GET /goods/all`, pages start at 1). */
  listGoods(query: { page: number; pageSize: number }, context?: CallContext): Promise<RozetkaGoodsPage> {
    return this.authed(
      'goods.all',
      { method: 'GET', path: ROZETKA_PATHS.goodsAll, query: { page: query.page, pageSize: query.pageSize } },
      goodsPageSchema,
      context,
    );
  }

  /**
   * Sets absolute prices and/or stock of up to MASS_UPDATE_MAX_ITEMS items in one call (so repeating it is
   * harmless). Items Rozetka refuses come back by their `item_rz_id` with its reasons; the rest were taken.
   */
  massUpdate(
    items: readonly MassUpdateItem[],
    context?: CallContext,
  ): Promise<Array<{ itemId: number; reasons: Array<{ id: string; value: string[] }> }>> {
    const body = massUpdateRequestSchema.parse({ items });
    return this.session.run(
      (token) =>
        this.http.call({
          operation: 'items.massUpdate',
          method: 'PUT',
          path: ROZETKA_PATHS.itemsMassUpdate,
          json: body,
          headers: { Authorization: `Bearer ${token}` },
          secrets: [token],
          context,
          // absolute values: a repeat sets the same again
          idempotent: true,
          parse: (response) => {
            // the whole call refused (`{message, code}`), or some items (`{"<item id>": {reason}}`)
            const general = rozetkaErrorSchema.safeParse(response.data);
            if (general.success) throw this.refusal(general.data.errors, response.status);
            const answer = parseAnswer(this.http, massUpdateAnswerSchema, response.data, 'items.massUpdate', response.status);
            if (answer.success) return [];
            return Object.entries(answer.errors).map(([itemId, refusal]) => ({ itemId: Number(itemId), reasons: refusal.reason }));
          },
        }),
      (error) => SESSION_ERROR_CODES.has(error.code),
    );
  }

  /** Moves an order to a status (with a waybill number where Rozetka requires one); repeating it changes nothing. */
  updateOrder(id: number, update: RozetkaOrderUpdate, context?: CallContext): Promise<RozetkaOrder> {
    return this.authed(
      'orders.update',
      { method: 'PUT', path: ROZETKA_PATHS.order(id), json: orderUpdateSchema.parse(update) },
      rozetkaOrderSchema,
      context,
    );
  }
}
