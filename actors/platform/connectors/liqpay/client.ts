import type { CallContext, ConnectorHttp } from '../kit/definition.ts';
import { partnerErrorCode } from '../kit/errors.ts';
import { parseAnswer } from '../kit/parse.ts';
import {
  checkoutSchema,
  decodeData,
  encodeData,
  LIQPAY_PATHS,
  LIQPAY_VERSION,
  liqpayAnswerSchema,
  RETRYABLE_LIQPAY_ERRORS,
  signData,
  verifySignature,
  type LiqPayAnswer,
  type LiqPayCheckout,
} from './protocol.ts';

export interface LiqPayKeys {
  publicKey: string;
  privateKey: string;
}

/** A signed checkout: open `url`, or post `data` and `signature` from a form. */
export interface SignedCheckout {
  url: string;
  data: string;
  signature: string;
}

/** Typed client of LiqPay API 3. */
export class LiqPayClient {
  constructor(
    private readonly http: ConnectorHttp,
    private readonly keys: LiqPayKeys,
  ) {}

  /**
   * One server-to-server call. `result: "error"` becomes a ConnectorError
   * with LiqPay's `err_code`; the pipeline repeats only calls that are safe
   * to repeat.
   */
  async request(
    action: string,
    params: Record<string, unknown>,
    options: { idempotent: boolean; context?: CallContext; paymentAnswer?: boolean },
  ): Promise<LiqPayAnswer> {
    const data = encodeData({ version: LIQPAY_VERSION, public_key: this.keys.publicKey, action, ...params });
    return this.http.call({
      operation: action,
      method: 'POST',
      path: LIQPAY_PATHS.request,
      form: { data, signature: signData(this.keys.privateKey, data) },
      idempotent: options.idempotent,
      context: options.context,
      parse: (response) => {
        const answer = parseAnswer(this.http, liqpayAnswerSchema, response.data, action, response.status);
        if (answer.result === 'error' || answer.status === 'error') {
          // a payment LiqPay failed (status `error`) is news about the payment, not a failed call
          if (options.paymentAnswer && answer.status === 'error' && answer.order_id !== undefined) return answer;
          const code = answer.err_code ?? 'liqpay_error';
          throw this.http.error(partnerErrorCode(code), answer.err_description ?? code, {
            retryable: RETRYABLE_LIQPAY_ERRORS.has(code),
            status: response.status,
          });
        }
        return answer;
      },
    });
  }

  /** The payment of an order; `payment_not_found` until the customer has paid. */
  status(orderId: string, context?: CallContext): Promise<LiqPayAnswer> {
    return this.request('status', { order_id: orderId }, { idempotent: true, context, paymentAnswer: true });
  }

  /** Refunds a paid order, wholly or (with an amount in major units) in part. */
  refund(orderId: string, amount?: number, context?: CallContext): Promise<LiqPayAnswer> {
    return this.request('refund', amount === undefined ? { order_id: orderId } : { order_id: orderId, amount }, {
      idempotent: false,
      context,
    });
  }

  /** Signs a checkout for the customer's browser; no call is made. */
  checkout(params: LiqPayCheckout): SignedCheckout {
    const parsed = checkoutSchema.parse(params);
    const data = encodeData({ version: LIQPAY_VERSION, public_key: this.keys.publicKey, ...parsed });
    const signature = signData(this.keys.privateKey, data);
    const url = new URL(`${this.http.baseUrl.replace(/\/+$/, '')}${LIQPAY_PATHS.checkout}`);
    url.searchParams.set('data', data);
    url.searchParams.set('signature', signature);
    return { url: url.toString(), data, signature };
  }

  /** A callback's content when its signature is ours and it is for our public key; null otherwise. */
  readCallback(data: string, signature: string): LiqPayAnswer | null {
    if (!verifySignature(this.keys.privateKey, data, signature)) return null;
    let decoded: unknown;
    try {
      decoded = decodeData(data);
    } catch {
      return null;
    }
    const parsed = liqpayAnswerSchema.safeParse(decoded);
    if (!parsed.success) return null;
    const publicKey = (decoded as { public_key?: unknown }).public_key;
    return publicKey === undefined || publicKey === this.keys.publicKey ? parsed.data : null;
  }
}
