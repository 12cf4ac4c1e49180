import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { majorToMinorUnits } from '../../../../common/money.ts';
import { deliverCallback, type CallbackDelivery } from '../kit/sandbox-callbacks.ts';
import {
  SandboxHttpError,
  startSandboxServer,
  type Fault,
  type SandboxOptions,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxServer,
} from '../kit/sandbox.ts';
import type { JowiCredentials } from './client.ts';
import {
  findCustomerQuerySchema,
  JOWI_ERRORS,
  JOWI_PATHS,
  JOWI_SIGNATURE_HEADER,
  jowiTime,
  normalisePhone,
  recordSaleRequestSchema,
  refundRequestSchema,
  soumAmount,
  soumsOf,
  verifyJowiAuth,
  webhookSignature,
  type JowiErrorCode,
  type RecordSaleRequest,
  type WebhookEvent,
} from './protocol.ts';

/**
 * The JOWi Club sandbox: a real HTTP server speaking our working contract strictly — api_key and sig on every
 * call (error 1), the restaurant id and every parameter checked (27), customers with cards, levels, discount
 * percent and bonus balances, accruals idempotent on `external_id`, refunds, blocked cards (41), insufficient
 * bonus (50). JOWi's webhooks (customer.updated, bonus.changed) are sent signed to the configured URL and sent
 * again until answered 200.
 *
 * Controls (HTTP under /__sandbox, or the methods of JowiSandbox):
 * - `POST /mode {"mode": "up"|"slow"|"hang"|"down"|"refusing", "latencyMs"?}` — slow answers after latencyMs,
 *   hang never answers, down drops every connection, refusing answers HTTP 500 `{"status":0,"error":500}`;
 *   a mode replaces the injected faults (`up` clears them).
 * - `POST /customers {id?, name, phone, card?, level?, discount_percent?, bonus_balance?, blocked?}` — adds or
 *   changes a customer (soums, as on the wire) and sends `customer.updated`; `POST /bonus {customer_id,
 *   bonus_balance}` sends `bonus.changed`; `GET /customers`, `GET /transactions`.
 * - `POST /webhook-url {"url"}` — where webhooks go (the hub tells its own sandbox); `POST /redeliver {"id"}`
 *   sends an event again; a `badSignature` fault signs the next one wrongly.
 * - A second accrual under an `external_id` with other amounts or customer is answered with the first
 *   transaction (as JOWi does) and recorded as a violation (`GET /state`): the hub must never send one.
 */

export const JOWI_SANDBOX_CREDENTIALS: JowiCredentials = {
  apiKey: 'jowi-sandbox-key',
  apiSecret: 'jowi-sandbox-secret-0123456789abcdef',
  restaurantId: 'r-sandbox-1',
};

/** Levels: the discount they give and the bonus share of a sale they earn (whole percents). */
export const SANDBOX_LEVELS: Readonly<Record<string, { discountPercent: number; bonusPercent: number }>> = {
  bronze: { discountPercent: 2, bonusPercent: 1 },
  silver: { discountPercent: 5, bonusPercent: 1 },
  gold: { discountPercent: 10, bonusPercent: 3 },
};

export interface SandboxCustomer {
  id: string;
  name: string;
  phone: string | null;
  card: string | null;
  level: string;
  discountPercent: number;
  /** tiyin */
  bonusBalance: number;
  blocked: boolean;
}

export interface SandboxTransaction {
  id: string;
  externalId: string;
  customerId: string;
  /** tiyin */
  amount: number;
  discount: number;
  bonusSpent: number;
  bonusEarned: number;
  balanceAfter: number;
  createdAt: string;
  refunded: boolean;
  refundExternalId: string | null;
  request: Omit<RecordSaleRequest, 'api_key' | 'sig'>;
}

export type JowiMode = 'up' | 'slow' | 'hang' | 'down' | 'refusing';

export interface JowiSandbox extends SandboxServer {
  credentials: JowiCredentials;
  mode(mode: JowiMode, latencyMs?: number): void;
  /** adds or changes a customer and sends `customer.updated`; `delivered` settles when JOWi stops resending */
  upsertCustomer(input: CustomerInput): { customer: SandboxCustomer; event: WebhookEvent; delivered: Promise<CallbackDelivery | null> };
  /** sets a balance (tiyin) and sends `bonus.changed` */
  setBonus(customerId: string, tiyin: number): { event: WebhookEvent; delivered: Promise<CallbackDelivery | null> };
  customer(id: string): SandboxCustomer | null;
  transactions(): SandboxTransaction[];
  /** same external_id, other content: what the hub must never do */
  violations(): string[];
  /** where webhooks go */
  webhookTo(url: string | null): void;
  /** the events sent, with their last delivery */
  webhooks(): Array<{ event: WebhookEvent; delivery: CallbackDelivery | null }>;
  /** sends an event again, as JOWi does when it heard no 200 */
  redeliver(eventId: string): Promise<CallbackDelivery | null>;
  /** the X-Jowi-Signature of a body under the sandbox's secret */
  sign(body: string): string;
}

const customerInputSchema = z
  .object({
    id: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    phone: z.string().optional(),
    card: z.string().min(1).nullable().optional(),
    level: z.enum(Object.keys(SANDBOX_LEVELS) as [string, ...string[]]).optional(),
    discount_percent: z.number().min(0).max(100).optional(),
    bonus_balance: soumAmount.optional(),
    blocked: z.boolean().optional(),
  })
  .strict();
export type CustomerInput = z.infer<typeof customerInputSchema>;

const modeSchema = z.object({
  mode: z.enum(['up', 'slow', 'hang', 'down', 'refusing']),
  latencyMs: z.number().int().min(1).max(600_000).optional(),
});

const WEBHOOK_ATTEMPTS = 40;
const WEBHOOK_PAUSE_MS = 100;

function jowiError(code: JowiErrorCode, message: string): SandboxHttpError {
  // [assumed] JOWi answers its errors inside HTTP 200, its internal error as HTTP 500
  return new SandboxHttpError(code === JOWI_ERRORS.internal ? 500 : 200, { status: 0, error: code, message });
}

function seedCustomers(): SandboxCustomer[] {
  return [
    {
      id: 'c-1001',
      name: 'Алишер Каримов',
      phone: '998901234567',
      card: 'JC-0001-0001',
      level: 'silver',
      discountPercent: 5,
      bonusBalance: 1_200_000,
      blocked: false,
    },
    {
      id: 'c-1002',
      name: 'Нилуфар Юсупова',
      phone: '998935551122',
      card: 'JC-0002-0002',
      level: 'gold',
      discountPercent: 10,
      bonusBalance: 5_000_000,
      blocked: false,
    },
    {
      id: 'c-1003',
      name: 'Бахтиёр Рахимов',
      phone: '998971112233',
      card: 'JC-0003-0003',
      level: 'bronze',
      discountPercent: 2,
      bonusBalance: 0,
      blocked: true,
    },
  ];
}

function wireOf(customer: SandboxCustomer) {
  return {
    id: customer.id,
    name: customer.name,
    phone: customer.phone,
    card: customer.card,
    level: customer.level,
    discount_percent: customer.discountPercent,
    bonus_balance: soumsOf(customer.bonusBalance),
    blocked: customer.blocked,
  };
}

function wireTransaction(tx: SandboxTransaction) {
  return {
    id: tx.id,
    external_id: tx.externalId,
    bonus_earned: soumsOf(tx.bonusEarned),
    bonus_balance: soumsOf(tx.balanceAfter),
    ...(tx.refunded ? { refunded: true } : {}),
  };
}

function issuesOf(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}

export async function startJowiSandbox(
  options: SandboxOptions & { webhookUrl?: string } = {},
  credentials: JowiCredentials = JOWI_SANDBOX_CREDENTIALS,
): Promise<JowiSandbox> {
  let customers = new Map<string, SandboxCustomer>();
  let transactions = new Map<string, SandboxTransaction>();
  let byExternal = new Map<string, string>();
  let violations: string[] = [];
  let events: Array<{ event: WebhookEvent; delivery: CallbackDelivery | null }> = [];
  let webhookUrl: string | null = options.webhookUrl ?? null;
  let currentMode: { mode: JowiMode; latencyMs: number | null } = { mode: 'up', latencyMs: null };
  let sequence = 0;
  let stopping = new AbortController();
  let server: SandboxServer | null = null;

  const seed = () => {
    customers = new Map(seedCustomers().map((customer) => [customer.id, customer]));
  };
  seed();

  /** api_key + sig (error 1), then the restaurant (27); the parameters are the route's. */
  const authorise = (fields: Record<string, unknown>) => {
    if (!verifyJowiAuth(credentials, fields.api_key, fields.sig)) throw jowiError(JOWI_ERRORS.badSignature, 'Неверная подпись запроса');
    if (fields.restaurant_id !== credentials.restaurantId) throw jowiError(JOWI_ERRORS.badParameters, 'Неверный restaurant_id');
  };

  const bodyOf = (request: SandboxRequest): Record<string, unknown> => {
    let body: unknown;
    try {
      body = JSON.parse(request.text());
    } catch {
      throw jowiError(JOWI_ERRORS.badParameters, 'Тело запроса не JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw jowiError(JOWI_ERRORS.badParameters, 'Тело запроса не объект');
    return body as Record<string, unknown>;
  };

  const usable = (customer: SandboxCustomer | undefined): SandboxCustomer => {
    if (!customer) throw jowiError(JOWI_ERRORS.customerNotFound, 'Клиент не найден');
    if (customer.blocked) throw jowiError(JOWI_ERRORS.cardBlocked, 'Карта клиента заблокирована');
    return customer;
  };

  const findCustomer = (request: SandboxRequest): SandboxResponse => {
    const fields = Object.fromEntries(request.query.entries());
    authorise(fields);
    const query = findCustomerQuerySchema.safeParse(fields);
    if (!query.success) throw jowiError(JOWI_ERRORS.badParameters, `Неверные параметры: ${issuesOf(query.error)}`);
    const { phone, card } = query.data;
    const found = [...customers.values()].find((c) => (phone !== undefined ? c.phone === phone : c.card === card));
    return { json: { status: 1, customer: wireOf(usable(found)) } };
  };

  const recordSale = (request: SandboxRequest): SandboxResponse => {
    const fields = bodyOf(request);
    authorise(fields);
    const parsed = recordSaleRequestSchema.safeParse(fields);
    if (!parsed.success) throw jowiError(JOWI_ERRORS.badParameters, `Неверные параметры: ${issuesOf(parsed.error)}`);
    const { api_key: _key, sig: _sig, ...sale } = parsed.data;
    const knownId = byExternal.get(sale.external_id);
    const known = knownId ? transactions.get(knownId) : undefined;
    if (known) {
      // the same external_id again: the same transaction, never a second accrual
      if (JSON.stringify(known.request) !== JSON.stringify(sale))
        violations.push(`external_id ${sale.external_id} sent again with other content`);
      return { json: { status: 1, transaction: wireTransaction(known) } };
    }
    const customer = usable(customers.get(sale.customer_id));
    const amount = majorToMinorUnits(sale.amount) ?? 0;
    const bonusSpent = majorToMinorUnits(sale.bonus_spent) ?? 0;
    if (bonusSpent > customer.bonusBalance) throw jowiError(JOWI_ERRORS.insufficientBonus, 'Недостаточно бонусов');
    const rate = SANDBOX_LEVELS[customer.level]?.bonusPercent ?? 0;
    const bonusEarned = Math.floor((amount * rate) / 100);
    customer.bonusBalance = customer.bonusBalance - bonusSpent + bonusEarned;
    sequence += 1;
    const tx: SandboxTransaction = {
      id: `t-${sequence}-${randomBytes(3).toString('hex')}`,
      externalId: sale.external_id,
      customerId: customer.id,
      amount,
      discount: majorToMinorUnits(sale.discount) ?? 0,
      bonusSpent,
      bonusEarned,
      balanceAfter: customer.bonusBalance,
      createdAt: sale.created_at,
      refunded: false,
      refundExternalId: null,
      request: sale,
    };
    transactions.set(tx.id, tx);
    byExternal.set(tx.externalId, tx.id);
    return { json: { status: 1, transaction: wireTransaction(tx) } };
  };

  const refund = (request: SandboxRequest, params: Record<string, string>): SandboxResponse => {
    const fields = bodyOf(request);
    authorise(fields);
    const parsed = refundRequestSchema.safeParse(fields);
    if (!parsed.success) throw jowiError(JOWI_ERRORS.badParameters, `Неверные параметры: ${issuesOf(parsed.error)}`);
    const tx = transactions.get(params.id ?? '');
    if (!tx) throw jowiError(JOWI_ERRORS.badParameters, 'Транзакция не найдена');
    if (!tx.refunded) {
      const customer = customers.get(tx.customerId);
      if (customer) {
        // the bonus earned goes back, the bonus spent comes back
        customer.bonusBalance = Math.max(0, customer.bonusBalance - tx.bonusEarned) + tx.bonusSpent;
        tx.balanceAfter = customer.bonusBalance;
      }
      tx.refunded = true;
      tx.refundExternalId = parsed.data.external_id;
    }
    return { json: { status: 1, transaction: wireTransaction(tx) } };
  };

  // ---- webhooks ----

  const send = (entry: { event: WebhookEvent; delivery: CallbackDelivery | null }): Promise<CallbackDelivery | null> => {
    const url = webhookUrl;
    if (!url) return Promise.resolve(null);
    const body = JSON.stringify(entry.event);
    const bad = server?.faults.takeBadSignature('/webhook') ?? false;
    const signature = webhookSignature(body, bad ? `${credentials.apiSecret}-wrong` : credentials.apiSecret);
    return deliverCallback({
      url,
      body,
      headers: { 'content-type': 'application/json', [JOWI_SIGNATURE_HEADER.toLowerCase()]: signature },
      attempts: WEBHOOK_ATTEMPTS,
      pauseMs: WEBHOOK_PAUSE_MS,
      signal: stopping.signal,
    }).then((delivery) => {
      entry.delivery = delivery;
      return delivery;
    });
  };

  const emit = (event: WebhookEvent) => {
    const entry = { event, delivery: null };
    events.push(entry);
    return { event, delivered: send(entry) };
  };

  const eventId = () => `ev-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

  const upsertCustomer = (input: CustomerInput) => {
    const parsed = customerInputSchema.parse(input);
    const existing = parsed.id ? customers.get(parsed.id) : undefined;
    let phone = existing?.phone ?? null;
    if (parsed.phone !== undefined) {
      phone = normalisePhone(parsed.phone);
      if (!phone) throw new SandboxHttpError(400, { error: 'phone: 998 and nine digits' });
    }
    const level = parsed.level ?? existing?.level ?? 'bronze';
    const customer: SandboxCustomer = {
      id: parsed.id ?? `c-${2000 + customers.size}-${randomBytes(2).toString('hex')}`,
      name: parsed.name ?? existing?.name ?? 'Клиент',
      phone,
      card: parsed.card === undefined ? (existing?.card ?? null) : parsed.card,
      level,
      discountPercent:
        parsed.discount_percent ??
        (parsed.level
          ? (SANDBOX_LEVELS[level]?.discountPercent ?? 0)
          : (existing?.discountPercent ?? SANDBOX_LEVELS[level]?.discountPercent ?? 0)),
      bonusBalance: parsed.bonus_balance === undefined ? (existing?.bonusBalance ?? 0) : (majorToMinorUnits(parsed.bonus_balance) ?? 0),
      blocked: parsed.blocked ?? existing?.blocked ?? false,
    };
    customers.set(customer.id, customer);
    const sent = emit({ event: 'customer.updated', id: eventId(), created_at: jowiTime(Date.now()), data: wireOf(customer) });
    return { customer: { ...customer }, ...sent };
  };

  const setBonus = (customerId: string, tiyin: number) => {
    const customer = customers.get(customerId);
    if (!customer) throw new SandboxHttpError(404, { error: `no customer ${customerId}` });
    customer.bonusBalance = tiyin;
    return emit({
      event: 'bonus.changed',
      id: eventId(),
      created_at: jowiTime(Date.now()),
      data: { customer_id: customer.id, bonus_balance: soumsOf(tiyin) },
    });
  };

  const setMode = (mode: JowiMode, latencyMs?: number) => {
    if (!server) return;
    server.faults.clear();
    const path = '/v3/';
    const faults: Record<JowiMode, Fault | null> = {
      up: null,
      slow: { kind: 'latency', ms: latencyMs ?? 3_000, path },
      hang: { kind: 'timeout', path },
      down: { kind: 'disconnect', path },
      refusing: { kind: 'status', status: 500, body: { status: 0, error: JOWI_ERRORS.internal, message: 'Внутренняя ошибка' }, path },
    };
    const fault = faults[mode];
    if (fault) server.faults.inject(fault);
    currentMode = { mode, latencyMs: mode === 'slow' ? (latencyMs ?? 3_000) : null };
  };

  const redeliver = async (id: string) => {
    const entry = events.find((candidate) => candidate.event.id === id);
    if (!entry) throw new SandboxHttpError(404, { error: `no event ${id}` });
    return send(entry);
  };

  const control =
    (handler: (body: unknown) => unknown, status = 200) =>
    (request: SandboxRequest) => {
      const json = handler(request.method === 'GET' ? null : request.json());
      return { status, json };
    };

  server = await startSandboxServer(
    {
      name: 'jowi',
      routes: [
        { method: 'GET', path: JOWI_PATHS.customers, handle: findCustomer },
        { method: 'POST', path: JOWI_PATHS.transactions, handle: recordSale },
        { method: 'POST', path: `${JOWI_PATHS.transactions}/:id/refund`, handle: refund },
      ],
      notFound: () => ({ status: 404, json: { status: 0, error: JOWI_ERRORS.badParameters, message: 'Метод не найден' } }),
      onReset: () => {
        stopping.abort();
        stopping = new AbortController();
        transactions = new Map();
        byExternal = new Map();
        violations = [];
        events = [];
        sequence = 0;
        currentMode = { mode: 'up', latencyMs: null };
        seed();
      },
      describe: () => ({
        mode: currentMode,
        webhookUrl,
        customers: customers.size,
        transactions: transactions.size,
        violations,
      }),
      controls: {
        'POST /mode': control((body) => {
          const parsed = modeSchema.safeParse(body);
          if (!parsed.success) throw new SandboxHttpError(400, { error: issuesOf(parsed.error) });
          setMode(parsed.data.mode, parsed.data.latencyMs);
          return { mode: currentMode };
        }),
        'POST /customers': control((body) => {
          const parsed = customerInputSchema.safeParse(body);
          if (!parsed.success) throw new SandboxHttpError(400, { error: issuesOf(parsed.error) });
          const { customer, event } = upsertCustomer(parsed.data);
          return { customer: wireOf(customer), event };
        }),
        'GET /customers': control(() => ({ customers: [...customers.values()].map(wireOf) })),
        'POST /bonus': control((body) => {
          const parsed = z.object({ customer_id: z.string().min(1), bonus_balance: soumAmount }).safeParse(body);
          if (!parsed.success) throw new SandboxHttpError(400, { error: issuesOf(parsed.error) });
          return { event: setBonus(parsed.data.customer_id, majorToMinorUnits(parsed.data.bonus_balance) ?? 0).event };
        }),
        'GET /transactions': control(() => ({ transactions: [...transactions.values()] })),
        'POST /webhook-url': control((body) => {
          const parsed = z.object({ url: z.url({ protocol: /^https?$/ }).nullable() }).safeParse(body);
          if (!parsed.success) throw new SandboxHttpError(400, { error: issuesOf(parsed.error) });
          webhookUrl = parsed.data.url;
          return { webhookUrl };
        }),
        'POST /redeliver': async (request) => {
          const parsed = z.object({ id: z.string().min(1) }).safeParse(request.json());
          if (!parsed.success) return { status: 400, json: { error: issuesOf(parsed.error) } };
          return { json: { delivery: await redeliver(parsed.data.id) } };
        },
      },
    },
    options,
  );
  const base = server;

  return {
    ...base,
    credentials,
    close: async () => {
      stopping.abort();
      await base.close();
    },
    mode: setMode,
    upsertCustomer,
    setBonus,
    customer: (id) => {
      const found = customers.get(id);
      return found ? { ...found } : null;
    },
    transactions: () => [...transactions.values()].map((tx) => ({ ...tx })),
    violations: () => [...violations],
    webhookTo: (url) => {
      webhookUrl = url;
    },
    webhooks: () => events.map((entry) => ({ ...entry })),
    redeliver,
    sign: (body) => webhookSignature(body, credentials.apiSecret),
  };
}
