import { assertEvent, assign, setup } from 'xstate';
import { z } from 'zod';
import { defineMachineModule, effect, type EffectFailure } from './machine-module.ts';
import {
  orderPolicySchema,
  DEFAULT_EXCHANGE_RATES,
  orderRequestSchema,
  priceOrder,
  validateOrder,
  type OrderError,
  type OrderPolicy,
  type OrderRequest,
  type Pricing,
} from './order-rules.ts';
import type { BasketLine, PaymentInput } from './payment.ts';
import { isMarketplace } from '../common/marketplaces.ts';

/**
 * An order from "the customer likes a product" to "ready for new orders"
 * (seed 001): validation (fields, total, stock, delivery coverage) →
 * pricing → payment through a child payment actor, retried, blocked after
 * the last failure → receipt, invoice, notification, audit → fulfilment →
 * shipped → delivered (with an on-time check) → survey → completed. The
 * README maps every step of the seed to a state, guard, action or effect.
 */

export interface OrderInput extends OrderRequest {
  orderId: string;
  /** when the hub accepted it (ISO) */
  acceptedAt: string;
  policy: OrderPolicy;
}

export interface ReservedLine {
  sku: string;
  name: string;
  qty: number;
  unitPrice: number;
}

export interface OrderContext extends OrderInput {
  errors: OrderError[];
  lines: ReservedLine[];
  reserved: string[];
  delivery: OrderInput['delivery'] & { cityName?: string; warehouseName?: string };
  pricing: Pricing | null;
  paymentAttempts: number;
  /** attempts made before the last RETRY_PAYMENT: each round after a block gets the policy's attempts again, and numbers go on */
  paymentAttemptsBefore: number;
  /** the payment attempt under way or last made */
  currentPayment: { id: string; attempt: number; outcome: 'pending' | 'succeeded' | 'failed' | 'refunded' } | null;
  paymentErrors: Array<{ paymentId: string; code: string; message: string }>;
  receipt: { paymentId: string | null; method: OrderInput['payment']['method']; amount: number; paidAt: string | null } | null;
  invoice: { number: number; issuedAt: string } | null;
  promisedBy: string | null;
  shipment: { waybill: string | null; shippedAt: string } | null;
  /** a shipment actor (id = the order id) was asked for */
  shipmentRequested: boolean;
  late: boolean;
  survey: { sent: boolean; rating: number | null; comment: string | null } | null;
  cancellation: { reason: string; by: string } | null;
  lastEffectError: EffectFailure | null;
}

export type OrderEvent =
  | {
      type: 'PAYMENT_RESULT';
      paymentId: string;
      outcome: 'succeeded' | 'failed' | 'refunded';
      failure: { code: string; message: string } | null;
    }
  | { type: 'CANCEL'; reason: string; by: string }
  | { type: 'SHIPPED'; waybill?: string; at: string }
  | { type: 'DELIVERED'; at: string }
  | { type: 'RETURNED' }
  | { type: 'SURVEY_ANSWERED'; rating: number; comment?: string }
  | { type: 'RETRY_PAYMENT'; by: string }
  | { type: 'RETRY' };

export interface StockRequest {
  orderId: string;
  items: Array<{ sku: string; qty: number; unitPrice: number }>;
  /** false for a marketplace's order: the marketplace set its price, our catalogue price does not apply */
  checkPrice: boolean;
}
export type StockAnswer = { ok: true; lines: ReservedLine[] } | { ok: false; errors: OrderError[] };
export interface DeliveryRequest {
  carrier: 'novaposhta' | 'marketplace';
  service: string | null;
  cityRef: string;
  warehouseRef: string | null;
  hasAddress: boolean;
}
export type DeliveryAnswer = { ok: true; cityName: string; warehouseName: string | null } | { ok: false; errors: OrderError[] };
export interface NoticeRequest {
  orderId: string;
  template:
    | 'order_confirmed'
    | 'payment_failed'
    | 'order_blocked'
    | 'payment_received'
    | 'order_shipped'
    | 'order_cancelled'
    | 'survey'
    | 'order_rejected';
  to: string | null;
  data: Record<string, unknown>;
}
export interface DocumentsRequest {
  orderId: string;
  customer: OrderInput['customer'];
  lines: ReservedLine[];
  pricing: Pricing;
  receipt: NonNullable<OrderContext['receipt']>;
  delivery: OrderContext['delivery'];
}
export interface ShipmentRequest {
  orderId: string;
  /** `marketplace`: its own logistics carry the parcel, so no shipment of ours is made */
  carrier: 'novaposhta' | 'marketplace';
  recipient: { name: string; phone: string; email: string | null };
  cityRef: string;
  warehouseRef: string | null;
  address: { street: string; house: string; flat?: string } | null;
  declaredValue: number;
  description: string;
  collectOnDelivery: number | null;
}

export interface CancelRequest {
  orderId: string;
  /** the shipment to call back (it deletes its waybill if the parcel has not left) */
  shipmentId: string | null;
  skus: string[];
  /** a succeeded payment to refund */
  refundPaymentId: string | null;
  reason: string;
  to: string | null;
}

const isoTime = z.iso.datetime({ offset: true });
export const orderEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('PAYMENT_RESULT'),
    paymentId: z.string().min(1),
    outcome: z.enum(['succeeded', 'failed', 'refunded']),
    failure: z.object({ code: z.string(), message: z.string() }).nullable(),
  }),
  z.object({ type: z.literal('CANCEL'), reason: z.string().min(1).max(500), by: z.string().min(1).max(200) }),
  z.object({ type: z.literal('SHIPPED'), waybill: z.string().min(1).max(64).optional(), at: isoTime }),
  z.object({ type: z.literal('DELIVERED'), at: isoTime }),
  z.object({ type: z.literal('RETURNED') }),
  z.object({ type: z.literal('SURVEY_ANSWERED'), rating: z.number().int().min(1).max(5), comment: z.string().max(2000).optional() }),
  z.object({ type: z.literal('RETRY_PAYMENT'), by: z.string().min(1).max(200) }),
  z.object({ type: z.literal('RETRY') }),
]);

export const orderInputSchema = orderRequestSchema.extend({
  orderId: z.string().min(1).max(128),
  acceptedAt: isoTime,
  policy: orderPolicySchema,
});

const DAY_MS = 24 * 3600 * 1000;

export function paymentIdOf(orderId: string, attempt: number): string {
  return `${orderId}-P${attempt}`;
}

/** The attempt a payment of this order was (1, 2, …), or null when the payment is not one of its own. */
export function attemptOfPayment(context: Pick<OrderContext, 'orderId' | 'paymentAttempts'>, paymentId: string): number | null {
  const prefix = `${context.orderId}-P`;
  if (!paymentId.startsWith(prefix)) return null;
  const attempt = Number(paymentId.slice(prefix.length));
  return Number.isInteger(attempt) &&
    attempt >= 1 &&
    attempt <= context.paymentAttempts &&
    paymentIdOf(context.orderId, attempt) === paymentId
    ? attempt
    : null;
}

/**
 * An amount of the order in kopiykas, for a carrier that declares values in hryvnias (Nova Poshta): an order
 * in another currency is converted at the policy's rate, rounded up so that a parcel is never declared below
 * its worth.
 */
export function inHryvnias(minor: number, context: Pick<OrderContext, 'currency' | 'policy'>): number {
  if (context.currency === 'UAH') return minor;
  const perHryvnia = (context.policy.exchangeRates ?? DEFAULT_EXCHANGE_RATES)[context.currency] ?? DEFAULT_EXCHANGE_RATES[context.currency];
  return Math.ceil(minor / perHryvnia);
}

/** What the customer pays: the priced total once pricing has run, before that the total the order came with. */
const totalDue = (context: OrderContext): number => context.pricing?.total ?? context.total;

/**
 * What the customer pays for, line by line, adding up to the amount: the goods, then the delivery, the fees
 * and VAT charged on top (a provider that fiscalises — Monobank's basketOrder — prints these lines, and a
 * refund returns them all).
 */
export function paymentBasket(context: Pick<OrderContext, 'lines' | 'pricing'>): BasketLine[] {
  const goods = context.lines.map((line) => ({ name: line.name, qty: line.qty, price: line.unitPrice, sku: line.sku }));
  const pricing = context.pricing;
  if (!pricing) return goods;
  const charges: BasketLine[] = [
    ...(pricing.deliveryFee > 0 ? [{ name: 'Доставка', qty: 1, price: pricing.deliveryFee, sku: 'DELIVERY' }] : []),
    ...pricing.fees.map((fee) => ({ name: fee.name, qty: 1, price: fee.amount, sku: `FEE-${fee.name}` })),
  ];
  const charged = [...goods, ...charges].reduce((sum, line) => sum + line.qty * line.price, 0);
  // VAT added on top of the prices (not included in them) is its own line
  const vatOnTop = pricing.total - charged;
  return [...goods, ...charges, ...(vatOnTop > 0 ? [{ name: `ПДВ ${pricing.vatRatePercent}%`, qty: 1, price: vatOnTop, sku: 'VAT' }] : [])];
}

function paymentInput(context: OrderContext): PaymentInput {
  const attempt = context.paymentAttempts;
  const basket = paymentBasket(context);
  return {
    paymentId: paymentIdOf(context.orderId, attempt),
    orderId: context.orderId,
    attempt,
    // cash on delivery never reaches `paying`, nor an order paid at its marketplace
    provider: context.payment.method === 'cod' || context.payment.method === 'marketplace' ? 'monobank' : context.payment.method,
    amount: totalDue(context),
    currency: context.currency,
    description: `Замовлення ${context.externalId ?? context.orderId}`,
    customerEmail: context.customer.email ?? null,
    basket,
    validitySeconds: context.policy.paymentValiditySeconds,
    graceSeconds: context.policy.paymentGraceSeconds,
  };
}

const failureOf = (event: unknown): EffectFailure => (event as { error: EffectFailure }).error;

/**
 * CANCEL is the same wherever it is accepted: who and why are recorded, and `cancelling` undoes what the
 * order has done so far (stock, payment, the shipment request). Each state that allows it names it in its
 * own `on` instead of the root doing it once: orders that have shipped, ended or are already being
 * cancelled must refuse it, and a refusal lists the events the current state accepts. The target is
 * given by id because `fulfilment.awaitingShipment` uses it too, where `cancelling` is not a sibling.
 */
const cancelBeforeShipping = { target: '#order.cancelling', actions: 'recordCancellation' } as const;

/**
 * A message to the customer. A notice that could not be sent even after the effect's retries is recorded
 * (lastEffectError) and changes nothing else: the order never waits for its mail.
 */
const tellCustomer = (
  id: string,
  template: NoticeRequest['template'],
  data: (context: OrderContext) => NoticeRequest['data'] = () => ({}),
) => ({
  id,
  src: 'notifyCustomer' as const,
  input: ({ context }: { context: OrderContext }): NoticeRequest => ({
    orderId: context.orderId,
    template,
    to: context.customer.email ?? null,
    data: { currency: context.currency, ...data(context) },
  }),
  onError: { actions: 'recordEffectError' as const },
});

/** The stock this order still holds, for the effects that release or commit it. */
const reservedStock = ({ context }: { context: OrderContext }) => ({ orderId: context.orderId, skus: context.reserved });

/** Gives the held stock back, then goes on to `then` either way: a release that failed is recorded (lastEffectError), the outcome stands. */
const releaseReservedStock = (id: string, then: 'rejected' | 'blocked') => ({
  id,
  src: 'releaseStock' as const,
  input: reservedStock,
  onDone: { target: then, actions: 'forgetReservedStock' as const },
  onError: { target: then, actions: 'recordEffectError' as const },
});

/** Turns the held stock into sold stock once the parcel has left; a repeat commits nothing. */
const commitReservedStock = (id: string) => ({
  id,
  src: 'commitStock' as const,
  input: reservedStock,
  onDone: { actions: 'forgetReservedStock' as const },
  onError: { actions: 'recordEffectError' as const },
});

const orderMachine = setup({
  types: {} as { context: OrderContext; events: OrderEvent; input: OrderInput },
  actors: {
    reserveStock: effect<StockAnswer, StockRequest>(),
    releaseStock: effect<{ released: number }, { orderId: string; skus: string[] }>(),
    checkDelivery: effect<DeliveryAnswer, DeliveryRequest>(),
    startPayment: effect<{ paymentId: string }, PaymentInput>(),
    notifyCustomer: effect<{ queued: boolean }, NoticeRequest>(),
    issueDocuments: effect<{ invoiceNumber: number; issuedAt: string }, DocumentsRequest>(),
    commitStock: effect<{ committed: number }, { orderId: string; skus: string[] }>(),
    cancelOrder: effect<{ refundRequested: boolean }, CancelRequest>(),
    requestShipment: effect<{ shipmentId: string }, ShipmentRequest>(),
  },
  guards: {
    invalid: ({ context }) => context.errors.length > 0,
    stockReserved: ({ event }) => (event as unknown as { output: StockAnswer }).output.ok,
    deliverable: ({ event }) => (event as unknown as { output: DeliveryAnswer }).output.ok,
    cashOnDelivery: ({ context }) => context.payment.method === 'cod',
    paidAtMarketplace: ({ context }) => context.payment.method === 'marketplace',
    currentPayment: ({ context, event }) => event.type === 'PAYMENT_RESULT' && event.paymentId === context.currentPayment?.id,
    attemptsLeft: ({ context }) => context.paymentAttempts - context.paymentAttemptsBefore < context.policy.maxPaymentAttempts,
    lateSuccess: ({ event }) => event.type === 'PAYMENT_RESULT' && event.outcome === 'succeeded',
    // any attempt of this order that the provider reports paid, also one the order had given up on (expired)
    ownPaymentSucceeded: ({ context, event }) =>
      event.type === 'PAYMENT_RESULT' && event.outcome === 'succeeded' && attemptOfPayment(context, event.paymentId) !== null,
  },
  actions: {
    recordEffectError: assign({ lastEffectError: ({ event }) => failureOf(event) }),
    // only CANCEL transitions record a cancellation: assertEvent narrows the event, and would fail loudly if that changed
    recordCancellation: assign({
      cancellation: ({ event }) => {
        assertEvent(event, 'CANCEL');
        return { reason: event.reason, by: event.by };
      },
    }),
    // the stock effect released, committed or cancelled what was held: the order holds nothing any more
    forgetReservedStock: assign({ reserved: [] }),
    // the money of this payment is the order's: it is the payment a cancellation refunds, and the receipt's
    creditPayment: assign(({ context, event }) => {
      assertEvent(event, 'PAYMENT_RESULT');
      const attempt = attemptOfPayment(context, event.paymentId) ?? context.paymentAttempts;
      return {
        currentPayment: { id: event.paymentId, attempt, outcome: 'succeeded' as const },
        receipt: { paymentId: event.paymentId, method: context.payment.method, amount: totalDue(context), paidAt: null },
      };
    }),
    recordSurveySent: assign({
      survey: ({ context }) => ({ sent: true, rating: context.survey?.rating ?? null, comment: context.survey?.comment ?? null }),
    }),
  },
  delays: {
    paymentRetry: ({ context }) => context.policy.paymentRetryDelayMs,
    promisedDelivery: ({ context }) => context.policy.deliveryDays * DAY_MS,
    surveyWindow: ({ context }) => context.policy.surveyWindowDays * DAY_MS,
  },
}).createMachine({
  id: 'order',
  initial: 'validating',
  context: ({ input }) => ({
    ...input,
    errors: validateOrder(input),
    lines: [],
    reserved: [],
    pricing: null,
    paymentAttempts: 0,
    paymentAttemptsBefore: 0,
    currentPayment: null,
    paymentErrors: [],
    receipt: null,
    invoice: null,
    promisedBy: null,
    shipment: null,
    shipmentRequested: false,
    late: false,
    survey: null,
    cancellation: null,
    lastEffectError: null,
  }),
  states: {
    validating: {
      always: [{ guard: 'invalid', target: 'rejected' }, { target: 'reservingStock' }],
    },
    reservingStock: {
      invoke: {
        id: 'reserve',
        src: 'reserveStock',
        input: ({ context }) => ({
          orderId: context.orderId,
          items: context.items.map((i) => ({ sku: i.sku, qty: i.qty, unitPrice: i.unitPrice })),
          checkPrice: !isMarketplace(context.source),
        }),
        onDone: [
          {
            guard: 'stockReserved',
            target: 'checkingDelivery',
            actions: assign(({ event }) => {
              const lines = (event.output as Extract<StockAnswer, { ok: true }>).lines;
              return { lines, reserved: lines.map((l) => l.sku) };
            }),
          },
          { target: 'rejected', actions: assign({ errors: ({ event }) => (event.output as Extract<StockAnswer, { ok: false }>).errors }) },
        ],
        onError: {
          target: 'rejected',
          actions: [
            'recordEffectError',
            assign({ errors: ({ event }) => [{ code: 'stock_unavailable', message: failureOf(event).message }] }),
          ],
        },
      },
      on: { CANCEL: cancelBeforeShipping },
    },
    checkingDelivery: {
      invoke: {
        id: 'coverage',
        src: 'checkDelivery',
        input: ({ context }) => ({
          carrier: context.delivery.carrier,
          service: context.delivery.service ?? null,
          cityRef: context.delivery.cityRef ?? '',
          warehouseRef: context.delivery.warehouseRef ?? null,
          hasAddress: context.delivery.address !== undefined,
        }),
        onDone: [
          {
            guard: 'deliverable',
            target: 'pricing',
            actions: assign(({ context, event }) => {
              const answer = event.output as Extract<DeliveryAnswer, { ok: true }>;
              return {
                delivery: {
                  ...context.delivery,
                  cityName: answer.cityName,
                  ...(answer.warehouseName ? { warehouseName: answer.warehouseName } : {}),
                },
              };
            }),
          },
          {
            target: 'releasingRejected',
            actions: assign({ errors: ({ event }) => (event.output as Extract<DeliveryAnswer, { ok: false }>).errors }),
          },
        ],
        // the carrier could not be asked even after the effect's retries: the order cannot be promised, so it is refused (stock released)
        onError: {
          target: 'releasingRejected',
          actions: [
            'recordEffectError',
            assign({ errors: ({ event }) => [{ code: 'delivery_check_failed', message: failureOf(event).message }] }),
          ],
        },
      },
      on: { CANCEL: cancelBeforeShipping },
    },
    releasingRejected: {
      invoke: releaseReservedStock('release', 'rejected'),
    },
    pricing: {
      entry: assign(({ context }) => ({ pricing: priceOrder(context, context.policy) })),
      always: [
        {
          guard: 'cashOnDelivery',
          target: 'issuingDocuments',
          actions: assign(({ context }) => ({
            receipt: { paymentId: null, method: 'cod' as const, amount: totalDue(context), paidAt: null },
          })),
        },
        // the buyer paid the marketplace: nothing for us to take
        {
          guard: 'paidAtMarketplace',
          target: 'issuingDocuments',
          actions: assign(({ context }) => ({
            receipt: { paymentId: null, method: 'marketplace' as const, amount: totalDue(context), paidAt: null },
          })),
        },
        { target: 'paying' },
      ],
    },
    paying: {
      tags: ['awaiting-payment'],
      entry: assign(({ context }) => {
        const attempt = context.paymentAttempts + 1;
        return {
          paymentAttempts: attempt,
          currentPayment: { id: paymentIdOf(context.orderId, attempt), attempt, outcome: 'pending' as const },
        };
      }),
      invoke: {
        id: 'payment',
        src: 'startPayment',
        input: ({ context }) => paymentInput(context),
        onError: {
          target: 'paymentFailed',
          actions: [
            'recordEffectError',
            assign(({ context, event }) => ({
              paymentErrors: [
                ...context.paymentErrors,
                { paymentId: context.currentPayment?.id ?? '', code: failureOf(event).code, message: failureOf(event).message },
              ],
            })),
          ],
        },
      },
      on: {
        PAYMENT_RESULT: [
          // the current attempt, or an earlier one paid after all while this one waits: either pays the order
          // (an unpaid later attempt then expires on its own; paid too, it is refunded by its payment)
          { guard: 'ownPaymentSucceeded', target: 'issuingDocuments', actions: 'creditPayment' },
          {
            guard: 'currentPayment',
            target: 'paymentFailed',
            actions: assign(({ context, event }) => ({
              currentPayment: context.currentPayment && { ...context.currentPayment, outcome: 'failed' as const },
              paymentErrors: [
                ...context.paymentErrors,
                {
                  paymentId: event.paymentId,
                  code: event.failure?.code ?? 'declined',
                  message: event.failure?.message ?? 'the payment failed',
                },
              ],
            })),
          },
        ],
        CANCEL: cancelBeforeShipping,
      },
    },
    paymentFailed: {
      always: [{ guard: 'attemptsLeft', target: 'awaitingPaymentRetry' }, { target: 'releasingBlocked' }],
    },
    awaitingPaymentRetry: {
      invoke: tellCustomer('tellFailure', 'payment_failed', (context) => ({
        attempt: context.paymentAttempts,
        of: context.policy.maxPaymentAttempts,
        reason: context.paymentErrors.at(-1)?.message ?? '',
      })),
      after: { paymentRetry: 'paying' },
      on: {
        // the attempt that failed (expired) was paid after all: the order takes it instead of trying again
        PAYMENT_RESULT: { guard: 'ownPaymentSucceeded', target: 'issuingDocuments', actions: 'creditPayment' },
        CANCEL: cancelBeforeShipping,
      },
    },
    releasingBlocked: {
      invoke: releaseReservedStock('releaseBlocked', 'blocked'),
    },
    blocked: {
      // an administrator is alerted (states tagged "alert" raise one)
      tags: ['alert'],
      invoke: tellCustomer('tellBlocked', 'order_blocked', (context) => ({
        attempts: context.paymentAttempts - context.paymentAttemptsBefore,
      })),
      on: {
        // a new round of attempts; the payments made so far keep their ids (a new one is never a finished one's)
        RETRY_PAYMENT: {
          target: 'reservingStock',
          actions: assign({ paymentAttemptsBefore: ({ context }) => context.paymentAttempts, errors: [] }),
        },
        CANCEL: cancelBeforeShipping,
      },
    },
    issuingDocuments: {
      invoke: {
        id: 'documents',
        src: 'issueDocuments',
        input: ({ context }) => ({
          orderId: context.orderId,
          customer: context.customer,
          lines: context.lines,
          pricing: context.pricing ?? priceOrder(context, context.policy),
          receipt: context.receipt ?? { paymentId: null, method: context.payment.method, amount: context.total, paidAt: null },
          delivery: context.delivery,
        }),
        onDone: {
          target: 'fulfilment',
          actions: assign(({ context, event }) => ({
            invoice: { number: event.output.invoiceNumber, issuedAt: event.output.issuedAt },
            receipt: context.receipt && { ...context.receipt, paidAt: context.receipt.method === 'cod' ? null : event.output.issuedAt },
            promisedBy: new Date(Date.parse(event.output.issuedAt) + context.policy.deliveryDays * DAY_MS).toISOString(),
          })),
        },
        onError: { target: 'documentsFailed', actions: 'recordEffectError' },
      },
      on: { PAYMENT_RESULT: { actions: [] } },
    },
    /** the invoice could not be issued even after the effect's retries: a person looks, then RETRY */
    documentsFailed: {
      tags: ['alert'],
      on: {
        RETRY: 'issuingDocuments',
        CANCEL: cancelBeforeShipping,
      },
    },
    fulfilment: {
      initial: 'awaitingShipment',
      // the on-time check: a durable timer at the promised date
      after: { promisedDelivery: { actions: assign({ late: true }) } },
      states: {
        awaitingShipment: {
          // a parcel of ours (Nova Poshta); the marketplace's own logistics need none
          entry: assign({ shipmentRequested: ({ context }) => context.delivery.carrier === 'novaposhta' }),
          invoke: [
            tellCustomer('confirm', 'order_confirmed', (context) => ({
              invoice: context.invoice?.number ?? null,
              total: totalDue(context),
              promisedBy: context.promisedBy,
            })),
            {
              id: 'shipment',
              src: 'requestShipment',
              input: ({ context }) => ({
                orderId: context.orderId,
                carrier: context.delivery.carrier,
                recipient: {
                  name: context.customer.name ?? '',
                  phone: context.customer.phone ?? '',
                  email: context.customer.email ?? null,
                },
                cityRef: context.delivery.cityRef ?? '',
                warehouseRef: context.delivery.warehouseRef ?? null,
                address: context.delivery.address ?? null,
                declaredValue: inHryvnias(totalDue(context), context),
                description:
                  context.lines
                    .map((l) => l.name)
                    .join(', ')
                    .slice(0, 100) || 'Товари',
                collectOnDelivery: context.payment.method === 'cod' ? totalDue(context) : null,
              }),
              onError: { actions: 'recordEffectError' },
            },
          ],
          on: {
            SHIPPED: {
              target: 'shipped',
              actions: assign({ shipment: ({ event }) => ({ waybill: event.waybill ?? null, shippedAt: event.at }) }),
            },
            CANCEL: cancelBeforeShipping,
          },
        },
        shipped: {
          invoke: [
            commitReservedStock('commit'),
            tellCustomer('tellShipped', 'order_shipped', (context) => ({ waybill: context.shipment?.waybill ?? null })),
          ],
          on: { DELIVERED: '#order.delivered', RETURNED: '#order.returned' },
        },
      },
    },
    delivered: {
      entry: assign({ survey: { sent: false, rating: null, comment: null } }),
      invoke: [
        { ...tellCustomer('survey', 'survey'), onDone: { actions: 'recordSurveySent' } },
        // delivered right after shipped (a poll that skipped statuses) leaves `shipped` before its commit ran: committed here (a repeat commits nothing)
        commitReservedStock('commitDelivered'),
      ],
      after: { surveyWindow: 'completed' },
      on: {
        SURVEY_ANSWERED: {
          target: 'completed',
          actions: assign({
            survey: ({ context, event }) => ({ sent: context.survey?.sent ?? false, rating: event.rating, comment: event.comment ?? null }),
          }),
        },
      },
    },
    completed: { type: 'final' },
    /** the parcel came back (refused): a person decides about the money and the goods */
    returned: { tags: ['alert'] },
    cancelling: {
      invoke: {
        id: 'cancel',
        src: 'cancelOrder',
        input: ({ context }) => ({
          orderId: context.orderId,
          shipmentId: context.shipmentRequested ? context.orderId : null,
          skus: context.reserved,
          refundPaymentId: context.currentPayment?.outcome === 'succeeded' ? context.currentPayment.id : null,
          reason: context.cancellation?.reason ?? 'cancelled',
          to: context.customer.email ?? null,
        }),
        onDone: { target: 'cancelled', actions: 'forgetReservedStock' },
        onError: { target: 'cancelled', actions: 'recordEffectError' },
      },
      on: { PAYMENT_RESULT: { actions: [] } },
    },
    cancelled: {
      on: {
        // money taken after the order was cancelled goes back
        PAYMENT_RESULT: { guard: 'lateSuccess', target: 'refundingLatePayment' },
      },
    },
    refundingLatePayment: {
      invoke: {
        id: 'lateRefund',
        src: 'cancelOrder',
        input: ({ context, event }) => ({
          orderId: context.orderId,
          shipmentId: null,
          skus: [],
          refundPaymentId: (event as { paymentId?: string }).paymentId ?? null,
          reason: 'paid after cancellation',
          to: null,
        }),
        onDone: 'cancelled',
        onError: 'cancelled',
      },
    },
    rejected: {
      invoke: tellCustomer('tellRejected', 'order_rejected', (context) => ({ errors: context.errors })),
    },
  },
});

export default defineMachineModule({
  type: 'order',
  version: 2,
  description:
    'An order from intake to completion (seed 001): validation, stock, delivery, pricing, payment with retries, documents, fulfilment, survey',
  migrations: {
    // version 2 counts attempts per round after a RETRY_PAYMENT instead of restarting the count (which reused payment ids)
    1: (snapshot) => ({ ...snapshot, context: { ...(snapshot.context as Record<string, unknown>), paymentAttemptsBefore: 0 } }),
  },
  machine: orderMachine,
  inputSchema: orderInputSchema,
  eventSchema: orderEventSchema,
  personalData: {
    context: { 'customer.name': 'name', 'customer.phone': 'phone', 'customer.email': 'email', 'delivery.address': 'address' },
  },
  children: (context: OrderContext) => [
    ...Array.from({ length: context.paymentAttempts }, (_, i) => ({ type: 'payment', id: paymentIdOf(context.orderId, i + 1) })),
    ...(context.shipmentRequested ? [{ type: 'shipment', id: context.orderId }] : []),
  ],
  slaMs: {
    reservingStock: 10 * 60_000,
    checkingDelivery: 10 * 60_000,
    issuingDocuments: 10 * 60_000,
    cancelling: 10 * 60_000,
    'fulfilment.awaitingShipment': 3 * 24 * 3600_000,
  },
  domainEvents: {
    events: {
      accepted: {
        description: 'the order is taken: its lines, delivery and price are being checked',
        states: ['validating', 'reservingStock', 'checkingDelivery', 'pricing'],
      },
      rejected: {
        description: 'the order could not be taken (stock, delivery or a rule); nothing is charged',
        states: ['releasingRejected', 'rejected'],
      },
      awaitingPayment: {
        description: 'the customer is to pay (a payment link is out, or a retry is due)',
        states: ['paying', 'paymentFailed', 'awaitingPaymentRetry'],
      },
      blocked: {
        description: 'every payment attempt failed: the order waits for a person (retry or cancel)',
        states: ['releasingBlocked', 'blocked'],
      },
      paid: { description: 'paid: the invoice and the fiscal receipt are being issued', states: ['issuingDocuments', 'documentsFailed'] },
      awaitingShipment: {
        description: 'paid and documented: waits for the parcel to be handed to the carrier',
        states: ['fulfilment.awaitingShipment'],
      },
      shipped: { description: 'the parcel is with the carrier', states: ['fulfilment.shipped'] },
      delivered: { description: 'the customer has the parcel', states: ['delivered'] },
      completed: { description: 'nothing more to do: delivered and surveyed', states: ['completed'] },
      returned: { description: 'the parcel came back', states: ['returned'] },
      cancelled: {
        description: 'cancelled (stock released, money refunded where paid)',
        states: ['cancelling', 'cancelled', 'refundingLatePayment'],
      },
    },
    data: z.object({
      orderId: z.string(),
      externalId: z.string(),
      source: z.string(),
      currency: z.string(),
      total: z.number(),
      payment: z.object({ method: z.string() }),
      delivery: z.object({ carrier: z.string() }),
      shipment: z.object({ waybill: z.string().nullable(), shippedAt: z.string() }).nullable(),
      cancellation: z.object({ reason: z.string(), by: z.string() }).nullable(),
    }),
  },
});
