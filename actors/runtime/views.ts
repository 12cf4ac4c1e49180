import type { JournalOrigin } from '../../persistence/collections.ts';

/** What callers see of an actor; typed by its machine when asked through `runtime.of(module)`. */
export interface ActorView<TContext = unknown> {
  type: string;
  id: string;
  state: string;
  value: unknown;
  status: string;
  context: TContext;
  output?: unknown;
  tags: string[];
  accepts: string[];
  revision: number;
  version: number;
  inFlight: { effects: string[]; timers: string[] };
  createdAt: string;
  updatedAt: string;
}

export interface CommandResult<TContext = unknown> {
  actor: ActorView<TContext>;
  /** true when an earlier request with the same idempotency key produced this result */
  replayed: boolean;
}

export interface CommandOptions {
  idempotencyKey?: string;
  /** Fingerprint of the request; a key reused with a different request is refused. */
  requestHash?: string;
  origin: JournalOrigin;
}
