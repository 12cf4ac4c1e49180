import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  SandboxHttpError,
  startSandboxServer,
  type SandboxOptions,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxServer,
} from '../kit/sandbox.ts';
import { sandboxRateLimit } from '../kit/sandbox-rate-limit.ts';
import { SANDBOX_WAREHOUSES } from '../novaposhta/sandbox.ts';
import {
  encodePassword,
  GOODS_PAGE_SIZE_MAX,
  isRozetkaTime,
  MASS_UPDATE_MAX_ITEMS,
  minorUnits,
  NOVA_POSHTA,
  ORDER_STATUS,
  ORDERS_PER_PAGE,
  PRICE_APPROVAL_BOUNDS,
  ROZETKA_ERROR_CODES,
  ROZETKA_PATHS,
  rozetkaTime,
  STATUS_GROUP,
  STATUSES_NEEDING_TTN,
  type RozetkaOrder,
  type RozetkaPurchase,
} from './protocol.ts';
import { constantTimeEqual } from '../../../../common/security.ts';

/**
 * The Rozetka Seller sandbox: one seller account, logins that expect the
 * password in base64 (a plain one is refused, as Rozetka does), day-long
 * tokens that a test can expire, a seeded catalogue and a few marketplace
 * orders with their lines, Nova Poshta delivery and payment, order search
 * with paging, filters and `expand`, status changes with Rozetka's TTN rules
 * (an order in a final status group stays there; a repeat of its status is
 * accepted), stock and price updates with per-item refusals and the price
 * approval rule, and a rate limit answering 429 with Retry-After.
 */

export const ROZETKA_SANDBOX_CREDENTIALS = { username: 'sandbox-seller', password: 'Sandbox-Passw0rd!' };

/** One of the seller's goods as the sandbox keeps it (prices in whole hryvnias, as Rozetka's). */
export interface RozetkaSandboxProduct {
  /** the id on the site (`rz_item_id`, `item_rz_id`, an order line's `item_id`); null while not yet on the site */
  rzItemId: number | null;
  /** Rozetka's internal id */
  itemId: number;
  priceOfferId: string;
  article: string;
  name: string;
  price: number;
  stock: number;
  /** a price change waiting for a manager's approval */
  pendingPrice: number | null;
}

export interface RozetkaSandboxOrderInput {
  id?: number;
  /** order lines by Rozetka item id; `price` per unit in hryvnias ("249.50"), the catalogue's price by default */
  lines?: Array<{ itemId: number; qty: number; price?: string }>;
  status?: number;
  /** Rozetka time (Kyiv), now by default */
  created?: string;
  /** paid online by card at Rozetka, `'pending'`: to be paid by card (status 55 until paid), otherwise cash on delivery */
  paid?: boolean | 'pending';
  customer?: { name?: string; phone?: string; email?: string | null };
  /** which Nova Poshta branch of the NP sandbox (its index), or another carrier */
  delivery?: { novaPoshtaBranch?: number } | { service: 'rozetka-delivery' | 'meest' };
  fulfillment?: boolean;
}

export interface RozetkaSandbox extends SandboxServer {
  /** makes every token issued so far expired (the next call answers 6001) */
  expireSessions(): void;
  /** adds a marketplace order (a new one by default) and returns it */
  addOrder(order?: RozetkaSandboxOrderInput): RozetkaOrder;
  order(id: number): RozetkaOrder | null;
  /** the buyer cancels in the Rozetka app (status 45) */
  cancelByBuyer(id: number): RozetkaOrder;
  /** the buyer of a `paid: 'pending'` order pays by card: the order becomes a new, paid one */
  payOrder(id: number): RozetkaOrder;
  addProduct(product: Partial<RozetkaSandboxProduct> & { name: string }): RozetkaSandboxProduct;
  stockOf(rzItemId: number): number | null;
  /** the price on the site, whole hryvnias */
  priceOf(rzItemId: number): number | null;
  /** a price waiting for a manager's approval */
  pendingPriceOf(rzItemId: number): number | null;
  /** tightens (or lifts, with null) the rate limit: requests per window for one token */
  setRateLimit(limit: { limit: number; windowMs: number } | null): void;
  /** tokens issued so far */
  logins(): number;
}

const TOKEN_LIFETIME_MS = 24 * 3600 * 1000;
/** ASSUMED (nothing published): 10 requests a second per token, above the connector's own 3/s with a burst of 5 */
const DEFAULT_RATE_LIMIT = { limit: 10, windowMs: 1000 };
const GOODS_DEFAULT_PAGE_SIZE = 20;
/** "Очікує отримання оплати" */
const AWAITING_PAYMENT = 55;

function cardPayment(paid: boolean) {
  return {
    payment_method_id: 123,
    payment_method_name: 'Оплата карткою',
    payment_type: 'card',
    payment_type_title: 'Банківська картка',
    payment_status: paid
      ? { status_payment_id: 2, name: 'paid', title: 'Оплачено' }
      : { status_payment_id: 3, name: 'unpaid', title: 'Очікує оплату' },
    credit: null,
  };
}

/** The status list of [apidoc] models.md OrdersStatuses; anything else is not a status. */
const KNOWN_STATUSES: ReadonlySet<number> = new Set([
  1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 15, 16, 17, 18, 19, 20, 24, 25, 26, 27, 28, 29, 30, 31, 33, 37, 38, 40, 42, 43, 44, 45, 46, 47, 49, 50,
  51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84,
  85, 86, 87, 88, 89, 90, 91,
]);
/** status → status_group: completed ones, cancellations and returns; every other status is "in processing" */
const SUCCESS_STATUSES: ReadonlySet<number> = new Set([6, 68, 87]);
const FAILED_STATUSES: ReadonlySet<number> = new Set([
  11, 12, 13, 16, 17, 18, 19, 20, 24, 25, 28, 29, 30, 31, 33, 37, 38, 40, 42, 43, 44, 45, 49, 50, 51, 71, 72, 75, 77, 85, 88,
]);
const groupOf = (status: number) =>
  SUCCESS_STATUSES.has(status) ? STATUS_GROUP.success : FAILED_STATUSES.has(status) ? STATUS_GROUP.failed : STATUS_GROUP.processing;

/** `types` filter → statuses it covers */
const TYPE_FILTERS: Record<number, (o: RozetkaOrder) => boolean> = {
  1: () => true,
  2: (o) => o.status_group === STATUS_GROUP.processing,
  3: (o) => o.status_group === STATUS_GROUP.success,
  4: (o) => o.status === ORDER_STATUS.new,
  5: (o) => o.status === ORDER_STATUS.delivering || o.status === ORDER_STATUS.awaitingPickup,
  6: (o) => o.status_group === STATUS_GROUP.failed,
};

/** Fields an order carries only when `expand` names them ([apidoc] §1.3 ExtraFields). */
const EXTRA_FIELDS = [
  'purchases',
  'delivery',
  'delivery_service',
  'payment',
  'payment_type',
  'payment_type_name',
  'payment_type_title',
  'payment_method_id',
  'is_payed',
  'user',
  'status_data',
] as const;

const fail = (status: number, code: string, message: string, details: unknown = null): SandboxResponse => ({
  status,
  json: { success: false, errors: { message, code: Number(code), details } },
});
const ok = (content: unknown): SandboxResponse => ({ json: { success: true, content } });

/** kopiykas → "1250.00", by integers */
function hryvnias(minor: number): string {
  return `${Math.trunc(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
}

function seedProducts(): RozetkaSandboxProduct[] {
  const product = (rzItemId: number | null, itemId: number, article: string, name: string, price: number, stock: number) => ({
    rzItemId,
    itemId,
    priceOfferId: String(7000 + (itemId % 1000)),
    article,
    name,
    price,
    stock,
    pendingPrice: null,
  });
  return [
    product(344560030, 114053, '2348400', 'Масляний фільтр UFI (2348400)', 450, 15),
    product(38221768, 114054, 'BOOK-INSTA', 'Феномен Інстаграму. Як розкрутити свій акаунт', 195, 4),
    product(273834288, 114055, 'ALDEX-38', 'Кросівки Aldex чорні, 38', 1780, 2),
    product(410000101, 114056, 'MUG-WHITE', 'Чашка керамічна біла 350 мл', 120, 40),
    // on moderation: not on the site yet, so it has no Rozetka id
    product(null, 114057, 'LAMP-DESK', 'Лампа настільна LED', 899, 6),
  ];
}

const accountName = z.string().trim().min(1).max(200);
const orderInputSchema = z
  .object({
    id: z.number().int().positive().optional(),
    lines: z
      .array(
        z
          .object({
            itemId: z.number().int().positive(),
            qty: z.number().int().positive(),
            price: z
              .string()
              .regex(/^\d+(\.\d{1,2})?$/)
              .optional(),
          })
          .strict(),
      )
      .min(1)
      .optional(),
    status: z.number().int().positive().optional(),
    created: z.string().refine(isRozetkaTime, 'YYYY-MM-DD HH:mm:ss').optional(),
    paid: z.union([z.boolean(), z.literal('pending')]).optional(),
    customer: z.object({ name: accountName.optional(), phone: z.string().optional(), email: z.string().nullable().optional() }).optional(),
    delivery: z
      .union([
        z.object({ novaPoshtaBranch: z.number().int().min(0).optional() }).strict(),
        z.object({ service: z.enum(['rozetka-delivery', 'meest']) }).strict(),
      ])
      .optional(),
    fulfillment: z.boolean().optional(),
  })
  .strict();

/** `PUT /items/mass-update` as Rozetka reads it: the documented fields of UpdatingItem, others ignored */
const massUpdateBodySchema = z.object({
  isIgnoreCheck: z.union([z.literal(0), z.literal(1)]).optional(),
  items: z.array(
    z.object({
      item_rz_id: z.number().int(),
      price: z.number().int().optional(),
      stock_quantity: z.number().int().optional(),
      price_old: z.number().int().optional(),
      price_promo: z.number().int().optional(),
      max_cart_quantity: z.number().int().optional(),
      min_cart_quantity: z.number().int().optional(),
    }),
  ),
});
const orderUpdateBodySchema = z.object({
  status: z.number().int(),
  seller_comment: z.string().optional(),
  ttn: z.string().optional(),
  duplicate_order_id: z.number().int().optional(),
});

const issues = (error: z.ZodError) => error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);

export async function startRozetkaSandbox(options: SandboxOptions = {}, account = ROZETKA_SANDBOX_CREDENTIALS): Promise<RozetkaSandbox> {
  let products = seedProducts();
  let orders: RozetkaOrder[] = [];
  let tokens = new Map<string, number>();
  let issued = 0;
  const limiter = sandboxRateLimit(DEFAULT_RATE_LIMIT);

  const byRzId = (id: number) => products.find((p) => p.rzItemId === id);

  const buildOrder = (input: RozetkaSandboxOrderInput): RozetkaOrder => {
    const first = products.find((p) => p.rzItemId !== null);
    const lines = input.lines ?? (first?.rzItemId ? [{ itemId: first.rzItemId, qty: 1 }] : []);
    const purchases: RozetkaPurchase[] = lines.map((line, index) => {
      const product = byRzId(line.itemId);
      if (!product) throw new SandboxHttpError(400, { error: `no item ${line.itemId} in the sandbox catalogue` });
      const unit = minorUnits(line.price ?? `${product.price}.00`);
      return {
        id: 158280000 + orders.length * 10 + index,
        item_id: line.itemId,
        item_name: product.name,
        quantity: line.qty,
        price: hryvnias(unit),
        price_with_discount: hryvnias(unit),
        cost: hryvnias(unit * line.qty),
        cost_with_discount: hryvnias(unit * line.qty),
        status: 1,
        kit_id: 0,
        is_additional_item: false,
        item: { id: line.itemId, price_offer_id: product.priceOfferId, article: product.article },
      };
    });
    const amount = hryvnias(purchases.reduce((sum, p) => sum + minorUnits(p.cost ?? '0'), 0));
    const created = input.created ?? rozetkaTime(new Date());
    const pending = input.paid === 'pending';
    const status = input.status ?? (pending ? AWAITING_PAYMENT : ORDER_STATUS.new);
    const name = input.customer?.name ?? 'Покупець Розетки';
    const phone = input.customer?.phone ?? '380500000000';
    const id = input.id ?? Math.max(701000000, ...orders.map((o) => o.id)) + 1;
    const paid = input.paid === true;
    const delivery =
      input.delivery && 'service' in input.delivery
        ? otherCarrier(input.delivery.service, name, phone)
        : novaPoshta(input.delivery?.novaPoshtaBranch ?? 0, name, phone, input.customer?.email ?? null);
    return {
      id,
      created,
      changed: created,
      amount,
      amount_with_discount: amount,
      cost: amount,
      cost_with_discount: amount,
      status,
      status_group: groupOf(status),
      ttn: '',
      user_phone: phone,
      user_title: { full_name: name },
      comment: '',
      total_quantity: purchases.reduce((sum, p) => sum + p.quantity, 0),
      is_viewed: false,
      is_fulfillment: input.fulfillment ?? false,
      created_type: 4,
      purchases,
      delivery,
      delivery_service: { id: delivery.delivery_service_id, name: delivery.delivery_service_name, type: 0, status: 1 },
      payment:
        paid || pending
          ? cardPayment(paid)
          : {
              payment_method_id: 1,
              payment_method_name: 'Оплата під час отримання товару',
              payment_type: 'cash',
              payment_type_title: 'Готівкова',
              payment_status: null,
              credit: null,
            },
      payment_type: paid || pending ? 'card' : 'cash',
      is_payed: paid,
      // Rozetka masks the buyer's address here ("has_email"); the recipient's is in delivery.email
      user: { id: 39919762, has_email: true, contact_fio: name, email: 'true' },
    };
  };

  const seedOrders = (): RozetkaOrder[] => {
    const base = Date.now() - 3 * 3600 * 1000;
    const at = (minutes: number) => rozetkaTime(new Date(base + minutes * 60_000));
    orders = [];
    const seeded: RozetkaSandboxOrderInput[] = [
      {
        id: 701000001,
        created: at(0),
        lines: [{ itemId: 344560030, qty: 1 }],
        customer: { name: 'Олена Петренко', phone: '380501234567' },
        delivery: { novaPoshtaBranch: 0 },
      },
      {
        id: 701000002,
        created: at(30),
        lines: [
          { itemId: 38221768, qty: 2, price: '179.50' },
          { itemId: 410000101, qty: 3 },
        ],
        paid: true,
        customer: { name: 'Тарас Шевчук', phone: '380671112233', email: 'taras@example.com' },
        delivery: { novaPoshtaBranch: 3 },
      },
      {
        id: 701000003,
        created: at(60),
        lines: [{ itemId: 273834288, qty: 1 }],
        status: ORDER_STATUS.completed,
        customer: { name: 'Ірина Коваль', phone: '380931234567' },
        delivery: { novaPoshtaBranch: 1 },
      },
    ];
    for (const input of seeded) orders.push(buildOrder(input));
    return orders;
  };
  orders = seedOrders();

  const authorise = (request: SandboxRequest): SandboxResponse | null => {
    const token = /^Bearer (.+)$/.exec(request.header('authorization') ?? '')?.[1];
    const expiresAt = token ? tokens.get(token) : undefined;
    if (!token || expiresAt === undefined) return fail(401, ROZETKA_ERROR_CODES.incorrectToken, 'incorrect_enter_token');
    if (expiresAt <= Date.now()) return fail(401, ROZETKA_ERROR_CODES.sessionExpired, 'session_expired');
    const retryAfter = limiter.take(token);
    if (retryAfter !== null)
      return { ...fail(429, ROZETKA_ERROR_CODES.tooManyRequests, 'too_many_requests'), headers: { 'retry-after': String(retryAfter) } };
    return null;
  };

  const find = (id: string | undefined) => orders.find((o) => String(o.id) === id);

  /** the order as the API shows it: the expand fields only when asked for */
  const view = (order: RozetkaOrder, expand: string | null): Record<string, unknown> => {
    const asked = new Set((expand ?? '').split(',').map((s) => s.trim()));
    const shown: Record<string, unknown> = { ...order };
    for (const field of EXTRA_FIELDS) if (!asked.has(field)) delete shown[field];
    if (asked.has('status_data')) shown.status_data = { id: order.status, status_group: order.status_group };
    return shown;
  };

  const addOrder = (input: RozetkaSandboxOrderInput = {}): RozetkaOrder => {
    const order = buildOrder(input);
    orders.push(order);
    return order;
  };

  const setStatus = (order: RozetkaOrder, status: number) =>
    Object.assign(order, { status, status_group: groupOf(status), changed: rozetkaTime(new Date()) });

  const addProduct = (input: Partial<RozetkaSandboxProduct> & { name: string }): RozetkaSandboxProduct => {
    const itemId = input.itemId ?? Math.max(...products.map((p) => p.itemId)) + 1;
    const product: RozetkaSandboxProduct = {
      rzItemId: input.rzItemId === undefined ? 410000000 + (itemId % 100000) : input.rzItemId,
      itemId,
      priceOfferId: input.priceOfferId ?? String(itemId),
      article: input.article ?? `ART-${itemId}`,
      name: input.name,
      price: input.price ?? 100,
      stock: input.stock ?? 0,
      pendingPrice: null,
    };
    products.push(product);
    return product;
  };

  const goodsView = (p: RozetkaSandboxProduct) => ({
    rz_item_id: p.rzItemId,
    price_offer_id: p.priceOfferId,
    item_id: p.itemId,
    name: p.name,
    name_ua: p.name,
    name_ru: p.name,
    url: p.rzItemId ? `https://rozetka.com.ua/${p.rzItemId}/p${p.rzItemId}` : null,
    article: p.article,
    price: p.price,
    price_old: null,
    price_promo: null,
    updated_price: p.pendingPrice,
    stock_quantity: p.stock,
    available: p.stock > 0 ? 1 : 0,
    sold: null,
  });

  const server = await startSandboxServer(
    {
      name: 'rozetka',
      onReset: () => {
        products = seedProducts();
        orders = seedOrders();
        tokens = new Map();
        issued = 0;
        limiter.reset();
      },
      describe: () => ({ orders: orders.length, products: products.length, sessions: tokens.size }),
      notFound: () => fail(404, '5404', 'not_found'),
      controls: {
        'POST /orders': (request) => {
          const parsed = orderInputSchema.safeParse(request.json());
          if (!parsed.success) return { status: 400, json: { error: 'invalid order', issues: issues(parsed.error) } };
          return { status: 201, json: { order: addOrder(parsed.data) } };
        },
        'GET /stock': () => ({
          json: {
            items: products.map((p) => ({
              rz_item_id: p.rzItemId,
              article: p.article,
              stock_quantity: p.stock,
              price: p.price,
              updated_price: p.pendingPrice,
            })),
          },
        }),
      },
      routes: [
        {
          method: 'POST',
          path: ROZETKA_PATHS.login,
          handle: (request) => {
            const body = request.json() as { username?: unknown; password?: unknown };
            const usernameMatches = typeof body.username === 'string' && constantTimeEqual(body.username, account.username);
            const passwordMatches = typeof body.password === 'string' && constantTimeEqual(body.password, encodePassword(account.password));
            if (!usernameMatches || !passwordMatches) {
              return fail(200, ROZETKA_ERROR_CODES.incorrectCredentials, 'incorrect_username_password');
            }
            const token = randomBytes(24).toString('hex');
            tokens.set(token, Date.now() + TOKEN_LIFETIME_MS);
            issued += 1;
            return ok({
              id: 111,
              access_token: token,
              permissions: ['orders', 'items'],
              roles: ['seller'],
              seller: { id: 111, title: 'Sandbox Seller' },
              market: { id: 7, title: 'Sandbox Market' },
            });
          },
        },
        {
          method: 'GET',
          path: ROZETKA_PATHS.ordersSearch,
          handle: (request) => {
            const refused = authorise(request);
            if (refused) return refused;
            const q = request.query;
            const types = TYPE_FILTERS[Number(q.get('types') ?? q.get('type') ?? 1)] ?? (() => true);
            const status = q.get('status');
            const id = q.get('id');
            const createdFrom = q.get('created_from');
            const changedFrom = q.get('changed_from');
            for (const [name, value] of [
              ['created_from', createdFrom],
              ['changed_from', changedFrom],
            ] as const) {
              if (value !== null && !isRozetkaTime(value))
                return fail(200, ROZETKA_ERROR_CODES.incorrectDataFormat, 'incorrect_data_format', { [name]: 'Y-m-d H:i:s' });
            }
            let found = orders.filter(
              (o) =>
                types(o) &&
                (!status || o.status === Number(status)) &&
                (!id || String(o.id) === id) &&
                (!createdFrom || o.created >= createdFrom) &&
                (!changedFrom || (o.changed ?? o.created) >= changedFrom),
            );
            const sort = q.get('sort') ?? '-id';
            const column = sort.replace(/^[-+]/, '');
            if (column !== 'id' && column !== 'created')
              return fail(200, ROZETKA_ERROR_CODES.incorrectDataFormat, 'incorrect_data_format', { sort: 'unknown column' });
            const direction = sort.startsWith('-') ? -1 : 1;
            found = [...found].sort(
              (a, b) => direction * (column === 'id' ? a.id - b.id : a.created.localeCompare(b.created) || a.id - b.id),
            );
            const page = Math.max(1, Number(q.get('page') ?? 1) || 1);
            return ok({
              orders: found.slice((page - 1) * ORDERS_PER_PAGE, page * ORDERS_PER_PAGE).map((o) => view(o, q.get('expand'))),
              _meta: {
                totalCount: found.length,
                pageCount: Math.ceil(found.length / ORDERS_PER_PAGE),
                currentPage: page,
                perPage: ORDERS_PER_PAGE,
              },
            });
          },
        },
        {
          method: 'GET',
          path: '/orders/:id',
          handle: (request, params) => {
            const refused = authorise(request);
            if (refused) return refused;
            const order = find(params.id);
            return order ? ok(view(order, request.query.get('expand'))) : fail(200, ROZETKA_ERROR_CODES.entityNotFound, 'entity_not_found');
          },
        },
        {
          method: 'PUT',
          path: '/orders/:id',
          handle: (request, params) => {
            const refused = authorise(request);
            if (refused) return refused;
            const order = find(params.id);
            if (!order) return fail(200, ROZETKA_ERROR_CODES.entityNotFound, 'entity_not_found');
            const body = request.json();
            const update = orderUpdateBodySchema.safeParse(body);
            if (!update.success) {
              const missing = typeof body !== 'object' || body === null || !('status' in body);
              return missing
                ? fail(200, ROZETKA_ERROR_CODES.requiredParameter, 'required_parameter: status')
                : fail(200, ROZETKA_ERROR_CODES.incorrectDataFormat, 'incorrect_data_format', issues(update.error));
            }
            const wanted = update.data.status;
            if (!KNOWN_STATUSES.has(wanted))
              return fail(200, ROZETKA_ERROR_CODES.incorrectDataFormat, 'incorrect_data_format', { status: wanted });
            // a repeat of the status the order has changes nothing and is no error
            if (wanted !== order.status) {
              // ASSUMED shape of the refusal (code 1005 "check the correctness of the data"): an order that finished —
              // completed or cancelled — stays so, and nothing goes back to "new"
              if (order.status_group !== STATUS_GROUP.processing || wanted === ORDER_STATUS.new)
                return fail(200, ROZETKA_ERROR_CODES.checkCorrectnessOfData, 'check_correctness_of_data', {
                  status: `status ${order.status} cannot change to ${wanted}`,
                });
              const ttn = update.data.ttn ?? order.ttn;
              if (STATUSES_NEEDING_TTN.has(wanted) && !ttn)
                return fail(200, ROZETKA_ERROR_CODES.requiredParameter, 'required_parameter: ttn');
              if (wanted === ORDER_STATUS.duplicate && update.data.duplicate_order_id === undefined)
                return fail(200, ROZETKA_ERROR_CODES.requiredParameter, 'required_parameter: duplicate_order_id');
              // a waybill added while "being packed" moves the order to "handover to the carrier planned"
              setStatus(order, wanted === ORDER_STATUS.packing && update.data.ttn ? ORDER_STATUS.handoverPlanned : wanted);
            }
            if (update.data.ttn) order.ttn = update.data.ttn;
            Object.assign(order, { is_viewed: true });
            if (update.data.seller_comment !== undefined) Object.assign(order, { current_seller_comment: update.data.seller_comment });
            return ok(view(order, null));
          },
        },
        {
          method: 'GET',
          path: ROZETKA_PATHS.goodsAll,
          handle: (request) => {
            const refused = authorise(request);
            if (refused) return refused;
            const q = request.query;
            const page = Number(q.get('page') ?? 1);
            const pageSize = Number(q.get('pageSize') ?? GOODS_DEFAULT_PAGE_SIZE);
            if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > GOODS_PAGE_SIZE_MAX)
              return fail(200, ROZETKA_ERROR_CODES.incorrectDataFormat, 'incorrect_data_format', { pageSize: `1..${GOODS_PAGE_SIZE_MAX}` });
            const found = [...products]
              .filter((p) => !q.get('rz_item_id') || String(p.rzItemId) === q.get('rz_item_id'))
              .filter((p) => !q.get('article') || p.article === q.get('article'))
              .sort((a, b) => a.itemId - b.itemId);
            const items = found.slice((page - 1) * pageSize, page * pageSize).map(goodsView);
            return ok({
              count: items.length,
              items,
              _meta: { totalCount: found.length, pageCount: Math.ceil(found.length / pageSize), currentPage: page, perPage: pageSize },
            });
          },
        },
        {
          method: 'PUT',
          path: ROZETKA_PATHS.itemsMassUpdate,
          handle: (request) => {
            const refused = authorise(request);
            if (refused) return refused;
            const body = request.json();
            if (typeof body !== 'object' || body === null || !('items' in body))
              return fail(200, ROZETKA_ERROR_CODES.requiredParameter, 'required_parameter: items');
            const parsed = massUpdateBodySchema.safeParse(body);
            if (!parsed.success) return fail(200, ROZETKA_ERROR_CODES.incorrectDataFormat, 'incorrect_data_format', issues(parsed.error));
            // ASSUMED: the maximum (none is published) and the refusal of a bigger batch as a whole
            if (parsed.data.items.length > MASS_UPDATE_MAX_ITEMS)
              return fail(200, ROZETKA_ERROR_CODES.incorrectDataFormat, 'incorrect_data_format', {
                items: `at most ${MASS_UPDATE_MAX_ITEMS}`,
              });
            const refusals: Record<string, { reason: Array<{ id: number; value: string[] }> }> = {};
            const refuse = (id: number, reason: number, text: string) => {
              (refusals[String(id)] ??= { reason: [] }).reason.push({ id: reason, value: [text] });
            };
            for (const item of parsed.data.items) {
              const product = byRzId(item.item_rz_id);
              if (!product) {
                refuse(item.item_rz_id, 1, 'Товар не знайдено');
                continue;
              }
              if (item.price === undefined && item.stock_quantity === undefined) {
                refuse(item.item_rz_id, 2, 'Потрібно передати price або stock_quantity');
                continue;
              }
              if ((item.price !== undefined && item.price <= 0) || (item.stock_quantity !== undefined && item.stock_quantity < 0)) {
                refuse(item.item_rz_id, 2, 'Некоректне значення');
                continue;
              }
              if (item.stock_quantity !== undefined) product.stock = item.stock_quantity;
              if (item.price !== undefined && item.price !== product.price) {
                const held =
                  item.price > product.price * PRICE_APPROVAL_BOUNDS.maxRaise || item.price * PRICE_APPROVAL_BOUNDS.maxCut < product.price;
                if (held) {
                  product.pendingPrice = item.price;
                  refuse(item.item_rz_id, 3, 'Ціну змінено більш ніж у 1,5 рази вгору або у 2 рази вниз: чекає підтвердження менеджером');
                } else {
                  product.price = item.price;
                  product.pendingPrice = null;
                }
              }
            }
            return Object.keys(refusals).length === 0 ? ok(null) : { json: { success: false, errors: refusals } };
          },
        },
      ],
    },
    options,
  );

  const orderOrThrow = (id: number) => {
    const order = orders.find((o) => o.id === id);
    if (!order) throw new Error(`no order ${id} in the Rozetka sandbox`);
    return order;
  };

  return Object.assign(server, {
    expireSessions: () => {
      for (const token of tokens.keys()) tokens.set(token, 0);
    },
    addOrder,
    order: (id: number) => orders.find((o) => o.id === id) ?? null,
    cancelByBuyer: (id: number) => setStatus(orderOrThrow(id), ORDER_STATUS.cancelledByBuyer),
    payOrder: (id: number) => Object.assign(setStatus(orderOrThrow(id), ORDER_STATUS.new), { payment: cardPayment(true), is_payed: true }),
    addProduct,
    stockOf: (rzItemId: number) => byRzId(rzItemId)?.stock ?? null,
    priceOf: (rzItemId: number) => byRzId(rzItemId)?.price ?? null,
    pendingPriceOf: (rzItemId: number) => byRzId(rzItemId)?.pendingPrice ?? null,
    setRateLimit: (limit: { limit: number; windowMs: number } | null) => limiter.set(limit),
    logins: () => issued,
  });
}

function novaPoshta(branch: number, name: string, phone: string, email: string | null): NonNullable<RozetkaOrder['delivery']> {
  const warehouse = SANDBOX_WAREHOUSES[branch % SANDBOX_WAREHOUSES.length] ?? SANDBOX_WAREHOUSES[0];
  const [, address = ''] = (warehouse?.Description ?? '').split(': ');
  return {
    delivery_service_id: NOVA_POSHTA.serviceId,
    delivery_service_name: 'Нова Пошта',
    recipient_title: name,
    recipient_phone: phone,
    delivery_method_id: 1,
    place_id: 15000 + branch,
    place_street: address,
    place_number: warehouse?.Number ?? '1',
    place_house: '',
    place_flat: null,
    pickup_type: 0,
    cost: null,
    reserve_date: null,
    city: {
      id: 1 + branch,
      name: warehouse?.CityDescription ?? 'Київ',
      name_ua: warehouse?.CityDescription ?? 'Київ',
      title: warehouse?.CityDescription ?? 'Київ',
    },
    ref_id: warehouse?.Ref ?? null,
    name_logo: NOVA_POSHTA.logo,
    email,
  };
}

function otherCarrier(service: 'rozetka-delivery' | 'meest', name: string, phone: string): NonNullable<RozetkaOrder['delivery']> {
  return {
    delivery_service_id: service === 'meest' ? 4 : 1,
    delivery_service_name: service === 'meest' ? 'Meest' : 'ROZETKA Delivery',
    recipient_title: name,
    recipient_phone: phone,
    delivery_method_id: 1,
    place_id: 900,
    place_street: 'вул. Тестова',
    place_number: '9',
    place_house: '1',
    place_flat: null,
    cost: null,
    city: { id: 1, name: 'Київ', name_ua: 'Київ', title: 'Київ' },
    ref_id: null,
    name_logo: service,
    email: null,
  };
}
