import { z } from 'zod';

/**
 * Rozetka Seller API: log in at `POST /sites` with the password in base64,
 * then `Authorization: Bearer <access_token>` (the token lives about a day;
 * an expired one answers HTTP 401 with code 6001). Every answer is
 * `{success, content}` or `{success: false, errors: {message, code}}` —
 * business errors often with HTTP 200. Shapes from ../shared/protocols/rozetka.md.
 */

export const ROZETKA_PATHS = { login: '/sites', ordersSearch: '/orders/search', order: (id: number) => `/orders/${id}` } as const;

export const ROZETKA_ERROR_CODES = {
  serverError: '0',
  requiredParameter: '1001',
  incorrectDataFormat: '1002',
  incorrectCredentials: '1004',
  accessDenied: '1010',
  incorrectToken: '1018',
  entityNotFound: '1019',
  maintenance: '5503',
  sessionExpired: '6001',
} as const;

/** The token is no longer good: log in again and repeat once. */
export const SESSION_ERROR_CODES: ReadonlySet<string> = new Set([ROZETKA_ERROR_CODES.sessionExpired, ROZETKA_ERROR_CODES.incorrectToken]);
export const RETRYABLE_ROZETKA_CODES: ReadonlySet<string> = new Set([ROZETKA_ERROR_CODES.serverError, ROZETKA_ERROR_CODES.maintenance]);

/** The password travels base64-encoded (Rozetka's rule, not a protection). */
export function encodePassword(password: string): string {
  return Buffer.from(password, 'utf8').toString('base64');
}

export const rozetkaErrorSchema = z.object({
  success: z.literal(false),
  errors: z.looseObject({
    message: z.string(),
    code: z.union([z.number(), z.string()]).transform(String),
    details: z.unknown().optional(),
  }),
});

export const rozetkaEnvelopeSchema = z.union([z.object({ success: z.literal(true), content: z.unknown() }), rozetkaErrorSchema]);

export const loginContentSchema = z.looseObject({ id: z.number().optional(), access_token: z.string().min(1) });

const money = z.union([z.number(), z.string()]).transform(String);

export const rozetkaOrderSchema = z.looseObject({
  id: z.number().int(),
  created: z.string(),
  changed: z.string().optional(),
  amount: money,
  amount_with_discount: money.optional(),
  cost: money.optional(),
  status: z.number().int(),
  status_group: z.number().int().optional(),
  ttn: z.string().nullish(),
  user_phone: z.string().nullish(),
  user_title: z.looseObject({ full_name: z.string().optional() }).nullish(),
  comment: z.string().nullish(),
  total_quantity: z.number().optional(),
  is_viewed: z.boolean().optional(),
});
export type RozetkaOrder = z.infer<typeof rozetkaOrderSchema>;

export const ordersPageSchema = z.object({
  orders: z.array(rozetkaOrderSchema),
  _meta: z.looseObject({
    totalCount: z.number().int(),
    pageCount: z.number().int(),
    currentPage: z.number().int(),
    perPage: z.number().int(),
  }),
});
export type RozetkaOrdersPage = z.infer<typeof ordersPageSchema>;

export interface OrdersQuery {
  page?: number;
  /** 1 all, 2 in processing, 3 completed, 4 new, 5 delivering, 6 unsuccessful */
  types?: number;
  status?: number;
  /** "YYYY-MM-DD HH:mm:ss" */
  changedFrom?: string;
  changedTo?: string;
  sort?: string;
}

export const orderUpdateSchema = z.object({
  status: z.number().int().positive(),
  seller_comment: z.string().optional(),
  ttn: z.string().optional(),
  duplicate_order_id: z.number().int().optional(),
});
export type RozetkaOrderUpdate = z.infer<typeof orderUpdateSchema>;

/** Statuses that need a waybill number with them. */
export const STATUSES_NEEDING_TTN: ReadonlySet<number> = new Set([3, 61]);
