import { createHash } from 'node:crypto';
import { z } from 'zod';
import { constantTimeEqual } from '../../../../common/security.ts';

/**
 * Click's SHOP API, as Click calls a merchant: a Prepare (`action=0`) and a
 * Complete (`action=1`) request, form-encoded, each signed with
 * `sign_string = md5(...)` over the raw values as received.
 *
 * CONFIRMED (docs.click.uz "Click API request" and "errors"; the official
 * click-llc integrations for PHP and Django): the fields, the two signature
 * orders (Complete inserts `merchant_prepare_id` after `merchant_trans_id`),
 * md5 hex in lower case over the raw strings, the error codes and notes, the
 * order the official library checks them in, `error < 0` on a Complete
 * meaning the payment failed at Click (answer -9), amounts in soums.
 * ASSUMED: that Click sends `amount` with at most two decimals (tiyin);
 * no published signature vector exists (T-CLICK-1/2 are computed).
 */

export const CLICK_ACTIONS = { prepare: 0, complete: 1 } as const;

/** Click's answers, with the note Click expects beside each code. */
export const CLICK_ERRORS = {
  success: { error: 0, note: 'Success' },
  signFailed: { error: -1, note: 'SIGN CHECK FAILED!' },
  wrongAmount: { error: -2, note: 'Incorrect parameter amount' },
  actionNotFound: { error: -3, note: 'Action not found' },
  alreadyPaid: { error: -4, note: 'Already paid' },
  userNotFound: { error: -5, note: 'User does not exist' },
  transactionNotFound: { error: -6, note: 'Transaction does not exist' },
  failedToUpdate: { error: -7, note: 'Failed to update user' },
  badRequest: { error: -8, note: 'Error in request from click' },
  cancelled: { error: -9, note: 'Transaction cancelled' },
} as const satisfies Record<string, { error: number; note: string }>;
export type ClickErrorName = keyof typeof CLICK_ERRORS;

const digits = z.string().regex(/^\d{1,20}$/);

/** The fields of both requests, as strings exactly as received (the signature is over them). */
export const clickRequestSchema = z.object({
  click_trans_id: digits,
  service_id: digits,
  click_paydoc_id: digits,
  merchant_trans_id: z.string().min(1).max(128),
  merchant_prepare_id: digits.optional(),
  amount: z.string().regex(/^\d+(\.\d+)?$/),
  action: z.string().regex(/^-?\d+$/),
  error: z.string().regex(/^-?\d+$/),
  error_note: z.string().max(500).optional().default(''),
  sign_time: z.string().regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
  sign_string: z.string().regex(/^[0-9a-fA-F]{32}$/),
});
export type ClickRequest = z.infer<typeof clickRequestSchema>;

type SignedFields = Pick<ClickRequest, 'click_trans_id' | 'service_id' | 'merchant_trans_id' | 'amount' | 'action' | 'sign_time'> & {
  merchant_prepare_id?: string;
};

/** md5 over the documented concatenation; Complete inserts merchant_prepare_id after merchant_trans_id. */
export function clickSignString(request: SignedFields, secretKey: string): string {
  const prepareId = request.action === String(CLICK_ACTIONS.complete) ? (request.merchant_prepare_id ?? '') : '';
  const raw = `${request.click_trans_id}${request.service_id}${secretKey}${request.merchant_trans_id}${prepareId}${request.amount}${request.action}${request.sign_time}`;
  return createHash('md5').update(raw, 'utf8').digest('hex');
}

export function clickSignatureValid(request: ClickRequest, secretKey: string): boolean {
  return constantTimeEqual(clickSignString(request, secretKey), request.sign_string.toLowerCase());
}

/** Click's soums ("1000", "1000.5", "1000.50") as tiyin, without floating point; null with more than two significant decimals. */
export function clickAmountToTiyin(amount: string): number | null {
  const match = /^(\d+)(?:\.(\d{1,2})0*)?$/.exec(amount);
  if (!match) return null;
  const tiyin = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(tiyin) ? tiyin : null;
}

export const CLICK_PAY_URL = 'https://my.click.uz/services/pay';

/** The payment link a payer opens (and a QR code carries): amount in soums, our order or sale id as `transaction_param`. */
export function clickPaymentUrl(options: {
  payUrl?: string;
  serviceId: string;
  merchantId: string;
  amountTiyin: number;
  transactionParam: string;
  returnUrl?: string;
}): string {
  if (!Number.isSafeInteger(options.amountTiyin) || options.amountTiyin <= 0) {
    throw new Error(`a Click amount is a positive whole number of tiyin, got ${options.amountTiyin}`);
  }
  const soums = `${Math.floor(options.amountTiyin / 100)}.${String(options.amountTiyin % 100).padStart(2, '0')}`;
  const query = new URLSearchParams({
    service_id: options.serviceId,
    merchant_id: options.merchantId,
    amount: soums,
    transaction_param: options.transactionParam,
    ...(options.returnUrl ? { return_url: options.returnUrl } : {}),
  });
  return `${options.payUrl ?? CLICK_PAY_URL}?${query.toString()}`;
}

/** Click's `sign_time`, `YYYY-MM-DD HH:mm:ss` in Tashkent time (UTC+5, no daylight saving). */
export function clickSignTime(at: Date): string {
  return new Date(at.getTime() + 5 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** Our answer to a Prepare (`merchant_prepare_id`) or a Complete (`merchant_confirm_id`), as Click reads it. */
export interface ClickAnswer {
  click_trans_id: number | string | null;
  merchant_trans_id: string | null;
  merchant_prepare_id?: number | null;
  merchant_confirm_id?: number | null;
  error: number;
  error_note: string;
}

const idEcho = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]);
const merchantId = z.number().int().positive().nullable();

/** What Click accepts as an answer to each request: the fields it reads, of the documented types. */
export const clickAnswerSchemas = {
  prepare: z.object({
    click_trans_id: idEcho,
    merchant_trans_id: z.string(),
    merchant_prepare_id: merchantId,
    error: z.number().int().min(-9).max(0),
    error_note: z.string(),
  }),
  complete: z.object({
    click_trans_id: idEcho,
    merchant_trans_id: z.string(),
    merchant_confirm_id: merchantId,
    error: z.number().int().min(-9).max(0),
    error_note: z.string(),
  }),
} as const;

// ---------------------------------------------------------------------------------------------------
// The Merchant API (https://api.click.uz/v2/merchant/): what the merchant asks Click.
//
// CONFIRMED (docs.click.uz "Merchant – Request", English and Russian copies): the `Auth` header
// `merchant_user_id:sha1(timestamp + secret_key):timestamp` with a 10-digit UNIX timestamp; `GET
// payment/status/:service_id/:payment_id` and `GET payment/status_by_mti/:service_id/:merchant_trans_id/
// YYYY-MM-DD` (the day the payment was created) → `{error_code, error_note, payment_id, payment_status}`
// (`merchant_trans_id` in the second); `DELETE payment/reversal/:service_id/:payment_id` → `{error_code,
// error_note, payment_id}`, only for a completed payment of the current reporting month; payment_status
// `< 0` error, `0` created, `1` processing, `2` successful; authentication and request errors as HTTP
// statuses (400, 401, 403, 404, 406, 410, 500, 502).
// ASSUMED: that the Merchant API's `payment_id` is the SHOP API's `click_paydoc_id` (both are "payment
// ID in CLICK system" in the docs, `click_trans_id` being one attempt); what a refused reversal answers
// (we read any `error_code < 0` as a refusal); how stale an `Auth` timestamp may be (the sandbox allows
// ten minutes).
// ---------------------------------------------------------------------------------------------------

export const CLICK_MERCHANT_API_URL = 'https://api.click.uz/v2/merchant';

export const CLICK_MERCHANT_PATHS = {
  status: (serviceId: string, paymentId: string) => `/payment/status/${serviceId}/${paymentId}`,
  statusByMti: (serviceId: string, merchantTransId: string, day: string) =>
    `/payment/status_by_mti/${serviceId}/${encodeURIComponent(merchantTransId)}/${day}`,
  reversal: (serviceId: string, paymentId: string) => `/payment/reversal/${serviceId}/${paymentId}`,
} as const;

/** Click's payment_status: below zero an error (the payment did not go through, or was reversed). */
export const CLICK_PAYMENT_STATUS = { created: 0, processing: 1, paid: 2 } as const;

/** The `Auth` header of a Merchant API request at `timestampSeconds`. */
export function clickMerchantAuth(merchantUserId: string, secretKey: string, timestampSeconds: number): string {
  const timestamp = String(Math.floor(timestampSeconds));
  const digest = createHash('sha1').update(`${timestamp}${secretKey}`, 'utf8').digest('hex');
  return `${merchantUserId}:${digest}:${timestamp}`;
}

/** Whether an `Auth` header is this merchant's, signed with its key, within `maxSkewSeconds` of now. */
export function clickMerchantAuthValid(
  header: string | undefined,
  credentials: { merchantUserId: string; secretKey: string },
  nowSeconds: number,
  maxSkewSeconds = 600,
): boolean {
  const match = /^([^:]+):([0-9a-fA-F]{40}):(\d{10})$/.exec(header ?? '');
  if (!match) return false;
  const [, user = '', digest = '', timestamp = ''] = match;
  if (Math.abs(Number(timestamp) - nowSeconds) > maxSkewSeconds) return false;
  const expected = clickMerchantAuth(credentials.merchantUserId, credentials.secretKey, Number(timestamp));
  return constantTimeEqual(`${user}:${digest.toLowerCase()}:${timestamp}`, expected);
}

const paymentIdField = z.union([z.number().int(), z.string().regex(/^\d{1,20}$/)]).transform(String);

export const clickPaymentStatusSchema = z.object({
  error_code: z.number().int(),
  error_note: z.string().optional().default(''),
  payment_id: paymentIdField.optional(),
  payment_status: z.number().int().optional(),
  merchant_trans_id: z.string().optional(),
});
export type ClickPaymentStatus = z.infer<typeof clickPaymentStatusSchema>;

export const clickReversalSchema = z.object({
  error_code: z.number().int(),
  error_note: z.string().optional().default(''),
  payment_id: paymentIdField.optional(),
});
export type ClickReversal = z.infer<typeof clickReversalSchema>;

/** The day `status_by_mti` names: the payment's creation day in Tashkent time. */
export const clickDay = (at: Date): string => clickSignTime(at).slice(0, 10);
