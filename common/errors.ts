/**
 * Every code an AppError can carry, with the HTTP status it is usually
 * answered with: the README's error table, in one place. A code that is not
 * here does not compile, so the table cannot fall behind the service.
 */
export const APP_ERROR_STATUS = {
  invalid_request: 400,
  malformed_json: 400,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  address_not_allowed: 403,
  not_found: 404,
  unknown_machine: 404,
  method_not_allowed: 405,
  event_not_accepted: 409,
  actor_exists: 409,
  conflict: 409,
  unsupported_snapshot_version: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  machine_error: 422,
  no_connector: 422,
  too_many_requests: 429,
  internal_error: 500,
  actor_contended: 503,
  unavailable: 503,
  integration_not_configured: 503,
} as const satisfies Record<string, number>;

export type AppErrorCode = keyof typeof APP_ERROR_STATUS;

/**
 * Errors are values with codes. Everything the service refuses is an AppError;
 * the HTTP layer maps it to `{"error":{"code","message","details?"}}` in one place.
 */
export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(status: number, code: AppErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * Why a machine refused an event, as its module says (`MachineModule.refusal`):
 * a stable code for programs, a sentence for people, the figures behind it.
 */
export interface RefusalReason {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface EventNotAcceptedDetails {
  state: string;
  status: string;
  event: string;
  /** the events the state has transitions for, computed from the definition */
  accepted: string[];
  /** present when the machine can say why (a guard refused, or its module explains the state) */
  reason?: RefusalReason;
}

/**
 * An event the actor's current state does not take. It carries the machine's
 * reason typed, so that a caller that answers a partner or a person in its
 * own terms (a 400, a Goodfin error code) reads the reason, not the state.
 */
export class EventNotAcceptedError extends AppError {
  override readonly details: EventNotAcceptedDetails;

  constructor(details: EventNotAcceptedDetails) {
    const refused =
      details.status === 'active'
        ? `event ${details.event} is not accepted in state "${details.state}"`
        : `actor is ${details.status} (state "${details.state}") and accepts no events`;
    super(
      APP_ERROR_STATUS.event_not_accepted,
      'event_not_accepted',
      details.reason ? `${refused}: ${details.reason.message}` : refused,
      details,
    );
    this.name = 'EventNotAcceptedError';
    this.details = details;
  }

  get reason(): RefusalReason | null {
    return this.details.reason ?? null;
  }
}

/** An AppError answered with its code's status from the table. */
const failure = (code: AppErrorCode, message: string, details?: unknown) => new AppError(APP_ERROR_STATUS[code], code, message, details);

export const errors = {
  badRequest: (message: string, details?: unknown) => failure('invalid_request', message, details),
  unauthorized: (message = 'missing or invalid API key') => failure('unauthorized', message),
  forbidden: (message: string) => failure('forbidden', message),
  notFound: (what: string, details?: unknown) => failure('not_found', `${what} not found`, details),
  unknownMachine: (type: string, known: string[]) => failure('unknown_machine', `no machine is registered under type "${type}"`, { known }),
  conflict: (message: string, details?: unknown) => failure('conflict', message, details),
  actorExists: (type: string, id: string) => failure('actor_exists', `actor ${type}/${id} already exists`, { type, id }),
  eventNotAccepted: (state: string, eventType: string, accepted: string[], status: string, reason?: RefusalReason | null) =>
    new EventNotAcceptedError({ state, status, event: eventType, accepted, ...(reason ? { reason } : {}) }),
  idempotencyKeyReused: (key: string) =>
    failure('idempotency_key_reused', `Idempotency-Key "${key}" was already used with a different request`),
  unsupportedVersion: (actor: string, stored: number, supported: number, reason: string) =>
    failure('unsupported_snapshot_version', `actor ${actor} was stored under machine version ${stored}; ${reason}`, {
      storedVersion: stored,
      currentVersion: supported,
    }),
  machineError: (message: string) => failure('machine_error', message),
  contention: (actor: string) => failure('actor_contended', `actor ${actor} is being changed by too many writers; retry`),
  unavailable: (message: string) => failure('unavailable', message),
  /** the caller used up its rate; the HTTP layer says when to come back in `Retry-After` */
  tooManyRequests: (retryAfterSeconds: number) =>
    failure('too_many_requests', `too many requests; retry after ${retryAfterSeconds} s`, { retryAfterSeconds }),
} as const;

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** The machine's reason for refusing an event, when `error` is such a refusal and the machine gave one. */
export function refusalReasonOf(error: unknown): RefusalReason | null {
  return error instanceof EventNotAcceptedError ? error.reason : null;
}
