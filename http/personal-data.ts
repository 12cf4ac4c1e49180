import { maskContext, eventPathsOf, mapPersonalPaths, maskValue } from '../actors/runtime/personal-data.ts';
import type { MachineRegistry } from '../actors/runtime/registry.ts';
import type { HubState } from './context.ts';

/**
 * Who reads customers' personal data in clear. Admins, and operators too: operators are the people
 * who ship, cancel, refund and call customers about a blocked payment, and their keys already change
 * orders. Viewers (dashboards, support read-only seats, monitoring) see masks: enough to tell
 * customers apart, not enough to reach them.
 */
export function readsPersonalData(state: HubState): boolean {
  const role = state.principal?.role;
  return role === 'admin' || role === 'operator';
}

/** An actor view as the caller may see it: its declared personal values masked unless the caller reads them. */
export function personalViewFor<TView extends { type: string; context: unknown }>(
  state: HubState,
  registry: MachineRegistry,
  view: TView,
): TView {
  if (readsPersonalData(state)) return view;
  return { ...view, context: maskContext(registry.get(view.type), view.context) };
}

/** A journalled event (already opened) as the caller may see it. */
export function personalEventFor(state: HubState, registry: MachineRegistry, type: string, eventType: string, event: unknown): unknown {
  if (readsPersonalData(state)) return event;
  return mapPersonalPaths(event, eventPathsOf(registry.get(type), eventType), maskValue);
}
