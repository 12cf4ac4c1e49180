import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineMachineModule, effect, type EffectFailure } from './machine-module.ts';

/**
 * A small machine that exercises every runtime guarantee: plain events with
 * guards, an invoked external call, a durable timeout, and a final state.
 * It is what `npm start` shows a newcomer and what the runtime tests drive.
 */

export interface ProbeContext {
  total: number;
  label: string;
  timeoutMs: number;
  calls: number;
  lastResult: { reference: string; echoed: string } | null;
  lastError: EffectFailure | null;
  timeouts: number;
}

export type ProbeEvent =
  | { type: 'ADD'; amount: number }
  | { type: 'CALL'; message: string }
  | { type: 'WAIT'; timeoutMs?: number }
  | { type: 'CANCEL' }
  | { type: 'RESET' }
  | { type: 'RETRY' }
  | { type: 'FINISH' };

export interface ProbeInput {
  label?: string;
  timeoutMs?: number;
}

export interface EchoCallInput {
  message: string;
  sequence: number;
}

export interface EchoCallOutput {
  reference: string;
  echoed: string;
}

const probeMachine = setup({
  types: {} as { context: ProbeContext; events: ProbeEvent; input: ProbeInput | undefined },
  actors: {
    echoCall: effect<EchoCallOutput, EchoCallInput>(),
  },
  guards: {
    positiveAmount: ({ event }) => event.type === 'ADD' && Number.isInteger(event.amount) && event.amount > 0,
  },
  delays: {
    waitTimeout: ({ context }) => context.timeoutMs,
  },
}).createMachine({
  id: 'probe',
  initial: 'idle',
  context: ({ input }) => ({
    total: 0,
    label: input?.label ?? '',
    timeoutMs: input?.timeoutMs ?? 2000,
    calls: 0,
    lastResult: null,
    lastError: null,
    timeouts: 0,
  }),
  states: {
    idle: {
      on: {
        ADD: { guard: 'positiveAmount', actions: assign({ total: ({ context, event }) => context.total + event.amount }) },
        CALL: { target: 'calling', actions: assign({ calls: ({ context }) => context.calls + 1 }) },
        WAIT: {
          target: 'waiting',
          actions: assign({ timeoutMs: ({ context, event }) => event.timeoutMs ?? context.timeoutMs }),
        },
        FINISH: 'finished',
      },
    },
    calling: {
      invoke: {
        id: 'echo',
        src: 'echoCall',
        input: ({ context, event }) => ({
          message: event.type === 'CALL' ? event.message : '',
          sequence: context.calls,
        }),
        onDone: {
          target: 'idle',
          actions: assign({ lastResult: ({ event }) => event.output, lastError: null }),
        },
        onError: {
          target: 'failed',
          actions: assign({ lastError: ({ event }) => event.error as EffectFailure }),
        },
      },
      on: { CANCEL: 'idle' },
    },
    failed: {
      on: { RETRY: { target: 'idle' }, FINISH: 'finished' },
    },
    waiting: {
      after: {
        waitTimeout: { target: 'timedOut', actions: assign({ timeouts: ({ context }) => context.timeouts + 1 }) },
      },
      on: {
        CANCEL: 'idle',
        ADD: { guard: 'positiveAmount', actions: assign({ total: ({ context, event }) => context.total + event.amount }) },
      },
    },
    timedOut: {
      on: { RESET: 'idle' },
    },
    finished: { type: 'final' },
  },
});

const probeInputSchema = z
  .object({ label: z.string().max(200).optional(), timeoutMs: z.number().int().min(10).max(86_400_000).optional() })
  .strict()
  .optional();

const probeEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ADD'), amount: z.number().int() }).strict(),
  z.object({ type: z.literal('CALL'), message: z.string().max(1000) }).strict(),
  z.object({ type: z.literal('WAIT'), timeoutMs: z.number().int().min(10).max(86_400_000).optional() }).strict(),
  z.object({ type: z.literal('CANCEL') }).strict(),
  z.object({ type: z.literal('RESET') }).strict(),
  z.object({ type: z.literal('RETRY') }).strict(),
  z.object({ type: z.literal('FINISH') }).strict(),
]);

export default defineMachineModule({
  type: 'probe',
  version: 1,
  machine: probeMachine,
  migrations: {},
  description: 'Runtime probe: adds numbers, calls the echo service, waits on a durable timeout.',
  inputSchema: probeInputSchema,
  eventSchema: probeEventSchema,
  domainEvents: {
    events: {
      idle: { description: 'the probe waits for a command', states: ['idle'] },
      calling: { description: 'the probe calls the echo service', states: ['calling'] },
      failed: { description: 'the call failed', states: ['failed'] },
      waiting: { description: 'the probe waits for its timer', states: ['waiting'] },
      timedOut: { description: 'its timer fired', states: ['timedOut'] },
      finished: { description: 'the probe is done', states: ['finished'] },
    },
    data: z.object({ label: z.string(), total: z.number(), calls: z.number(), timeouts: z.number() }),
  },
});
