import { initialTransition, transition, type AnyMachineSnapshot, type EventObject } from 'xstate';
import type { MachineModule, PersistedSnapshotJson } from '../../machines/machine-module.ts';
import type { JournalDoc } from '../../persistence/collections.ts';
import { persistSnapshot } from './machine-glue.ts';
import type { PersonalDataSealer } from './personal-data.ts';

/** The state an actor's journal gives after one of its revisions. */
export interface ReplayedRevision {
  entry: JournalDoc;
  /** as the runtime would have stored it (persisted, through JSON) */
  snapshot: PersistedSnapshotJson;
}

/**
 * Rebuilds an actor's state from its journal alone: the creation input through
 * `initialTransition`, then every recorded event — commands, effect results,
 * timer firings — through `transition`. Machines are pure, so each revision
 * must give the snapshot stored with it; the replay tests hold every machine
 * to that. Yields revision by revision so a check can say where a replay
 * first parts from the journal. Journalled events hold personal data sealed: `personalData` opens it
 * (a machine that declares none needs none); the snapshots yielded are plain.
 */
export function* replayRevisions(
  module: MachineModule,
  entries: readonly JournalDoc[],
  personalData?: PersonalDataSealer,
): Generator<ReplayedRevision> {
  const eventOf = (entry: JournalDoc): unknown => {
    const event = JSON.parse(entry.event) as unknown;
    return personalData ? personalData.openEvent(module, entry.eventType, event) : event;
  };
  const [first, ...rest] = entries;
  if (!first || first.revision !== 1) throw new Error('a replay starts at revision 1');
  const init = eventOf(first) as { type: string; input?: unknown };
  let snapshot: AnyMachineSnapshot = initialTransition(module.machine, init.input)[0];
  yield { entry: first, snapshot: storedForm(module, snapshot) };
  let expected = 2;
  for (const entry of rest) {
    if (entry.revision !== expected) throw new Error(`the journal has a gap: revision ${entry.revision} follows ${expected - 1}`);
    snapshot = transition(module.machine, snapshot, eventOf(entry) as EventObject)[0];
    yield { entry, snapshot: storedForm(module, snapshot) };
    expected += 1;
  }
}

/** The state after the journal's last entry. */
export function replayJournal(
  module: MachineModule,
  entries: readonly JournalDoc[],
  personalData?: PersonalDataSealer,
): PersistedSnapshotJson {
  let last: PersistedSnapshotJson | undefined;
  for (const { snapshot } of replayRevisions(module, entries, personalData)) last = snapshot;
  if (!last) throw new Error('a replay starts at revision 1');
  return last;
}

/** The JSON round trip drops what storage drops (undefined fields), so the comparison is with what was stored. */
function storedForm(module: MachineModule, snapshot: AnyMachineSnapshot): PersistedSnapshotJson {
  return JSON.parse(JSON.stringify(persistSnapshot(module, snapshot))) as PersistedSnapshotJson;
}
