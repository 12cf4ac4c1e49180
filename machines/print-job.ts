import { assign, setup } from 'xstate';
import { z } from 'zod';
import { isWaitableDeviceFault } from '../common/fiscal-faults.ts';
import { DEVICE_WORKED, nextWait, waitedTooLong } from './device-wait.ts';
import { defineMachineModule, effect, type EffectFailure } from './machine-module.ts';

/**
 * One slip on a receipt printer (an order's packing slip, a customer's
 * slip): not fiscal, so printing it twice after a crash is harmless, but it
 * is never lost. A printer out of paper, with its cover open or unplugged
 * makes it wait (durable, back-off) and print by itself once the printer is
 * ready; past `alertAfterMs` a person is alerted.
 */

export interface Slip {
  shop: { name: string; details?: string[] };
  title?: string;
  /** money in minor units */
  lines: Array<{ name: string; qty: number; price: number }>;
  footer?: string[];
  qr?: { data: string; caption?: string };
}

export interface PrintJobInput {
  jobId: string;
  printer: string;
  slip: Slip;
  source: { type: 'order' | 'pos-sale' | 'manual'; id: string } | null;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  alertAfterMs: number;
}

export interface PrintJobContext extends PrintJobInput {
  fault: EffectFailure | null;
  faults: number;
  waitedMs: number;
  nextDelayMs: number;
  printedAt: string | null;
  cancelledBy: string | null;
}

export type PrintJobEvent = { type: 'RETRY' } | { type: 'CANCEL'; by: string };

const slipSchema = z.object({
  shop: z.object({ name: z.string().min(1).max(64), details: z.array(z.string().max(64)).max(6).optional() }),
  title: z.string().max(64).optional(),
  lines: z
    .array(z.object({ name: z.string().min(1).max(128), qty: z.number().positive(), price: z.number().int().nonnegative() }))
    .max(200),
  footer: z.array(z.string().max(64)).max(10).optional(),
  qr: z.object({ data: z.string().min(1).max(500), caption: z.string().max(64).optional() }).optional(),
});

export const printJobInputSchema = z.object({
  jobId: z.string().min(1).max(128),
  printer: z.string().min(1).max(64),
  slip: slipSchema,
  source: z.object({ type: z.enum(['order', 'pos-sale', 'manual']), id: z.string().min(1).max(128) }).nullable(),
  retryDelayMs: z.number().int().positive(),
  maxRetryDelayMs: z.number().int().positive(),
  alertAfterMs: z.number().int().positive(),
});

export const printJobEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('RETRY') }),
  z.object({ type: z.literal('CANCEL'), by: z.string().min(1).max(200) }),
]);

const failureOf = (event: unknown) => (event as { error: EffectFailure }).error;

const printJobMachine = setup({
  types: {} as { context: PrintJobContext; events: PrintJobEvent; input: PrintJobInput },
  actors: {
    printSlip: effect<{ printedAt: string }, { jobId: string; printer: string; slip: Slip }>(),
  },
  guards: {
    waitable: ({ event }) => isWaitableDeviceFault(failureOf(event).code),
    waitedLong: ({ context }) => waitedTooLong(context, context),
  },
  actions: {
    beginWait: assign(({ context, event }) => ({ ...nextWait(context, context), fault: failureOf(event) })),
    cancel: assign({ cancelledBy: ({ event }) => (event.type === 'CANCEL' ? event.by : null) }),
  },
  delays: {
    retry: ({ context }) => context.nextDelayMs,
  },
}).createMachine({
  id: 'printJob',
  initial: 'printing',
  context: ({ input }) => ({ ...input, fault: null, ...DEVICE_WORKED, printedAt: null, cancelledBy: null }),
  states: {
    printing: {
      invoke: {
        id: 'print',
        src: 'printSlip',
        input: ({ context }) => ({ jobId: context.jobId, printer: context.printer, slip: context.slip }),
        onDone: {
          target: 'printed',
          actions: assign(({ event }) => ({ printedAt: event.output.printedAt, fault: null, ...DEVICE_WORKED })),
        },
        onError: [
          { guard: 'waitable', target: 'waiting', actions: 'beginWait' },
          { target: 'failed', actions: assign({ fault: ({ event }) => failureOf(event) }) },
        ],
      },
    },
    waiting: {
      tags: ['waiting-for-device'],
      initial: 'deciding',
      states: {
        deciding: { always: [{ guard: 'waitedLong', target: 'long' }, { target: 'briefly' }] },
        briefly: {},
        long: { tags: ['alert'] },
      },
      after: { retry: 'printing' },
      on: { RETRY: 'printing', CANCEL: { target: 'cancelled', actions: 'cancel' } },
    },
    failed: {
      tags: ['alert'],
      on: { RETRY: 'printing', CANCEL: { target: 'cancelled', actions: 'cancel' } },
    },
    printed: { type: 'final', tags: ['final-outcome'] },
    cancelled: { type: 'final', tags: ['final-outcome'] },
  },
});

export default defineMachineModule({
  type: 'print-job',
  version: 1,
  description: 'One slip on a receipt printer (a packing slip, a customer slip): never lost, waiting out paper and cable faults',
  migrations: {},
  machine: printJobMachine,
  inputSchema: printJobInputSchema,
  eventSchema: printJobEventSchema,
  // a packing slip's footer names the recipient and the address; a customer slip, the loyalty customer
  personalData: { context: { 'slip.footer': 'document' } },
  slaMs: { printing: 5 * 60_000 },
  domainEvents: {
    events: {
      printing: { description: 'a slip is being printed', states: ['printing'] },
      waiting: {
        description: 'the printer has a fault: printing waits and retries',
        states: ['waiting.deciding', 'waiting.briefly', 'waiting.long'],
      },
      failed: { description: 'it cannot be printed without a person', states: ['failed'] },
      printed: { description: 'printed', states: ['printed'] },
      cancelled: { description: 'given up', states: ['cancelled'] },
    },
    data: z.object({
      jobId: z.string(),
      printer: z.string(),
      source: z.object({ type: z.string(), id: z.string() }).nullable(),
      printedAt: z.string().nullable(),
    }),
  },
});
