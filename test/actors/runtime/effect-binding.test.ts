import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from 'xstate';
import { bindEffects, type EffectHandler } from '../../../actors/runtime/effects.ts';
import { MachineRegistry } from '../../../actors/runtime/registry.ts';
import { defineMachineModule, effect, type EventOf, type InputOf } from '../../../machines/machine-module.ts';
import payment from '../../../machines/payment.ts';
import probe, { type EchoCallInput, type EchoCallOutput } from '../../../machines/probe.ts';

/*
 * `tsc --noEmit` (part of `npm test`) type-checks this file: every
 * `@ts-expect-error` below must meet an error, or the build fails. That is
 * the proof that a handler disagreeing with its machine does not compile.
 */

const echoCall: EffectHandler<EchoCallInput, EchoCallOutput> = async (input) => ({
  reference: `r-${input.sequence}`,
  echoed: input.message,
});

test('a handler agreeing with the machine binds; the compiler refuses one with another input, output or name', () => {
  const bound = bindEffects(probe, { echoCall });
  assert.deepEqual(Object.keys(bound.handlers), ['echoCall']);
  assert.equal(bound.type, 'probe');

  // @ts-expect-error the machine invokes echoCall with { message, sequence }, not a number
  bindEffects(probe, { echoCall: async (_input: number) => ({ reference: 'r', echoed: 'e' }) });
  // @ts-expect-error echoCall must resolve with { reference, echoed }
  bindEffects(probe, { echoCall: async (_input: EchoCallInput) => ({ reference: 'r' }) });
  // @ts-expect-error a missing handler is a compile error too (the boot check stays for what escapes types)
  bindEffects(probe, {});
  // @ts-expect-error the probe machine invokes nothing called echo
  bindEffects(probe, { echoCall, echo: echoCall });
  // @ts-expect-error the payment machine's createAtProvider takes a PaymentInput, not the echo call
  bindEffects(payment, { createAtProvider: echoCall, checkAtProvider: echoCall, refundAtProvider: echoCall, notifyOrder: echoCall });
});

test('events and input are typed by the machine', () => {
  const add: EventOf<typeof probe> = { type: 'ADD', amount: 2 };
  const input: InputOf<typeof probe> = { label: 'typed' };
  // @ts-expect-error ADD carries an amount
  const incomplete: EventOf<typeof probe> = { type: 'ADD' };
  // @ts-expect-error the probe knows no such event
  const unknown: EventOf<typeof probe> = { type: 'TELEPORT' };
  assert.deepEqual([add.type, input?.label, incomplete.type, unknown.type], ['ADD', 'typed', 'ADD', 'TELEPORT']);
});

test('the boot check refuses a machine whose invocation has no handler, and a handler no machine invokes', () => {
  const missing = new MachineRegistry().register(probe);
  assert.throws(() => missing.validate(), /machine "probe" invokes "echoCall", but no effect handler is provided/);

  const stray = new MachineRegistry().register(payment).provideEffects(bindEffects(probe, { echoCall }));
  assert.throws(() => stray.validate(), /an effect handler is provided for "probe\/echoCall", which no registered machine invokes/);

  const twice = new MachineRegistry().register(probe).provideEffects(bindEffects(probe, { echoCall }));
  assert.throws(() => twice.provideEffects(bindEffects(probe, { echoCall })), /effect "echoCall" of machine "probe" is provided twice/);
});

test('effects of two machines may share a name: each machine runs its own', async () => {
  const ping = (type: string) =>
    defineMachineModule({
      type,
      version: 1,
      description: 'invokes one effect named like the other machine’s',
      migrations: {},
      machine: setup({ actors: { work: effect<{ by: string }, { n: number }>() } }).createMachine({
        initial: 'working',
        states: { working: { invoke: { src: 'work', input: { n: 1 } } } },
      }),
    });
  const left = ping('left');
  const right = ping('right');
  const registry = new MachineRegistry()
    .register(left)
    .register(right)
    .provideEffects(bindEffects(left, { work: async () => ({ by: 'left' }) }), bindEffects(right, { work: async () => ({ by: 'right' }) }));
  registry.validate();
  const run = (type: string) => {
    const handler = registry.effect(type, 'work');
    assert.ok(handler, `${type} has its work`);
    return handler;
  };
  const context = {} as Parameters<EffectHandler>[1];
  assert.deepEqual([await run('left')({ n: 1 }, context), await run('right')({ n: 1 }, context)], [{ by: 'left' }, { by: 'right' }]);
});
