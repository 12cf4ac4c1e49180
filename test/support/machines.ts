import { transition, type AnyStateMachine, type EventFromLogic, type SnapshotFrom } from 'xstate';

/**
 * The events the durable runtime itself delivers to a machine: results of its
 * invoked effects and firings of its timers. Machines do not declare them, so
 * tests of a machine alone send them through `stepper`.
 */
export type RuntimeEvent =
  | { type: `xstate.done.actor.${string}`; output?: unknown }
  | { type: `xstate.error.actor.${string}`; error?: unknown }
  | { type: `xstate.after.${string}` };

/**
 * XState's pure `transition()` for one machine, typed by it: snapshots keep
 * the machine's context, events are its own or the runtime's.
 */
export function stepper<TMachine extends AnyStateMachine>(machine: TMachine) {
  return (snapshot: SnapshotFrom<TMachine>, event: EventFromLogic<TMachine> | RuntimeEvent) =>
    // runtime events reach the machine as XState's own events do; the machine's event type does not list them
    transition(machine, snapshot, event as EventFromLogic<TMachine>);
}

/** The event a delayed transition scheduled, as the runtime fires it when due. */
export function timerFiring(delay: { event: { type: string } } | undefined): RuntimeEvent {
  const type = delay?.event.type ?? '';
  if (!type.startsWith('xstate.after.')) throw new Error(`not a delayed transition's event: "${type}"`);
  return { type: type as `xstate.after.${string}` };
}
