import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { errors } from '../../common/errors.ts';
import type { AnyMachineModule, MachineModule, PersistedSnapshotJson, Refusal } from '../../machines/machine-module.ts';

/**
 * Everything the runtime needs from XState, in one place: restoring a stored
 * snapshot (after migrations), reading what a transition asked for, and
 * describing a snapshot for storage and for refusals.
 */

export class SnapshotVersionError extends Error {
  constructor(
    readonly storedVersion: number,
    readonly currentVersion: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'SnapshotVersionError';
  }
}

/** Brings a stored snapshot up to the module's version, or refuses; never guesses. */
export function migrateSnapshot(module: MachineModule, storedVersion: number, snapshot: PersistedSnapshotJson): PersistedSnapshotJson {
  if (storedVersion === module.version) return snapshot;
  if (!Number.isInteger(storedVersion) || storedVersion < 1 || storedVersion > module.version) {
    throw new SnapshotVersionError(
      storedVersion,
      module.version,
      `this build of "${module.type}" is version ${module.version} and cannot load snapshots of version ${storedVersion}`,
    );
  }
  let current = snapshot;
  for (let version = storedVersion; version < module.version; version += 1) {
    const migration = module.migrations[version];
    if (!migration) {
      throw new SnapshotVersionError(
        storedVersion,
        module.version,
        `no migration is declared from version ${version} to ${version + 1} of "${module.type}"`,
      );
    }
    current = migration(structuredClone(current));
  }
  return current;
}

/** Resolves persisted JSON against the machine; a snapshot that does not fit is refused. */
export function restoreSnapshot(module: MachineModule, storedVersion: number, json: PersistedSnapshotJson): AnyMachineSnapshot {
  const migrated = migrateSnapshot(module, storedVersion, json);
  let snapshot: AnyMachineSnapshot;
  try {
    snapshot = module.machine.resolveState(migrated as Parameters<AnyStateMachine['resolveState']>[0]);
  } catch (error) {
    throw new SnapshotVersionError(
      storedVersion,
      module.version,
      `the stored snapshot does not fit machine "${module.type}" version ${module.version}: ${(error as Error).message}`,
    );
  }
  if (snapshot.status === 'error') {
    throw new SnapshotVersionError(storedVersion, module.version, `the stored snapshot of "${module.type}" resolves to an error state`);
  }
  return snapshot;
}

export function persistSnapshot(module: MachineModule, snapshot: AnyMachineSnapshot): PersistedSnapshotJson {
  const persisted = module.machine.getPersistedSnapshot(snapshot) as PersistedSnapshotJson;
  // Children are the runtime's business (RuntimeMeta.effects); XState would only
  // restart them on restore, which is exactly what a durable runtime must not do.
  return { ...persisted, children: {} };
}

/** "a", "a.b", or "a.b, c.d" for parallel states. */
export function flattenStateValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).map(([key, child]) => {
      const inner = flattenStateValue(child);
      return inner ? `${key}.${inner}` : key;
    });
    return parts.join(', ');
  }
  return '';
}

/** Events with a transition from the current configuration, computed from the definition. */
export function acceptedEvents(snapshot: AnyMachineSnapshot): string[] {
  if (snapshot.status !== 'active') return [];
  const events = new Set<string>();
  for (const node of snapshot._nodes) {
    for (const type of node.ownEvents) {
      if (!type.startsWith('xstate.') && type !== '*') events.add(type);
    }
  }
  return [...events].sort();
}

/** The code of the reason the runtime gives when a guard refused an event and the module says nothing more. */
export const GUARD_REFUSED = 'guard_refused';

/**
 * Why the current state refuses an event the machine did not take: the
 * module's own reason when it gives one; else, when the state has guarded
 * transitions for the event, that none applies (naming their guards); else
 * null (the state simply has no transition for it, which `accepted` says).
 */
export function refusalOf(module: MachineModule, snapshot: AnyMachineSnapshot, event: EventObject): Refusal | null {
  if (snapshot.status !== 'active') return null;
  let reason: Refusal | null;
  try {
    reason = module.refusal?.(snapshot, event) ?? null;
  } catch (error) {
    throw errors.machineError(`machine "${module.type}" failed to say why it refuses ${event.type}: ${(error as Error).message}`);
  }
  if (reason) return reason;
  const guards = guardsOn(snapshot, event.type);
  if (guards.length === 0) return null;
  return {
    code: GUARD_REFUSED,
    message: `no transition for ${event.type} applies to this event (guards: ${guards.map((guard) => `"${guard}"`).join(', ')})`,
  };
}

/** The guards of the transitions the current configuration has for an event type (none when it has no guarded one). */
function guardsOn(snapshot: AnyMachineSnapshot, eventType: string): string[] {
  const guards = new Set<string>();
  for (const node of snapshot._nodes) {
    for (const transition of node.transitions.get(eventType) ?? []) {
      if (transition.guard !== undefined) guards.add(guardName(transition.guard));
    }
  }
  return [...guards];
}

function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'an inline guard';
  if (guard && typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string') return guard.type;
  return 'a guard';
}

/** The state's tags and the module's labels of the context, sorted, once each. */
export function tagsOf(snapshot: AnyMachineSnapshot, module?: Pick<AnyMachineModule, 'labels'>): string[] {
  const labels = module?.labels?.(snapshot.context as never) ?? [];
  return [...new Set([...snapshot.tags, ...labels])].sort();
}

export interface SpawnRequest {
  invokeId: string;
  src: string;
  input: unknown;
}

export interface DelayRequest {
  sendId: string;
  delayMs: number;
  event: EventObject;
}

export interface TransitionWork {
  spawns: SpawnRequest[];
  delays: DelayRequest[];
  cancels: string[];
  /** Actions the runtime cannot make durable (delayed sends to other actors, inline spawns). */
  unsupported: string[];
}

interface ExecutableActionLike {
  type: string;
  params?: unknown;
}

/** Reads what `transition()` asked the outside world to do. */
export function workOf(actions: readonly ExecutableActionLike[]): TransitionWork {
  const work: TransitionWork = { spawns: [], delays: [], cancels: [], unsupported: [] };
  for (const action of actions) {
    const params = (action.params ?? {}) as Record<string, unknown>;
    switch (action.type) {
      case 'xstate.spawnChild': {
        if (typeof params.src !== 'string' || typeof params.id !== 'string') {
          work.unsupported.push('spawn of inline logic (declare it in setup({ actors }) and refer to it by name)');
          break;
        }
        work.spawns.push({ invokeId: params.id, src: params.src, input: params.input ?? null });
        break;
      }
      case 'xstate.raise': {
        if (typeof params.delay === 'number') {
          const sendId = typeof params.id === 'string' ? params.id : undefined;
          if (!sendId) {
            work.unsupported.push('delayed raise without an id');
            break;
          }
          work.delays.push({ sendId, delayMs: params.delay, event: params.event as EventObject });
        }
        break;
      }
      case 'xstate.cancel': {
        if (typeof params.sendId === 'string') work.cancels.push(params.sendId);
        break;
      }
      case 'xstate.sendTo': {
        if (typeof params.delay === 'number') work.unsupported.push('delayed sendTo');
        break;
      }
      default:
        break;
    }
  }
  return work;
}

/** The invoke ids (with their src) that are active in a snapshot's configuration. */
export function activeInvokes(snapshot: AnyMachineSnapshot): Map<string, string> {
  const active = new Map<string, string>();
  if (snapshot.status !== 'active') return active;
  for (const node of snapshot._nodes) {
    for (const invoke of node.invoke) {
      if (typeof invoke.src === 'string') active.set(invoke.id, invoke.src);
    }
  }
  return active;
}

/** Every invoked `src` name a machine refers to, for boot-time validation. */
export function invokedSources(machine: AnyStateMachine): Set<string> {
  const sources = new Set<string>();
  const visit = (node: AnyStateMachine['root']) => {
    for (const invoke of node.invoke) {
      if (typeof invoke.src === 'string') sources.add(invoke.src);
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return sources;
}
