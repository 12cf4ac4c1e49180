import { assign, setup } from 'xstate';
import { z } from 'zod';
import { CURRENCIES, type Currency } from '../common/order-policy.ts';
import { PAYMENT_STATUSES, type PaymentStatus } from '../common/payment-statuses.ts';
import { defineMachineModule, effect, type EffectFailure } from './machine-module.ts';

/**
 * One attempt to take money for an order, at one provider (Monobank
 * invoice or LiqPay checkout). Statuses arrive by signed webhook and by
 * polling; both are applied once and in order of the provider's own time
 * (webhooks come in any order), and a payment never leaves a final state —
 * a late or contradicting status is recorded and changes nothing. Two
 * exceptions, both about money that did arrive: a payment the hub had given
 * up on (expired) that the provider reports paid after all is a success
 * again, and a success the order does not take (it stopped waiting for it)
 * is refunded at once. A refund is final only when the provider says so:
 * `processing` is asked again until it is, a refused one stays paid with a
 * `refund_failed` incident until an operator retries it (RETRY_REFUND).
 */

/** Monobank and LiqPay are asked by us; Payme and Click call us (their gateways read what those calls recorded). */
export const PAYMENT_PROVIDERS = ['monobank', 'liqpay', 'payme', 'click'] as const;
export type PaymentProvider = (typeof PAYMENT_PROVIDERS)[number];

/** A provider's status, normalised (each gateway maps its own words to these). */
export const PROVIDER_STATUSES = PAYMENT_STATUSES;
export type ProviderStatus = PaymentStatus;

export interface BasketLine {
  name: string;
  qty: number;
  /** per unit, minor units */
  price: number;
  sku: string;
}

/** What a payment is for: an order, or a sale at a till. Told of the outcome (PAYMENT_RESULT). */
export const PAYMENT_OWNERS = ['order', 'pos-sale'] as const;
export type PaymentOwner = (typeof PAYMENT_OWNERS)[number];

export interface PaymentInput {
  /** this payment's id: also the unique reference the provider stores */
  paymentId: string;
  /** the order's id, or the sale's (`owner`) */
  orderId: string;
  /** absent: an order (payments made before sales had them) */
  owner?: PaymentOwner;
  attempt: number;
  provider: PaymentProvider;
  /** minor units */
  amount: number;
  currency: Currency;
  description: string;
  customerEmail: string | null;
  basket: BasketLine[];
  /** how long the customer has to pay */
  validitySeconds: number;
  /** after the customer's time, how long the provider (webhook or poll) has to say so before we ask it ourselves */
  graceSeconds: number;
}

export interface StatusUpdate {
  status: ProviderStatus;
  /** the provider's own word, e.g. "sandbox", "wait_accept" */
  providerStatus: string;
  /** the provider's time of this status (ISO); orders the updates */
  at: string;
  source: 'webhook' | 'poll';
  reason?: string | null;
}

export interface PaymentContext extends PaymentInput {
  providerId: string | null;
  pageUrl: string | null;
  providerStatus: string | null;
  lastStatusAt: string | null;
  history: Array<StatusUpdate & { applied: boolean }>;
  failure: { code: string; message: string } | null;
  refund: { amount: number; reason: string; requestedBy: string } | null;
  refundFailure: EffectFailure | null;
  /** refunds asked of the provider so far; each has its own reference there */
  refundAttempts: number;
  /** the provider's last word on the refund (`processing`, `success`, `failure`, `reversed`, …) */
  refundStatus: string | null;
  /** what a person has to look at while the payment waits for them */
  incident: PaymentIncident | null;
  noticeError: EffectFailure | null;
}

export interface PaymentIncident {
  code: 'refund_failed';
  message: string;
  /** the refund attempt it concerns */
  attempt: number;
}

export type PaymentEvent =
  | ({ type: 'PROVIDER_STATUS' } & StatusUpdate)
  | { type: 'POLL' }
  | { type: 'REFUND'; reason: string; requestedBy: string }
  | { type: 'RETRY_REFUND'; by: string };

/** A refund's standing at the provider, as the gateway reads it. */
export interface RefundAnswer {
  outcome: 'processing' | 'success' | 'failure';
  providerStatus: string;
  reason?: string | null;
}

export interface RefundWork {
  provider: PaymentProvider;
  paymentId: string;
  providerId: string;
  amount: number;
  /** ours, one per attempt: `<paymentId>-R<attempt>` */
  refundReference: string;
  basket: BasketLine[];
}

/** What the order answered to a payment's outcome: `credited` — it took this payment as its own. */
export interface OrderNoticeAnswer {
  delivered: boolean;
  credited?: boolean;
}

export interface CreatedAtProvider {
  providerId: string;
  pageUrl: string;
}

export interface PaymentOutcomeNotice {
  orderId: string;
  /** who is told: absent in notices stored before sales had payments (an order) */
  owner?: PaymentOwner;
  paymentId: string;
  outcome: 'succeeded' | 'failed' | 'refunded';
  amount: number;
  failure: { code: string; message: string } | null;
}

const statusUpdateSchema = z.object({
  status: z.enum(PROVIDER_STATUSES),
  providerStatus: z.string().max(64),
  at: z.iso.datetime({ offset: true }),
  source: z.enum(['webhook', 'poll']),
  reason: z.string().max(500).nullish(),
});

export const paymentInputSchema = z.object({
  paymentId: z.string().min(1).max(128),
  orderId: z.string().min(1).max(128),
  owner: z.enum(PAYMENT_OWNERS).optional(),
  attempt: z.number().int().positive(),
  provider: z.enum(PAYMENT_PROVIDERS),
  amount: z.number().int().positive(),
  currency: z.enum(CURRENCIES),
  description: z.string().min(1).max(280),
  customerEmail: z.string().nullable(),
  basket: z.array(z.object({ name: z.string(), qty: z.number().int().positive(), price: z.number().int().nonnegative(), sku: z.string() })),
  validitySeconds: z.number().int().positive(),
  graceSeconds: z.number().int().nonnegative(),
});

export const paymentEventSchema = z.discriminatedUnion('type', [
  statusUpdateSchema.extend({ type: z.literal('PROVIDER_STATUS') }),
  z.object({ type: z.literal('POLL') }),
  z.object({ type: z.literal('REFUND'), reason: z.string().min(1).max(500), requestedBy: z.string().min(1).max(200) }),
  z.object({ type: z.literal('RETRY_REFUND'), by: z.string().min(1).max(200) }),
]);

/** An update older than the last applied one (webhooks are not ordered) changes nothing. */
const isStale = (context: PaymentContext, event: PaymentEvent) =>
  event.type === 'PROVIDER_STATUS' && context.lastStatusAt !== null && Date.parse(event.at) < Date.parse(context.lastStatusAt);

const statusIs =
  (...statuses: ProviderStatus[]) =>
  ({ event }: { event: PaymentEvent }) =>
    event.type === 'PROVIDER_STATUS' && statuses.includes(event.status);

const outputStatusIs =
  (...statuses: ProviderStatus[]) =>
  ({ event }: { event: unknown }) =>
    statuses.includes(((event as { output?: StatusUpdate }).output?.status ?? 'created') as ProviderStatus);

const refundOutputIs =
  (...outcomes: RefundAnswer['outcome'][]) =>
  ({ event }: { event: unknown }) =>
    // an answer stored before refunds had outcomes (version 1) was a refund done
    outcomes.includes((event as { output?: Partial<RefundAnswer> }).output?.outcome ?? 'success');

const refundAnswerOf = (event: unknown): RefundAnswer => {
  const output = (event as { output: Partial<RefundAnswer> }).output;
  return { outcome: output.outcome ?? 'success', providerStatus: output.providerStatus ?? 'unknown', reason: output.reason ?? null };
};

const refundIncident = (context: PaymentContext, message: string): PaymentIncident => ({
  code: 'refund_failed',
  message,
  attempt: context.refundAttempts,
});

function record(context: PaymentContext, update: StatusUpdate, applied: boolean): Partial<PaymentContext> {
  const history = [...context.history, { ...update, applied }].slice(-50);
  if (!applied) return { history };
  return { history, providerStatus: update.providerStatus, lastStatusAt: update.at };
}

const refundWork = (context: PaymentContext): RefundWork => ({
  provider: context.provider,
  paymentId: context.paymentId,
  providerId: context.providerId ?? '',
  amount: context.refund?.amount ?? context.amount,
  refundReference: `${context.paymentId}-R${context.refundAttempts}`,
  basket: context.basket,
});

/** What a look at the provider asks: this payment, and whether to withdraw it there when unpaid. */
const checkInput =
  (expireIfUnpaid: boolean) =>
  ({ context }: { context: PaymentContext }) => ({
    provider: context.provider,
    paymentId: context.paymentId,
    providerId: context.providerId ?? '',
    expireIfUnpaid,
  });

const EXPIRED = { code: 'expired', message: 'the customer did not pay in time' };
const DECLINED = { code: 'declined', message: 'the payment was declined' };

/** What the order is told of this payment's outcome (by default: its whole amount, no failure). */
const notice =
  (
    outcome: PaymentOutcomeNotice['outcome'],
    details: (context: PaymentContext) => Pick<PaymentOutcomeNotice, 'amount' | 'failure'> = (context) => ({
      amount: context.amount,
      failure: null,
    }),
  ) =>
  ({ context }: { context: PaymentContext }): PaymentOutcomeNotice => ({
    orderId: context.orderId,
    owner: context.owner ?? 'order',
    paymentId: context.paymentId,
    outcome,
    ...details(context),
  });

const paymentMachine = setup({
  types: {} as { context: PaymentContext; events: PaymentEvent; input: PaymentInput },
  actors: {
    createAtProvider: effect<CreatedAtProvider, PaymentInput>(),
    checkAtProvider: effect<StatusUpdate, { provider: PaymentProvider; paymentId: string; providerId: string; expireIfUnpaid: boolean }>(),
    refundAtProvider: effect<RefundAnswer, RefundWork>(),
    checkRefundAtProvider: effect<RefundAnswer, RefundWork>(),
    notifyOrder: effect<OrderNoticeAnswer, PaymentOutcomeNotice>(),
  },
  guards: {
    stale: ({ context, event }) => isStale(context, event),
    succeeded: statusIs('success'),
    failed: statusIs('failure'),
    expired: statusIs('expired'),
    held: statusIs('hold'),
    reversed: statusIs('reversed'),
    checkedSucceeded: outputStatusIs('success'),
    checkedFailed: outputStatusIs('failure'),
    checkedExpired: outputStatusIs('expired'),
    checkedHeld: outputStatusIs('hold'),
    refundDone: refundOutputIs('success'),
    refundRefused: refundOutputIs('failure'),
    // the order did not take this success as its own (it had stopped waiting, or is gone): the money goes back
    notCredited: ({ event }) => (event as { output?: OrderNoticeAnswer }).output?.credited === false,
  },
  actions: {
    // the order could not be told even after the effect's retries: kept for a person (the order's own poll of its payment is the way on)
    recordNoticeError: assign({ noticeError: ({ event }) => (event as unknown as { error: EffectFailure }).error }),
    apply: assign(({ context, event }) => (event.type === 'PROVIDER_STATUS' ? record(context, event, true) : {})),
    ignore: assign(({ context, event }) => (event.type === 'PROVIDER_STATUS' ? record(context, event, false) : {})),
    applyChecked: assign(({ context, event }) => record(context, (event as unknown as { output: StatusUpdate }).output, true)),
    recordRefundAnswer: assign({ refundStatus: ({ event }) => refundAnswerOf(event).providerStatus }),
    recordRefundRefusal: assign(({ context, event }) => {
      const answer = refundAnswerOf(event);
      return {
        refundStatus: answer.providerStatus,
        incident: refundIncident(
          context,
          `the provider refused the refund (${answer.providerStatus})${answer.reason ? `: ${answer.reason}` : ''}`,
        ),
      };
    }),
  },
  delays: {
    validity: ({ context }) => (context.validitySeconds + context.graceSeconds) * 1000,
  },
}).createMachine({
  id: 'payment',
  initial: 'initiating',
  context: ({ input }) => ({
    ...input,
    providerId: null,
    pageUrl: null,
    providerStatus: null,
    lastStatusAt: null,
    history: [],
    failure: null,
    refund: null,
    refundFailure: null,
    refundAttempts: 0,
    refundStatus: null,
    incident: null,
    noticeError: null,
  }),
  states: {
    initiating: {
      invoke: {
        id: 'create',
        src: 'createAtProvider',
        input: ({ context }) => ({
          paymentId: context.paymentId,
          orderId: context.orderId,
          attempt: context.attempt,
          provider: context.provider,
          amount: context.amount,
          currency: context.currency,
          description: context.description,
          customerEmail: context.customerEmail,
          basket: context.basket,
          validitySeconds: context.validitySeconds,
          graceSeconds: context.graceSeconds,
        }),
        onDone: {
          target: 'pending',
          actions: assign(({ event }) => ({
            providerId: event.output.providerId,
            pageUrl: event.output.pageUrl,
            providerStatus: 'created',
          })),
        },
        onError: {
          target: 'failed',
          actions: assign(({ event }) => ({
            failure: { code: (event.error as EffectFailure).code, message: (event.error as EffectFailure).message },
          })),
        },
      },
      on: { PROVIDER_STATUS: { actions: 'ignore' } },
    },
    pending: {
      tags: ['awaiting-customer'],
      // on the parent state, so that polls (a child state) do not restart the customer's time
      after: { validity: 'closing' },
      initial: 'waiting',
      states: {
        waiting: { on: { POLL: 'checking' } },
        checking: {
          invoke: {
            id: 'check',
            src: 'checkAtProvider',
            input: checkInput(false),
            onDone: [
              { guard: 'checkedSucceeded', target: '#payment.succeeded', actions: 'applyChecked' },
              {
                guard: 'checkedFailed',
                target: '#payment.failed',
                actions: ['applyChecked', assign({ failure: DECLINED })],
              },
              { guard: 'checkedExpired', target: '#payment.expired', actions: 'applyChecked' },
              { guard: 'checkedHeld', target: '#payment.held', actions: 'applyChecked' },
              { target: 'waiting', actions: 'applyChecked' },
            ],
            onError: 'waiting',
          },
        },
      },
      on: {
        PROVIDER_STATUS: [
          { guard: 'stale', actions: 'ignore' },
          { guard: 'succeeded', target: 'succeeded', actions: 'apply' },
          {
            guard: 'failed',
            target: 'failed',
            actions: [
              'apply',
              assign(({ event }) => ({
                failure: { code: 'declined', message: (event as StatusUpdate).reason ?? 'the payment was declined' },
              })),
            ],
          },
          { guard: 'expired', target: 'expired', actions: 'apply' },
          { guard: 'held', target: 'held', actions: 'apply' },
          { guard: 'reversed', actions: 'ignore' },
          // processing, created: recorded, still waiting
          { actions: 'apply' },
        ],
      },
    },
    /** the customer's time is up: ask the provider once more (and withdraw an unpaid invoice) */
    closing: {
      invoke: {
        id: 'checkAtEnd',
        src: 'checkAtProvider',
        input: checkInput(true),
        onDone: [
          { guard: 'checkedSucceeded', target: 'succeeded', actions: 'applyChecked' },
          {
            guard: 'checkedFailed',
            target: 'failed',
            actions: ['applyChecked', assign({ failure: DECLINED })],
          },
          { guard: 'checkedHeld', target: 'held', actions: 'applyChecked' },
          { guard: 'checkedExpired', target: 'expired', actions: 'applyChecked' },
          // still processing (the customer is paying right now): the time is up, but the provider has not said its last word
          { target: 'lapsed', actions: 'applyChecked' },
        ],
        // the provider cannot be asked: the customer's time is up all the same, and it is asked again later
        onError: 'lapsed',
      },
      on: {
        PROVIDER_STATUS: [
          { guard: 'stale', actions: 'ignore' },
          { guard: 'succeeded', target: 'succeeded', actions: 'apply' },
          { guard: 'failed', target: 'failed', actions: 'apply' },
          { actions: 'apply' },
        ],
      },
    },
    /**
     * The customer's time ran out before the provider said its last word (it was processing, or could not
     * be asked): the order is told the payment failed, and the provider is still asked (POLL, and its
     * webhooks heard) until it says paid — a late success, which the order takes or the payment refunds —
     * or not (then `settled`, asked no more).
     */
    lapsed: {
      tags: ['final-outcome'],
      initial: 'waiting',
      invoke: {
        id: 'notifyLapsed',
        src: 'notifyOrder',
        input: notice('failed', (context) => ({ amount: context.amount, failure: EXPIRED })),
        onError: { actions: 'recordNoticeError' },
      },
      states: {
        waiting: { on: { POLL: 'checking' } },
        checking: {
          invoke: {
            id: 'checkLapsed',
            src: 'checkAtProvider',
            input: checkInput(true),
            onDone: [
              { guard: 'checkedSucceeded', target: '#payment.succeeded', actions: 'applyChecked' },
              { guard: 'checkedFailed', target: 'settled', actions: 'applyChecked' },
              { guard: 'checkedExpired', target: 'settled', actions: 'applyChecked' },
              { target: 'waiting', actions: 'applyChecked' },
            ],
            onError: 'waiting',
          },
        },
        settled: {},
      },
      on: {
        PROVIDER_STATUS: [
          { guard: 'stale', actions: 'ignore' },
          { guard: 'succeeded', target: 'succeeded', actions: 'apply' },
          { guard: 'failed', target: '.settled', actions: 'apply' },
          { guard: 'expired', target: '.settled', actions: 'apply' },
          { actions: 'apply' },
        ],
      },
    },
    held: {
      on: {
        PROVIDER_STATUS: [
          { guard: 'stale', actions: 'ignore' },
          { guard: 'succeeded', target: 'succeeded', actions: 'apply' },
          {
            guard: 'reversed',
            target: 'failed',
            actions: ['apply', assign({ failure: { code: 'hold_released', message: 'the held amount was released' } })],
          },
          { actions: 'ignore' },
        ],
      },
    },
    succeeded: {
      tags: ['final-outcome', 'paid'],
      invoke: {
        id: 'notifySucceeded',
        src: 'notifyOrder',
        input: notice('succeeded'),
        onDone: {
          guard: 'notCredited',
          target: 'refunding',
          actions: assign(({ context }) => ({
            refund: {
              amount: context.amount,
              reason: 'paid after the order stopped waiting for this payment',
              requestedBy: `payment/${context.paymentId}`,
            },
          })),
        },
        onError: { actions: 'recordNoticeError' },
      },
      on: {
        REFUND: {
          target: 'refunding',
          actions: assign(({ context, event }) => ({
            refund: { amount: context.amount, reason: event.reason, requestedBy: event.requestedBy },
          })),
        },
        PROVIDER_STATUS: [
          { guard: 'stale', actions: 'ignore' },
          { guard: 'reversed', target: 'refunded', actions: 'apply' },
          { actions: 'ignore' },
        ],
      },
    },
    /** the money is still the shop's (tag `paid`) until the provider says the refund is done */
    refunding: {
      tags: ['paid'],
      entry: assign({ refundAttempts: ({ context }) => context.refundAttempts + 1, incident: null }),
      invoke: {
        id: 'refund',
        src: 'refundAtProvider',
        input: ({ context }) => refundWork(context),
        onDone: [
          { guard: 'refundDone', target: 'refunded', actions: 'recordRefundAnswer' },
          { guard: 'refundRefused', target: 'refundFailed', actions: 'recordRefundRefusal' },
          // processing: asked again (POLL) until the provider settles it
          { target: 'refundPending', actions: 'recordRefundAnswer' },
        ],
        onError: {
          target: 'refundFailed',
          actions: assign(({ context, event }) => ({
            refundFailure: event.error as EffectFailure,
            incident: refundIncident(context, `the refund could not be made: ${(event.error as EffectFailure).message}`),
          })),
        },
      },
      on: { PROVIDER_STATUS: [{ guard: 'reversed', target: 'refunded', actions: 'apply' }, { actions: 'ignore' }] },
    },
    /** the provider accepted the refund and is processing it: polled (and its webhooks heard) until final */
    refundPending: {
      tags: ['paid'],
      initial: 'waiting',
      states: {
        waiting: { on: { POLL: 'checking' } },
        checking: {
          invoke: {
            id: 'checkRefund',
            src: 'checkRefundAtProvider',
            input: ({ context }) => refundWork(context),
            onDone: [
              { guard: 'refundDone', target: '#payment.refunded', actions: 'recordRefundAnswer' },
              { guard: 'refundRefused', target: '#payment.refundFailed', actions: 'recordRefundRefusal' },
              { target: 'waiting', actions: 'recordRefundAnswer' },
            ],
            onError: 'waiting',
          },
        },
      },
      on: { PROVIDER_STATUS: [{ guard: 'reversed', target: 'refunded', actions: 'apply' }, { actions: 'ignore' }] },
    },
    /** the refund was refused or could not be made: still paid, an incident and an alert; an operator retries */
    refundFailed: {
      tags: ['alert', 'paid'],
      on: {
        RETRY_REFUND: 'refunding',
        PROVIDER_STATUS: [{ guard: 'reversed', target: 'refunded', actions: 'apply' }, { actions: 'ignore' }],
      },
    },
    refunded: {
      tags: ['final-outcome'],
      invoke: {
        id: 'notifyRefunded',
        src: 'notifyOrder',
        input: notice('refunded', (context) => ({ amount: context.refund?.amount ?? context.amount, failure: null })),
        onError: { actions: 'recordNoticeError' },
      },
      on: { PROVIDER_STATUS: { actions: 'ignore' } },
    },
    failed: {
      tags: ['final-outcome'],
      invoke: {
        id: 'notifyFailed',
        src: 'notifyOrder',
        input: notice('failed', (context) => ({ amount: context.amount, failure: context.failure ?? DECLINED })),
        onError: { actions: 'recordNoticeError' },
      },
      on: { PROVIDER_STATUS: { actions: 'ignore' } },
    },
    expired: {
      tags: ['final-outcome'],
      invoke: {
        id: 'notifyExpired',
        src: 'notifyOrder',
        input: notice('failed', (context) => ({ amount: context.amount, failure: EXPIRED })),
        onError: { actions: 'recordNoticeError' },
      },
      on: {
        // paid after all (the customer was paying when the time ran out): the money is there, so the payment
        // succeeded — and the order takes it, or it is refunded (see `succeeded`)
        PROVIDER_STATUS: [
          { guard: 'stale', actions: 'ignore' },
          { guard: 'succeeded', target: 'succeeded', actions: 'apply' },
          { actions: 'ignore' },
        ],
      },
    },
  },
});

export default defineMachineModule({
  type: 'payment',
  version: 2,
  description:
    "One attempt to take money for an order at Monobank, LiqPay, Payme or Click: webhooks and polls applied once, in the provider's order; refunds followed until final",
  migrations: {
    // version 2 follows refunds (attempts, the provider's word, an incident when refused)
    1: (snapshot) => {
      const context = snapshot.context as Record<string, unknown>;
      const failed = snapshot.value === 'refundFailed';
      const failure = context.refundFailure as { message?: string } | null | undefined;
      return {
        ...snapshot,
        context: {
          ...context,
          refundAttempts: context.refund ? 1 : 0,
          refundStatus: null,
          incident: failed
            ? { code: 'refund_failed', message: `the refund could not be made: ${failure?.message ?? 'unknown'}`, attempt: 1 }
            : null,
        },
      };
    },
  },
  machine: paymentMachine,
  inputSchema: paymentInputSchema,
  eventSchema: paymentEventSchema,
  personalData: { context: { customerEmail: 'email' } },
  slaMs: {
    initiating: 10 * 60_000,
    closing: 10 * 60_000,
    refunding: 30 * 60_000,
    'refundPending.waiting': 24 * 3600_000,
    'lapsed.waiting': 24 * 3600_000,
  },
  domainEvents: {
    events: {
      created: { description: 'the payment is being opened at the provider', states: ['initiating'] },
      pending: { description: 'waiting for the customer to pay', states: ['pending.waiting', 'pending.checking', 'closing'] },
      lapsed: {
        description: 'the time to pay is over; a late payment is still watched for',
        states: ['lapsed.waiting', 'lapsed.checking', 'lapsed.settled'],
      },
      held: { description: 'the money is held (authorised), not yet taken', states: ['held'] },
      succeeded: { description: 'the money is taken', states: ['succeeded'] },
      refunding: { description: 'a refund is asked for', states: ['refunding', 'refundPending.waiting', 'refundPending.checking'] },
      refundFailed: { description: 'the provider refused the refund: a person must act', states: ['refundFailed'] },
      refunded: { description: 'the money is back with the customer', states: ['refunded'] },
      failed: { description: 'the payment failed', states: ['failed'] },
      expired: { description: 'nobody paid in time', states: ['expired'] },
    },
    data: z.object({
      paymentId: z.string(),
      orderId: z.string(),
      attempt: z.number(),
      provider: z.string(),
      amount: z.number(),
      currency: z.string(),
      providerId: z.string().nullable(),
      failure: z.object({ code: z.string(), message: z.string() }).nullable(),
    }),
  },
});
