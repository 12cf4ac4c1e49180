import { createHash } from 'node:crypto';
import type { EventObject } from 'xstate';
import { z } from 'zod';
import { APP_ERROR_STATUS, AppError, EventNotAcceptedError, type AppErrorCode, type EventNotAcceptedDetails } from '../../common/errors.ts';
import type { EffectDoc, TimerDoc } from '../../persistence/collections.ts';
import type { CommandOptions } from './views.ts';

/**
 * Routing an actor's commands to one process of a hub of several.
 *
 * Any process may handle any actor: the journal's unique `(actor, revision)`
 * id keeps them correct. But a process that serves an actor's event from a
 * stale cached copy loses the race at commit and reloads, so an actor whose
 * events are spread over processes costs several round trips each. Each actor
 * therefore has an owner, chosen by a hash of its key over the process slots;
 * the other processes hand it the command and relay its answer. Routing is an
 * optimisation, never a condition of correctness: when the owner cannot take
 * a call, the caller runs it itself.
 */

/** What an effect's delivery needs of its document (all that crosses between processes). */
export type EffectRef = Pick<EffectDoc, '_id' | 'type' | 'actorId' | 'revision' | 'invokeId'>;
/** What a timer's delivery needs of its document. */
export type TimerRef = Pick<TimerDoc, '_id' | 'type' | 'actorId' | 'revision' | 'sendId' | 'event'>;

/** A runtime command, as one process hands it to the actor's owner. */
export type RoutedCall =
  | { op: 'create'; type: string; id: string; input: unknown; options: CommandOptions }
  | { op: 'send'; type: string; id: string; event: EventObject; options: CommandOptions }
  | { op: 'get'; type: string; id: string }
  | { op: 'deliverEffect'; effect: EffectRef; event: EventObject }
  | { op: 'deliverTimer'; timer: TimerRef }
  | { op: 'effectStatus'; effect: EffectRef };

/** An error as it crosses between processes: an AppError keeps its status, code and details. */
export interface RoutedError {
  message: string;
  app?: { status: number; code: string; details?: unknown };
}

/**
 * done/failed: the owner ran the call. undelivered: it never reached a live
 * owner (not started yet, stopping), so running it here is safe. lost: the
 * owner ended after it took the call; whether the call took effect is unknown.
 */
export type RoutedAnswer =
  { kind: 'done'; value: unknown } | { kind: 'failed'; error: RoutedError } | { kind: 'undelivered' } | { kind: 'lost' };

/** The runtime's side of routing: who owns a key, and how a call gets there. */
export interface ActorRouter {
  /** true when another process owns the actor (and routing is on) */
  isRemote(key: string): boolean;
  forward(key: string, call: RoutedCall): Promise<RoutedAnswer>;
  /** Calls other processes hand to this one are run by `handler` (the runtime, without routing again). */
  serve(handler: (call: RoutedCall) => Promise<unknown>): void;
  /** The process is stopping: it takes no more calls (they run where they came from) and hands none on. */
  close(): void;
}

/** The owning slot of an actor key among `slots` processes: stable across restarts, even over keys. */
export function ownerSlotOf(key: string, slots: number): number {
  if (slots <= 1) return 0;
  // the first 48 bits of a SHA-1: exact in a double, and uniform enough for a modulo of a few slots
  return createHash('sha1').update(key).digest().readUIntBE(0, 6) % slots;
}

export function toRoutedError(error: unknown): RoutedError {
  if (error instanceof AppError) {
    return { message: error.message, app: { status: error.status, code: error.code, details: error.details } };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

const appErrorCodes = Object.keys(APP_ERROR_STATUS) as [AppErrorCode, ...AppErrorCode[]];
const routedErrorSchema = z.object({
  message: z.string(),
  app: z.object({ status: z.number().int(), code: z.enum(appErrorCodes), details: z.unknown().optional() }).optional(),
});

/** The owner's error as the caller throws it: the same AppError (an event refusal keeps its typed reason). */
export function fromRoutedError(routed: RoutedError): Error {
  const parsed = routedErrorSchema.safeParse(routed);
  if (!parsed.success || !parsed.data.app) return new Error(routed.message);
  const { status, code, details } = parsed.data.app;
  if (code === 'event_not_accepted' && isEventNotAcceptedDetails(details)) return new EventNotAcceptedError(details);
  return new AppError(status, code, routed.message, details);
}

function isEventNotAcceptedDetails(details: unknown): details is EventNotAcceptedDetails {
  if (typeof details !== 'object' || details === null) return false;
  const { state, status, event, accepted } = details as Record<string, unknown>;
  return typeof state === 'string' && typeof status === 'string' && typeof event === 'string' && Array.isArray(accepted);
}
