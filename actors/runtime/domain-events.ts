import type { DomainEventsDeclaration } from '../../machines/machine-module.ts';

/**
 * Domain events by their modules' declarations: which event a state publishes, under which subject.
 * The subject is `hub.<type>.<event>`; commands come in on `hub.commands.<type>`, so no machine may be
 * called `commands` and no name may hold a subject's separators.
 */

const NAME = /^[a-z][A-Za-z0-9]*$/;
const eventByState = new WeakMap<DomainEventsDeclaration, ReadonlyMap<string, string>>();

function stateMap(declared: DomainEventsDeclaration): ReadonlyMap<string, string> {
  let map = eventByState.get(declared);
  if (!map) {
    const built = new Map<string, string>();
    for (const [event, { states }] of Object.entries(declared.events)) for (const state of states) built.set(state, event);
    map = built;
    eventByState.set(declared, map);
  }
  return map;
}

/** The event a transition ending in `state` publishes (`null`: the state is not declared). */
export function domainEventNameOf(declared: DomainEventsDeclaration, state: string): string | null {
  return stateMap(declared).get(state) ?? null;
}

export function domainEventSubject(type: string, event: string): string {
  return `hub.${type}.${event}`;
}

/** What is wrong with a module's declaration against its machine's states (empty: nothing). */
export function domainEventProblems(type: string, declared: DomainEventsDeclaration | undefined, states: readonly string[]): string[] {
  if (!declared) return [`${type} declares no domain events`];
  const problems: string[] = [];
  if (type === 'commands' || !/^[a-z][a-z0-9-]*$/.test(type)) problems.push(`"${type}" cannot be a subject's token`);
  const seen = new Map<string, string>();
  for (const [event, { states: declaredStates, description }] of Object.entries(declared.events)) {
    if (!NAME.test(event)) problems.push(`${type}: "${event}" is not a name (letters and digits, a lower-case first)`);
    if (description.trim() === '') problems.push(`${type}.${event} says nothing of what it means`);
    for (const state of declaredStates) {
      if (!states.includes(state)) problems.push(`${type}.${event} names "${state}", which the machine does not have`);
      const other = seen.get(state);
      if (other) problems.push(`${type}: "${state}" belongs to both ${other} and ${event}`);
      seen.set(state, event);
    }
  }
  for (const state of states) if (!seen.has(state)) problems.push(`${type}: "${state}" publishes no event`);
  return problems;
}
