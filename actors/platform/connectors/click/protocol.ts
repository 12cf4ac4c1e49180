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
