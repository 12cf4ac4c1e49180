import { assign, setup } from 'xstate';
import { z } from 'zod';
import { PAYMENT_STATUSES, type PaymentStatus } from '../common/payment-statuses.ts';
import { defineMachineModule, effect, type EffectFailure } from './machine-module.ts';

/**
 * One attempt to take money for an order, at one provider (Monobank
 * invoice or LiqPay checkout). Statuses arrive by signed webhook and by
 * polling; both are applied once and in order of the provider's own time
 * (webhooks come in any order), and a payment never leaves a final state —
 * a late or contradicting status is recorded and changes nothing.
 */

export const PAYMENT_PROVIDERS = ['monobank', 'liqpay'] as const;
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

export interface PaymentInput {
  /** this payment's id: also the unique reference the provider stores */
  paymentId: string;
  orderId: string;
  attempt: number;
  provider: PaymentProvider;
  /** minor units */
  amount: number;
  currency: 'UAH';
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
  noticeError: EffectFailure | null;
}

export type PaymentEvent =
  ({ type: 'PROVIDER_STATUS' } & StatusUpdate) | { type: 'POLL' } | { type: 'REFUND'; reason: string; requestedBy: string };

export interface CreatedAtProvider {
  providerId: string;
  pageUrl: string;
}

export interface PaymentOutcomeNotice {
  orderId: string;
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
  attempt: z.number().int().positive(),
  provider: z.enum(PAYMENT_PROVIDERS),
  amount: z.number().int().positive(),
  currency: z.literal('UAH'),
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

function record(context: PaymentContext, update: StatusUpdate, applied: boolean): Partial<PaymentContext> {
  const history = [...context.history, { ...update, applied }].slice(-50);
  if (!applied) return { history };
  return { history, providerStatus: update.providerStatus, lastStatusAt: update.at };
}

const paymentMachine = setup({
  types: {} as { context: PaymentContext; events: PaymentEvent; input: PaymentInput },
  actors: {
    createAtProvider: effect<CreatedAtProvider, PaymentInput>(),
    checkAtProvider: effect<StatusUpdate, { provider: PaymentProvider; paymentId: string; providerId: string; expireIfUnpaid: boolean }>(),
    refundAtProvider: effect<
      { providerStatus: string },
      { provider: PaymentProvider; paymentId: string; providerId: string; amount: number }
    >(),
    notifyOrder: effect<{ delivered: boolean }, PaymentOutcomeNotice>(),
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
  },
  actions: {
    // the order could not be told even after the effect's retries: kept for a person (the order's own poll of its payment is the way on)
    recordNoticeError: assign({ noticeError: ({ event }) => (event as unknown as { error: EffectFailure }).error }),
    apply: assign(({ context, event }) => (event.type === 'PROVIDER_STATUS' ? record(context, event, true) : {})),
    ignore: assign(({ context, event }) => (event.type === 'PROVIDER_STATUS' ? record(context, event, false) : {})),
    applyChecked: assign(({ context, event }) => record(context, (event as unknown as { output: StatusUpdate }).output, true)),
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
            input: ({ context }) => ({
              provider: context.provider,
              paymentId: context.paymentId,
              providerId: context.providerId ?? '',
              expireIfUnpaid: false,
            }),
            onDone: [
              { guard: 'checkedSucceeded', target: '#payment.succeeded', actions: 'applyChecked' },
              {
                guard: 'checkedFailed',
                target: '#payment.failed',
                actions: ['applyChecked', assign({ failure: { code: 'declined', message: 'the payment was declined' } })],
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
        input: ({ context }) => ({
          provider: context.provider,
          paymentId: context.paymentId,
          providerId: context.providerId ?? '',
          expireIfUnpaid: true,
        }),
        onDone: [
          { guard: 'checkedSucceeded', target: 'succeeded', actions: 'applyChecked' },
          {
            guard: 'checkedFailed',
            target: 'failed',
            actions: ['applyChecked', assign({ failure: { code: 'declined', message: 'the payment was declined' } })],
          },
          { guard: 'checkedHeld', target: 'held', actions: 'applyChecked' },
          { target: 'expired', actions: 'applyChecked' },
        ],
        // the provider cannot be asked: the customer's time is up all the same
        onError: 'expired',
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
      tags: ['final-outcome'],
      invoke: {
        id: 'notifySucceeded',
        src: 'notifyOrder',
        input: ({ context }) => ({
          orderId: context.orderId,
          paymentId: context.paymentId,
          outcome: 'succeeded' as const,
          amount: context.amount,
          failure: null,
        }),
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
    refunding: {
      invoke: {
        id: 'refund',
        src: 'refundAtProvider',
        input: ({ context }) => ({
          provider: context.provider,
          paymentId: context.paymentId,
          providerId: context.providerId ?? '',
          amount: context.refund?.amount ?? context.amount,
        }),
        onDone: 'refunded',
        onError: { target: 'refundFailed', actions: assign({ refundFailure: ({ event }) => event.error as EffectFailure }) },
      },
      on: { PROVIDER_STATUS: [{ guard: 'reversed', target: 'refunded', actions: 'apply' }, { actions: 'ignore' }] },
    },
    refundFailed: {
      tags: ['alert'],
      on: {
        REFUND: 'refunding',
        PROVIDER_STATUS: [{ guard: 'reversed', target: 'refunded', actions: 'apply' }, { actions: 'ignore' }],
      },
    },
    refunded: {
      tags: ['final-outcome'],
      invoke: {
        id: 'notifyRefunded',
        src: 'notifyOrder',
        input: ({ context }) => ({
          orderId: context.orderId,
          paymentId: context.paymentId,
          outcome: 'refunded' as const,
          amount: context.refund?.amount ?? context.amount,
          failure: null,
        }),
        onError: { actions: 'recordNoticeError' },
      },
      on: { PROVIDER_STATUS: { actions: 'ignore' } },
    },
    failed: {
      tags: ['final-outcome'],
      invoke: {
        id: 'notifyFailed',
        src: 'notifyOrder',
        input: ({ context }) => ({
          orderId: context.orderId,
          paymentId: context.paymentId,
          outcome: 'failed' as const,
          amount: context.amount,
          failure: context.failure ?? { code: 'declined', message: 'the payment was declined' },
        }),
        onError: { actions: 'recordNoticeError' },
      },
      on: { PROVIDER_STATUS: { actions: 'ignore' } },
    },
    expired: {
      tags: ['final-outcome'],
      invoke: {
        id: 'notifyExpired',
        src: 'notifyOrder',
        input: ({ context }) => ({
          orderId: context.orderId,
          paymentId: context.paymentId,
          outcome: 'failed' as const,
          amount: context.amount,
          failure: { code: 'expired', message: 'the customer did not pay in time' },
        }),
        onError: { actions: 'recordNoticeError' },
      },
      on: { PROVIDER_STATUS: { actions: 'ignore' } },
    },
  },
});

export default defineMachineModule({
  type: 'payment',
  version: 1,
  description:
    "One attempt to take money for an order at Monobank or LiqPay: webhooks and polls applied once, in the provider's order; refunds",
  migrations: {},
  machine: paymentMachine,
  inputSchema: paymentInputSchema,
  eventSchema: paymentEventSchema,
  slaMs: { initiating: 10 * 60_000, closing: 10 * 60_000, refunding: 30 * 60_000 },
});
