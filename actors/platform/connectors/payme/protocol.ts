import { z } from 'zod';
import { verifyBasicAuth } from '../../../../common/security.ts';

/**
 * Payme's Merchant API, as Payme calls a merchant: JSON-RPC methods POSTed to
 * our endpoint, answered with HTTP 200 always, `{id, result}` or
 * `{id, error: {code, message: {ru, uz, en}, data}}`.
 *
 * Facts marked with their source; CONFIRMED means a published Payme page or
 * its official example (see /shared/protocols/payments-uz.md), ASSUMED means
 * our reading where the docs are silent.
 * - CONFIRMED (developer.help.paycom.uz, "Протокол Merchant API"): HTTP 200
 *   always, named params, `Authorization: Basic base64(login:key)`, the
 *   methods and their results, the error codes, states 1/2/-1/-2, 12 hours
 *   (43 200 000 ms) from Payme's `time` to the timeout cancel (reason 4),
 *   amounts in tiyin, times in milliseconds.
 * - CONFIRMED (the official PHP template, umidjons/paycom-integration-php-template):
 *   the login is `Paycom`; `ChangePassword {password}` → `{success: true}`.
 * - ASSUMED: the localized texts of our messages (Payme requires the three
 *   languages, not their wording).
 */

export const PAYME_LOGIN = 'Paycom';

/** A created transaction not performed within this time of its Payme `time` is cancelled (reason 4). */
export const PAYME_TIMEOUT_MS = 43_200_000;

export const PAYME_STATES = { created: 1, performed: 2, cancelled: -1, cancelledAfterPerform: -2 } as const;
export type PaymeState = (typeof PAYME_STATES)[keyof typeof PAYME_STATES];

export const PAYME_CANCEL_REASONS = {
  receiversNotFound: 1,
  debitError: 2,
  executionError: 3,
  timeout: 4,
  refund: 5,
  unknown: 10,
} as const;

export const PAYME_METHODS = [
  'CheckPerformTransaction',
  'CreateTransaction',
  'PerformTransaction',
  'CancelTransaction',
  'CheckTransaction',
  'GetStatement',
  'ChangePassword',
] as const;
export type PaymeMethod = (typeof PAYME_METHODS)[number];

export interface Localized {
  ru: string;
  uz: string;
  en: string;
}

/** Payme's error codes and what we tell the payer with each. */
export const PAYME_ERRORS = {
  notPost: { code: -32300, message: { ru: 'Метод запроса не POST', uz: "So'rov usuli POST emas", en: 'The request method is not POST' } },
  parseError: { code: -32700, message: { ru: 'Ошибка разбора JSON', uz: 'JSON tahlilida xato', en: 'JSON parse error' } },
  invalidRequest: {
    code: -32600,
    message: { ru: 'Неверный запрос', uz: "Noto'g'ri so'rov", en: 'Invalid request: required fields missing or of the wrong type' },
  },
  methodNotFound: { code: -32601, message: { ru: 'Метод не найден', uz: 'Usul topilmadi', en: 'Method not found' } },
  insufficientPrivilege: {
    code: -32504,
    message: { ru: 'Недостаточно привилегий', uz: 'Imtiyozlar yetarli emas', en: 'Insufficient privilege to perform the method' },
  },
  systemError: { code: -32400, message: { ru: 'Системная ошибка', uz: 'Tizim xatosi', en: 'System error' } },
  wrongAmount: { code: -31001, message: { ru: 'Неверная сумма', uz: "Noto'g'ri summa", en: 'Wrong amount' } },
  transactionNotFound: { code: -31003, message: { ru: 'Транзакция не найдена', uz: 'Tranzaksiya topilmadi', en: 'Transaction not found' } },
  cannotCancel: {
    code: -31007,
    message: {
      ru: 'Заказ выполнен, транзакцию нельзя отменить',
      uz: 'Buyurtma bajarildi, tranzaksiyani bekor qilib bo‘lmaydi',
      en: 'The order is fulfilled: the transaction cannot be cancelled',
    },
  },
  cannotPerform: {
    code: -31008,
    message: {
      ru: 'Невозможно выполнить операцию',
      uz: 'Amalni bajarib bo‘lmaydi',
      en: 'The operation cannot be performed in the transaction’s state',
    },
  },
  orderNotFound: { code: -31050, message: { ru: 'Заказ не найден', uz: 'Buyurtma topilmadi', en: 'Order not found' } },
  orderBusy: {
    code: -31051,
    message: {
      ru: 'Заказ уже оплачивается другой транзакцией',
      uz: 'Buyurtma boshqa tranzaksiya bilan to‘lanmoqda',
      en: 'The order is being paid by another transaction',
    },
  },
  orderNotPayable: {
    code: -31052,
    message: { ru: 'Заказ нельзя оплатить', uz: 'Buyurtmani to‘lab bo‘lmaydi', en: 'The order cannot be paid now' },
  },
} as const satisfies Record<string, { code: number; message: Localized }>;
export type PaymeErrorName = keyof typeof PAYME_ERRORS;

/** An error answer; `data` names the account field for the -31050…-31099 range, the method for -32601. */
export class PaymeError extends Error {
  readonly code: number;
  readonly localized: Localized;

  constructor(
    readonly kind: PaymeErrorName,
    readonly data: string | null = null,
  ) {
    const error = PAYME_ERRORS[kind];
    super(`${error.code}: ${error.message.en}`);
    this.name = 'PaymeError';
    this.code = error.code;
    this.localized = error.message;
  }
}

export type RpcId = string | number | null;

export interface PaymeErrorBody {
  id: RpcId;
  result: null;
  error: { code: number; message: Localized; data: string | null };
}

export function paymeErrorBody(id: RpcId, error: PaymeError): PaymeErrorBody {
  return { id, result: null, error: { code: error.code, message: error.localized, data: error.data } };
}

export function paymeResultBody<T>(id: RpcId, result: T): { id: RpcId; result: T; error: null } {
  return { id, result, error: null };
}

/** Payme's 24-character transaction id. */
const paymeId = z.string().min(1).max(64);
const millis = z.number().int().nonnegative();
const tiyin = z.number().int().positive();
const account = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));

export const paymeParamSchemas = {
  CheckPerformTransaction: z.object({ amount: tiyin, account }),
  CreateTransaction: z.object({ id: paymeId, time: millis, amount: tiyin, account }),
  PerformTransaction: z.object({ id: paymeId }),
  CancelTransaction: z.object({ id: paymeId, reason: z.number().int() }),
  CheckTransaction: z.object({ id: paymeId }),
  GetStatement: z.object({ from: millis, to: millis }),
  ChangePassword: z.object({ password: z.string().min(1).max(200) }),
} as const satisfies Record<PaymeMethod, z.ZodType>;

export type PaymeParams<TMethod extends PaymeMethod> = z.infer<(typeof paymeParamSchemas)[TMethod]>;

export type PaymeCall = { [TMethod in PaymeMethod]: { id: RpcId; method: TMethod; params: PaymeParams<TMethod> } }[PaymeMethod];

const envelope = z.object({
  id: z.union([z.string(), z.number(), z.null()]).optional(),
  method: z.string(),
  params: z.record(z.string(), z.unknown()),
});

/**
 * Reads a request body into a call, or throws the PaymeError Payme expects:
 * -32700 for JSON that does not parse, -32600 for an envelope or params that
 * are not what the method takes, -32601 (with the method in `data`) for a
 * method we do not implement. `idOf` recovers the id for the error answer.
 */
export function parsePaymeCall(raw: string): PaymeCall {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new PaymeError('parseError');
  }
  const call = envelope.safeParse(json);
  if (!call.success) throw new PaymeError('invalidRequest');
  const method = call.data.method;
  if (!(PAYME_METHODS as readonly string[]).includes(method)) throw new PaymeError('methodNotFound', method);
  const params = paymeParamSchemas[method as PaymeMethod].safeParse(call.data.params);
  if (!params.success) throw new PaymeError('invalidRequest', params.error.issues[0]?.path.join('.') || null);
  return { id: call.data.id ?? null, method, params: params.data } as PaymeCall;
}

/** The request's id when it can be read, for an error answer to a call that failed to parse. */
export function idOf(raw: string): RpcId {
  try {
    const id = (JSON.parse(raw) as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number' ? id : null;
  } catch {
    return null;
  }
}

/** `Authorization: Basic base64("Paycom:<key>")`, compared in constant time. */
export function paymeAuthorized(authorization: string | undefined, key: string): boolean {
  return verifyBasicAuth({ username: PAYME_LOGIN, password: key, authorization });
}

export const PAYME_CHECKOUT_URL = 'https://checkout.paycom.uz';

/**
 * The GET checkout link: `<checkout>/base64("m=<merchant>;ac.<field>=<value>;a=<tiyin>[;l=<lang>][;c=<return url>][;cr=<currency>]")`.
 * CONFIRMED by Payme's example (T-PAYME-1): `m=587f72c72cac0d162c722ae2;ac.order_id=197;a=500`.
 */
export function paymeCheckoutUrl(options: {
  checkoutUrl?: string;
  merchantId: string;
  account: Record<string, string>;
  amount: number;
  lang?: 'ru' | 'uz' | 'en';
  returnUrl?: string;
  currency?: string;
}): string {
  if (!Number.isSafeInteger(options.amount) || options.amount <= 0)
    throw new Error(`a Payme amount is a positive whole number of tiyin, got ${options.amount}`);
  const parts = [
    `m=${options.merchantId}`,
    ...Object.entries(options.account).map(([field, value]) => `ac.${field}=${value}`),
    `a=${options.amount}`,
  ];
  if (options.lang) parts.push(`l=${options.lang}`);
  if (options.returnUrl) parts.push(`c=${options.returnUrl}`);
  if (options.currency) parts.push(`cr=${options.currency}`);
  for (const part of parts) if (part.includes(';')) throw new Error(`a Payme checkout parameter cannot contain ";": ${part}`);
  return `${(options.checkoutUrl ?? PAYME_CHECKOUT_URL).replace(/\/+$/, '')}/${Buffer.from(parts.join(';'), 'utf8').toString('base64')}`;
}

/** The parameters a GET checkout link carries (`m`, `ac.<field>`, `a`, `l`, `c`, `ct`, `cr`). */
export interface PaymeCheckoutParams {
  merchantId: string;
  account: Record<string, string>;
  /** tiyin */
  amount: number;
  lang: 'ru' | 'uz' | 'en' | null;
  returnUrl: string | null;
  /** ms to wait before sending the payer back */
  returnTimeoutMs: number | null;
  currency: string | null;
}

/**
 * Reads a GET checkout link (or its last path segment, the base64 of the parameters) back into its
 * parameters; throws on anything Payme's checkout would refuse (no merchant, no amount, an unknown key).
 */
export function parsePaymeCheckout(linkOrEncoded: string): PaymeCheckoutParams {
  // a link's path is the base64 (which may itself hold "/"); the checkout lives at its host's root
  const encoded = /^https?:\/\//.test(linkOrEncoded) ? new URL(linkOrEncoded).pathname.slice(1) : linkOrEncoded;
  const text = Buffer.from(decodeURIComponent(encoded), 'base64').toString('utf8');
  const params: PaymeCheckoutParams = {
    merchantId: '',
    account: {},
    amount: 0,
    lang: null,
    returnUrl: null,
    returnTimeoutMs: null,
    currency: null,
  };
  for (const part of text.split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) throw new Error(`a Payme checkout parameter is "key=value", got "${part}"`);
    const key = part.slice(0, at);
    const value = part.slice(at + 1);
    if (key === 'm') params.merchantId = value;
    else if (key.startsWith('ac.') && key.length > 3) params.account[key.slice(3)] = value;
    else if (key === 'a') params.amount = /^\d+$/.test(value) ? Number(value) : NaN;
    else if (key === 'l') {
      if (value !== 'ru' && value !== 'uz' && value !== 'en') throw new Error(`l is ru, uz or en, got "${value}"`);
      params.lang = value;
    } else if (key === 'c') params.returnUrl = value;
    else if (key === 'ct') params.returnTimeoutMs = /^\d+$/.test(value) ? Number(value) : NaN;
    else if (key === 'cr') params.currency = value;
    else throw new Error(`unknown Payme checkout parameter "${key}"`);
  }
  if (!params.merchantId) throw new Error('m (the merchant id) is required');
  if (!Number.isSafeInteger(params.amount) || params.amount <= 0) throw new Error('a (the amount in tiyin) is a positive whole number');
  if (Object.keys(params.account).length === 0) throw new Error('at least one ac.<field> is required');
  if (Number.isNaN(params.returnTimeoutMs)) throw new Error('ct is a whole number of milliseconds');
  return params;
}

/**
 * The answers a merchant gives, as Payme checks them (times are 13-digit milliseconds, 0 when unset;
 * `transaction` is the merchant's id as a string).
 */
const answerTime = z.number().int().nonnegative();
const setTime = z.number().int().min(1_000_000_000_000).max(9_999_999_999_999);
const merchantTransaction = z.string().min(1).max(64);
const statementEntry = z.object({
  id: z.string().min(1),
  time: setTime,
  amount: tiyin,
  account: z.record(z.string(), z.unknown()),
  create_time: setTime,
  perform_time: answerTime,
  cancel_time: answerTime,
  transaction: merchantTransaction,
  state: z.union([z.literal(1), z.literal(2), z.literal(-1), z.literal(-2)]),
  reason: z.number().int().nullable(),
  receivers: z
    .array(z.object({ id: z.string(), amount: tiyin }))
    .nullable()
    .optional(),
});
export type PaymeStatementEntry = z.infer<typeof statementEntry>;

export const paymeResultSchemas = {
  CheckPerformTransaction: z.object({ allow: z.literal(true) }).loose(),
  CreateTransaction: z
    .object({ create_time: setTime, transaction: merchantTransaction, state: z.literal(1), receivers: z.unknown().optional() })
    .strict(),
  PerformTransaction: z.object({ transaction: merchantTransaction, perform_time: setTime, state: z.literal(2) }).strict(),
  CancelTransaction: z
    .object({ transaction: merchantTransaction, cancel_time: setTime, state: z.union([z.literal(-1), z.literal(-2)]) })
    .strict(),
  CheckTransaction: z
    .object({
      create_time: setTime,
      perform_time: answerTime,
      cancel_time: answerTime,
      transaction: merchantTransaction,
      state: z.union([z.literal(1), z.literal(2), z.literal(-1), z.literal(-2)]),
      reason: z.number().int().nullable(),
    })
    .strict(),
  GetStatement: z.object({ transactions: z.array(statementEntry) }).strict(),
  ChangePassword: z.object({ success: z.literal(true) }).strict(),
} as const satisfies Record<PaymeMethod, z.ZodType>;

export type PaymeResult<TMethod extends PaymeMethod> = z.infer<(typeof paymeResultSchemas)[TMethod]>;

/** An answer's envelope as Payme reads it: the request's id, and a result or an error (never both). */
export const paymeAnswerSchema = z
  .object({
    id: z.union([z.string(), z.number(), z.null()]),
    result: z.unknown().optional(),
    error: z
      .object({
        code: z.number().int(),
        message: z.object({ ru: z.string().min(1), uz: z.string().min(1), en: z.string().min(1) }),
        data: z.string().nullable().optional(),
      })
      .nullable()
      .optional(),
  })
  .strict();
export type PaymeAnswer = z.infer<typeof paymeAnswerSchema>;

/** The account range: a code here names the account field in `data`. */
export const isAccountError = (code: number) => code <= -31050 && code >= -31099;
