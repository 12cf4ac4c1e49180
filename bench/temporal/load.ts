import { SANDBOX_CITIES, SANDBOX_WAREHOUSES } from '../../actors/platform/connectors/novaposhta/sandbox.ts';
import { z } from 'zod';

/**
 * The load generator: one customer's order at a time per client, through the same requests whichever system
 * answers (the hub, or the facade in front of Temporal). A request that finds the system down (no connection,
 * 5xx) is sent again with the same Idempotency-Key until it is answered: what a shop's client does while an
 * engine restarts after a crash.
 */

export const STEPS = ['create', 'payment', 'delivery'] as const;
export type Step = (typeof STEPS)[number];

export interface OrderTrace {
  id: string;
  startedAt: number;
  completedAt: number | null;
  /** ms from request to answer of each external step */
  steps: Partial<Record<Step, number>>;
  error: string | null;
}

export interface Target {
  baseUrl: string;
  headers: Record<string, string>;
}

export interface LoadOptions {
  target: Target;
  orders: number;
  concurrency: number;
  skus: string[];
  /** how often a client looks whether its order is ready for the next step */
  pollMs: number;
  /** an order not delivered by then is given up (and reported) */
  orderTimeoutMs: number;
  /** the run's own prefix of order ids: each run's orders are new */
  prefix: string;
  /** every answered request (2xx), with when: recovery is read from these */
  onAnswer?: (at: number) => void;
  onComplete?: (trace: OrderTrace) => void;
}

const KYIV = SANDBOX_CITIES[0]?.Ref ?? '';
const KYIV_BRANCH = SANDBOX_WAREHOUSES[0]?.Ref ?? '';

const orderSchema = z.looseObject({ state: z.string(), paymentUrl: z.string().nullish() });
const shipmentSchema = z.looseObject({
  state: z.string(),
  context: z.looseObject({ waybill: z.object({ number: z.string() }).nullish() }),
});

class Refused extends Error {}

/** The hub's order intake body (README "Orders and payments"), paid at Monobank, to a Nova Poshta branch. */
export function orderBody(id: string, sku: string) {
  return {
    externalId: id,
    source: 'shop',
    customer: { name: 'Олена Петренко', phone: '+380501234567', email: 'olena@example.com' },
    items: [{ sku, name: 'Чашка', qty: 1, unitPrice: 25_000 }],
    currency: 'UAH',
    delivery: { carrier: 'novaposhta', cityRef: KYIV, warehouseRef: KYIV_BRANCH, fee: 0 },
    payment: { method: 'monobank' },
    total: 25_000,
  };
}

export async function runLoad(options: LoadOptions): Promise<{ traces: OrderTrace[]; seconds: number }> {
  const { target } = options;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** One request, sent again while the system is away; a 4xx is the system's answer and ends the order. */
  const call = async (url: string, init: RequestInit, deadline: number, accept: (status: number) => boolean = (s) => s < 300) => {
    for (;;) {
      if (Date.now() > deadline) throw new Refused(`${init.method ?? 'GET'} ${url}: no answer before the order's deadline`);
      let status: number;
      let text: string;
      try {
        const response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
        status = response.status;
        text = await response.text();
      } catch {
        await sleep(100);
        continue;
      }
      if (accept(status)) {
        if (url.startsWith(target.baseUrl)) options.onAnswer?.(Date.now());
        return { status, text };
      }
      if (status >= 500 || status === 429) {
        await sleep(100);
        continue;
      }
      throw new Refused(`${init.method ?? 'GET'} ${url} answered ${status}: ${text.slice(0, 300)}`);
    }
  };
  const timed = async <T>(trace: OrderTrace, step: Step, run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const result = await run();
    trace.steps[step] = performance.now() - t0;
    return result;
  };
  const jsonHeaders = { ...target.headers, 'content-type': 'application/json' };
  /** Reads until `ready` says the order can go on (404 while it does not exist yet counts as not ready). */
  const until = async <T>(path: string, schema: z.ZodType<T>, ready: (value: T) => boolean, deadline: number): Promise<T> => {
    for (;;) {
      const { status, text } = await call(`${target.baseUrl}${path}`, { headers: target.headers }, deadline, (s) => s < 300 || s === 404);
      if (status !== 404) {
        const value = schema.parse(JSON.parse(text));
        if (ready(value)) return value;
      }
      await sleep(options.pollMs);
    }
  };

  const one = async (index: number): Promise<OrderTrace> => {
    const id = `${options.prefix}-${index}`;
    const trace: OrderTrace = { id, startedAt: Date.now(), completedAt: null, steps: {}, error: null };
    const deadline = trace.startedAt + options.orderTimeoutMs;
    const sku = options.skus[index % options.skus.length] ?? '';
    try {
      await timed(trace, 'create', () =>
        call(
          `${target.baseUrl}/orders`,
          { method: 'POST', headers: { ...jsonHeaders, 'idempotency-key': `create-${id}` }, body: JSON.stringify(orderBody(id, sku)) },
          deadline,
        ),
      );
      const paying = await until(
        `/orders/${id}`,
        orderSchema,
        (order) => {
          if (order.state === 'rejected' || order.state === 'blocked') throw new Refused(`order ${id} ${order.state}`);
          return typeof order.paymentUrl === 'string';
        },
        deadline,
      );
      // the customer pays on Monobank's page; the sandbox then posts its signed webhooks (processing, success) and
      // answers the page once the system has answered them: this step's time is theirs
      await timed(trace, 'payment', () =>
        call(
          paying.paymentUrl ?? '',
          { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'outcome=success' },
          deadline,
          // 400: paid already (an earlier attempt's answer was lost)
          (s) => s < 400 || s === 400,
        ),
      );
      const shipment = await until(
        `/actors/shipment/${id}`,
        shipmentSchema,
        (s) => s.state === 'awaitingPickup' && Boolean(s.context.waybill?.number),
        deadline,
      );
      // the carrier reports the parcel received (Nova Poshta's status 9)
      await timed(trace, 'delivery', () =>
        call(
          `${target.baseUrl}/actors/shipment/${id}/events`,
          {
            method: 'POST',
            headers: { ...jsonHeaders, 'idempotency-key': `tracked-${id}` },
            body: JSON.stringify({
              type: 'TRACKED',
              number: shipment.context.waybill?.number ?? '',
              statusCode: '9',
              status: 'Відправлення отримано',
            }),
          },
          deadline,
        ),
      );
      await until(`/orders/${id}`, orderSchema, (order) => order.state === 'delivered', deadline);
      trace.completedAt = Date.now();
      options.onComplete?.(trace);
    } catch (error) {
      trace.error = error instanceof Error ? error.message : String(error);
    }
    return trace;
  };

  const traces: OrderTrace[] = [];
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.orders) }, async () => {
      while (next < options.orders) traces.push(await one(next++));
    }),
  );
  // throughput's clock stops at the last delivery (a client that gave up does not stretch it)
  const lastCompletion = Math.max(started, ...traces.map((t) => t.completedAt ?? 0));
  return { traces, seconds: (lastCompletion - started) / 1000 };
}
