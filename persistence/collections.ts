import type { Db } from 'mongodb';
import { defineCollection, ensureCollectionIndexes, openCollections, type OpenedCollections } from './define-collection.ts';
import { integrationsCollection } from './integrations.ts';
import { devicesCollection, registerLocksCollection } from './devices.ts';
import { hubMetaCollection } from './secret-box.ts';

/**
 * The runtime's collections, each declared beside its document
 * (`defineCollection`). Every hot-path read is a point read by `_id`
 * because that is the only filter FerretDB's SQLite backend pushes down to
 * SQL; everything else is a scan. Cross-process exclusion is built on unique
 * inserts only (FerretDB's conditional updates are not atomic).
 */

/** Projection of an actor's latest committed revision (the journal is the truth). */
export interface ActorDoc {
  _id: string; // `${type}/${id}`
  type: string;
  id: string;
  version: number;
  revision: number;
  state: string; // flattened state value, e.g. "review.documents"
  status: string; // XState snapshot status: active | done | error | stopped
  tags: string[];
  snapshot: string; // XState persisted snapshot as JSON (keys may contain '.' or '$')
  runtime: RuntimeMeta;
  /** keyed hashes of the phones and e-mails the actor holds (its personal data is sealed in `snapshot`) */
  personalIndex?: string[];
  createdAt: Date;
  updatedAt: Date;
}

export const actorsCollection = defineCollection<ActorDoc>({
  name: 'actors',
  description: "every actor's latest committed revision: what inspection lists and jobs query",
  indexes: [
    { key: { type: 1, state: 1, updatedAt: -1 } },
    // inspection lists: newest first, by type or tag
    { key: { type: 1, updatedAt: -1 } },
    { key: { updatedAt: -1 } },
    { key: { tags: 1, updatedAt: -1 } },
  ],
});

/**
 * What the runtime itself keeps beside the machine snapshot, committed
 * atomically with it: the invocations in flight and the delayed events
 * scheduled. Stored as lists because XState's ids contain dots, which
 * FerretDB refuses in keys.
 */
export interface RuntimeMeta {
  effects: Array<{ invokeId: string; effectId: string }>;
  timers: Array<{ sendId: string; timerId: string }>;
}

/** One committed transition. Its unique `_id` is the commit point of a revision. */
export interface JournalDoc {
  _id: string; // `${actorKey}#${revision padded}`
  actor: string;
  revision: number;
  commitId: string;
  version: number;
  eventType: string;
  event: string; // JSON
  from: string | null;
  to: string;
  status: string;
  tags: string[];
  snapshot: string;
  runtime: RuntimeMeta;
  personalIndex?: string[];
  /** Unique. The caller's idempotency key (scoped), or the entry's own id when there is none. */
  idem: string;
  requestHash: string | null;
  origin: JournalOrigin;
  at: Date;
  /** when the actor was created (revision 1's `at`) */
  actorCreatedAt: Date;
}

export const journalCollection = defineCollection<JournalDoc>({
  name: 'journal',
  description: 'every committed transition of every actor, in revision order',
  // The guarantee behind idempotency keys: a second commit under a key is refused by the database.
  // Named before the other indexes were declared; existing databases hold it under this name.
  indexes: [{ key: { idem: 1 }, unique: true, name: 'idem_unique' }],
});

export type JournalOrigin =
  | { kind: 'create' | 'event' | 'admin'; requestId?: string; actorName?: string; reason?: string }
  | { kind: 'effect'; effectId: string }
  | { kind: 'timer'; timerId: string }
  | { kind: 'webhook'; integration: string; deliveryId: string };

/** Fast lookup of an idempotency key's first result (the journal's unique `idem` index is the guarantee). */
export interface IdempotencyDoc {
  _id: string;
  journalId: string;
  createdAt: Date;
}

export const idempotencyCollection = defineCollection<IdempotencyDoc>({
  name: 'idempotency',
  description: 'idempotency keys and the journal entry each one first produced',
});

/** An invocation a committed transition asked for, until its result is delivered. */
export interface EffectDoc {
  _id: string; // `${commitId}.${invokeId}` — also the idempotency key given to the external call
  actor: string;
  type: string;
  actorId: string;
  invokeId: string;
  src: string;
  input: string; // JSON
  revision: number;
  commitId: string;
  attempts: number;
  nextAttemptAt: Date;
  /** Hint only: while in the future, another process is running it. */
  runningUntil: Date | null;
  lastError: { code: string; message: string } | null;
  createdAt: Date;
}

export const effectsCollection = defineCollection<EffectDoc>({
  name: 'effects',
  description: 'invocations committed transitions asked for, until their results are delivered',
  // an actor's pending effects (inspection)
  indexes: [{ key: { actor: 1 } }],
});

/** A delayed event a committed transition scheduled. */
export interface TimerDoc {
  _id: string; // `${commitId}.${sendId}`
  actor: string;
  type: string;
  actorId: string;
  sendId: string;
  event: string; // JSON
  dueAt: Date;
  revision: number;
  commitId: string;
  createdAt: Date;
}

export const timersCollection = defineCollection<TimerDoc>({
  name: 'timers',
  description: 'delayed events committed transitions scheduled, until they are due',
  // an actor's pending timers (inspection)
  indexes: [{ key: { actor: 1 } }],
});

/** A claim on running one attempt of an effect; the unique insert is the lock. */
export interface LeaseDoc {
  _id: string; // `effect:<effect id>#<attempt>/<generation>` (actors/runtime/effect-claims.ts)
  owner: string;
  at: Date;
  /** renewed while the holder's call is in flight; once past, the next generation may take the attempt over */
  until?: Date;
  effectId?: string;
  attempt?: number;
}

export const leasesCollection = defineCollection<LeaseDoc>({
  name: 'leases',
  description: 'claims on running one attempt of an effect, renewed while its call is in flight',
});

export interface ApiKeyDoc {
  _id: string; // sha256 of the key, hex
  name: string;
  role: 'admin' | 'operator' | 'viewer';
  prefix: string; // first characters, to recognise a key without revealing it
  createdAt: Date;
  createdBy: string;
}

export const apiKeysCollection = defineCollection<ApiKeyDoc>({
  name: 'api_keys',
  description: 'API keys by their hash, with their role',
});

/** Every external interaction and every admin change, newest `_id` last. */
export interface AuditDoc {
  _id: string; // `${at ISO}~${random}`: sorts by time
  kind: 'outbound' | 'inbound' | 'admin' | 'business';
  integration: string | null;
  operation: string;
  /** the business actor (`type/id`) the interaction was for */
  actor: string | null;
  /** who did it: an API key's name for admin changes; the partner for inbound calls */
  principal: string | null;
  status: number | null;
  outcome: string;
  durationMs: number | null;
  error: { code: string; message: string } | null;
  request: string | null; // redacted excerpt
  response: string | null; // redacted excerpt
  details: Record<string, unknown> | null;
  at: Date;
}

export const auditCollection = defineCollection<AuditDoc>({
  name: 'audit',
  description: 'every external interaction and every admin change',
  indexes: [{ key: { integration: 1, at: -1 } }, { key: { at: 1 } }],
});

/** An inbound webhook delivery; its `_id` dedupes the partner's retries and replays. */
export interface InboxDoc {
  _id: string; // `${integration}:${deliveryId}`
  integration: string;
  deliveryId: string;
  receivedAt: Date;
  remoteAddress: string;
  headers: Record<string, string>; // secrets redacted
  /** base64 of the exact bytes (signatures are over them), sealed (`pd1.…`) as personal data is */
  rawBody: string;
  contentType: string | null;
  status: 'received' | 'dispatched' | 'ignored' | 'failed';
  dispatchedTo: string | null; // `type/id`
  result: string | null;
  error: string | null;
  attempts: number;
  updatedAt: Date;
}

export const inboxCollection = defineCollection<InboxDoc>({
  name: 'inbox',
  description: 'inbound webhook deliveries, deduplicated by delivery id',
  indexes: [{ key: { integration: 1, receivedAt: -1 } }],
});

/**
 * A domain event to publish (`hub.<type>.<event>` on NATS JetStream), written as an intent before its
 * commit, like an effect: a commit whose event was not recorded could never be published; an event whose
 * commit never landed is recognised (its journal entry holds another commit, or none) and dropped.
 * Deleted once JetStream has acknowledged it, so the collection holds only what is still to publish.
 */
export interface EventOutboxDoc {
  _id: string; // the commit id: the message id JetStream deduplicates by
  actor: string; // `type/id`
  type: string;
  actorId: string;
  revision: number;
  /** the event's name in its module's declaration */
  event: string;
  subject: string;
  /** the state the transition ended in */
  state: string;
  /** the declared `data`, as JSON */
  data: string;
  occurredAt: Date;
}

export const eventOutboxCollection = defineCollection<EventOutboxDoc>({
  name: 'event_outbox',
  description: 'domain events of committed transitions, until NATS JetStream has acknowledged them',
});

/**
 * The actors a batch of commits changed, written with the commits' intents and deleted once every one of
 * their projections is written. A process killed in between leaves it behind; any process repairs those
 * projections from the journal (a job that selects actors by state or tag reads projections only).
 */
export interface ProjectionDueDoc {
  _id: string; // `${process tag}:${batch number}`
  actors: Array<{ key: string; revision: number }>;
  at: Date;
}

export const projectionsDueCollection = defineCollection<ProjectionDueDoc>({
  name: 'projections_due',
  description: 'actors whose projections a batch of commits has yet to write (repaired after a crash)',
});

/** The runtime's collections, created with their indexes on every connect (`connectDatabase`). */
const runtimeCollections = {
  actors: actorsCollection,
  journal: journalCollection,
  idempotency: idempotencyCollection,
  effects: effectsCollection,
  timers: timersCollection,
  leases: leasesCollection,
  apiKeys: apiKeysCollection,
  integrations: integrationsCollection,
  devices: devicesCollection,
  registerLocks: registerLocksCollection,
  audit: auditCollection,
  inbox: inboxCollection,
  hubMeta: hubMetaCollection,
  eventOutbox: eventOutboxCollection,
  projectionsDue: projectionsDueCollection,
};

export type Collections = OpenedCollections<typeof runtimeCollections> & { db: Db };

export function collectionsOf(db: Db): Collections {
  return { db, ...openCollections(db, runtimeCollections) };
}

/** Creates the runtime's collections and indexes; safe to call from every process at every start. */
export async function ensureCollections(db: Db): Promise<void> {
  await ensureCollectionIndexes(db, Object.values(runtimeCollections));
}

export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === 11000;
}
