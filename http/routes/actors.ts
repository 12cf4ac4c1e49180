import Router from '@koa/router';
import { z } from 'zod';
import type { EventObject } from 'xstate';
import { requestHash } from '../../common/canonical-json.ts';
import { errors } from '../../common/errors.ts';
import type { ActorRuntime, CommandResult } from '../../actors/runtime/runtime.ts';
import type { CommandOptions } from '../../actors/runtime/views.ts';
import type { ActorStore } from '../../actors/runtime/store.ts';
import { actorKey } from '../../actors/runtime/store.ts';
import { allMachines } from '../../machines/index.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { parseBody, parseQuery } from '../validation.ts';
import { personalEventFor, personalViewFor } from '../personal-data.ts';

const createBody = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits and . _ : - (max 128), starting with a letter or digit')
      .optional(),
    input: z.unknown().optional(),
  })
  .strict();

const eventBody = z.looseObject({ type: z.string().min(1).max(200) });

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const journalQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const machineType = z.object({ type: z.enum(allMachines.map((module) => module.type) as [string, ...string[]]) });
/** what `POST /actors/:type/:id/events` takes: the event schema of the machine `:type` (the runtime checks it) */
const machineEvent = z.union(allMachines.flatMap((module) => (module.eventSchema ? [module.eventSchema] : [])));

const documented = contracts('Actors', {
  create: {
    summary: 'Create an actor of a machine type',
    description: 'Without `id`, one is made (from the Idempotency-Key when given). `input` is checked by the machine.',
    auth: ['operator'],
    params: machineType,
    body: createBody,
    bodyOptional: true,
    idempotencyKey: 'optional',
    responses: { 201: 'the actor' },
  },
  send: {
    summary: 'Send an event to an actor',
    description: 'The body is the event, checked by the schema of the machine `type` (one of the alternatives below).',
    auth: ['operator'],
    params: machineType,
    body: machineEvent,
    idempotencyKey: 'optional',
    responses: { 200: 'the actor after the event' },
  },
  get: { summary: 'An actor: state, context, accepted events, revision', auth: ['operator', 'viewer'], params: machineType },
  journal: { summary: "An actor's transitions, oldest first", auth: ['operator', 'viewer'], params: machineType, query: journalQuery },
});

export function actorRoutes(runtime: ActorRuntime, store: ActorStore): Router<HubState> {
  const router = new Router<HubState>();

  router.post('/actors/:type', documented.create, async (ctx) => {
    const type = ctx.params.type ?? '';
    runtime.registry.get(type);
    const body = parseBody(createBody, ctx.state.body ?? {});
    const idempotencyKey = idempotencyKeyOf(ctx.get('Idempotency-Key'));
    const result = await runtime.create(type, body.id, body.input, {
      idempotencyKey,
      requestHash: requestHash('create', type, body),
      origin: { kind: 'create', requestId: ctx.state.requestId, actorName: ctx.state.principal?.name },
    });
    respond(ctx, 201, result);
  });

  router.post('/actors/:type/:id/events', documented.send, async (ctx) => {
    const type = ctx.params.type ?? '';
    const id = ctx.params.id ?? '';
    runtime.registry.get(type);
    const event = parseBody(eventBody, ctx.state.body) as EventObject;
    const idempotencyKey = idempotencyKeyOf(ctx.get('Idempotency-Key'));
    const result = await runtime.send(type, id, event, {
      idempotencyKey,
      requestHash: requestHash('event', `${type}/${id}`, event),
      origin: { kind: 'event', requestId: ctx.state.requestId, actorName: ctx.state.principal?.name },
    });
    respond(ctx, 200, result);
  });

  router.get('/actors/:type/:id', documented.get, async (ctx) => {
    ctx.body = personalViewFor(ctx.state, runtime.registry, await runtime.get(ctx.params.type ?? '', ctx.params.id ?? ''));
  });

  router.get('/actors/:type/:id/journal', documented.journal, async (ctx) => {
    const type = ctx.params.type ?? '';
    const id = ctx.params.id ?? '';
    const actor = await runtime.get(type, id);
    const module = runtime.registry.get(type);
    const query = parseQuery(journalQuery, ctx.query);
    const entries = await store.readJournal(actorKey(type, id), query.after, Math.min(query.limit, actor.revision - query.after));
    const last = entries.at(-1);
    ctx.body = {
      actor: { type, id, revision: actor.revision },
      entries: entries.map((entry) => ({
        revision: entry.revision,
        event: personalEventFor(
          ctx.state,
          runtime.registry,
          type,
          entry.eventType,
          runtime.personalData.openEvent(module, entry.eventType, JSON.parse(entry.event) as unknown),
        ),
        from: entry.from,
        to: entry.to,
        at: entry.at.toISOString(),
        origin: entry.origin,
      })),
      next: last && last.revision < actor.revision ? `/actors/${type}/${id}/journal?after=${last.revision}&limit=${query.limit}` : null,
    };
  });

  return router;
}

export function idempotencyKeyOf(header: string): string | undefined {
  if (header === '') return undefined;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw errors.badRequest('Idempotency-Key must be 1–255 visible ASCII characters', [
      { path: 'header:Idempotency-Key', message: 'invalid' },
    ]);
  }
  return header;
}

/** What a route that turns a request into an event for an actor needs of Koa's context. */
export interface EventRequest {
  params: Record<string, string | undefined>;
  state: HubState;
  get(field: string): string;
  set(field: string, value: string): void;
  body: unknown;
}

/**
 * A request as an event to the actor `:id`: under the request's Idempotency-Key when it has one (fingerprinted
 * without the event's `at`, which the server sets), the caller as the journal's origin; answers with `view` of the
 * actor after it, and says whether it was a repeat (`Idempotent-Replayed`).
 */
export async function sendRequestEvent<TEvent extends EventObject, TView>(
  ctx: EventRequest,
  handle: { send(id: string, event: TEvent, options: CommandOptions): Promise<CommandResult<TView>> },
  event: TEvent,
  kind: string,
  view: (actor: CommandResult<TView>['actor']) => Promise<unknown>,
): Promise<void> {
  const id = ctx.params.id ?? '';
  const key = idempotencyKeyOf(ctx.get('Idempotency-Key'));
  const result = await handle.send(id, event, {
    ...(key ? { idempotencyKey: key, requestHash: requestHash(kind, id, { ...event, ...('at' in event ? { at: null } : {}) }) } : {}),
    origin: { kind: 'event', requestId: ctx.state.requestId, actorName: ctx.state.principal?.name ?? 'unknown' },
  });
  ctx.set('Idempotent-Replayed', String(result.replayed));
  ctx.body = await view(result.actor);
}

/** A fingerprint of what was asked, so a key reused for a different request is refused. */
function respond(ctx: { status: number; body: unknown; set(field: string, value: string): void }, status: number, result: CommandResult) {
  ctx.status = status;
  ctx.set('Idempotent-Replayed', String(result.replayed));
  ctx.body = result.actor;
}
