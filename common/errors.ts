/**
 * Errors are values with codes. Everything the service refuses is an AppError;
 * the HTTP layer maps it to `{"error":{"code","message","details?"}}` in one place.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const errors = {
  badRequest: (message: string, details?: unknown) => new AppError(400, 'invalid_request', message, details),
  unauthorized: (message = 'missing or invalid API key') => new AppError(401, 'unauthorized', message),
  forbidden: (message: string) => new AppError(403, 'forbidden', message),
  notFound: (what: string, details?: unknown) => new AppError(404, 'not_found', `${what} not found`, details),
  unknownMachine: (type: string, known: string[]) =>
    new AppError(404, 'unknown_machine', `no machine is registered under type "${type}"`, { known }),
  conflict: (message: string, details?: unknown) => new AppError(409, 'conflict', message, details),
  actorExists: (type: string, id: string) => new AppError(409, 'actor_exists', `actor ${type}/${id} already exists`, { type, id }),
  eventNotAccepted: (state: string, eventType: string, accepted: string[], status: string) =>
    new AppError(
      409,
      'event_not_accepted',
      status === 'active'
        ? `event ${eventType} is not accepted in state "${state}"`
        : `actor is ${status} (state "${state}") and accepts no events`,
      { state, status, event: eventType, accepted },
    ),
  idempotencyKeyReused: (key: string) =>
    new AppError(422, 'idempotency_key_reused', `Idempotency-Key "${key}" was already used with a different request`),
  unsupportedVersion: (actor: string, stored: number, supported: number, reason: string) =>
    new AppError(409, 'unsupported_snapshot_version', `actor ${actor} was stored under machine version ${stored}; ${reason}`, {
      storedVersion: stored,
      currentVersion: supported,
    }),
  machineError: (message: string) => new AppError(422, 'machine_error', message),
  contention: (actor: string) => new AppError(503, 'actor_contended', `actor ${actor} is being changed by too many writers; retry`),
  unavailable: (message: string) => new AppError(503, 'unavailable', message),
} as const;

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
