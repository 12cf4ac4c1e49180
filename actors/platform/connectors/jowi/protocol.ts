import { createHash } from 'node:crypto';
import { z } from 'zod';
import { hasAtMostTwoDecimals, majorToMinorUnits, minorToMajorNumber } from '../../../../common/money.ts';
import { constantTimeEqual, hmac, verifyHmac } from '../../../../common/security.ts';

/**
 * JOWi Club (loyalty: customers, cards, levels, bonuses), as fixed by our working contract
 * ../shared/protocols/jowi-club.md and marketplaces-loyalty-marking.md §8. Every shape of the contract lives
 * here, so correcting it against JOWi's real reference is a change of this file only.
 *
 * Where each fact comes from — [published]: JOWi's public POS API (docs.jowi.club) and public clients of it;
 * [contract]: our working contract (the loyalty part of the API is not public); [assumed]: ours, to check.
 * - [published] `api_key` + `sig` on every request (query string for GET, body fields for POST);
 *   sig = first 10 + last 5 hex characters of sha256(api_key + api_secret) (vector T-JOWI-1).
 * - [published] success `{"status": 1, …}`; failure `{"status": 0, "error": <code>, "message": "…"}`.
 * - [contract] paths, fields, the error codes 1, 27, 40, 41, 50, 500; amounts are soums as JSON numbers with at
 *   most two decimals; `external_id` makes an accrual idempotent; the webhook's `X-Jowi-Signature` is the hex
 *   HMAC-SHA256 of the raw body under api_secret.
 * - [assumed] a failure comes with HTTP 200 (HTTP 500 for error 500); the client reads either way.
 * - [assumed] a refund names our return id as its `external_id` and is idempotent on it; it refunds the whole
 *   transaction (the contract has no amount).
 * - [assumed] a customer may carry `blocked: true`; webhook `data` is the customer (customer.updated) or
 *   `{customer_id, bonus_balance}` (bonus.changed), and the envelope may carry `created_at` (ordering).
 */

export const JOWI_PATHS = {
  customers: '/v3/club/customers',
  transactions: '/v3/club/transactions',
  refund: (transactionId: string) => `/v3/club/transactions/${encodeURIComponent(transactionId)}/refund`,
} as const;

/** The error codes of the contract. */
export const JOWI_ERRORS = {
  badSignature: 1,
  badParameters: 27,
  customerNotFound: 40,
  cardBlocked: 41,
  insufficientBonus: 50,
  internal: 500,
} as const;
export type JowiErrorCode = (typeof JOWI_ERRORS)[keyof typeof JOWI_ERRORS];

/** The header that signs JOWi's webhooks. */
export const JOWI_SIGNATURE_HEADER = 'X-Jowi-Signature';

/** sig = h[0:10] + h[-5:], h = hex(sha256(api_key + api_secret)). */
export function jowiSignature(apiKey: string, apiSecret: string): string {
  const h = createHash('sha256')
    .update(apiKey + apiSecret, 'utf8')
    .digest('hex');
  return h.slice(0, 10) + h.slice(-5);
}

/** Whether a request's api_key and sig are these credentials' (constant time). */
export function verifyJowiAuth(credentials: { apiKey: string; apiSecret: string }, apiKey: unknown, sig: unknown): boolean {
  if (typeof apiKey !== 'string' || typeof sig !== 'string') return false;
  const keyOk = constantTimeEqual(apiKey, credentials.apiKey);
  const sigOk = constantTimeEqual(sig.toLowerCase(), jowiSignature(credentials.apiKey, credentials.apiSecret));
  return keyOk && sigOk;
}

/** The X-Jowi-Signature of a webhook body: hex HMAC-SHA256 of the exact bytes under api_secret. */
export function webhookSignature(rawBody: string | Buffer, apiSecret: string): string {
  return hmac('sha256', apiSecret, rawBody, 'hex');
}

export function verifyWebhookSignature(rawBody: Buffer, apiSecret: string, sent: string | undefined): boolean {
  return verifyHmac({ algorithm: 'sha256', secret: apiSecret, payload: rawBody, signature: sent, encoding: 'hex' });
}

// ---- money: soums with at most two decimals on the wire, tiyin integers inside ----

/** tiyin → the JSON number JOWi wants (142500.5 soums for 14250050 tiyin), never through a float product. */
export function soumsOf(tiyin: number): number {
  return minorToMajorNumber(tiyin);
}

/** A soum amount on the wire: a non-negative number with at most two decimals. */
export const soumAmount = z
  .number()
  .nonnegative()
  .refine((value) => hasAtMostTwoDecimals(value), 'at most two decimals');

/** A soum amount read into tiyin. */
export const tiyinFromSoums = soumAmount.transform((value, ctx) => {
  const tiyin = majorToMinorUnits(value);
  if (tiyin === null) {
    ctx.addIssue({ code: 'custom', message: 'not a soum amount' });
    return z.NEVER;
  }
  return tiyin;
});

/** Uzbek mobile numbers as JOWi writes them: 998 and nine digits. */
export const PHONE = /^998\d{9}$/;

/** "+998 90 123-45-67", "901234567" → "998901234567"; null when it is not an Uzbek number. */
export function normalisePhone(input: string): string | null {
  const digits = input.replace(/[\s()+-]/g, '');
  if (!/^\d+$/.test(digits)) return null;
  const full = digits.length === 9 ? `998${digits}` : digits;
  return PHONE.test(full) ? full : null;
}

/** Tashkent time (UTC+05:00, no daylight saving) as JOWi writes it: 2026-12-02T10:15:00+05:00. */
export function jowiTime(at: Date | number): string {
  const shifted = new Date(new Date(at).getTime() + 5 * 3_600_000);
  return `${shifted.toISOString().slice(0, 19)}+05:00`;
}

/** An ISO time with an offset (or Z). */
export const offsetTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, 'an ISO time with its offset')
  .refine((value) => !Number.isNaN(Date.parse(value)), 'not a time');

// ---- answers ----

export const errorBodySchema = z.object({ status: z.literal(0), error: z.number().int(), message: z.string() });
export type JowiErrorBody = z.infer<typeof errorBodySchema>;

/** A customer as JOWi sends it. */
export const wireCustomerSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  phone: z.string().nullish(),
  card: z.string().nullish(),
  level: z.string().nullish(),
  discount_percent: z.number().min(0).max(100),
  bonus_balance: soumAmount,
  blocked: z.boolean().optional(),
});
export type WireCustomer = z.infer<typeof wireCustomerSchema>;

/** A customer in the hub's words: money in tiyin. */
export interface JowiCustomer {
  id: string;
  name: string;
  phone: string | null;
  card: string | null;
  level: string | null;
  discountPercent: number;
  /** tiyin */
  bonusBalance: number;
  blocked: boolean;
}

export function customerOf(wire: WireCustomer): JowiCustomer {
  return {
    id: wire.id,
    name: wire.name,
    phone: wire.phone ?? null,
    card: wire.card ?? null,
    level: wire.level ?? null,
    discountPercent: wire.discount_percent,
    bonusBalance: majorToMinorUnits(wire.bonus_balance) ?? 0,
    blocked: wire.blocked ?? false,
  };
}

export const findCustomerAnswerSchema = z.looseObject({ status: z.literal(1), customer: wireCustomerSchema });

export const wireTransactionSchema = z.looseObject({
  id: z.string().min(1),
  external_id: z.string().min(1),
  bonus_earned: soumAmount,
  bonus_balance: soumAmount,
  refunded: z.boolean().optional(),
});
export type WireTransaction = z.infer<typeof wireTransactionSchema>;

export const transactionAnswerSchema = z.looseObject({ status: z.literal(1), transaction: wireTransactionSchema });

/** A transaction in the hub's words: money in tiyin. */
export interface JowiTransaction {
  id: string;
  externalId: string;
  /** tiyin */
  bonusEarned: number;
  /** tiyin, after this transaction (or its refund) */
  bonusBalance: number;
  refunded: boolean;
}

export function transactionOf(wire: WireTransaction): JowiTransaction {
  return {
    id: wire.id,
    externalId: wire.external_id,
    bonusEarned: majorToMinorUnits(wire.bonus_earned) ?? 0,
    bonusBalance: majorToMinorUnits(wire.bonus_balance) ?? 0,
    refunded: wire.refunded ?? false,
  };
}

// ---- requests ----

const auth = { api_key: z.string().min(1), sig: z.string().min(1) };

/** GET /v3/club/customers: exactly one of phone and card. */
export const findCustomerQuerySchema = z
  .object({
    ...auth,
    restaurant_id: z.string().min(1),
    phone: z.string().regex(PHONE, '998 and nine digits').optional(),
    card: z.string().min(1).max(128).optional(),
  })
  .strict()
  .refine((query) => (query.phone === undefined) !== (query.card === undefined), 'exactly one of phone and card');

export const saleItemSchema = z.object({ name: z.string().min(1), count: z.number().positive(), price: soumAmount }).strict();

export const recordSaleRequestSchema = z
  .object({
    ...auth,
    restaurant_id: z.string().min(1),
    customer_id: z.string().min(1),
    external_id: z.string().min(1).max(128),
    amount: soumAmount,
    discount: soumAmount,
    bonus_spent: soumAmount,
    items: z.array(saleItemSchema).min(1),
    created_at: offsetTime,
  })
  .strict();
export type RecordSaleRequest = z.infer<typeof recordSaleRequestSchema>;

export const refundRequestSchema = z
  .object({ ...auth, restaurant_id: z.string().min(1), external_id: z.string().min(1).max(128) })
  .strict();
export type RefundRequest = z.infer<typeof refundRequestSchema>;

/** A sale to record, in the hub's words (tiyin). */
export interface SaleRecord {
  customerId: string;
  /** our sale id: JOWi's external_id, which makes the call idempotent */
  externalId: string;
  /** what the customer paid, tiyin */
  amount: number;
  discount: number;
  bonusSpent: number;
  items: Array<{ name: string; qty: number; /** per unit, tiyin */ price: number }>;
  createdAt: Date | number;
}

/** The request body of a sale, auth and restaurant excluded. */
export function saleBody(sale: SaleRecord) {
  return {
    customer_id: sale.customerId,
    external_id: sale.externalId,
    amount: soumsOf(sale.amount),
    discount: soumsOf(sale.discount),
    bonus_spent: soumsOf(sale.bonusSpent),
    items: sale.items.map((item) => ({ name: item.name, count: item.qty, price: soumsOf(item.price) })),
    created_at: jowiTime(sale.createdAt),
  };
}

// ---- webhooks ----

export const WEBHOOK_EVENTS = ['customer.updated', 'bonus.changed'] as const;

export const bonusChangedDataSchema = z.looseObject({ customer_id: z.string().min(1), bonus_balance: soumAmount });

export const webhookEventSchema = z.discriminatedUnion('event', [
  z.looseObject({
    event: z.literal('customer.updated'),
    id: z.string().min(1),
    created_at: offsetTime.optional(),
    data: wireCustomerSchema,
  }),
  z.looseObject({
    event: z.literal('bonus.changed'),
    id: z.string().min(1),
    created_at: offsetTime.optional(),
    data: bonusChangedDataSchema,
  }),
]);
export type WebhookEvent = z.infer<typeof webhookEventSchema>;
