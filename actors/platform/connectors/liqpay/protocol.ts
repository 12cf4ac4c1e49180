import { createHash } from 'node:crypto';
import { z } from 'zod';
import { hasAtMostTwoDecimals } from '../../../../common/money.ts';
import { constantTimeEqual } from '../../../../common/security.ts';

/**
 * LiqPay API 3: every request and callback is two form fields, `data`
 * (base64 of the JSON parameters) and `signature` = base64 of the raw
 * SHA-1 digest of privateKey + data + privateKey. Amounts are in major
 * units (hryvnias, not kopiykas). Shapes from ../shared/protocols/payments-ua.md §2.6.
 *
 * Where each fact comes from — [confirmed]: published by LiqPay; [assumed]: ours, to check live.
 * - [confirmed] `data` = base64(JSON), `signature` = base64(raw sha1(private_key + data + private_key)),
 *   for requests and callbacks alike (https://www.liqpay.ua/documentation/en/data_signature; official PHP SDK
 *   liqpay/sdk-php LiqPay.php `str_to_sign`). The documentation's own example (private key, JSON, data,
 *   signature) is a fixture of `signData` (test/actors/platform/connectors/liqpay.test.ts).
 * - [confirmed] paths /api/request and /api/3/checkout; required params version, public_key, action,
 *   amount (major units), currency, description, order_id (≤ 255); also server_url, result_url (data_signature page).
 * - [confirmed] callback statuses success, failure, error, reversed, sandbox (final), *_verify, wait_accept,
 *   processing (not final); err_code, err_description, result ok|error (https://www.liqpay.ua/en/doc/callback).
 * - [confirmed] `expired_date` "YYYY-MM-DD HH:MM:SS" UTC (liqpay.ua/documentation, checkout parameters).
 * - [assumed] the `refund` action's answer and the later `status` say `reversed` once the money went back.
 * - [assumed] a checkout page refuses payment after `expired_date` (our sandbox answers 410).
 */

export const LIQPAY_PATHS = { request: '/api/request', checkout: '/api/3/checkout' } as const;
export const LIQPAY_VERSION = 3;

export function encodeData(params: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(params), 'utf8').toString('base64');
}

export function decodeData(data: string): unknown {
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as unknown;
}

export function signData(privateKey: string, data: string): string {
  return createHash('sha1')
    .update(privateKey + data + privateKey)
    .digest('base64');
}

/** Statuses after which nothing more happens to a payment. */
export const FINAL_LIQPAY_STATUSES: ReadonlySet<string> = new Set([
  'success',
  'failure',
  'error',
  'reversed',
  'sandbox',
  'subscribed',
  'unsubscribed',
]);
/** A successful payment (`sandbox` is what LiqPay answers for a paid test payment). */
export const PAID_LIQPAY_STATUSES: ReadonlySet<string> = new Set(['success', 'sandbox']);

/** Error codes of LiqPay's that another attempt may cure. */
export const RETRYABLE_LIQPAY_ERRORS: ReadonlySet<string> = new Set(['err_cache', 'payment_processing', 'err_service_unavailable']);

/** The parameters of a checkout (what the customer pays for). */
export const checkoutSchema = z.object({
  action: z.enum(['pay', 'hold', 'auth']).default('pay'),
  /** major units, at most two decimals (judged by its digits: `n * 100` in floating point misjudges 19.99) */
  amount: z.number().positive().refine(hasAtMostTwoDecimals, 'at most two decimals'),
  currency: z.enum(['UAH', 'USD', 'EUR']),
  description: z.string().min(1),
  order_id: z.string().min(1).max(255),
  server_url: z.string().optional(),
  /** where the checkout page sends the customer afterwards */
  result_url: z.string().optional(),
  /**
   * until when the customer may pay, UTC, "YYYY-MM-DD HH:MM:SS": LiqPay's checkout documentation
   * (liqpay.ua/documentation, checkout parameters, `expired_date`). Not yet in shared/protocols: to confirm
   * there; the sandbox's refusal of a late payment (410) is our assumption of how LiqPay's page behaves.
   */
  expired_date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'YYYY-MM-DD HH:MM:SS (UTC)')
    .optional(),
  language: z.enum(['uk', 'en']).optional(),
  /** 1: a test payment (status `sandbox` when paid) */
  sandbox: z.union([z.literal(0), z.literal(1)]).optional(),
});
export type LiqPayCheckout = z.input<typeof checkoutSchema>;

/**
 * The answer of /api/request and the content of every callback (`data` decoded). `public_key` is one of
 * the required JSON params (shared/protocols/payments-ua.md §2.6), so a callback naming another key is
 * not for this shop; a status `error` is a final payment status there too.
 */
export const liqpayAnswerSchema = z.looseObject({
  result: z.enum(['ok', 'error']).optional(),
  status: z.string().optional(),
  action: z.string().optional(),
  order_id: z.string().optional(),
  payment_id: z.union([z.number(), z.string()]).optional(),
  amount: z.number().optional(),
  currency: z.string().optional(),
  description: z.string().optional(),
  err_code: z.union([z.string(), z.number()]).transform(String).optional(),
  err_description: z.string().optional(),
  create_date: z.number().optional(),
  end_date: z.number().optional(),
});
export type LiqPayAnswer = z.infer<typeof liqpayAnswerSchema>;

export const callbackFormSchema = z.object({ data: z.string().min(1), signature: z.string().min(1) });

/** Whether `signature` is LiqPay's signature of `data` under this private key (compared in constant time). */
export function verifySignature(privateKey: string, data: string, signature: string): boolean {
  return constantTimeEqual(signature, signData(privateKey, data));
}

/** LiqPay's statuses in the payment machine's words: created, processing, hold, success, failure, reversed. */
export function normaliseLiqPayStatus(status: string | undefined): 'created' | 'processing' | 'hold' | 'success' | 'failure' | 'reversed' {
  if (status === undefined) return 'processing';
  if (PAID_LIQPAY_STATUSES.has(status)) return 'success';
  if (status === 'failure' || status === 'error') return 'failure';
  if (status === 'reversed') return 'reversed';
  if (status === 'hold_wait') return 'hold';
  return 'processing'; // wait_accept, processing, prepared, *_verify …
}

/**
 * A refund's standing from LiqPay's word for the payment. [assumed] The refund answer and the status
 * after it say `reversed` once the money went back (our sandbox's reading; payments-ua.md lists
 * `reversed` among the final callback statuses, but no published refund answer); `failure`/`error` is a
 * refused refund; anything else (the payment still `success`, `processing`, `wait_*`) is not final yet.
 */
export function refundOutcomeOfLiqPay(status: string | undefined): 'processing' | 'success' | 'failure' {
  if (status === 'reversed') return 'success';
  if (status === 'failure' || status === 'error') return 'failure';
  return 'processing';
}

/** A payment answer or callback in the payment machine's words, ordered by LiqPay's own time. */
export function paymentUpdateOfLiqPay(
  answer: LiqPayAnswer,
  source: 'webhook' | 'poll',
  now = Date.now(),
): {
  status: ReturnType<typeof normaliseLiqPayStatus>;
  providerStatus: string;
  at: string;
  source: 'webhook' | 'poll';
  reason: string | null;
} {
  const at = answer.end_date ?? answer.create_date ?? now;
  return {
    status: normaliseLiqPayStatus(answer.status),
    providerStatus: answer.status ?? 'unknown',
    at: new Date(at).toISOString(),
    source,
    reason: answer.err_description ?? null,
  };
}

/** LiqPay's `expired_date`: the UTC time, "YYYY-MM-DD HH:MM:SS". */
export function liqpayTime(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

/** The epoch ms of a LiqPay UTC time. */
export function liqpayTimeMs(value: string): number {
  return Date.parse(`${value.replace(' ', 'T')}Z`);
}
