import type { z } from 'zod';
import type { CallContext, ConnectorHttp, RawResponse } from '../kit/definition.ts';
import { partnerErrorCode } from '../kit/errors.ts';
import { parseAnswer } from '../kit/parse.ts';
import {
  customerOf,
  errorBodySchema,
  findCustomerAnswerSchema,
  JOWI_ERRORS,
  JOWI_PATHS,
  jowiSignature,
  saleBody,
  transactionAnswerSchema,
  transactionOf,
  type JowiCustomer,
  type JowiTransaction,
  type SaleRecord,
} from './protocol.ts';

export type JowiCredentials = {
  apiKey: string;
  apiSecret: string;
  restaurantId: string;
};

/** JOWi's own error codes as the hub's ConnectorError codes (its numbers, as strings). */
export const JOWI_ERROR_CODES = {
  badSignature: partnerErrorCode(String(JOWI_ERRORS.badSignature)),
  badParameters: partnerErrorCode(String(JOWI_ERRORS.badParameters)),
  customerNotFound: partnerErrorCode(String(JOWI_ERRORS.customerNotFound)),
  cardBlocked: partnerErrorCode(String(JOWI_ERRORS.cardBlocked)),
  insufficientBonus: partnerErrorCode(String(JOWI_ERRORS.insufficientBonus)),
  internal: partnerErrorCode(String(JOWI_ERRORS.internal)),
} as const;

export type CustomerQuery = { phone: string } | { card: string };

/** Typed client of JOWi Club. */
export class JowiClient {
  private readonly sig: string;

  constructor(
    private readonly http: ConnectorHttp,
    private readonly credentials: JowiCredentials,
  ) {
    this.sig = jowiSignature(credentials.apiKey, credentials.apiSecret);
  }

  private get auth() {
    return { api_key: this.credentials.apiKey, sig: this.sig };
  }

  /**
   * A customer by phone (998XXXXXXXXX) or card / QR code; null when JOWi knows none (error 40). A blocked card
   * is a ConnectorError with code '41'. `timeoutMs` bounds each attempt; `signal` the whole call.
   */
  async findCustomer(query: CustomerQuery, context?: CallContext & { timeoutMs?: number }): Promise<JowiCustomer | null> {
    return this.http.call({
      operation: 'customers.find',
      method: 'GET',
      path: JOWI_PATHS.customers,
      query: { ...this.auth, restaurant_id: this.credentials.restaurantId, ...query },
      secrets: [this.sig],
      context,
      timeoutMs: context?.timeoutMs,
      parse: (response) => {
        const error = this.errorIn(response);
        if (error?.error === JOWI_ERRORS.customerNotFound) return null;
        if (error) throw this.failure(error.error, error.message, response.status);
        return customerOf(this.parse(findCustomerAnswerSchema, response, 'customers.find').customer);
      },
    });
  }

  /**
   * Records a sale: the accrual (and the bonus spent). Safe to send again: the same `external_id` answers the
   * same transaction at JOWi, never a second accrual — so the pipeline may retry it.
   */
  async recordSale(sale: SaleRecord, context?: CallContext): Promise<JowiTransaction> {
    return this.http.call({
      operation: 'transactions.create',
      method: 'POST',
      path: JOWI_PATHS.transactions,
      json: { ...this.auth, restaurant_id: this.credentials.restaurantId, ...saleBody(sale) },
      idempotent: true,
      secrets: [this.sig],
      context: context && { ...context, idempotencyKey: undefined },
      parse: (response) => this.transaction(response, 'transactions.create'),
    });
  }

  /** Refunds a recorded sale (its bonuses earned and spent); idempotent on our return id. */
  async refundSale(transactionId: string, returnId: string, context?: CallContext): Promise<JowiTransaction> {
    return this.http.call({
      operation: 'transactions.refund',
      method: 'POST',
      path: JOWI_PATHS.refund(transactionId),
      json: { ...this.auth, restaurant_id: this.credentials.restaurantId, external_id: returnId },
      idempotent: true,
      secrets: [this.sig],
      context: context && { ...context, idempotencyKey: undefined },
      parse: (response) => this.transaction(response, 'transactions.refund'),
    });
  }

  private transaction(response: RawResponse, what: string): JowiTransaction {
    const error = this.errorIn(response);
    if (error) throw this.failure(error.error, error.message, response.status);
    return transactionOf(this.parse(transactionAnswerSchema, response, what).transaction);
  }

  private parse<T>(schema: z.ZodType<T>, response: RawResponse, what: string): T {
    return parseAnswer(this.http, schema, response.data, what, response.status);
  }

  /** `{"status": 0, …}` inside a 2xx answer. */
  private errorIn(response: RawResponse) {
    const parsed = errorBodySchema.safeParse(response.data);
    return parsed.success ? parsed.data : null;
  }

  private failure(code: number, message: string, status: number) {
    return this.http.error(partnerErrorCode(String(code)), message, {
      retryable: code === JOWI_ERRORS.internal,
      status,
    });
  }
}
