import Router from '@koa/router';
import { z } from 'zod';
import { AppError, errors } from '../../common/errors.ts';
import { constantTimeEqual } from '../../common/security.ts';
import type { ActorQueries } from '../../actors/runtime/queries.ts';
import type { ActorRuntime, ActorView } from '../../actors/runtime/runtime.ts';
import { renderInvoicePdf, type Seller } from '../../actors/domains/orders/invoice-pdf.ts';
import orderModule, { type OrderContext, type OrderEvent } from '../../machines/order.ts';
import { orderIntakeSchema, type OrderPolicy } from '../../machines/order-rules.ts';
import paymentModule from '../../machines/payment.ts';
import { THANK_YOU_PATH } from '../../actors/domains/payments/effects.ts';
import productModule, { availableUnits, reservedUnits, type ProductContext } from '../../machines/product.ts';
import type { CommerceCollections } from '../../persistence/commerce.ts';
import type { Mailer } from '../../actors/platform/mail/mailer.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { paymentQr, qrFormatSchema } from '../payment-qr.ts';
import { readRawBody } from '../middleware/raw-body.ts';
import { parseBody, parseQuery } from '../validation.ts';
import { personalViewFor, readsPersonalData } from '../personal-data.ts';
import { maskEmail, maskValue } from '../../actors/runtime/personal-data.ts';
import { openInvoice } from '../../persistence/commerce.ts';
import type { CustomerForgetting } from '../../actors/domains/orders/forget-customer.ts';
import { idempotencyKeyOf, sendRequestEvent, type EventRequest } from './actors.ts';
import { requestHash } from '../../common/canonical-json.ts';
import { isMarketplace, MARKETPLACES, type MarketplaceName } from '../../common/marketplaces.ts';
import { ListingRefused, productMarketplacesSchema } from '../../actors/domains/marketplaces/listings.ts';
import type { MarketplaceSync } from '../../actors/domains/marketplaces/sync.ts';

export interface OrderRouteDeps {
  runtime: ActorRuntime;
  queries: ActorQueries;
  commerce: CommerceCollections;
  policy: () => OrderPolicy;
  seller: Seller;
  /** listings at the marketplaces (with the product) and each marketplace order's sync state (with the order) */
  marketplaces: MarketplaceSync;
  /** erases a customer's personal data on request (`POST /admin/customers/forget`) */
  forgetting: CustomerForgetting;
  now?: () => number;
}

const forgetBody = z
  .object({ phone: z.string().trim().min(5).max(32).optional(), email: z.string().trim().min(3).max(254).optional() })
  .strict()
  .refine((body) => Boolean(body.phone) !== Boolean(body.email), 'give either the phone or the e-mail');

const listQuery = z.object({
  state: z.string().max(100).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  /** the marketplace an order came from */
  source: z.enum(MARKETPLACES).optional(),
});

const mailQuery = z.object({
  orderId: z.string().max(128).optional(),
  status: z.enum(['pending', 'sent', 'failed', 'not_configured']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const cancelBody = z.object({ reason: z.string().min(1).max(500) });
const shippedBody = z.object({ waybill: z.string().min(1).max(64).optional() });
const surveyBody = z.object({
  token: z.string().min(1).max(100),
  rating: z.coerce.number().int().min(1).max(5),
  comment: z.string().max(2000).optional(),
});
const productBody = z.object({
  name: z.string().min(1).max(200),
  price: z.number().int().nonnegative(),
  stock: z.number().int().nonnegative(),
  /** where the product is listed, with its ids and price there; a marketplace set to null is unlisted */
  marketplaces: productMarketplacesSchema.optional(),
});
const SKU = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

const qrImage = {
  200: { description: 'the payment link as a QR code (SVG or PNG)', mediaType: 'image/*' },
  409: 'not waiting for an online payment',
};

const documented = contracts('Orders and payments', {
  create: {
    summary: 'Accept an order (an incomplete, wrongly totalled or undeliverable one is accepted and `rejected`)',
    auth: ['operator'],
    body: orderIntakeSchema,
    idempotencyKey: 'required',
    responses: { 201: 'the order' },
  },
  list: { summary: 'Orders, newest first', auth: ['operator', 'viewer'], query: listQuery },
  get: { summary: 'An order: state, pricing, payment, documents, shipment', auth: ['operator', 'viewer'] },
  cancel: { summary: 'Cancel an order before shipping', auth: ['operator'], body: cancelBody, idempotencyKey: 'optional' },
  shipped: {
    summary: 'Record by hand that the order shipped',
    auth: ['operator'],
    body: shippedBody,
    bodyOptional: true,
    idempotencyKey: 'optional',
  },
  delivered: { summary: 'Record by hand that the order was delivered', auth: ['operator'], idempotencyKey: 'optional' },
  retryPayment: { summary: 'A new round of payment attempts for a `blocked` order', auth: ['admin'], idempotencyKey: 'optional' },
  invoice: {
    summary: "The order's invoice (PDF)",
    auth: ['operator', 'viewer'],
    responses: { 200: { description: 'PDF', mediaType: 'application/pdf' } },
  },
  paymentQr: { summary: "The order's payment link as a QR code", auth: ['operator', 'viewer'], query: qrFormatSchema, responses: qrImage },
  forgetCustomer: {
    summary: "Erase a customer's personal data from their finished orders older than the retention period",
    auth: ['admin'],
    body: forgetBody,
    responses: {
      200: 'what was erased, and the orders kept (with the date each may go)',
      409: 'an order of the customer is still under way (`details.orders`)',
      503: 'data stored before personal data was sealed is still being sealed and indexed: not every order can be found yet',
    },
  },
  putProduct: {
    summary: 'Create or change a product, and where it is listed',
    auth: ['admin'],
    params: z.object({ sku: z.string().regex(SKU) }),
    body: productBody,
    responses: { 200: 'the product changed', 201: 'the product created' },
  },
  products: { summary: 'Every product: stock, reserved, available, sold', auth: ['operator', 'viewer'] },
  product: { summary: 'A product and its listings', auth: ['operator', 'viewer'] },
  surveyPage: {
    summary: "The customer's survey page (from the e-mailed link)",
    description: 'Query `token`: the token from the link.',
    auth: 'none',
    responses: { 200: { description: 'HTML', mediaType: 'text/html' } },
  },
  surveyAnswer: {
    summary: "The customer's survey answer (the link's token, no API key)",
    auth: 'none',
    body: surveyBody,
    bodyMediaTypes: ['application/json', 'application/x-www-form-urlencoded'],
    responses: { 200: '`{received, state}` (HTML to a browser)', 409: 'answered already' },
  },
  thankYou: {
    summary: "Where the payment providers' pages send the customer back",
    description: 'Query `order`: the order number, only echoed.',
    auth: 'none',
    responses: { 200: { description: 'HTML', mediaType: 'text/html' } },
  },
  mail: { summary: 'Every mail kept', auth: ['operator', 'viewer'], query: mailQuery },
  reports: { summary: 'The daily reports', auth: ['operator', 'viewer'] },
  report: { summary: 'One daily report', auth: ['operator', 'viewer'] },
});

/** The order as an operator sees it: the machine's context, plus its payment and documents. */
export async function orderView(runtime: ActorRuntime, actor: ActorView<OrderContext>, marketplaces?: MarketplaceSync) {
  const c = actor.context;
  const sync = marketplaces && isMarketplace(c.source) ? await marketplaces.collections.orders.findOne({ _id: actor.id }) : null;
  let payment: Record<string, unknown> | null = null;
  if (c.currentPayment) {
    try {
      const p = await runtime.of(paymentModule).get(c.currentPayment.id);
      const pc = p.context;
      payment = {
        id: p.id,
        attempt: pc.attempt,
        provider: pc.provider,
        state: p.state,
        amount: pc.amount,
        providerStatus: pc.providerStatus,
        pageUrl: pc.pageUrl,
        failure: pc.failure,
        // the money is with the shop (paid, or a refund not done yet)
        paid: p.tags.includes('paid'),
        refund: pc.refund && { ...pc.refund, attempts: pc.refundAttempts, providerStatus: pc.refundStatus },
        incident: pc.incident,
      };
    } catch {
      payment = { id: c.currentPayment.id, attempt: c.currentPayment.attempt, state: 'starting' };
    }
  }
  const awaitingCustomer = actor.state === 'paying' && typeof payment?.state === 'string' && payment.state.startsWith('pending');
  return {
    id: actor.id,
    state: actor.state,
    revision: actor.revision,
    accepts: actor.accepts,
    externalId: c.externalId ?? null,
    source: c.source,
    currency: c.currency,
    customer: c.customer,
    items: c.lines.length > 0 ? c.lines : c.items,
    delivery: c.delivery,
    errors: c.errors,
    pricing: c.pricing,
    payment: { method: c.payment.method, attempts: c.paymentAttempts, current: payment, errors: c.paymentErrors },
    paymentUrl: awaitingCustomer ? (payment?.pageUrl ?? null) : null,
    receipt: c.receipt,
    invoice: c.invoice ? { ...c.invoice, url: `/orders/${encodeURIComponent(actor.id)}/invoice.pdf` } : null,
    promisedBy: c.promisedBy,
    late: c.late,
    shipment: c.shipment,
    survey: c.survey,
    cancellation: c.cancellation,
    // what its marketplace has been told, and a push it refused (the order's incident)
    marketplace: sync && {
      name: sync.marketplace,
      externalId: sync.externalId,
      told: sync.told,
      cancelledThere: sync.cancelledThere,
      settled: sync.settled,
      lastError: sync.lastError,
      incident: sync.incident,
    },
    createdAt: actor.createdAt,
    updatedAt: actor.updatedAt,
  };
}

function productView(actor: Pick<ActorView<ProductContext>, 'id' | 'context' | 'revision' | 'updatedAt'>) {
  const c = actor.context;
  return {
    sku: actor.id,
    name: c.name,
    price: c.price,
    stock: c.stock,
    reserved: reservedUnits(c),
    available: availableUnits(c),
    sold: c.sold,
    revision: actor.revision,
    updatedAt: actor.updatedAt,
  };
}

/** `/orders` (operators), `/admin/products` (admins). */
export function orderRoutes(deps: OrderRouteDeps): Router<HubState> {
  const router = new Router<HubState>();
  const now = deps.now ?? Date.now;
  const orders = deps.runtime.of(orderModule);
  const products = deps.runtime.of(productModule);
  const who = (ctx: { state: HubState }) => ctx.state.principal?.name ?? 'unknown';

  router.post('/orders', documented.create, async (ctx) => {
    const key = idempotencyKeyOf(ctx.get('Idempotency-Key'));
    if (!key)
      throw errors.badRequest('an order needs an Idempotency-Key header (the same key again answers the same order)', [
        { path: 'header:Idempotency-Key', message: 'required' },
      ]);
    const body = parseBody(orderIntakeSchema, ctx.state.body ?? {});
    // the shop's own id when it gives one; else derived from the key, so that a repeat lands on the same order
    const orderId = body.externalId ?? derivedOrderId(key);
    const result = await orders.create(
      orderId,
      { ...body, orderId, acceptedAt: new Date(now()).toISOString(), policy: deps.policy() },
      {
        idempotencyKey: key,
        requestHash: requestHash('order', 'order', body),
        origin: { kind: 'create', requestId: ctx.state.requestId, actorName: who(ctx) },
      },
    );
    ctx.status = 201;
    ctx.set('Idempotent-Replayed', String(result.replayed));
    ctx.body = await orderView(deps.runtime, result.actor, deps.marketplaces);
  });

  router.get('/orders', documented.list, async (ctx) => {
    const query = parseQuery(listQuery, ctx.query);
    const from = query.from ? Date.parse(query.from) : null;
    const before = Math.min(query.to ? Date.parse(query.to) : Infinity, query.cursor ? Date.parse(query.cursor) : Infinity);
    const found = await deps.queries.views(
      orderModule,
      {
        ...(query.state ? { states: [query.state] } : {}),
        // a marketplace's orders have ids made from its name (marketplaceOrderId)
        ...(query.source ? { idPrefix: `${query.source}-` } : {}),
        ...(from !== null ? { createdFrom: new Date(from) } : {}),
        ...(Number.isFinite(before) ? { createdBefore: new Date(before) } : {}),
      },
      { order: 'newestCreated', limit: query.limit },
    );
    ctx.body = {
      orders: found.map((order) => {
        const c = order.context;
        return {
          id: order.id,
          state: order.state,
          source: c.source,
          externalId: c.externalId ?? null,
          currency: c.currency,
          total: c.pricing?.total ?? c.total,
          method: c.payment.method,
          customer: personalViewFor(ctx.state, deps.runtime.registry, order).context.customer.name ?? null,
          invoice: c.invoice?.number ?? null,
          late: c.late,
          createdAt: order.createdAt,
          updatedAt: order.updatedAt,
        };
      }),
      nextCursor: found.length === query.limit ? (found.at(-1)?.createdAt ?? null) : null,
    };
  });

  router.get('/orders/:id', documented.get, async (ctx) => {
    const order = personalViewFor(ctx.state, deps.runtime.registry, await orders.get(ctx.params.id ?? ''));
    ctx.body = await orderView(deps.runtime, order, deps.marketplaces);
  });

  const sendToOrder = (ctx: EventRequest, event: OrderEvent) =>
    sendRequestEvent(ctx, orders, event, 'order-event', (actor) => orderView(deps.runtime, actor, deps.marketplaces));

  router.post('/orders/:id/cancel', documented.cancel, async (ctx) => {
    const body = parseBody(cancelBody, ctx.state.body ?? {});
    await sendToOrder(ctx, { type: 'CANCEL', reason: body.reason, by: who(ctx) });
  });

  router.post('/orders/:id/shipped', documented.shipped, async (ctx) => {
    const body = parseBody(shippedBody, ctx.state.body ?? {});
    await sendToOrder(ctx, { type: 'SHIPPED', ...(body.waybill ? { waybill: body.waybill } : {}), at: new Date(now()).toISOString() });
  });

  router.post('/orders/:id/delivered', documented.delivered, async (ctx) => {
    await sendToOrder(ctx, { type: 'DELIVERED', at: new Date(now()).toISOString() });
  });

  router.post('/orders/:id/retry-payment', documented.retryPayment, async (ctx) => {
    await sendToOrder(ctx, { type: 'RETRY_PAYMENT', by: who(ctx) });
  });

  router.get('/orders/:id/invoice.pdf', documented.invoice, async (ctx) => {
    const stored = await deps.commerce.invoices.findOne({ _id: ctx.params.id ?? '' });
    if (!stored) throw errors.notFound(`the invoice of order ${ctx.params.id ?? ''}`);
    const opened = openInvoice(stored, deps.runtime.personalData.cipher);
    // a viewer's copy names the customer as the order does for them: masked
    const invoice = readsPersonalData(ctx.state) ? opened : { ...opened, customer: maskInvoiceCustomer(opened.customer) };
    ctx.type = 'application/pdf';
    ctx.set('Content-Disposition', `inline; filename="invoice-${String(invoice.number).padStart(6, '0')}.pdf"`);
    ctx.body = await renderInvoicePdf(invoice, deps.seller);
  });

  // the link the customer pays on, as a QR code to show or print at the counter (while the order waits for its payment)
  router.get('/orders/:id/payment-qr', documented.paymentQr, async (ctx) => {
    const { format } = parseQuery(qrFormatSchema, ctx.query);
    const view = await orderView(deps.runtime, await orders.get(ctx.params.id ?? ''), deps.marketplaces);
    if (typeof view.paymentUrl !== 'string')
      throw new AppError(409, 'conflict', `order ${view.id} is not waiting for an online payment (state ${view.state})`, {
        state: view.state,
      });
    const qr = await paymentQr(view.paymentUrl, format);
    ctx.type = qr.type;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = qr.body;
  });

  router.post('/admin/customers/forget', documented.forgetCustomer, async (ctx) => {
    const body = parseBody(forgetBody, ctx.state.body ?? {});
    ctx.body = await deps.forgetting.forget(
      { ...(body.phone ? { phone: body.phone } : {}), ...(body.email ? { email: body.email } : {}) },
      ctx.state.principal?.name ?? 'unknown',
    );
  });

  router.put('/admin/products/:sku', documented.putProduct, async (ctx) => {
    const sku = ctx.params.sku ?? '';
    if (!SKU.test(sku)) throw errors.badRequest('a SKU is letters, digits and . _ : - (max 64)', [{ path: 'sku', message: 'invalid' }]);
    const { marketplaces: listed, ...body } = parseBody(productBody, ctx.state.body ?? {});
    const origin = { kind: 'admin' as const, requestId: ctx.state.requestId, actorName: who(ctx) };
    const wholeUnits = (name: MarketplaceName) => deps.marketplaces.wholeUnits(name);
    // a listing that cannot be made refuses the whole request before the product changes
    if (listed) await deps.marketplaces.listings.validate(sku, listed, wholeUnits).catch(listingError);
    let actor: ActorView<ProductContext>;
    try {
      actor = (await products.create(sku, { sku, ...body }, { origin })).actor;
      ctx.status = 201;
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'actor_exists')) throw error;
      // stock below what open orders hold is refused by the product itself: 409 event_not_accepted, reason stock_below_reserved
      actor = (await products.send(sku, { type: 'SET', ...body }, { origin })).actor;
    }
    if (listed) {
      const current = { available: availableUnits(actor.context), revision: actor.revision };
      await deps.marketplaces.listings.set(sku, listed, current, wholeUnits).catch(listingError);
    }
    ctx.body = { ...productView(actor), marketplaces: await deps.marketplaces.listings.of(sku) };
  });

  router.get('/admin/products', documented.products, async (ctx) => {
    const found = await deps.queries.views(productModule, {}, { order: 'byId', limit: 500 });
    ctx.body = { products: found.map(productView) };
  });

  router.get('/admin/products/:sku', documented.product, async (ctx) => {
    const sku = ctx.params.sku ?? '';
    ctx.body = { ...productView(await products.get(sku)), marketplaces: await deps.marketplaces.listings.of(sku) };
  });

  return router;
}

/** The customer's survey: a page from the e-mailed link, and its answer. No API key: the link's token. */
export function surveyRoutes(deps: { runtime: ActorRuntime; commerce: CommerceCollections; bodyLimitBytes: number }): Router<HubState> {
  const router = new Router<HubState>();
  const tokenOf = async (orderId: string) => (await deps.commerce.surveyTokens.findOne({ _id: orderId }))?.token ?? null;

  router.get('/orders/:id/survey', documented.surveyPage, async (ctx) => {
    const id = ctx.params.id ?? '';
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const expected = await tokenOf(id);
    if (!expected || !constantTimeEqual(token, expected)) throw errors.notFound('survey');
    const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Оцініть замовлення</title>
<h1>Як вам замовлення ${escape(id)}?</h1>
<form method="post"><input type="hidden" name="token" value="${escape(token)}">
<p>${[1, 2, 3, 4, 5].map((n) => `<label><input type="radio" name="rating" value="${n}" required> ${n}</label>`).join(' ')}</p>
<p><textarea name="comment" rows="4" cols="40" placeholder="Коментар"></textarea></p><button>Надіслати</button></form>`;
  });

  router.post('/orders/:id/survey', documented.surveyAnswer, async (ctx) => {
    const id = ctx.params.id ?? '';
    const raw = (await readRawBody(ctx, Math.min(deps.bodyLimitBytes, 16 * 1024))).toString('utf8');
    let fields: unknown;
    try {
      fields = ctx.is('application/json') ? (JSON.parse(raw) as unknown) : Object.fromEntries(new URLSearchParams(raw));
    } catch {
      throw errors.badRequest('the body is not JSON', [{ path: '(body)', message: 'malformed JSON' }]);
    }
    const body = parseBody(surveyBody, fields);
    const expected = await tokenOf(id);
    if (!expected || !constantTimeEqual(body.token, expected)) throw errors.notFound('survey');
    const answer: OrderEvent = { type: 'SURVEY_ANSWERED', rating: body.rating, ...(body.comment ? { comment: body.comment } : {}) };
    // one answer per survey: a second (or a repeat) is answered with the first result
    const result = await deps.runtime
      .of(orderModule)
      .send(id, answer, { idempotencyKey: `survey:${id}`, origin: { kind: 'event', actorName: 'customer' } })
      .catch((error: unknown) => {
        if (error instanceof Error && 'code' in error && error.code === 'event_not_accepted')
          throw errors.conflict('this survey was answered already, or the order is not waiting for it', {});
        throw error;
      });
    ctx.status = 200;
    if (ctx.accepts('html', 'json') === 'html') {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = '<!doctype html><meta charset="utf-8"><p>Дякуємо за відгук!</p>';
    } else {
      ctx.body = { received: true, state: result.actor.state };
    }
  });

  return router;
}

/**
 * Where Monobank's and LiqPay's pages send the customer after paying (`redirectUrl`, `result_url`): a plain
 * thank-you. No API key and nothing looked up — the order number comes from the link and is only echoed
 * (the payment's outcome reaches the shop by signed webhook, never by this redirect).
 */
export function thankYouRoutes(): Router<HubState> {
  const router = new Router<HubState>();
  router.get(THANK_YOU_PATH, documented.thankYou, (ctx) => {
    const order = typeof ctx.query.order === 'string' ? ctx.query.order.slice(0, 128) : '';
    const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Дякуємо за оплату</title>
<h1>Дякуємо!</h1><p>${order ? `Замовлення ${escape(order)}: ` : ''}щойно банк підтвердить оплату, ми надішлемо лист із підтвердженням.</p>`;
  });
  return router;
}

/** A listing refused by the listings: the request's 400 (or 409 for an item listed as another product). */
function maskInvoiceCustomer(customer: { name?: string; phone?: string; email?: string }) {
  return {
    ...(customer.name ? { name: String(maskValue(customer.name, 'name')) } : {}),
    ...(customer.phone ? { phone: String(maskValue(customer.phone, 'phone')) } : {}),
    ...(customer.email ? { email: String(maskValue(customer.email, 'email')) } : {}),
  };
}

function listingError(error: unknown): never {
  if (!(error instanceof ListingRefused)) throw error;
  if (error.status === 409) throw errors.conflict(error.message, { path: error.path });
  throw errors.badRequest(error.message, [{ path: error.path, message: error.message }]);
}

/** The actor id an order without externalId gets: derived from its key, so a repeat lands on the same order. */
function derivedOrderId(key: string): string {
  return `order-${Buffer.from(key).toString('base64url').slice(0, 40)}`;
}

/** What the shop sent (`/admin/mail`) and the daily reports (`/admin/reports`). */
export function commerceAdminRoutes(deps: { mailer: Mailer; commerce: CommerceCollections }): Router<HubState> {
  const router = new Router<HubState>();
  router.get('/admin/mail', documented.mail, async (ctx) => {
    const query = parseQuery(mailQuery, ctx.query);
    const mail = await deps.mailer.list(query);
    const personal = readsPersonalData(ctx.state);
    ctx.body = {
      mail: mail.map(({ _id, ...rest }) => ({
        id: _id,
        ...rest,
        ...(personal ? {} : { to: maskEmail(rest.to), text: '(hidden: it is written to the customer)' }),
      })),
    };
  });
  router.get('/admin/reports', documented.reports, async (ctx) => {
    const reports = await deps.commerce.reports.find({}).sort({ _id: -1 }).limit(60).toArray();
    ctx.body = {
      reports: reports.map((r) => ({
        day: r.day,
        generatedAt: r.generatedAt,
        totals: r.totals,
        mismatches: r.reconciliation.mismatches.length,
        url: `/admin/reports/${r.day}`,
      })),
    };
  });
  router.get('/admin/reports/:day', documented.report, async (ctx) => {
    const report = await deps.commerce.reports.findOne({ _id: ctx.params.day ?? '' });
    if (!report) throw errors.notFound(`report ${ctx.params.day ?? ''}`);
    const { _id, ...rest } = report;
    ctx.body = { ...rest, day: _id };
  });
  return router;
}
