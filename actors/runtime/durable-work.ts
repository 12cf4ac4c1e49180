import type { AnyMachineSnapshot } from 'xstate';
import type { EffectDoc, TimerDoc } from '../../persistence/collections.ts';
import { activeInvokes, type TransitionWork } from './machine-glue.ts';

/** In memory: invoke id → effect id in flight; delayed send id → timer id scheduled. */
export interface RuntimeMeta {
  effects: Record<string, string>;
  timers: Record<string, string>;
}

/** What a delivered event was: a command from outside, an effect's result, or a timer firing. */
export type Delivery =
  { kind: 'external' } | { kind: 'effect'; effectId: string; invokeId: string } | { kind: 'timer'; timerId: string; sendId: string };

export interface PlannedWork {
  meta: RuntimeMeta;
  newEffects: EffectDoc[];
  newTimers: TimerDoc[];
  /** records this transition made obsolete (their removal is cleanup; the commit is what counts) */
  obsoleteEffects: string[];
  obsoleteTimers: string[];
}

/**
 * Pure: from the runtime state before a transition, the snapshot after it and
 * the work it asked for, the runtime state to commit with it and the effect
 * and timer records to write or drop. Ids derive from the commit id, so a
 * record names the one commit that made it.
 */
export function planWork(input: {
  previous: RuntimeMeta | null;
  next: AnyMachineSnapshot;
  work: TransitionWork;
  delivery: Delivery;
  commit: { id: string; revision: number; at: Date };
  actor: { key: string; type: string; id: string };
}): PlannedWork {
  const { next, work, delivery, commit, actor } = input;
  const meta: RuntimeMeta = { effects: { ...input.previous?.effects }, timers: { ...input.previous?.timers } };
  const obsoleteEffects: string[] = [];
  const obsoleteTimers: string[] = [];

  // Effects: the delivered one is done; invocations of states left are obsolete; new ones start.
  if (delivery.kind === 'effect') vacate(meta.effects, delivery.invokeId, obsoleteEffects);
  const active = activeInvokes(next);
  for (const invokeId of Object.keys(meta.effects)) {
    if (!active.has(invokeId)) vacate(meta.effects, invokeId, obsoleteEffects);
  }
  const newEffects = work.spawns.map((spawn): EffectDoc => {
    const effectId = occupy(meta.effects, spawn.invokeId, `${commit.id}.${spawn.invokeId}`, obsoleteEffects);
    return {
      _id: effectId,
      actor: actor.key,
      type: actor.type,
      actorId: actor.id,
      invokeId: spawn.invokeId,
      src: spawn.src,
      input: JSON.stringify(spawn.input ?? null),
      revision: commit.revision,
      commitId: commit.id,
      attempts: 0,
      nextAttemptAt: commit.at,
      runningUntil: null,
      lastError: null,
      createdAt: commit.at,
    };
  });

  // Timers: the fired one is spent; cancelled ones die with this commit; new ones are scheduled.
  if (delivery.kind === 'timer') vacate(meta.timers, delivery.sendId, obsoleteTimers);
  for (const sendId of work.cancels) vacate(meta.timers, sendId, obsoleteTimers);
  const newTimers = work.delays.map((delay): TimerDoc => {
    const timerId = occupy(meta.timers, delay.sendId, `${commit.id}.${delay.sendId}`, obsoleteTimers);
    return {
      _id: timerId,
      actor: actor.key,
      type: actor.type,
      actorId: actor.id,
      sendId: delay.sendId,
      event: JSON.stringify(delay.event),
      dueAt: new Date(commit.at.getTime() + delay.delayMs),
      revision: commit.revision,
      commitId: commit.id,
      createdAt: commit.at,
    };
  });

  if (next.status !== 'active') {
    // A finished actor waits for nothing.
    for (const invokeId of Object.keys(meta.effects)) vacate(meta.effects, invokeId, obsoleteEffects);
    for (const sendId of Object.keys(meta.timers)) vacate(meta.timers, sendId, obsoleteTimers);
  }
  return { meta, newEffects, newTimers, obsoleteEffects, obsoleteTimers };
}

/** Empties a slot; what occupied it becomes obsolete. */
function vacate(slots: Record<string, string>, slot: string, obsolete: string[]): void {
  const occupant = slots[slot];
  if (occupant === undefined) return;
  delete slots[slot];
  obsolete.push(occupant);
}

/** Gives a slot a new occupant; the one it replaces becomes obsolete. */
function occupy(slots: Record<string, string>, slot: string, occupant: string, obsolete: string[]): string {
  vacate(slots, slot, obsolete);
  slots[slot] = occupant;
  return occupant;
}
