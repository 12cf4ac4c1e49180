import { initialTransition, transition, type AnyMachineSnapshot, type EventObject } from 'xstate';
import type { MachineModule, PersistedSnapshotJson } from '../../machines/machine-module.ts';
import type { JournalDoc } from '../../persistence/collections.ts';
import { persistSnapshot } from './machine-glue.ts';

/**
 * Rebuilds an actor's state from its journal alone: the creation input through
 * `initialTransition`, then every recorded event — commands, effect results,
 * timer firings — through `transition`. Machines are pure, so this must give
 * the stored snapshot; the replay tests hold every machine to that.
 */
export function replayJournal(module: MachineModule, entries: readonly JournalDoc[]): PersistedSnapshotJson {
  const [first, ...rest] = entries;
  if (!first || first.revision !== 1) throw new Error('a replay starts at revision 1');
  const init = JSON.parse(first.event) as { type: string; input?: unknown };
  let snapshot: AnyMachineSnapshot = initialTransition(module.machine, init.input as never)[0];
  let expected = 2;
  for (const entry of rest) {
    if (entry.revision !== expected) throw new Error(`the journal has a gap: revision ${entry.revision} follows ${expected - 1}`);
    snapshot = transition(module.machine, snapshot as never, JSON.parse(entry.event) as EventObject as never)[0];
    expected += 1;
  }
  return JSON.parse(JSON.stringify(persistSnapshot(module, snapshot))) as PersistedSnapshotJson;
}
