import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { MongoClient } from 'mongodb';
import { replayRevisions } from '../../actors/runtime/replay.ts';
import type { MachineModule, PersistedSnapshotJson } from '../../machines/machine-module.ts';
import { collectionsOf, type Collections, type JournalDoc } from '../../persistence/collections.ts';
import { databaseUri } from './database.ts';
import type { PersonalDataSealer } from '../../actors/runtime/personal-data.ts';
import { PersonalDataSealer as Sealer } from '../../actors/runtime/personal-data.ts';
import { loadPersonalDataKey } from '../../persistence/personal-data-key.ts';
import { Keyring } from '../../persistence/secret-box.ts';
import { TEST_MASTER_KEY } from './hub-process.ts';

/**
 * The README promises that every machine is deterministic: an actor's journal,
 * replayed through its machine, gives back the snapshot stored at every
 * revision. These checks hold the actors an end-to-end test really produced to
 * that — commands, effect results and timer firings as they happened.
 */

/** How many actors of each machine type were replayed, and the ones whose replay parted from the journal. */
export interface ReplayOutcome {
  replayed: Record<string, number>;
  divergences: string[];
}

/**
 * Replays every actor of `machines`' types found in one database's journal,
 * revision by revision. Reads the journal, not the `actors` projection: the
 * journal is complete as soon as a commit returns, the projection may lag.
 */
export async function replayEveryActor(
  collections: Pick<Collections, 'journal' | 'hubMeta'>,
  machines: readonly MachineModule[],
  where = 'the database',
): Promise<ReplayOutcome> {
  // the personal data key test hubs and runtimes seal with (under the tests' master key)
  const personalData = new Sealer(await loadPersonalDataKey(collections.hubMeta, new Keyring(Buffer.from(TEST_MASTER_KEY, 'base64'))));
  const byType = new Map(machines.map((module) => [module.type, module]));
  const journals = new Map<string, JournalDoc[]>();
  // One scan: FerretDB filters anything but `_id` outside SQL, so a query per actor would scan the journal once per actor.
  for await (const entry of collections.journal.find({})) {
    if (!byType.has(typeOf(entry.actor))) continue;
    const entries = journals.get(entry.actor) ?? [];
    entries.push(entry);
    journals.set(entry.actor, entries);
  }
  const outcome: ReplayOutcome = { replayed: Object.fromEntries(machines.map((module) => [module.type, 0])), divergences: [] };
  for (const [actor, entries] of journals) {
    const type = typeOf(actor);
    const module = byType.get(type);
    if (!module) continue;
    entries.sort((a, b) => a.revision - b.revision);
    outcome.replayed[type] = (outcome.replayed[type] ?? 0) + 1;
    const divergence = divergenceOf(module, entries, personalData);
    if (divergence) outcome.divergences.push(`${actor} in ${where}: ${divergence}`);
  }
  return outcome;
}

/** Asserts that every actor of `machines`' types in one database replays to its journal, and that there was one of each. */
export async function assertJournalsReplay(
  collections: Pick<Collections, 'journal' | 'hubMeta'>,
  machines: readonly MachineModule[],
): Promise<Record<string, number>> {
  const outcome = await replayEveryActor(collections, machines);
  assertOutcome(outcome, machines);
  return outcome.replayed;
}

/**
 * The same for databases that hubs in child processes wrote (`hubDatabases()`),
 * reached by name. Call it once the hubs are stopped, so nothing is committed
 * while the journal is read. Each type must appear in at least one database.
 */
export async function assertHubJournalsReplay(
  dbNames: readonly string[],
  machines: readonly MachineModule[],
): Promise<Record<string, number>> {
  const client = await MongoClient.connect(databaseUri(), { serverSelectionTimeoutMS: 10_000 });
  try {
    const total: ReplayOutcome = { replayed: Object.fromEntries(machines.map((module) => [module.type, 0])), divergences: [] };
    for (const dbName of dbNames) {
      const outcome = await replayEveryActor(collectionsOf(client.db(dbName)), machines, `database ${dbName}`);
      for (const [type, count] of Object.entries(outcome.replayed)) total.replayed[type] = (total.replayed[type] ?? 0) + count;
      total.divergences.push(...outcome.divergences);
    }
    assertOutcome(total, machines);
    return total.replayed;
  } finally {
    await client.close();
  }
}

function assertOutcome(outcome: ReplayOutcome, machines: readonly MachineModule[]): void {
  assert.deepEqual(outcome.divergences, [], `replaying the journal did not give the stored snapshots:\n${outcome.divergences.join('\n')}`);
  const missing = machines.map((module) => module.type).filter((type) => !outcome.replayed[type]);
  // a check that found nothing to replay would pass whatever the machines do
  assert.deepEqual(missing, [], `no actor of ${missing.join(', ')} was found to replay`);
}

/** Where the replay first parts from the stored snapshots, or null when it gives every one of them. */
function divergenceOf(module: MachineModule, entries: readonly JournalDoc[], personalData: PersonalDataSealer): string | null {
  // a snapshot stored by another version of the machine is not this machine's to reproduce
  const foreign = entries.find((entry) => entry.version !== module.version);
  if (foreign) return `revision ${foreign.revision} was written by version ${foreign.version}, this build is version ${module.version}`;
  try {
    for (const { entry, snapshot } of replayRevisions(module, entries, personalData)) {
      const stored: unknown = personalData.openSnapshot(module, JSON.parse(entry.snapshot) as PersistedSnapshotJson);
      if (isDeepStrictEqual(snapshot, stored)) continue;
      const origin = entry.origin.kind === 'effect' || entry.origin.kind === 'timer' ? ` from ${entry.origin.kind}` : '';
      const found = differences(snapshot, stored, '');
      return `the replay parts from the journal at revision ${entry.revision} (${entry.eventType}${origin}):\n  ${found.join('\n  ')}`;
    }
  } catch (error) {
    return `the replay failed: ${error instanceof Error ? error.message : String(error)}`;
  }
  return null;
}

const MAX_DIFFERENCES = 8;

/** The paths at which two JSON values differ, with both values, at most a few. */
function differences(replayed: unknown, stored: unknown, path: string, found: string[] = []): string[] {
  if (found.length >= MAX_DIFFERENCES || isDeepStrictEqual(replayed, stored)) return found;
  if (isRecord(replayed) && isRecord(stored) && Array.isArray(replayed) === Array.isArray(stored)) {
    const keys = new Set([...Object.keys(replayed), ...Object.keys(stored)]);
    for (const key of keys) differences(replayed[key], stored[key], path ? `${path}.${key}` : key, found);
    return found;
  }
  found.push(`${path || '(the whole snapshot)'}: replayed ${describe(replayed)}, stored ${describe(stored)}`);
  return found;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 200 ? `${json.slice(0, 200)}…` : json;
}

function typeOf(actorKey: string): string {
  return actorKey.slice(0, actorKey.indexOf('/'));
}
