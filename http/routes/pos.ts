import { createHash } from 'node:crypto';
import Router from '@koa/router';
import { z } from 'zod';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, errors } from '../../common/errors.ts';
import { CURRENCY_OF_METHOD } from '../../common/order-policy.ts';
import type { PosPolicy } from '../../common/pos-policy.ts';
import { saleLoyaltyOf, type LoyaltyLookup } from '../../actors/domains/loyalty/lookup.ts';
import type { ActorQueries } from '../../actors/runtime/queries.ts';
import type { ActorRuntime, ActorView } from '../../actors/runtime/runtime.ts';
import paymentModule from '../../machines/payment.ts';
import posSaleModule, { type PosSaleContext, type PosSaleEvent, type PosSaleInput } from '../../machines/pos-sale.ts';
import {
  ONLINE_POS_METHODS,
  POS_PAYMENT_METHODS,
  posSaleRequestSchema,
  type LoyaltyAnswer,
  type PosPaymentMethod,
} from '../../machines/pos-sale-rules.ts';
import receiptModule from '../../machines/receipt.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { queryText } from '../middleware/query-text.ts';
import { paymentQr, qrFormatSchema } from '../payment-qr.ts';
import { parseBody, parseQuery } from '../validation.ts';
import { personalViewFor } from '../personal-data.ts';
import { idempotencyKeyOf, sendRequestEvent, type EventRequest } from './actors.ts';
import { requestHash } from '../../common/canonical-json.ts';

export interface PosRouteDeps {
  runtime: ActorRuntime;
  queries: ActorQueries;
  lookup: LoyaltyLookup;
  /** the bonus share the loyalty integration allows now */
  maxBonusSharePercent: () => number;
  policy: () => PosPolicy;
  now?: () => number;
}

/** A sale answers within this however slow JOWi is (seed 004): the look-up has its own, shorter, bound. */
const ANSWER_WITHIN_MS = 2_700;

const NO_CUSTOMER: LoyaltyAnswer = { status: 'none', customer: null, source: null, warning: null };

const listQuery = z.object({
  state: queryText(100).optional(),
  /** `offline`: the sales made while the loyalty program did not answer */
  loyalty: z.enum(['offline']).optional(),
  store: queryText(64).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.iso.datetime({ offset: true }).optional(),
});
const paidBody = z.object({ tendered: z.number().int().positive().optional() }).strict();
const methodBody = z.object({ method: z.enum(POS_PAYMENT_METHODS) }).strict();
const cancelBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();
const returnBody = z
  .object({
    lines: z
      .array(z.object({ sku: z.string().min(1).max(64), qty: z.number().int().positive() }).strict())
      .min(1)
      .max(200),
    reason: z.string().trim().min(1).max(500),
  })
  .strict();

const documented = contracts('Sales at the till', {
  create: {
    summary: 'A sale at the till (answers within 3 s whatever the loyalty program does)',
    auth: ['operator'],
    body: posSaleRequestSchema,
    idempotencyKey: 'required',
    responses: { 201: 'the sale' },
  },
  list: { summary: 'Sales, newest first', auth: ['operator', 'viewer'], query: listQuery },
  get: { summary: 'A sale', auth: ['operator', 'viewer'] },
  paid: { summary: 'Cash or card: the money is in', auth: ['operator'], body: paidBody, bodyOptional: true, idempotencyKey: 'optional' },
  payment: { summary: 'Change the way of paying', auth: ['operator'], body: methodBody, idempotencyKey: 'optional' },
  cancel: { summary: 'Cancel a sale before payment', auth: ['operator'], body: cancelBody, idempotencyKey: 'optional' },
  return: { summary: 'Return units of a sale', auth: ['operator'], body: returnBody, idempotencyKey: 'required' },
  paymentQr: {
    summary: "The sale's payment link as a QR code",
    auth: ['operator', 'viewer'],
    query: qrFormatSchema,
    responses: { 200: { description: 'SVG or PNG', mediaType: 'image/*' }, 409: 'not waiting for a Payme or Click payment' },
  },
});

/** Payme and Click take soums only; cash and card any currency the till sells in. */
function checkMethod(method: PosPaymentMethod, currency: string): void {
  if (!ONLINE_POS_METHODS.has(method)) return;
  const takes = CURRENCY_OF_METHOD[method as 'payme' | 'click'];
  if (takes !== currency)
    throw errors.badRequest(`${method} takes ${takes}; a sale in ${currency} pays by cash or card`, [
      { path: 'payment.method', message: `${method} takes ${takes}` },
    ]);
}

/** A sale as the till shows it. */
export async function saleView(runtime: ActorRuntime, actor: ActorView<PosSaleContext>) {
  const c = actor.context;
  let payment: Record<string, unknown> | null = null;
  if (c.payment) {
    const view = await runtime
      .of(paymentModule)
      .get(c.payment.id)
      .catch(() => null);
    payment = view
      ? {
          id: view.id,
          provider: view.context.provider,
          state: view.state,
          providerStatus: view.context.providerStatus,
          pageUrl: view.context.pageUrl,
        }
      : { id: c.payment.id, state: 'starting' };
  }
  const waitingOnline = actor.state === 'paying.online' && typeof payment?.pageUrl === 'string';
  let receipt: Record<string, unknown> | null = null;
  if (c.receiptId) {
    const view = await runtime
      .of(receiptModule)
      .get(c.receiptId)
      .catch(() => null);
    receipt = {
      id: c.receiptId,
      state: view?.state ?? 'starting',
      documentNumber: (view?.context as { documentNumber?: number } | undefined)?.documentNumber ?? null,
    };
  }
  return {
    id: actor.id,
    state: actor.state,
    revision: actor.revision,
    accepts: actor.accepts,
    store: c.store,
    register: c.register,
    cashier: c.cashier,
    currency: c.currency,
    items: c.items,
    subtotal: c.pricing.subtotal,
    discount: c.pricing.discount,
    bonusSpent: c.pricing.bonusSpent,
    total: c.pricing.total,
    loyalty: c.loyalty,
    errors: c.errors,
    payment: { method: c.method, attempts: c.paymentAttempts, current: payment, errors: c.paymentErrors },
    paymentUrl: waitingOnline ? payment?.pageUrl : null,
    paymentQr: waitingOnline ? `/pos/sales/${encodeURIComponent(actor.id)}/payment-qr` : null,
    paid: c.paid,
    change: typeof c.paid?.tendered === 'number' ? c.paid.tendered - c.pricing.total : null,
    receipt,
    slip: c.slipJobId,
    accrual: c.accrual,
    returns: c.returns,
    cancellation: c.cancellation,
    tags: actor.tags,
    createdAt: actor.createdAt,
    updatedAt: actor.updatedAt,
  };
}

/** An id from the whole key (a prefix of it made two keys that share their first 30 characters one sale). */
const fromKey = (prefix: string, key: string) => `${prefix}-${createHash('sha256').update(key).digest('base64url').slice(0, 32)}`;
const derivedSaleId = (key: string) => fromKey('sale', key);
const derivedReturnId = (key: string) => fromKey('ret', key);

/** `/pos/sales`: sales at the tills (operators). */
export function posRoutes(deps: PosRouteDeps): Router<HubState> {
  const router = new Router<HubState>();
  const now = deps.now ?? Date.now;
  const sales = deps.runtime.of(posSaleModule);
  const who = (ctx: { state: HubState }) => ctx.state.principal?.name ?? 'unknown';

  /** Waits (bounded) until the sale is past its stock check and, paying online, has its link. */
  const settled = async (id: string, deadline: number): Promise<ActorView<PosSaleContext>> => {
    for (;;) {
      const actor = await sales.get(id);
      const view = actor.state === 'paying.online' ? await saleView(deps.runtime, actor) : null;
      const waiting =
        actor.state === 'reservingStock' || actor.state === 'releasingRejected' || (view !== null && view.paymentUrl === null);
      if (!waiting || Date.now() >= deadline) return actor;
      await sleep(25);
    }
  };

  router.post('/pos/sales', documented.create, async (ctx) => {
    const started = Date.now();
    const key = idempotencyKeyOf(ctx.get('Idempotency-Key'));
    if (!key)
      throw errors.badRequest('a sale needs an Idempotency-Key header (the same key again answers the same sale)', [
        { path: 'header:Idempotency-Key', message: 'required' },
      ]);
    const body = parseBody(posSaleRequestSchema, ctx.state.body ?? {});
    const policy = deps.policy();
    // an own property only: a store called `constructor` is not Object.prototype's
    const store = Object.hasOwn(policy.stores, body.store) ? policy.stores[body.store] : undefined;
    if (!store)
      throw errors.badRequest(`no store "${body.store}" in HUB_POS_POLICY`, [
        { path: 'store', message: `known: ${Object.keys(policy.stores).join(', ')}` },
      ]);
    checkMethod(body.payment.method, body.currency);
    const saleId = derivedSaleId(key);
    const hash = requestHash('pos-sale', 'pos-sale', body);
    const origin = { kind: 'create' as const, requestId: ctx.state.requestId, actorName: who(ctx) };

    // a repeat answers the first sale without asking the loyalty program again (a different body: 422)
    const existing = await sales.get(saleId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'not_found') return null;
      throw error;
    });
    const loyalty = existing
      ? existing.context.loyalty
      : body.customer
        ? saleLoyaltyOf(await deps.lookup.find(body.customer))
        : NO_CUSTOMER;
    const input: PosSaleInput = existing
      ? existing.context
      : {
          saleId,
          store: body.store,
          register: body.register,
          cashier: body.cashier,
          currency: body.currency,
          customer: body.customer,
          items: body.items,
          method: body.payment.method,
          useBonus: body.useBonus,
          loyalty,
          acceptedAt: new Date(now()).toISOString(),
          policy: {
            fiscalRegister: store.fiscalRegister,
            receiptPrinter: store.receiptPrinter,
            maxBonusSharePercent: deps.maxBonusSharePercent(),
            paymentValiditySeconds: policy.paymentValiditySeconds,
            paymentGraceSeconds: policy.paymentGraceSeconds,
          },
        };
    const result = await sales.create(saleId, input, { idempotencyKey: key, requestHash: hash, origin });
    const actor = await settled(saleId, started + ANSWER_WITHIN_MS);
    ctx.status = 201;
    ctx.set('Idempotent-Replayed', String(result.replayed));
    ctx.body = await saleView(deps.runtime, actor);
  });

  router.get('/pos/sales', documented.list, async (ctx) => {
    const query = parseQuery(listQuery, ctx.query);
    const found = await deps.queries.views(
      posSaleModule,
      {
        ...(query.state ? { states: [query.state] } : {}),
        ...(query.loyalty === 'offline' ? { tag: 'loyalty-offline' } : {}),
        ...(query.cursor ? { createdBefore: new Date(query.cursor) } : {}),
      },
      { order: 'newestCreated', limit: query.limit },
    );
    const listed = query.store ? found.filter((sale) => sale.context.store === query.store) : found;
    ctx.body = {
      sales: listed.map((sale) => ({
        id: sale.id,
        state: sale.state,
        store: sale.context.store,
        cashier: sale.context.cashier,
        currency: sale.context.currency,
        total: sale.context.pricing.total,
        method: sale.context.method,
        loyalty: { status: sale.context.loyalty.status, warning: sale.context.loyalty.warning },
        receipt: sale.context.receiptId,
        accrual: sale.context.accrual?.status ?? null,
        createdAt: sale.createdAt,
      })),
      nextCursor: found.length === query.limit ? (found.at(-1)?.createdAt ?? null) : null,
    };
  });

  router.get('/pos/sales/:id', documented.get, async (ctx) => {
    ctx.body = await saleView(deps.runtime, personalViewFor(ctx.state, deps.runtime.registry, await sales.get(ctx.params.id ?? '')));
  });

  const send = (ctx: EventRequest, event: PosSaleEvent) =>
    sendRequestEvent(ctx, sales, event, 'pos-sale-event', (actor) => saleView(deps.runtime, actor));

  // cash or card: the cashier says the money is in (`tendered`: the cash handed over; the change is answered)
  router.post('/pos/sales/:id/paid', documented.paid, async (ctx) => {
    const body = parseBody(paidBody, ctx.state.body ?? {});
    await send(ctx, {
      type: 'PAID_AT_COUNTER',
      by: who(ctx),
      ...(body.tendered ? { tendered: body.tendered } : {}),
      at: new Date(now()).toISOString(),
    });
  });

  router.post('/pos/sales/:id/payment', documented.payment, async (ctx) => {
    const { method } = parseBody(methodBody, ctx.state.body ?? {});
    const sale = await sales.get(ctx.params.id ?? '');
    checkMethod(method, sale.context.currency);
    await send(ctx, { type: 'CHANGE_PAYMENT', method, by: who(ctx) });
  });

  router.post('/pos/sales/:id/cancel', documented.cancel, async (ctx) => {
    const { reason } = parseBody(cancelBody, ctx.state.body ?? {});
    await send(ctx, { type: 'CANCEL', reason, by: who(ctx) });
  });

  router.post('/pos/sales/:id/return', documented.return, async (ctx) => {
    const key = idempotencyKeyOf(ctx.get('Idempotency-Key'));
    if (!key)
      throw errors.badRequest('a return needs an Idempotency-Key header (the same key again answers the same return)', [
        { path: 'header:Idempotency-Key', message: 'required' },
      ]);
    const body = parseBody(returnBody, ctx.state.body ?? {});
    await send(ctx, {
      type: 'RETURN',
      returnId: derivedReturnId(key),
      lines: body.lines,
      reason: body.reason,
      by: who(ctx),
      at: new Date(now()).toISOString(),
    });
  });

  router.get('/pos/sales/:id/payment-qr', documented.paymentQr, async (ctx) => {
    const { format } = parseQuery(qrFormatSchema, ctx.query);
    const view = await saleView(deps.runtime, await sales.get(ctx.params.id ?? ''));
    if (typeof view.paymentUrl !== 'string')
      throw new AppError(409, 'conflict', `sale ${view.id} is not waiting for a Payme or Click payment (state ${view.state})`, {
        state: view.state,
      });
    const qr = await paymentQr(view.paymentUrl, format);
    ctx.type = qr.type;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = qr.body;
  });

  return router;
}
