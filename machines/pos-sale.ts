import { assign, setup } from 'xstate';
import { z } from 'zod';
import { CURRENCIES, type Currency } from '../common/order-policy.ts';
import { defineMachineModule, effect, type EffectFailure } from './machine-module.ts';
import type { PaymentInput } from './payment.ts';
import {
  loyaltyAnswerSchema,
  ONLINE_POS_METHODS,
  POS_PAYMENT_METHODS,
  priceSale,
  receiptLinesOf,
  type LoyaltyAnswer,
  type PosPaymentMethod,
  type SalePricing,
} from './pos-sale-rules.ts';

/**
 * One sale at a shop's till (seed 004). The loyalty program was asked
 * before the sale was made, within its bounded time: its answer (a discount
 * and bonuses when live, or a warning when offline) is part of the input,
 * so a sale never waits for it. Then: the goods are taken from stock (the
 * same product actors as orders), the money is taken (cash and card: the
 * cashier confirms; Payme and Click: a payment actor, link and QR code),
 * the fiscal receipt is printed on the store's register, the accrual is
 * handed to the loyalty outbox (delivered once, later if need be), and the
 * customer's slip with the bonuses is printed. A completed sale takes
 * returns of its lines: money back, a return receipt, stock back, bonuses
 * taken back.
 */

export interface SaleLine {
  sku: string;
  name: string;
  qty: number;
  /** per unit, minor units */
  price: number;
}

export interface PosSaleInput {
  saleId: string;
  store: string;
  register: string;
  cashier: string;
  currency: Currency;
  customer: { phone: string } | { card: string } | null;
  items: SaleLine[];
  method: PosPaymentMethod;
  useBonus: number;
  loyalty: LoyaltyAnswer;
  acceptedAt: string;
  policy: {
    /** the store's fiscal register (a device name); null: no fiscal receipt */
    fiscalRegister: string | null;
    /** the store's receipt printer for the customer's slip; null: no slip */
    receiptPrinter: string | null;
    maxBonusSharePercent: number;
    paymentValiditySeconds: number;
    paymentGraceSeconds: number;
  };
}

export interface SaleReturn {
  returnId: string;
  lines: Array<{ sku: string; qty: number }>;
  /** minor units given back */
  amount: number;
  /** where the money went back: at the till (cash or card terminal) or through the provider */
  refundedVia: 'counter' | 'provider';
  by: string;
  reason: string;
  at: string;
  receiptId: string | null;
}

export interface PosSaleContext extends PosSaleInput {
  pricing: SalePricing;
  errors: Array<{ code: string; message: string; path?: string }>;
  /** the payment through a provider (Payme, Click), while or once it is made */
  payment: { id: string; attempt: number; method: PosPaymentMethod; outcome: 'pending' | 'succeeded' | 'failed' } | null;
  paymentAttempts: number;
  paymentErrors: Array<{ paymentId: string; code: string; message: string }>;
  /** how the money was taken: `tendered` is the cash handed over (change = tendered − total) */
  /** `at`: the cashier's confirmation (a provider's payment: null, its time is in the payment actor) */
  paid: { method: PosPaymentMethod; paymentId: string | null; tendered: number | null; by: string; at: string | null } | null;
  receiptId: string | null;
  slipJobId: string | null;
  accrual: { status: 'queued' | 'delivered' | 'none'; bonusEarned: number | null; bonusBalance: number | null } | null;
  returns: SaleReturn[];
  cancellation: { reason: string; by: string } | null;
  lastEffectError: EffectFailure | null;
}

export type PosSaleEvent =
  | { type: 'PAID_AT_COUNTER'; by: string; tendered?: number; at: string }
  | {
      type: 'PAYMENT_RESULT';
      paymentId: string;
      outcome: 'succeeded' | 'failed' | 'refunded';
      failure: { code: string; message: string } | null;
    }
  | { type: 'CHANGE_PAYMENT'; method: PosPaymentMethod; by: string }
  | { type: 'CANCEL'; reason: string; by: string }
  | { type: 'RETURN'; returnId: string; lines: Array<{ sku: string; qty: number }>; by: string; reason: string; at: string };

export interface StockAnswer {
  ok: boolean;
  errors: Array<{ code: string; message: string; path?: string }>;
}

export interface ReturnWork {
  saleId: string;
  returnId: string;
  currency: Currency;
  /** the goods going back, at the prices the receipt charged */
  lines: Array<{ sku: string; name: string; qty: number; price: number }>;
  amount: number;
  refundVia: 'counter' | 'provider';
  method: PosPaymentMethod;
  paymentId: string | null;
  fiscalRegister: string | null;
  saleReceiptId: string | null;
  cashier: string;
  /** the loyalty customer whose bonuses go back with the goods */
  loyaltyCustomerId: string | null;
}

const lineSchema = z.object({
  sku: z.string().min(1).max(64),
  name: z.string().min(1).max(128),
  qty: z.number().int().positive(),
  price: z.number().int().positive(),
});

export const posSaleInputSchema = z.object({
  saleId: z.string().min(1).max(128),
  store: z.string().min(1).max(64),
  register: z.string().min(1).max(64),
  cashier: z.string().min(1).max(64),
  currency: z.enum(CURRENCIES),
  customer: z.union([z.object({ phone: z.string().min(1).max(32) }), z.object({ card: z.string().min(1).max(64) })]).nullable(),
  items: z.array(lineSchema).min(1).max(200),
  method: z.enum(POS_PAYMENT_METHODS),
  useBonus: z.number().int().nonnegative(),
  loyalty: loyaltyAnswerSchema,
  acceptedAt: z.iso.datetime({ offset: true }),
  policy: z.object({
    fiscalRegister: z.string().min(1).max(64).nullable(),
    receiptPrinter: z.string().min(1).max(64).nullable(),
    maxBonusSharePercent: z.number().min(0).max(100),
    paymentValiditySeconds: z.number().int().positive(),
    paymentGraceSeconds: z.number().int().nonnegative(),
  }),
});

const who = z.string().min(1).max(200);
export const posSaleEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('PAID_AT_COUNTER'),
    by: who,
    tendered: z.number().int().positive().optional(),
    at: z.iso.datetime({ offset: true }),
  }),
  z.object({
    type: z.literal('PAYMENT_RESULT'),
    paymentId: z.string().min(1),
    outcome: z.enum(['succeeded', 'failed', 'refunded']),
    failure: z.object({ code: z.string(), message: z.string() }).nullable(),
  }),
  z.object({ type: z.literal('CHANGE_PAYMENT'), method: z.enum(POS_PAYMENT_METHODS), by: who }),
  z.object({ type: z.literal('CANCEL'), reason: z.string().min(1).max(500), by: who }),
  z.object({
    type: z.literal('RETURN'),
    returnId: z.string().min(1).max(128),
    lines: z
      .array(z.object({ sku: z.string().min(1).max(64), qty: z.number().int().positive() }))
      .min(1)
      .max(200),
    by: who,
    reason: z.string().min(1).max(500),
    at: z.iso.datetime({ offset: true }),
  }),
]);

export const salePaymentIdOf = (saleId: string, attempt: number) => `${saleId}-P${attempt}`;
export const saleReceiptIdOf = (saleId: string) => `R-S-${saleId}`.slice(0, 120);
export const saleSlipIdOf = (saleId: string) => `P-S-${saleId}-slip`.slice(0, 128);
export const returnReceiptIdOf = (saleId: string, returnId: string) => `R-S-${saleId}-${returnId}`.slice(0, 128);

/** The receipt's lines of the sale: each sku's goods at the price charged after the discount and bonuses. */
export function chargedLines(context: Pick<PosSaleContext, 'items' | 'pricing'>): Array<SaleLine> {
  const reduced = receiptLinesOf(context.items, context.pricing.discount + context.pricing.bonusSpent);
  // receiptLinesOf keeps the items' order, splitting a line in two at most: map the pieces back to their skus
  const pieces: SaleLine[] = [];
  let at = 0;
  for (const item of context.items) {
    let units = item.qty;
    while (units > 0) {
      const piece = reduced[at++];
      if (!piece) throw new Error('receipt lines do not cover the items');
      pieces.push({ sku: item.sku, name: item.name, qty: piece.qty, price: piece.price });
      units -= piece.qty;
    }
  }
  return pieces;
}

/** How many units of each sku are still the customer's (sold, less what came back). */
export function unitsKept(context: Pick<PosSaleContext, 'items' | 'returns'>): Map<string, number> {
  const kept = new Map(context.items.map((item) => [item.sku, item.qty]));
  for (const back of context.returns) for (const line of back.lines) kept.set(line.sku, (kept.get(line.sku) ?? 0) - line.qty);
  return kept;
}

/**
 * What a return gives back: the returned units at the prices charged (the dearest pieces of a split line
 * last — the customer gets back no more than paid), or the reason it is refused.
 */
export function returnOf(
  context: PosSaleContext,
  lines: Array<{ sku: string; qty: number }>,
):
  | { ok: true; lines: ReturnWork['lines']; amount: number; /** it takes back every unit still kept */ whole: boolean }
  | { ok: false; message: string } {
  const kept = unitsKept(context);
  const charged = chargedLines(context);
  const priced: ReturnWork['lines'] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    if (seen.has(line.sku)) return { ok: false, message: `${line.sku} is listed twice` };
    seen.add(line.sku);
    const left = kept.get(line.sku);
    if (left === undefined) return { ok: false, message: `${line.sku} was not sold in this sale` };
    if (line.qty > left) return { ok: false, message: `${line.qty} × ${line.sku} returned, ${left} left to return` };
    // units already returned took the cheapest pieces first; this return takes the next ones
    const returnedBefore = (context.items.find((item) => item.sku === line.sku)?.qty ?? 0) - left;
    let skip = returnedBefore;
    let want = line.qty;
    for (const piece of charged.filter((p) => p.sku === line.sku).sort((a, b) => a.price - b.price)) {
      const usable = Math.max(0, piece.qty - skip);
      skip = Math.max(0, skip - piece.qty);
      const take = Math.min(usable, want);
      if (take > 0) priced.push({ sku: line.sku, name: piece.name, qty: take, price: piece.price });
      want -= take;
    }
  }
  const amount = priced.reduce((sum, line) => sum + line.qty * line.price, 0);
  const whole = [...kept.entries()].every(([sku, left]) => left === (lines.find((line) => line.sku === sku)?.qty ?? 0));
  return { ok: true, lines: priced, amount, whole };
}

function paymentInput(context: PosSaleContext): PaymentInput {
  const attempt = context.paymentAttempts;
  const lines = chargedLines(context);
  return {
    paymentId: salePaymentIdOf(context.saleId, attempt),
    orderId: context.saleId,
    owner: 'pos-sale',
    attempt,
    provider: context.method === 'payme' ? 'payme' : 'click',
    amount: context.pricing.total,
    currency: context.currency,
    description: `Покупка ${context.saleId}`,
    customerEmail: null,
    basket: lines.map((line) => ({ name: line.name, qty: line.qty, price: line.price, sku: line.sku })),
    validitySeconds: context.policy.paymentValiditySeconds,
    graceSeconds: context.policy.paymentGraceSeconds,
  };
}

const effectError = (event: unknown) => (event as { error: EffectFailure }).error;

const posSaleMachine = setup({
  types: {} as { context: PosSaleContext; events: PosSaleEvent; input: PosSaleInput },
  actors: {
    reserveStock: effect<StockAnswer, { holderId: string; items: Array<{ sku: string; qty: number; price: number }> }>(),
    releaseStock: effect<{ released: number }, { holderId: string; skus: string[] }>(),
    commitStock: effect<{ committed: number }, { holderId: string; skus: string[] }>(),
    startPayment: effect<{ paymentId: string }, PaymentInput>(),
    issueReceipt: effect<{ receiptId: string | null }, { context: PosSaleContext }>(),
    accrueBonus: effect<
      { status: 'queued' | 'delivered' | 'none'; bonusEarned: number | null; bonusBalance: number | null },
      { context: PosSaleContext }
    >(),
    printSlip: effect<{ jobId: string | null }, { context: PosSaleContext }>(),
    processReturn: effect<{ receiptId: string | null }, ReturnWork>(),
  },
  guards: {
    stockOk: ({ event }) => (event as unknown as { output: StockAnswer }).output.ok,
    online: ({ context }) => ONLINE_POS_METHODS.has(context.method),
    currentPayment: ({ context, event }) => event.type === 'PAYMENT_RESULT' && event.paymentId === context.payment?.id,
    currentSucceeded: ({ context, event }) =>
      event.type === 'PAYMENT_RESULT' && event.paymentId === context.payment?.id && event.outcome === 'succeeded',
    coversTotal: ({ context, event }) =>
      event.type === 'PAID_AT_COUNTER' &&
      (event.tendered === undefined || context.method !== 'cash' || event.tendered >= context.pricing.total),
    returnable: ({ context, event }) =>
      event.type === 'RETURN' && !context.returns.some((r) => r.returnId === event.returnId) && returnOf(context, event.lines).ok,
  },
  actions: {
    recordEffectError: assign({ lastEffectError: ({ event }) => effectError(event) }),
    recordReturnReceipt: assign({
      returns: ({ context, event }) => {
        const receiptId = (event as unknown as { output: { receiptId: string | null } }).output.receiptId;
        return context.returns.map((entry, index) => (index === context.returns.length - 1 ? { ...entry, receiptId } : entry));
      },
    }),
    recordCancellation: assign({
      cancellation: ({ event }) => (event.type === 'CANCEL' ? { reason: event.reason, by: event.by } : null),
    }),
  },
}).createMachine({
  id: 'posSale',
  initial: 'reservingStock',
  context: ({ input }) => ({
    ...input,
    pricing: priceSale(input.items, input.loyalty, input.useBonus, input.policy.maxBonusSharePercent),
    errors: [],
    payment: null,
    paymentAttempts: 0,
    paymentErrors: [],
    paid: null,
    receiptId: null,
    slipJobId: null,
    accrual: null,
    returns: [],
    cancellation: null,
    lastEffectError: null,
  }),
  states: {
    reservingStock: {
      invoke: {
        id: 'reserve',
        src: 'reserveStock',
        input: ({ context }) => ({ holderId: context.saleId, items: context.items.map(({ sku, qty, price }) => ({ sku, qty, price })) }),
        onDone: [
          { guard: 'stockOk', target: 'paying' },
          // a refused hold gives back what it held itself (stock/holds.ts): nothing is left to release
          { target: 'rejected', actions: assign({ errors: ({ event }) => event.output.errors }) },
        ],
        onError: {
          target: 'releasingRejected',
          actions: assign({ errors: ({ event }) => [{ code: 'stock_check_failed', message: effectError(event).message }] }),
        },
      },
    },
    /** the stock check failed part-way (its retries spent): whatever it held goes back before the sale is rejected */
    releasingRejected: {
      invoke: {
        id: 'releaseRejected',
        src: 'releaseStock',
        input: ({ context }) => ({ holderId: context.saleId, skus: context.items.map((item) => item.sku) }),
        onDone: 'rejected',
        onError: { target: 'rejected', actions: 'recordEffectError' },
      },
    },
    rejected: { type: 'final', tags: ['final-outcome'] },
    paying: {
      initial: 'choosing',
      states: {
        choosing: { always: [{ guard: 'online', target: 'online' }, { target: 'atCounter' }] },
        /** cash or card: the cashier confirms the money is in */
        atCounter: {
          tags: ['awaiting-cashier'],
          on: {
            PAID_AT_COUNTER: {
              guard: 'coversTotal',
              target: '#posSale.committingStock',
              actions: assign({
                paid: ({ context, event }) => ({
                  method: context.method,
                  paymentId: null,
                  tendered:
                    event.type === 'PAID_AT_COUNTER' && context.method === 'cash' ? (event.tendered ?? context.pricing.total) : null,
                  by: event.type === 'PAID_AT_COUNTER' ? event.by : 'unknown',
                  at: event.type === 'PAID_AT_COUNTER' ? event.at : null,
                }),
              }),
            },
          },
        },
        /** Payme or Click: a payment actor with its link and QR code; the customer pays with a phone */
        online: {
          tags: ['awaiting-customer'],
          entry: assign(({ context }) => {
            const attempt = context.paymentAttempts + 1;
            return {
              paymentAttempts: attempt,
              payment: { id: salePaymentIdOf(context.saleId, attempt), attempt, method: context.method, outcome: 'pending' as const },
            };
          }),
          invoke: {
            id: 'payment',
            src: 'startPayment',
            input: ({ context }) => paymentInput(context),
            onError: { target: '#posSale.paymentFailed', actions: 'recordEffectError' },
          },
          on: {
            PAYMENT_RESULT: [
              {
                guard: 'currentSucceeded',
                target: '#posSale.committingStock',
                actions: assign(({ context, event }) => ({
                  payment: context.payment && { ...context.payment, outcome: 'succeeded' as const },
                  paid: { method: context.method, paymentId: event.paymentId, tendered: null, by: context.method, at: null },
                })),
              },
              {
                guard: 'currentPayment',
                target: '#posSale.paymentFailed',
                actions: assign(({ context, event }) => ({
                  payment: context.payment && { ...context.payment, outcome: 'failed' as const },
                  paymentErrors: [
                    ...context.paymentErrors,
                    {
                      paymentId: event.paymentId,
                      code: event.failure?.code ?? 'failed',
                      message: event.failure?.message ?? 'the payment failed',
                    },
                  ],
                })),
              },
            ],
          },
        },
      },
      on: {
        CHANGE_PAYMENT: { target: '.choosing', actions: assign({ method: ({ event }) => event.method }) },
        CANCEL: { target: 'cancelling', actions: 'recordCancellation' },
      },
    },
    /** the provider refused or the customer gave up: the cashier chooses another way, or cancels */
    paymentFailed: {
      on: {
        CHANGE_PAYMENT: { target: 'paying', actions: assign({ method: ({ event }) => event.method }) },
        CANCEL: { target: 'cancelling', actions: 'recordCancellation' },
      },
    },
    committingStock: {
      invoke: {
        id: 'commit',
        src: 'commitStock',
        input: ({ context }) => ({ holderId: context.saleId, skus: context.items.map((item) => item.sku) }),
        onDone: 'fiscalising',
        onError: { target: 'fiscalising', actions: 'recordEffectError' },
      },
    },
    /** the fiscal receipt actor on the store's register (it prints once, waiting out the device by itself) */
    fiscalising: {
      invoke: {
        id: 'receipt',
        src: 'issueReceipt',
        input: ({ context }) => ({ context }),
        onDone: { target: 'accruing', actions: assign({ receiptId: ({ event }) => event.output.receiptId }) },
        onError: { target: 'accruing', actions: 'recordEffectError' },
      },
    },
    /** the bonuses handed to the loyalty outbox: delivered now when the program answers, later otherwise */
    accruing: {
      invoke: {
        id: 'accrual',
        src: 'accrueBonus',
        input: ({ context }) => ({ context }),
        onDone: { target: 'printingSlip', actions: assign({ accrual: ({ event }) => event.output }) },
        onError: { target: 'printingSlip', actions: 'recordEffectError' },
      },
    },
    printingSlip: {
      invoke: {
        id: 'slip',
        src: 'printSlip',
        input: ({ context }) => ({ context }),
        onDone: { target: 'completed', actions: assign({ slipJobId: ({ event }) => event.output.jobId }) },
        onError: { target: 'completed', actions: 'recordEffectError' },
      },
    },
    completed: {
      tags: ['final-outcome'],
      on: {
        RETURN: { guard: 'returnable', target: 'returning' },
        // a late word of the payment (its refund after a return) changes nothing here
        PAYMENT_RESULT: {},
      },
    },
    returning: {
      entry: assign(({ context, event }) => {
        if (event.type !== 'RETURN') return {};
        const back = returnOf(context, event.lines);
        if (!back.ok) return {};
        // a provider gives back a payment whole (Payme cancels the transaction, Click reverses the payment): only a
        // return of everything, with nothing returned before, goes through it; any other goes back at the till
        const viaProvider = typeof context.paid?.paymentId === 'string' && back.whole && context.returns.length === 0;
        const entry: SaleReturn = {
          returnId: event.returnId,
          lines: event.lines,
          amount: back.amount,
          refundedVia: viaProvider ? 'provider' : 'counter',
          by: event.by,
          reason: event.reason,
          at: event.at,
          receiptId: null,
        };
        return { returns: [...context.returns, entry] };
      }),
      invoke: {
        id: 'return',
        src: 'processReturn',
        input: ({ context }): ReturnWork => {
          const entry = context.returns[context.returns.length - 1];
          const priced = entry
            ? returnOf({ ...context, returns: context.returns.slice(0, -1) }, entry.lines)
            : ({ ok: false, message: 'no return' } as const);
          return {
            saleId: context.saleId,
            returnId: entry?.returnId ?? '',
            currency: context.currency,
            lines: priced.ok ? priced.lines : [],
            amount: entry?.amount ?? 0,
            refundVia: entry?.refundedVia ?? 'counter',
            method: context.method,
            paymentId: context.paid?.paymentId ?? null,
            fiscalRegister: context.policy.fiscalRegister,
            saleReceiptId: context.receiptId,
            cashier: context.cashier,
            loyaltyCustomerId: context.loyalty.customer?.id ?? null,
          };
        },
        onDone: [
          {
            guard: ({ context }) => [...unitsKept(context).values()].every((left) => left === 0),
            target: 'returned',
            actions: 'recordReturnReceipt',
          },
          { target: 'completed', actions: 'recordReturnReceipt' },
        ],
        onError: { target: 'completed', actions: 'recordEffectError' },
      },
      on: { PAYMENT_RESULT: {} },
    },
    /** every unit came back */
    returned: { type: 'final', tags: ['final-outcome'] },
    cancelling: {
      invoke: {
        id: 'release',
        src: 'releaseStock',
        input: ({ context }) => ({ holderId: context.saleId, skus: context.items.map((item) => item.sku) }),
        onDone: 'cancelled',
        onError: { target: 'cancelled', actions: 'recordEffectError' },
      },
    },
    cancelled: {
      type: 'final',
      tags: ['final-outcome'],
    },
  },
});

export default defineMachineModule({
  type: 'pos-sale',
  version: 1,
  description:
    'One sale at a till (seed 004): loyalty answer fixed at the start, stock, cash/card/Payme/Click, fiscal receipt, bonus accrual (outbox), slip; returns',
  migrations: {},
  machine: posSaleMachine,
  inputSchema: posSaleInputSchema,
  eventSchema: posSaleEventSchema,
  personalData: {
    context: { 'customer.phone': 'phone', 'customer.card': 'document', 'loyalty.customer.name': 'name' },
  },
  // the console lists the sales made while the loyalty program did not answer (no discount, bonuses later)
  labels: (context) => (context.loyalty.status === 'offline' ? ['loyalty-offline'] : []),
  slaMs: { reservingStock: 60_000, committingStock: 60_000, fiscalising: 5 * 60_000, returning: 10 * 60_000 },
  domainEvents: {
    events: {
      started: { description: 'a sale at the till: its stock is being reserved', states: ['reservingStock'] },
      rejected: { description: 'the sale could not be made (stock)', states: ['releasingRejected', 'rejected'] },
      awaitingPayment: {
        description: 'the customer is to pay',
        states: ['paying.choosing', 'paying.atCounter', 'paying.online', 'paymentFailed'],
      },
      paid: {
        description: 'paid: stock committed, the receipt and the accrual under way',
        states: ['committingStock', 'fiscalising', 'accruing', 'printingSlip'],
      },
      completed: { description: 'done: fiscalised, accrued and the slip printed', states: ['completed'] },
      returned: { description: 'goods of the sale came back', states: ['returning', 'returned'] },
      cancelled: { description: 'the sale is cancelled', states: ['cancelling', 'cancelled'] },
    },
    data: z.object({
      saleId: z.string(),
      store: z.string(),
      register: z.string(),
      currency: z.string(),
      method: z.string(),
      pricing: z.object({ total: z.number(), discount: z.number(), bonusSpent: z.number() }),
      receiptId: z.string().nullable(),
    }),
  },
});
