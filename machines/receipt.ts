import { assign, setup } from 'xstate';
import { z } from 'zod';
import { isWaitableDeviceFault, SHIFT_EXPIRED } from '../common/fiscal-faults.ts';
import { DEVICE_WORKED, nextWait, waitedTooLong } from './device-wait.ts';
import { defineMachineModule, effect, type EffectFailure } from './machine-module.ts';

/**
 * One fiscal receipt on one register, printed once whatever crashes.
 *
 * The device, not the hub, knows whether a receipt was closed: before a
 * receipt is opened its register's document number is read and persisted
 * (`preparing`); printing is judged against that number on every attempt
 * (`printing`): a larger number with no receipt open means ours was closed
 * (recorded, never printed again), an open receipt is cancelled on the
 * device (`cancelling`) and the receipt prepared afresh, the same number
 * means it never opened. The preparation takes the register for this
 * receipt until it is recorded or voided (`releasing` gives it up), so no
 * other document can come between.
 *
 * A device that is out of paper, has its cover open or is unplugged makes
 * the receipt wait (`waiting`, durable) and try again with back-off; past
 * `alertAfterMs` of waiting it needs a person (alert), and still resumes by
 * itself once the device is ready.
 */

export const RECEIPT_KINDS = ['sale', 'return'] as const;
export type ReceiptKind = (typeof RECEIPT_KINDS)[number];

export interface ReceiptLine {
  name: string;
  /** units; up to three decimals (weighed goods) */
  qty: number;
  /** per unit, minor units */
  price: number;
  /** 0 no tax, 1..4 the register's tax groups */
  taxGroup: number;
  /** the register's department, 0..16 */
  department: number;
}

export interface ReceiptPayments {
  /** minor units; may exceed what is due (change is given in cash) */
  cash: number;
  card: number;
}

export interface ReceiptInput {
  receiptId: string;
  register: string;
  kind: ReceiptKind;
  items: ReceiptLine[];
  payments: ReceiptPayments;
  cashier: string;
  source: { type: 'order' | 'pos-sale' | 'manual'; id: string } | null;
  /** a return: the receipt it returns */
  returnOf: string | null;
  /** take a Z-report by itself when the shift is over 24 hours (else the receipt waits for one) */
  autoZReport: boolean;
  /** first pause after a device fault; doubles up to `maxRetryDelayMs` */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** how long a receipt may wait for its device before a person is alerted */
  alertAfterMs: number;
}

/** What a register says before a receipt is opened on it. */
export interface PreparedRegister {
  documentNumber: number;
  shiftNumber: number;
  shiftOpened: boolean;
  zReportTaken: boolean;
}

export interface ReceiptRecorded {
  outcome: 'closed';
  documentNumber: number;
  shiftNumber: number;
  /** cash handed back; null when the receipt was found already closed after a crash */
  change: number | null;
  /** true when an earlier attempt had closed it (judged from the document number) */
  recovered: boolean;
  at: string;
}

export type PrintOutcome = ReceiptRecorded | { outcome: 'found_open' };
export type SettleOutcome = ReceiptRecorded | { outcome: 'clear' };

export interface PrintRequest {
  receiptId: string;
  register: string;
  kind: ReceiptKind;
  items: ReceiptLine[];
  payments: ReceiptPayments;
  cashier: string;
  documentNumberBefore: number;
}

type ResumeStep = 'preparing' | 'printing' | 'cancelling' | 'voiding';

export interface ReceiptContext extends ReceiptInput {
  total: number;
  documentNumberBefore: number | null;
  documentNumber: number | null;
  shiftNumber: number | null;
  change: number | null;
  recovered: boolean;
  printedAt: string | null;
  /** the step a wait or a failure goes back to */
  resumeAt: ResumeStep;
  /** the fault the receipt waits on or failed with */
  fault: EffectFailure | null;
  faults: number;
  /** the pauses taken since the device last worked (ms, summed) */
  waitedMs: number;
  nextDelayMs: number;
  /** shifts this receipt opened or closed on its way */
  shiftEvents: Array<'opened' | 'z-report'>;
  voidedBy: { by: string; reason: string } | null;
  /** how it ended, once the device is settled; the register is released before it is final */
  outcome: 'printed' | 'voided' | null;
}

export type ReceiptEvent = { type: 'RETRY' } | { type: 'VOID'; by: string; reason: string };

/** The line's amount as a register computes it: quantity to three decimals times the price, rounded to a minor unit. */
export function lineAmount(line: Pick<ReceiptLine, 'qty' | 'price'>): number {
  return Math.round((Math.round(line.qty * 1000) * line.price) / 1000);
}

export function receiptTotal(items: ReadonlyArray<Pick<ReceiptLine, 'qty' | 'price'>>): number {
  return items.reduce((sum, line) => sum + lineAmount(line), 0);
}

const minor = z.number().int().nonnegative().max(99_999_999_99);

export const receiptLineSchema = z.object({
  name: z.string().trim().min(1).max(128),
  qty: z
    .number()
    .positive()
    .max(99_999)
    .refine((qty) => Math.abs(qty * 1000 - Math.round(qty * 1000)) < 1e-6, 'at most three decimals'),
  price: minor,
  taxGroup: z.number().int().min(0).max(4),
  department: z.number().int().min(0).max(16),
});

export const receiptInputSchema = z
  .object({
    receiptId: z.string().min(1).max(128),
    register: z.string().min(1).max(64),
    kind: z.enum(RECEIPT_KINDS),
    items: z.array(receiptLineSchema).min(1).max(200),
    payments: z.object({ cash: minor, card: minor }),
    cashier: z.string().trim().min(1).max(64),
    source: z.object({ type: z.enum(['order', 'pos-sale', 'manual']), id: z.string().min(1).max(128) }).nullable(),
    returnOf: z.string().min(1).max(128).nullable(),
    autoZReport: z.boolean(),
    retryDelayMs: z.number().int().positive(),
    maxRetryDelayMs: z.number().int().positive(),
    alertAfterMs: z.number().int().positive(),
  })
  .superRefine((input, issues) => {
    const total = receiptTotal(input.items);
    const paid = input.payments.cash + input.payments.card;
    if (paid < total) issues.addIssue({ code: 'custom', path: ['payments'], message: `payments ${paid} do not cover the total ${total}` });
    if (input.payments.card > total)
      issues.addIssue({ code: 'custom', path: ['payments', 'card'], message: `card ${input.payments.card} exceeds the total ${total}` });
    if (input.kind === 'return' && input.returnOf === null)
      issues.addIssue({ code: 'custom', path: ['returnOf'], message: 'a return names the receipt it returns' });
    if (input.kind === 'sale' && input.returnOf !== null)
      issues.addIssue({ code: 'custom', path: ['returnOf'], message: 'only a return names another receipt' });
  });

export const receiptEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('RETRY') }),
  z.object({ type: z.literal('VOID'), by: z.string().min(1).max(200), reason: z.string().min(1).max(500) }),
]);

const failureOf = (event: unknown) => (event as { error: EffectFailure }).error;
const faultIs =
  (test: (code: string) => boolean) =>
  ({ event }: { event: unknown }) =>
    test(failureOf(event).code);

/** A fault the device will get over: wait, then go back to the step. */
const waitFor = (resumeAt: ResumeStep) => ({
  guard: 'waitable' as const,
  target: 'waiting',
  actions: { type: 'beginWait' as const, params: { resumeAt } },
});
/** Any other fault: a person looks, and RETRY goes back to the step. */
const failFor = (resumeAt: ResumeStep) => ({ target: 'failed', actions: { type: 'failAt' as const, params: { resumeAt } } });

const receiptMachine = setup({
  types: {} as { context: ReceiptContext; events: ReceiptEvent; input: ReceiptInput },
  actors: {
    prepareRegister: effect<PreparedRegister, { register: string; receiptId: string; autoZReport: boolean }>(),
    printOnDevice: effect<PrintOutcome, PrintRequest>(),
    cancelOpenReceipt: effect<{ cancelled: boolean }, { register: string; receiptId: string }>(),
    settleOnDevice: effect<SettleOutcome, { register: string; receiptId: string; documentNumberBefore: number | null }>(),
    releaseRegister: effect<{ released: boolean }, { register: string; receiptId: string }>(),
  },
  guards: {
    waitable: faultIs(isWaitableDeviceFault),
    shiftExpired: faultIs((code) => code === SHIFT_EXPIRED),
    foundOpen: ({ event }) => (event as unknown as { output: PrintOutcome }).output.outcome === 'found_open',
    closed: ({ event }) => (event as unknown as { output: SettleOutcome }).output.outcome === 'closed',
    endsPrinted: ({ context }) => context.outcome === 'printed',
    waitedLong: ({ context }) => waitedTooLong(context, context),
    resumeAtPreparing: ({ context }) => context.resumeAt === 'preparing',
    resumeAtPrinting: ({ context }) => context.resumeAt === 'printing',
    resumeAtCancelling: ({ context }) => context.resumeAt === 'cancelling',
  },
  actions: {
    /** entering a wait: the pause grows, the waited time adds up (no clock in a machine: the pauses are the measure) */
    beginWait: assign(({ context, event }, params: { resumeAt: ResumeStep }) => ({
      ...nextWait(context, context),
      resumeAt: params.resumeAt,
      fault: failureOf(event),
    })),
    failAt: assign(({ event }, params: { resumeAt: ResumeStep }) => ({ resumeAt: params.resumeAt, fault: failureOf(event) })),
    recordFault: assign({ fault: ({ event }) => failureOf(event) }),
    deviceWorked: assign({ fault: null, ...DEVICE_WORKED }),
    recordClosed: assign(({ event }) => {
      const closed = (event as unknown as { output: ReceiptRecorded }).output;
      return {
        outcome: 'printed' as const,
        documentNumber: closed.documentNumber,
        shiftNumber: closed.shiftNumber,
        change: closed.change,
        recovered: closed.recovered,
        printedAt: closed.at,
      };
    }),
    recordVoid: assign({ voidedBy: ({ event }) => (event.type === 'VOID' ? { by: event.by, reason: event.reason } : null) }),
  },
  delays: {
    retry: ({ context }) => context.nextDelayMs,
  },
}).createMachine({
  id: 'receipt',
  initial: 'preparing',
  context: ({ input }) => ({
    ...input,
    total: receiptTotal(input.items),
    documentNumberBefore: null,
    documentNumber: null,
    shiftNumber: null,
    change: null,
    recovered: false,
    printedAt: null,
    resumeAt: 'preparing',
    fault: null,
    faults: 0,
    waitedMs: 0,
    nextDelayMs: 0,
    shiftEvents: [],
    voidedBy: null,
    outcome: null,
  }),
  states: {
    /** the shift opened (and an expired one closed), the document number read: nothing of ours is on the device yet */
    preparing: {
      invoke: {
        id: 'prepare',
        src: 'prepareRegister',
        input: ({ context }) => ({ register: context.register, receiptId: context.receiptId, autoZReport: context.autoZReport }),
        onDone: {
          target: 'printing',
          actions: [
            'deviceWorked',
            assign(({ context, event }) => ({
              documentNumberBefore: event.output.documentNumber,
              shiftNumber: event.output.shiftNumber,
              shiftEvents: [
                ...context.shiftEvents,
                ...(event.output.zReportTaken ? (['z-report'] as const) : []),
                ...(event.output.shiftOpened ? (['opened'] as const) : []),
              ],
            })),
          ],
        },
        onError: [waitFor('preparing'), failFor('preparing')],
      },
      // nothing of this receipt is on the device yet; the register may be taken for it already
      on: { VOID: { target: 'voiding', actions: 'recordVoid' } },
    },
    /** open, lines, close, cut — or, on a later attempt, find that an earlier one closed it */
    printing: {
      invoke: {
        id: 'print',
        src: 'printOnDevice',
        input: ({ context }) => ({
          receiptId: context.receiptId,
          register: context.register,
          kind: context.kind,
          items: context.items,
          payments: context.payments,
          cashier: context.cashier,
          documentNumberBefore: context.documentNumberBefore ?? 0,
        }),
        onDone: [
          { guard: 'foundOpen', target: 'cancelling', actions: 'deviceWorked' },
          { target: 'releasing', actions: ['deviceWorked', 'recordClosed'] },
        ],
        onError: [
          waitFor('printing'),
          // a shift that ran past 24 h mid-receipt: cancel what is open, the next preparation takes the Z-report
          { guard: 'shiftExpired', target: 'cancelling', actions: 'recordFault' },
          failFor('printing'),
        ],
      },
    },
    /** a receipt of ours left open by an interrupted attempt: cancelled on the device, then prepared afresh */
    cancelling: {
      invoke: {
        id: 'cancel',
        src: 'cancelOpenReceipt',
        input: ({ context }) => ({ register: context.register, receiptId: context.receiptId }),
        onDone: { target: 'preparing', actions: ['deviceWorked', assign({ documentNumberBefore: null })] },
        onError: [waitFor('cancelling'), failFor('cancelling')],
      },
    },
    waiting: {
      tags: ['waiting-for-device'],
      initial: 'deciding',
      states: {
        deciding: { always: [{ guard: 'waitedLong', target: 'long' }, { target: 'briefly' }] },
        briefly: {},
        /** waited past `alertAfterMs`: a person is told (and the receipt still resumes by itself) */
        long: { tags: ['alert'] },
      },
      after: { retry: 'resuming' },
      on: { RETRY: { target: 'resuming' }, VOID: { target: 'voiding', actions: 'recordVoid' } },
    },
    failed: {
      tags: ['alert'],
      on: { RETRY: { target: 'resuming' }, VOID: { target: 'voiding', actions: 'recordVoid' } },
    },
    /** back to the step that was interrupted */
    resuming: {
      always: [
        { guard: 'resumeAtPreparing', target: 'preparing' },
        { guard: 'resumeAtPrinting', target: 'printing' },
        { guard: 'resumeAtCancelling', target: 'cancelling' },
        { target: 'voiding' },
      ],
    },
    /** given up by a person: whatever an attempt left on the device is settled first (a closed receipt stays printed) */
    voiding: {
      invoke: {
        id: 'settle',
        src: 'settleOnDevice',
        input: ({ context }) => ({
          register: context.register,
          receiptId: context.receiptId,
          documentNumberBefore: context.documentNumberBefore,
        }),
        onDone: [
          { guard: 'closed', target: 'releasing', actions: ['deviceWorked', 'recordClosed'] },
          { target: 'releasing', actions: ['deviceWorked', assign({ outcome: 'voided' })] },
        ],
        onError: [waitFor('voiding'), failFor('voiding')],
      },
    },
    /** recorded (or voided): the register is given up for the next receipt */
    releasing: {
      invoke: {
        id: 'release',
        src: 'releaseRegister',
        input: ({ context }) => ({ register: context.register, receiptId: context.receiptId }),
        onDone: [{ guard: 'endsPrinted', target: 'printed' }, { target: 'voided' }],
        onError: { target: 'releaseFailed', actions: 'recordFault' },
      },
    },
    /** the register stays taken (every later receipt on it waits) until a person retries */
    releaseFailed: { tags: ['alert'], on: { RETRY: 'releasing' } },
    printed: { type: 'final', tags: ['final-outcome'] },
    voided: { type: 'final', tags: ['final-outcome'] },
  },
});

export default defineMachineModule({
  type: 'receipt',
  version: 1,
  description:
    'One fiscal receipt on one register: printed once whatever crashes (judged by the device’s document number), waiting out paper and cable faults',
  migrations: {},
  machine: receiptMachine,
  inputSchema: receiptInputSchema,
  eventSchema: receiptEventSchema,
  slaMs: { preparing: 5 * 60_000, printing: 5 * 60_000, cancelling: 5 * 60_000, voiding: 5 * 60_000 },
  domainEvents: {
    events: {
      requested: {
        description: 'a fiscal receipt is being printed on its register',
        states: ['preparing', 'printing', 'cancelling', 'resuming', 'voiding', 'releasing'],
      },
      waiting: {
        description: 'the register has a fault (paper, cover, cable): printing waits and retries',
        states: ['waiting.deciding', 'waiting.briefly', 'waiting.long'],
      },
      failed: { description: 'it cannot be printed without a person', states: ['failed', 'releaseFailed'] },
      printed: { description: 'fiscalised: it has its document number', states: ['printed'] },
      voided: { description: 'voided before it was fiscalised', states: ['voided'] },
    },
    data: z.object({
      receiptId: z.string(),
      register: z.string(),
      kind: z.string(),
      total: z.number(),
      documentNumber: z.number().nullable(),
      shiftNumber: z.number().nullable(),
      source: z.object({ type: z.string(), id: z.string() }).nullable(),
    }),
  },
});
