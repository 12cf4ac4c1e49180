import { randomBytes } from 'node:crypto';
import { startSandboxServer, type SandboxOptions, type SandboxRequest, type SandboxResponse, type SandboxServer } from '../kit/sandbox.ts';
import {
  encodePassword,
  orderUpdateSchema,
  ROZETKA_ERROR_CODES,
  ROZETKA_PATHS,
  STATUSES_NEEDING_TTN,
  type RozetkaOrder,
} from './protocol.ts';
import { constantTimeEqual } from '../../../../common/security.ts';

/**
 * The Rozetka Seller sandbox: one seller account, logins that expect the
 * password in base64 (a plain one is refused, as Rozetka does), day-long
 * tokens that a test can expire, a few seeded marketplace orders, search
 * with paging and filters, and status changes with Rozetka's TTN rules.
 */

export const ROZETKA_SANDBOX_CREDENTIALS = { username: 'sandbox-seller', password: 'Sandbox-Passw0rd!' };

export interface RozetkaSandbox extends SandboxServer {
  /** makes every token issued so far expired (the next call answers 6001) */
  expireSessions(): void;
  /** adds a marketplace order (a new one by default) and returns it */
  addOrder(order?: Partial<RozetkaOrder>): RozetkaOrder;
  order(id: number): RozetkaOrder | null;
  /** tokens issued so far */
  logins(): number;
}

const TOKEN_LIFETIME_MS = 24 * 3600 * 1000;
const PER_PAGE = 20;
/** status → status_group (1 processing, 2 success, 3 failed) for the statuses the sandbox uses */
const STATUS_GROUPS: Record<number, number> = { 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 2, 12: 3, 13: 3, 19: 3, 26: 1, 45: 3, 61: 1 };
/** `types` filter → statuses it covers */
const TYPE_FILTERS: Record<number, (o: RozetkaOrder) => boolean> = {
  1: () => true,
  2: (o) => o.status_group === 1,
  3: (o) => o.status_group === 2,
  4: (o) => o.status === 1,
  5: (o) => o.status === 4 || o.status === 5,
  6: (o) => o.status_group === 3,
};

const fail = (status: number, code: string, message: string): SandboxResponse => ({
  status,
  json: { success: false, errors: { message, code: Number(code), details: null } },
});
const ok = (content: unknown): SandboxResponse => ({ json: { success: true, content } });

function rozetkaTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

function seedOrders(): RozetkaOrder[] {
  const base = Date.now() - 3 * 3600 * 1000;
  const order = (id: number, minutes: number, status: number, name: string, phone: string, amount: string): RozetkaOrder => ({
    id,
    created: rozetkaTime(new Date(base + minutes * 60_000)),
    changed: rozetkaTime(new Date(base + minutes * 60_000)),
    amount,
    amount_with_discount: amount,
    cost: amount,
    status,
    status_group: STATUS_GROUPS[status] ?? 1,
    ttn: null,
    user_phone: phone,
    user_title: { full_name: name },
    comment: null,
    total_quantity: 1,
    is_viewed: false,
  });
  return [
    order(701000001, 0, 1, 'Олена Петренко', '380501234567', '500.00'),
    order(701000002, 30, 1, 'Тарас Шевчук', '380671112233', '1250.00'),
    order(701000003, 60, 6, 'Ірина Коваль', '380931234567', '320.00'),
  ];
}

export async function startRozetkaSandbox(options: SandboxOptions = {}, account = ROZETKA_SANDBOX_CREDENTIALS): Promise<RozetkaSandbox> {
  let orders = seedOrders();
  let tokens = new Map<string, number>();
  let issued = 0;

  const authorise = (request: SandboxRequest): SandboxResponse | null => {
    const token = /^Bearer (.+)$/.exec(request.header('authorization') ?? '')?.[1];
    const expiresAt = token ? tokens.get(token) : undefined;
    if (expiresAt === undefined) return fail(401, ROZETKA_ERROR_CODES.incorrectToken, 'incorrect_enter_token');
    if (expiresAt <= Date.now()) return fail(401, ROZETKA_ERROR_CODES.sessionExpired, 'session_expired');
    return null;
  };

  const find = (id: string | undefined) => orders.find((o) => String(o.id) === id);

  const addOrder = (partial: Partial<RozetkaOrder> = {}): RozetkaOrder => {
    const now = rozetkaTime(new Date());
    const id = partial.id ?? Math.max(...orders.map((o) => o.id), 701000000) + 1;
    const status = partial.status ?? 1;
    const order: RozetkaOrder = {
      created: now,
      changed: now,
      amount: '100.00',
      status,
      status_group: STATUS_GROUPS[status] ?? 1,
      ttn: null,
      user_phone: '380500000000',
      user_title: { full_name: 'Покупець Розетки' },
      ...partial,
      id,
    };
    orders.push(order);
    return order;
  };

  const server = await startSandboxServer(
    {
      name: 'rozetka',
      onReset: () => {
        orders = seedOrders();
        tokens = new Map();
        issued = 0;
      },
      describe: () => ({ orders: orders.length, sessions: tokens.size }),
      notFound: () => fail(404, '5404', 'not_found'),
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
            const types = TYPE_FILTERS[Number(q.get('types') ?? q.get('type') ?? 1)] ?? TYPE_FILTERS[1] ?? (() => true);
            const status = q.get('status');
            const changedFrom = q.get('changed_from');
            let found = orders.filter(
              (o) => types(o) && (!status || o.status === Number(status)) && (!changedFrom || (o.changed ?? o.created) >= changedFrom),
            );
            const sort = q.get('sort') ?? '-id';
            found = [...found].sort((a, b) => (sort === 'id' ? a.id - b.id : b.id - a.id));
            const page = Math.max(1, Number(q.get('page') ?? 1) || 1);
            return ok({
              orders: found.slice((page - 1) * PER_PAGE, page * PER_PAGE),
              _meta: {
                totalCount: found.length,
                pageCount: Math.max(1, Math.ceil(found.length / PER_PAGE)),
                currentPage: page,
                perPage: PER_PAGE,
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
            return order ? ok(order) : fail(200, ROZETKA_ERROR_CODES.entityNotFound, 'entity_not_found');
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
            const update = orderUpdateSchema.safeParse(request.json());
            if (!update.success) return fail(200, ROZETKA_ERROR_CODES.requiredParameter, 'required_parameter: status');
            const ttn = update.data.ttn ?? order.ttn;
            if (STATUSES_NEEDING_TTN.has(update.data.status) && !ttn)
              return fail(200, ROZETKA_ERROR_CODES.requiredParameter, 'required_parameter: ttn');
            // a waybill added while "being packed" moves the order to "handover to the carrier planned"
            const status = update.data.status === 2 && update.data.ttn ? 61 : update.data.status;
            Object.assign(order, {
              status,
              status_group: STATUS_GROUPS[status] ?? 1,
              ttn: ttn ?? null,
              changed: rozetkaTime(new Date()),
              is_viewed: true,
            });
            if (update.data.seller_comment !== undefined) Object.assign(order, { seller_comment: update.data.seller_comment });
            return ok(order);
          },
        },
      ],
    },
    options,
  );
  return Object.assign(server, {
    expireSessions: () => {
      for (const token of tokens.keys()) tokens.set(token, 0);
    },
    addOrder,
    order: (id: number) => orders.find((o) => o.id === id) ?? null,
    logins: () => issued,
  });
}
