import mongoose, { Schema } from 'mongoose';
import type { Collection, Db } from 'mongodb';
import type { HubMetaDoc, SealedSecret } from './secret-box.ts';

/**
 * The runtime's collections. Every hot-path read is a point read by `_id`
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
  createdAt: Date;
  updatedAt: Date;
}

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
  /** Unique. The caller's idempotency key (scoped), or the entry's own id when there is none. */
  idem: string;
  requestHash: string | null;
  origin: JournalOrigin;
  at: Date;
  /** when the actor was created (revision 1's `at`) */
  actorCreatedAt: Date;
}

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

/** A claim on running one effect during one lease window; the unique insert is the lock. */
export interface LeaseDoc {
  _id: string;
  owner: string;
  at: Date;
}

export interface ApiKeyDoc {
  _id: string; // sha256 of the key, hex
  name: string;
  role: 'admin' | 'operator' | 'viewer';
  prefix: string; // first characters, to recognise a key without revealing it
  createdAt: Date;
  createdBy: string;
}

/** One external integration's configuration; credentials sealed with the master key. */
export interface IntegrationDoc {
  _id: string; // integration name
  enabled: boolean;
  baseUrl: string | null;
  credentials: SealedSecret | null; // JSON object of strings, sealed
  credentialFields: string[]; // which fields are set (names only)
  settings: string; // JSON: the connector's settings (keys may contain '.')
  revision: number;
  source: 'admin' | 'environment';
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string;
}

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

/** An inbound webhook delivery; its `_id` dedupes the partner's retries and replays. */
export interface InboxDoc {
  _id: string; // `${integration}:${deliveryId}`
  integration: string;
  deliveryId: string;
  receivedAt: Date;
  remoteAddress: string;
  headers: Record<string, string>; // secrets redacted
  rawBody: string; // base64 of the exact bytes (signatures are over them)
  contentType: string | null;
  status: 'received' | 'dispatched' | 'ignored' | 'failed';
  dispatchedTo: string | null; // `type/id`
  result: string | null;
  error: string | null;
  attempts: number;
  updatedAt: Date;
}

const stringId = { _id: { type: String, required: true } } as const;
const options = { versionKey: false, autoIndex: false, autoCreate: false } as const;

// Schemas document the shapes and declare the indexes; the runtime uses the
// native collections directly on the hot path.
const actorSchema = new Schema(
  {
    ...stringId,
    type: String,
    id: String,
    version: Number,
    revision: Number,
    state: String,
    status: String,
    tags: [String],
    snapshot: String,
    runtime: Schema.Types.Mixed,
    createdAt: Date,
    updatedAt: Date,
  },
  { ...options, collection: 'actors' },
);
actorSchema.index({ type: 1, state: 1, updatedAt: -1 });
// inspection lists: newest first, by type or tag
actorSchema.index({ type: 1, updatedAt: -1 });
actorSchema.index({ updatedAt: -1 });
actorSchema.index({ tags: 1, updatedAt: -1 });

const journalSchema = new Schema(
  {
    ...stringId,
    actor: String,
    revision: Number,
    commitId: String,
    version: Number,
    eventType: String,
    event: String,
    from: String,
    to: String,
    status: String,
    tags: [String],
    snapshot: String,
    runtime: Schema.Types.Mixed,
    idem: String,
    requestHash: String,
    origin: Schema.Types.Mixed,
    at: Date,
    actorCreatedAt: Date,
  },
  { ...options, collection: 'journal' },
);
journalSchema.index({ idem: 1 }, { unique: true, name: 'idem_unique' });

const idempotencySchema = new Schema({ ...stringId, journalId: String, createdAt: Date }, { ...options, collection: 'idempotency' });
const effectSchema = new Schema(
  {
    ...stringId,
    actor: String,
    type: String,
    actorId: String,
    invokeId: String,
    src: String,
    input: String,
    revision: Number,
    commitId: String,
    attempts: Number,
    nextAttemptAt: Date,
    runningUntil: Date,
    lastError: Schema.Types.Mixed,
    createdAt: Date,
  },
  { ...options, collection: 'effects' },
);
effectSchema.index({ actor: 1 });
const timerSchema = new Schema(
  {
    ...stringId,
    actor: String,
    type: String,
    actorId: String,
    sendId: String,
    event: String,
    dueAt: Date,
    revision: Number,
    commitId: String,
    createdAt: Date,
  },
  { ...options, collection: 'timers' },
);
timerSchema.index({ actor: 1 });
const leaseSchema = new Schema({ ...stringId, owner: String, at: Date }, { ...options, collection: 'leases' });
const apiKeySchema = new Schema(
  { ...stringId, name: String, role: String, prefix: String, createdAt: Date, createdBy: String },
  { ...options, collection: 'api_keys' },
);

const integrationSchema = new Schema(
  {
    ...stringId,
    enabled: Boolean,
    baseUrl: String,
    credentials: Schema.Types.Mixed,
    credentialFields: [String],
    settings: String,
    revision: Number,
    source: String,
    createdAt: Date,
    updatedAt: Date,
    updatedBy: String,
  },
  { ...options, collection: 'integrations' },
);
const auditSchema = new Schema(
  {
    ...stringId,
    kind: String,
    integration: String,
    operation: String,
    actor: String,
    principal: String,
    status: Number,
    outcome: String,
    durationMs: Number,
    error: Schema.Types.Mixed,
    request: String,
    response: String,
    details: Schema.Types.Mixed,
    at: Date,
  },
  { ...options, collection: 'audit' },
);
auditSchema.index({ integration: 1, at: -1 });
auditSchema.index({ at: 1 });
const inboxSchema = new Schema(
  {
    ...stringId,
    integration: String,
    deliveryId: String,
    receivedAt: Date,
    remoteAddress: String,
    headers: Schema.Types.Mixed,
    rawBody: String,
    contentType: String,
    status: String,
    dispatchedTo: String,
    result: String,
    error: String,
    attempts: Number,
    updatedAt: Date,
  },
  { ...options, collection: 'inbox' },
);
inboxSchema.index({ integration: 1, receivedAt: -1 });
const hubMetaSchema = new Schema({ ...stringId, sealed: Schema.Types.Mixed, updatedAt: Date }, { ...options, collection: 'hub_meta' });

export const models = {
  actors: mongoose.model('Actor', actorSchema),
  journal: mongoose.model('JournalEntry', journalSchema),
  idempotency: mongoose.model('IdempotencyRecord', idempotencySchema),
  effects: mongoose.model('Effect', effectSchema),
  timers: mongoose.model('Timer', timerSchema),
  leases: mongoose.model('Lease', leaseSchema),
  apiKeys: mongoose.model('ApiKey', apiKeySchema),
  integrations: mongoose.model('Integration', integrationSchema),
  audit: mongoose.model('AuditEntry', auditSchema),
  inbox: mongoose.model('InboxMessage', inboxSchema),
  hubMeta: mongoose.model('HubMeta', hubMetaSchema),
};

export interface Collections {
  db: Db;
  actors: Collection<ActorDoc>;
  journal: Collection<JournalDoc>;
  idempotency: Collection<IdempotencyDoc>;
  effects: Collection<EffectDoc>;
  timers: Collection<TimerDoc>;
  leases: Collection<LeaseDoc>;
  apiKeys: Collection<ApiKeyDoc>;
  integrations: Collection<IntegrationDoc>;
  audit: Collection<AuditDoc>;
  inbox: Collection<InboxDoc>;
  hubMeta: Collection<HubMetaDoc>;
}

export function collectionsOf(db: Db): Collections {
  return {
    db,
    actors: db.collection<ActorDoc>('actors'),
    journal: db.collection<JournalDoc>('journal'),
    idempotency: db.collection<IdempotencyDoc>('idempotency'),
    effects: db.collection<EffectDoc>('effects'),
    timers: db.collection<TimerDoc>('timers'),
    leases: db.collection<LeaseDoc>('leases'),
    apiKeys: db.collection<ApiKeyDoc>('api_keys'),
    integrations: db.collection<IntegrationDoc>('integrations'),
    audit: db.collection<AuditDoc>('audit'),
    inbox: db.collection<InboxDoc>('inbox'),
    hubMeta: db.collection<HubMetaDoc>('hub_meta'),
  };
}

/** Creates collections and indexes; safe to call from every process at every start. */
export async function ensureCollections(connection: mongoose.Connection): Promise<void> {
  for (const model of Object.values(models)) {
    const bound = connection.model(model.modelName, model.schema);
    await bound.createCollection().catch((error: unknown) => {
      if (!isNamespaceExists(error)) throw error;
    });
    await bound.createIndexes();
  }
}

function isNamespaceExists(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === 48;
}

/** Creates collections that do not exist yet (FerretDB wants them before their indexes); safe at every start. */
export async function createCollections(db: Db, names: string[]): Promise<void> {
  for (const name of names) {
    await db.createCollection(name).catch((error: unknown) => {
      if (!isNamespaceExists(error)) throw error;
    });
  }
}

export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === 11000;
}
