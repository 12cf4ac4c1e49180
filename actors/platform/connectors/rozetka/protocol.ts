import { z } from 'zod';

/**
 * Rozetka Seller API: log in at `POST /sites` with the password in base64,
 * then `Authorization: Bearer <access_token>` (the token lives about a day;
 * an expired one answers HTTP 401 with code 6001). Every answer is
 * `{success, content}` or `{success: false, errors: {message, code}}` —
 * business errors often with HTTP 200. Shapes from ../shared/protocols/rozetka.md.
 *
 * Sources cited below:
 * - [apidoc] GERA-OneTeam/Rozetka-API-Seller:docs/categories/*.md, generated from the official
 *   https://api-seller.rozetka.com.ua/apidoc/ (orders.md §1.2 "Деталі замовлення", §1.3 "Пошук по замовленням",
 *   §1.4.1 status change, §1.6 payment statuses; apiitems.md §1.0 `/goods/all`, §4.0 `/items/mass-update`;
 *   models.md Delivery, Purchase, Item, OrderPaymentDto, UpdatingItem, OrdersStatuses; aboutapi.md error codes).
 * - [practice] idx:60756044474 (token life, error codes in practice); idx:58542238853 (a public client that
 *   notes that neither rate limits nor batch sizes are documented).
 * Where nothing was found the value is marked ASSUMED.
 */

export const ROZETKA_PATHS = {
  login: '/sites',
  ordersSearch: '/orders/search',
  order: (id: number) => `/orders/${id}`,
  // [apidoc] apiitems.md §1.0 "Всі товари"
  goodsAll: '/goods/all',
  // [apidoc] apiitems.md §4.0 "Масова зміна ціни і наявності товарів" (method PUT)
  itemsMassUpdate: '/items/mass-update',
} as const;

export const ROZETKA_ERROR_CODES = {
  serverError: '0',
  requiredParameter: '1001',
  incorrectDataFormat: '1002',
  incorrectCredentials: '1004',
  checkCorrectnessOfData: '1005',
  accessDenied: '1010',
  incorrectToken: '1018',
  entityNotFound: '1019',
  maintenance: '5503',
  sessionExpired: '6001',
  /** ASSUMED: Rozetka publishes no rate-limit error; the 5xxx block mirrors HTTP statuses (5401, 5404, 5503) */
  tooManyRequests: '5429',
} as const;

/** The token is no longer good: log in again and repeat once. */
export const SESSION_ERROR_CODES: ReadonlySet<string> = new Set([ROZETKA_ERROR_CODES.sessionExpired, ROZETKA_ERROR_CODES.incorrectToken]);
export const RETRYABLE_ROZETKA_CODES: ReadonlySet<string> = new Set([
  ROZETKA_ERROR_CODES.serverError,
  ROZETKA_ERROR_CODES.maintenance,
  ROZETKA_ERROR_CODES.tooManyRequests,
]);

/**
 * Rate limit: none is documented ([apidoc] has no section on it; [practice] idx:58542238853 says the same).
 * ASSUMED: we keep to 3 requests a second with a burst of 5 — a seller's order poll, status pushes and
 * 100-item stock batches need far less.
 */
export const ROZETKA_RATE_LIMIT = { perSecond: 3, burst: 5 } as const;

/**
 * Items per `PUT /items/mass-update`: no maximum is documented ([apidoc] §4.0 and the UpdatingItem model
 * name none). ASSUMED: 100, the chunk public integrations use (idx:68790235166), small enough that one
 * refused call holds back little.
 */
export const MASS_UPDATE_MAX_ITEMS = 100;

/** `pageSize` of `GET /goods/all` ([apidoc] §1.0 meta parameter; its example answers `perPage: 100`). ASSUMED maximum: 100. */
export const GOODS_PAGE_SIZE_MAX = 100;

/** Orders per page of `/orders/search`: fixed by Rozetka, no page size parameter ([apidoc] §1.3 example `perPage: 20`). */
export const ORDERS_PER_PAGE = 20;

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

/** Money comes as a decimal string ("1250.00") or, in some models, a number ([apidoc] Purchase: `Number`; examples: strings). */
const money = z.union([z.number(), z.string()]).transform(String);

/**
 * "1250.00" (hryvnias) → 125000 (kopiykas), by the digits, never through a float.
 * Numbers are first written with two decimals (a JSON number like 280.1 is exact enough for that).
 */
export function minorUnits(amount: string | number): number {
  const text = typeof amount === 'number' ? amount.toFixed(2) : amount.trim();
  const match = /^(-?)(\d+)(?:[.,](\d{1,2}))?$/.exec(text);
  if (!match) throw new Error(`not a money amount: ${JSON.stringify(amount)}`);
  const [, sign = '', whole = '0', fraction = ''] = match;
  const value = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  return sign === '-' ? -value : value;
}

/**
 * Times are "YYYY-MM-DD HH:mm:ss" with no zone ([apidoc] `created: "2019-07-25 11:49:32"`; `created_from`
 * takes the same). ASSUMED: Kyiv local time (Rozetka is a Kyiv service; its cabinet shows local time).
 */
export const ROZETKA_TIME_ZONE = 'Europe/Kyiv';
const TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const kyivParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: ROZETKA_TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

function kyivFields(at: Date): Record<string, string> {
  return Object.fromEntries(kyivParts.formatToParts(at).map((part) => [part.type, part.value]));
}

/** A moment as Rozetka writes it (Kyiv wall-clock time). */
export function rozetkaTime(at: Date): string {
  const f = kyivFields(at);
  return `${f.year}-${f.month}-${f.day} ${f.hour}:${f.minute}:${f.second}`;
}

export function isRozetkaTime(text: string): boolean {
  return TIME_PATTERN.test(text);
}

/** Kyiv wall-clock time → the moment (ISO, UTC). */
export function rozetkaTimeToIso(text: string): string {
  const match = TIME_PATTERN.exec(text);
  if (!match) throw new Error(`not a Rozetka time: ${JSON.stringify(text)}`);
  const [, year, month, day, hour, minute, second] = match.map(Number);
  const wall = Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1, hour ?? 0, minute ?? 0, second ?? 0);
  // the zone's offset at that moment: guess with the wall time, then correct once (DST edges)
  const offsetAt = (utc: number) => {
    const f = kyivFields(new Date(utc));
    return Date.UTC(Number(f.year), Number(f.month) - 1, Number(f.day), Number(f.hour), Number(f.minute), Number(f.second)) - utc;
  };
  let utc = wall - offsetAt(wall);
  utc = wall - offsetAt(utc);
  return new Date(utc).toISOString();
}

/** Wall-clock arithmetic on Rozetka times (minutes may be negative). */
export function shiftRozetkaTime(text: string, minutes: number): string {
  return rozetkaTime(new Date(Date.parse(rozetkaTimeToIso(text)) + minutes * 60_000));
}

// ---- orders ---------------------------------------------------------------------------------

/** [apidoc] models.md Purchase; `item_id` is the Rozetka item id (the §1.3 example: item_id = item.id = the id in the item's URL = `rz_item_id` of /goods/all). */
export const purchaseSchema = z.looseObject({
  id: z.number().int(),
  item_id: z.number().int(),
  item_name: z.string(),
  quantity: z.number().int(),
  /** per unit */
  price: money,
  price_with_discount: money.optional(),
  /** price × quantity */
  cost: money.optional(),
  cost_with_discount: money.optional(),
  /** 1 actual, 2 returned by the buyer, 0 removed when the order was edited */
  status: z.number().int().optional(),
  kit_id: z.number().nullish(),
  is_additional_item: z.boolean().optional(),
  item: z.looseObject({ id: z.number().int(), price_offer_id: z.string().nullish(), article: z.string().nullish() }).nullish(),
});
export type RozetkaPurchase = z.infer<typeof purchaseSchema>;

/**
 * [apidoc] models.md Delivery and the §1.2/§1.3 examples: `delivery_service_id` 5 with `name_logo: "nova-pochta"`
 * is Nova Poshta; `ref_id` is "the Nova Poshta pickup point's identifier" (a UUID in the examples, though the model
 * says Integer); `place_number` the branch number; `city` Rozetka's own locality (its `id` is no NP ref).
 * `delivery_method_id`: 1 pickup (branch), 2 courier.
 */
export const deliverySchema = z.looseObject({
  delivery_service_id: z.number().int().nullish(),
  delivery_service_name: z.string().nullish(),
  recipient_title: z.string().nullish(),
  recipient_phone: z.string().nullish(),
  delivery_method_id: z.number().int().nullish(),
  place_id: z.number().nullish(),
  place_street: z.string().nullish(),
  place_number: z.union([z.string(), z.number()]).transform(String).nullish(),
  place_house: z.string().nullish(),
  place_flat: z.string().nullish(),
  pickup_type: z.number().nullish(),
  cost: money.nullish(),
  city: z
    .looseObject({ id: z.number().nullish(), name: z.string().nullish(), name_ua: z.string().nullish(), title: z.string().nullish() })
    .nullish(),
  ref_id: z.union([z.string(), z.number()]).transform(String).nullish(),
  name_logo: z.string().nullish(),
  email: z.string().nullish(),
});
export type RozetkaDelivery = z.infer<typeof deliverySchema>;

export const DELIVERY_METHODS = { pickup: 1, courier: 2 } as const;
/** [apidoc] §1.2 example: `delivery_service_id: 5, name_logo: "nova-pochta"` */
export const NOVA_POSHTA = { serviceId: 5, logo: 'nova-pochta' } as const;

/** [apidoc] orders.md §1.6 `/payments/payment-statuses`: 1 cancelled, 2 paid, 3 unpaid, 4 unapproved, 5 part-paid, 6 expired, 7 hold, 8 returned, … */
export const PAYMENT_STATUS_NAMES = ['cancelled', 'paid', 'unpaid', 'unapproved', 'part-paid', 'expired', 'hold', 'returned'] as const;
/** Money that is Rozetka's: paid, or held on the buyer's card ("Сума утримана"). */
export const PAID_ONLINE_STATUSES: ReadonlySet<string> = new Set(['paid', 'hold']);

/** [apidoc] models.md OrderPaymentDto: `payment_type` "cash" | "card" | "credit" …, `payment_status` an OrderStatusPayment or null */
export const paymentSchema = z.looseObject({
  payment_method_id: z.number().nullish(),
  payment_method_name: z.string().nullish(),
  payment_type: z.string().nullish(),
  payment_type_title: z.string().nullish(),
  payment_status: z.looseObject({ status_payment_id: z.number().optional(), name: z.string(), title: z.string().optional() }).nullish(),
});
export type RozetkaPayment = z.infer<typeof paymentSchema>;

export const rozetkaOrderSchema = z.looseObject({
  id: z.number().int(),
  created: z.string(),
  changed: z.string().optional(),
  amount: money,
  amount_with_discount: money.optional(),
  cost: money.optional(),
  cost_with_discount: money.optional(),
  status: z.number().int(),
  /** 1 in processing, 2 successful, 3 unsuccessful (cancelled) */
  status_group: z.number().int().optional(),
  ttn: z.string().nullish(),
  user_phone: z.string().nullish(),
  user_title: z.looseObject({ full_name: z.string().optional() }).nullish(),
  comment: z.string().nullish(),
  total_quantity: z.number().optional(),
  is_viewed: z.boolean().optional(),
  is_fulfillment: z.boolean().optional(),
  // the expand fields ([apidoc] §1.3 ExtraFields), present only when asked for
  purchases: z.array(purchaseSchema).optional(),
  delivery: deliverySchema.nullish(),
  payment: paymentSchema.nullish(),
  /** "whether the order is paid by card" */
  is_payed: z.boolean().nullish(),
  user: z.looseObject({ contact_fio: z.string().nullish(), email: z.string().nullish() }).nullish(),
});
export type RozetkaOrder = z.infer<typeof rozetkaOrderSchema>;

/** What the hub needs of an order: the lines, where it goes, how it is paid. */
export const ORDER_EXPAND = ['user', 'delivery', 'purchases', 'payment', 'is_payed'] as const;

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
  /** one order by its id */
  id?: number;
  /** 1 all, 2 in processing, 3 completed, 4 new, 5 delivering, 6 unsuccessful */
  types?: number;
  status?: number;
  /** "YYYY-MM-DD HH:mm:ss" (Kyiv), inclusive */
  createdFrom?: string;
  changedFrom?: string;
  changedTo?: string;
  /** a column with `-` for descending: `id`, `-id`, `created` … (default `-id`) */
  sort?: string;
}

export const orderUpdateSchema = z.object({
  status: z.number().int().positive(),
  seller_comment: z.string().optional(),
  ttn: z.string().optional(),
  duplicate_order_id: z.number().int().optional(),
});
export type RozetkaOrderUpdate = z.infer<typeof orderUpdateSchema>;

/** Statuses that need a waybill number with them ([apidoc] §1.4.1: required with 3 and 61). */
export const STATUSES_NEEDING_TTN: ReadonlySet<number> = new Set([3, 61]);

/** [apidoc] models.md OrdersStatuses (the ones we name). */
export const ORDER_STATUS = {
  new: 1,
  packing: 2,
  handedToCarrier: 3,
  delivering: 4,
  awaitingPickup: 5,
  completed: 6,
  couldNotReach: 18,
  deliveryNotSuitable: 24,
  managerProcessing: 26,
  requiresCompletion: 27,
  customerChangedMind: 40,
  outOfStock: 42,
  cancelledByBuyer: 45,
  duplicate: 49,
  handoverPlanned: 61,
} as const;

/** `status_group`: [apidoc] OrderStatus model "1 - в обробці, 2 - успішно завершені, 3 - неуспішно завершені (скасовані)". */
export const STATUS_GROUP = { processing: 1, success: 2, failed: 3 } as const;

/**
 * Statuses of an order the seller has not confirmed yet: new (1, 52 one-click), being looked at (26 manager,
 * 53 awaiting the buyer, 54 processed automatically, 79 awaiting call-centre moderation) or being called (46, 47, 70).
 * From any other processing status, "confirmed" already took effect.
 */
export const AWAITING_CONFIRMATION: ReadonlySet<number> = new Set([1, 26, 46, 47, 52, 53, 54, 70, 79]);
/** Processing statuses before the parcel is handed over: any other processing status means "shipped" took effect. */
export const BEFORE_HANDOVER: ReadonlySet<number> = new Set([...AWAITING_CONFIRMATION, 2, 27, 61]);

// ---- goods ----------------------------------------------------------------------------------

/**
 * [apidoc] apiitems.md §1.0 `GET /goods/all`: `{count, items: ItemFormResponse[], _meta}`. `rz_item_id` is the id
 * the stock and price update takes as `item_rz_id` (models.md UpdatingItem: "from ItemsAll") and the one in the
 * item's URL; it is null while an item is not yet on the site. `item_id` is Rozetka's internal (technical) id.
 * `price` is whole hryvnias.
 */
export const goodsItemSchema = z.looseObject({
  rz_item_id: z.number().int().nullable(),
  item_id: z.number().int().optional(),
  price_offer_id: z.union([z.string(), z.number()]).transform(String).nullish(),
  article: z.string().nullish(),
  name: z.string().nullish(),
  name_ua: z.string().nullish(),
  price: z.number().nullish(),
  stock_quantity: z.number().nullish(),
});
export type RozetkaGoodsItem = z.infer<typeof goodsItemSchema>;

export const goodsPageSchema = z.looseObject({
  count: z.number().int().optional(),
  items: z.array(goodsItemSchema),
  _meta: z.looseObject({
    totalCount: z.number().int(),
    pageCount: z.number().int(),
    currentPage: z.number().int(),
    perPage: z.number().int(),
  }),
});
export type RozetkaGoodsPage = z.infer<typeof goodsPageSchema>;

// ---- stock and prices -------------------------------------------------------------------------

/**
 * One item of `PUT /items/mass-update` as we send it ([apidoc] models.md UpdatingItem): `item_rz_id`, and `price`
 * (whole hryvnias) or `stock_quantity`. (`price_old`, `price_promo`, cart limits exist; we do not send them.)
 */
export const massUpdateItemSchema = z
  .object({
    item_rz_id: z.number().int().positive(),
    price: z.number().int().positive().optional(),
    stock_quantity: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((item) => item.price !== undefined || item.stock_quantity !== undefined, 'price or stock_quantity is required');
export type MassUpdateItem = z.infer<typeof massUpdateItemSchema>;

export const massUpdateRequestSchema = z
  .object({
    /** 0 validate (the default), 1 skip the checks */
    isIgnoreCheck: z.union([z.literal(0), z.literal(1)]).optional(),
    items: z.array(massUpdateItemSchema).min(1).max(MASS_UPDATE_MAX_ITEMS),
  })
  .strict();
export type MassUpdateRequest = z.infer<typeof massUpdateRequestSchema>;

/** [apidoc] §4.0: a refusal names items: `{"success":false,"errors":{"<item id>":{"reason":[{"id":1,"value":["…"]}]}}}` */
export const itemRefusalSchema = z.looseObject({
  reason: z.array(z.looseObject({ id: z.union([z.number(), z.string()]).transform(String), value: z.array(z.string()).default([]) })),
});
export const itemRefusalsSchema = z.record(z.string().regex(/^\d+$/), itemRefusalSchema);
/** What `/items/mass-update` answers besides the general error envelope (which is checked first). */
export const massUpdateAnswerSchema = z.union([
  z.object({ success: z.literal(true), content: z.unknown() }),
  z.object({ success: z.literal(false), errors: itemRefusalsSchema }),
]);

/**
 * The reason ids of a per-item refusal. The documented example gives ids 1, 2, 3 with placeholder texts
 * ("some_text1"), so their meaning is ASSUMED; the texts travel as the refusal's message either way.
 * [apidoc] §4.0 also says a price raised more than 1.5× or cut more than 2× "is not applied at once but waits
 * for a manager's confirmation": we report that as `price_held_for_approval`.
 */
export const MASS_UPDATE_REASONS: Record<string, string> = {
  '1': 'item_not_found',
  '2': 'invalid_value',
  '3': 'price_held_for_approval',
};
/** [apidoc] §4.0: the bounds past which a new price waits for a manager */
export const PRICE_APPROVAL_BOUNDS = { maxRaise: 1.5, maxCut: 2 } as const;
