import type { CallContext, ConnectorHttp } from '../kit/definition.ts';
import { parseAnswer } from '../kit/parse.ts';
import {
  CLICK_MERCHANT_PATHS,
  clickMerchantAuth,
  clickPaymentStatusSchema,
  clickReversalSchema,
  type ClickPaymentStatus,
  type ClickReversal,
} from './protocol.ts';

export interface ClickCredentials {
  serviceId: string;
  merchantId: string;
  secretKey: string;
  merchantUserId: string;
}

/**
 * Typed client of Click's Merchant API (what we ask Click; the SHOP API is
 * Click asking us). Every request carries a fresh `Auth` header; a business
 * refusal comes back as `error_code < 0` in the answer, which the caller
 * reads, and an HTTP error status as a ConnectorError.
 */
export class ClickClient {
  constructor(
    private readonly http: ConnectorHttp,
    private readonly credentials: ClickCredentials,
    private readonly now: () => number = Date.now,
  ) {}

  private headers(): Record<string, string> {
    const { merchantUserId, secretKey } = this.credentials;
    return { Accept: 'application/json', Auth: clickMerchantAuth(merchantUserId, secretKey, Math.floor(this.now() / 1000)) };
  }

  /** A payment by Click's payment id (the SHOP API's click_paydoc_id). */
  async paymentStatus(paymentId: string, context?: CallContext): Promise<ClickPaymentStatus> {
    return this.http.call({
      operation: 'payment.status',
      method: 'GET',
      path: CLICK_MERCHANT_PATHS.status(this.credentials.serviceId, paymentId),
      headers: this.headers(),
      context,
      parse: (response) => parseAnswer(this.http, clickPaymentStatusSchema, response.data, 'payment.status', response.status),
    });
  }

  /** The payment Click made for our order (merchant_trans_id) on the day it was created (`YYYY-MM-DD`). */
  async paymentStatusByMti(merchantTransId: string, day: string, context?: CallContext): Promise<ClickPaymentStatus> {
    return this.http.call({
      operation: 'payment.status_by_mti',
      method: 'GET',
      path: CLICK_MERCHANT_PATHS.statusByMti(this.credentials.serviceId, merchantTransId, day),
      headers: this.headers(),
      context,
      parse: (response) => parseAnswer(this.http, clickPaymentStatusSchema, response.data, 'payment.status_by_mti', response.status),
    });
  }

  /** Reverses (refunds in full) a completed payment. Moves money: never retried by the pipeline. */
  async reversal(paymentId: string, context?: CallContext): Promise<ClickReversal> {
    return this.http.call({
      operation: 'payment.reversal',
      method: 'DELETE',
      path: CLICK_MERCHANT_PATHS.reversal(this.credentials.serviceId, paymentId),
      headers: this.headers(),
      idempotent: false,
      context: context && { ...context, idempotencyKey: undefined },
      parse: (response) => parseAnswer(this.http, clickReversalSchema, response.data, 'payment.reversal', response.status),
    });
  }
}
