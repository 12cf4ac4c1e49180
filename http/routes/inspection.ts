import Router from '@koa/router';
import { z } from 'zod';
import type { AnyStateNode, EventObject } from 'xstate';
import { redact } from '../../common/logger.ts';
import { errors } from '../../common/errors.ts';
import type { AuditLog } from '../../actors/platform/audit/audit-log.ts';
import type { ActorQueries, ActorSummary } from '../../actors/runtime/queries.ts';
import type { ActorRuntime } from '../../actors/runtime/runtime.ts';
import { actorKey, type ActorStore } from '../../actors/runtime/store.ts';
import type { MachineModule } from '../../machines/machine-module.ts';
import type { Collections } from '../../persistence/collections.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { queryText } from '../middleware/query-text.ts';
import { parseBody, parseQuery } from '../validation.ts';
import { personalViewFor } from '../personal-data.ts';

/**
 * The inspection API (`/admin/machines`, `/admin/actors`, `/admin/incidents`):
 * every machine's definition for drawing and its actors by state, one
 * actor's whole story (context with secrets redacted, children, timers,
 * effects in flight, journal), manual events with a reason (audited), and
 * what is stuck.
 */
export interface InspectionDeps {
  runtime: ActorRuntime;
  queries: ActorQueries;
  store: ActorStore;
  collections: Collections;
  audit: AuditLog;
  /** an effect in flight longer than this is an incident */
  stuckEffectMs?: number;
  now?: () => number;
}

const listQuery = z.object({
  type: queryText(64).optional(),
  state: queryText(200).optional(),
  tag: queryText(64).optional(),
  updatedBefore: z.iso.datetime({ offset: true }).optional(),
  q: queryText(128).pipe(z.string().min(1)).optional(),
  cursor: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const eventBody = z.object({
  event: z.looseObject({ type: z.string().min(1).max(200) }),
  reason: z.string().trim().min(3, 'say why (it is audited)').max(500),
});
const retryBody = z.object({
  effectId: z.string().max(300).optional(),
  reason: z.string().trim().min(3, 'say why (it is audited)').max(500),
});

const documented = contracts('Inspection', {
  machines: { summary: 'Every machine type: version, description, actors per state', auth: ['admin', 'operator', 'viewer'] },
  machine: { summary: 'A machine as a graph to draw, its definition, its SLAs', auth: ['admin', 'operator', 'viewer'] },
  actors: { summary: 'Actors by type, state, tag, id prefix; newest first', auth: ['admin', 'operator', 'viewer'], query: listQuery },
  actor: {
    summary: "An actor's whole story: context (redacted), children, timers, effects in flight",
    auth: ['admin', 'operator', 'viewer'],
  },
  event: { summary: 'Send an event by hand, with a reason (journalled, audited)', auth: ['admin', 'operator'], body: eventBody },
  retry: { summary: 'Run a call in flight again now, with a reason (audited)', auth: ['admin', 'operator'], body: retryBody },
  incidents: { summary: 'Calls stuck or retried, actors past their SLA, actors tagged `alert`', auth: ['admin', 'operator', 'viewer'] },
});

/** The machine as a graph a console can draw: states (nested), their tags and invokes, transitions with events, targets and guards. */
export function machineGraph(module: MachineModule) {
  const describe = (node: AnyStateNode): Record<string, unknown> => ({
    id: node.id,
    key: node.key,
    type: node.type,
    initial: node.type === 'compound' ? ((node.config.initial as string | undefined) ?? null) : null,
    tags: [...node.tags],
    invoke: node.invoke.map((i) => ({ id: i.id, src: String(i.src) })),
    transitions: [...node.transitions.entries()].flatMap(([event, list]) =>
      list.map((t) => ({
        event,
        targets: (t.target ?? []).map((target) => target.id),
        guard: t.guard ? (typeof t.guard === 'string' ? t.guard : ((t.guard as { type?: string }).type ?? 'inline')) : null,
        reenter: t.reenter,
      })),
    ),
    always: (node.always ?? []).map((t) => ({
      targets: (t.target ?? []).map((target) => target.id),
      guard: t.guard ? (typeof t.guard === 'string' ? t.guard : ((t.guard as { type?: string }).type ?? 'inline')) : null,
    })),
    states: Object.values(node.states).map(describe),
  });
  return describe(module.machine.root);
}

/** `<updatedAt>|<type/id>` of the last actor of a page. */
function cursorOf(actor: ActorSummary): string {
  return `${actor.updatedAt.toISOString()}|${actor.key}`;
}

function fromCursor(cursor: string): { updatedAt: Date; key: string } {
  const [at, ...rest] = cursor.split('|');
  const date = new Date(at ?? '');
  if (Number.isNaN(date.getTime()) || rest.length === 0)
    throw errors.badRequest('invalid cursor', [{ path: 'query:cursor', message: 'use nextCursor from the previous page' }]);
  return { updatedAt: date, key: rest.join('|') };
}

const listed = (a: ActorSummary) => ({
  type: a.type,
  id: a.id,
  state: a.state,
  status: a.status,
  tags: a.tags,
  revision: a.revision,
  version: a.version,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});

export function inspectionRoutes(deps: InspectionDeps): Router<HubState> {
  const router = new Router<HubState>({ prefix: '/admin' });
  const now = deps.now ?? Date.now;
  const { effects, timers } = deps.collections;

  router.get('/machines', documented.machines, async (ctx) => {
    const machines = [];
    for (const module of deps.runtime.registry.list()) {
      const counts = await deps.queries.countByState(module.type);
      machines.push({
        type: module.type,
        version: module.version,
        description: module.description,
        total: Object.values(counts).reduce((sum, n) => sum + n, 0),
        states: counts,
      });
    }
    ctx.body = { machines };
  });

  router.get('/machines/:type', documented.machine, (ctx) => {
    const module = deps.runtime.registry.get(ctx.params.type ?? '');
    ctx.body = {
      type: module.type,
      version: module.version,
      description: module.description,
      slaMs: module.slaMs ?? {},
      graph: machineGraph(module),
      definition: module.machine.toJSON(),
    };
  });

  router.get('/actors', documented.actors, async (ctx) => {
    const query = parseQuery(listQuery, ctx.query);
    const found = await deps.queries.summaries(
      {
        ...(query.type ? { type: query.type } : {}),
        ...(query.state ? { states: [query.state] } : {}),
        ...(query.tag ? { tag: query.tag } : {}),
        ...(query.q ? { idPrefix: query.q } : {}),
        ...(query.updatedBefore ? { updatedBefore: new Date(query.updatedBefore) } : {}),
      },
      { limit: query.limit, ...(query.cursor ? { after: fromCursor(query.cursor) } : {}) },
    );
    const last = found.at(-1);
    ctx.body = { actors: found.map(listed), nextCursor: found.length === query.limit && last ? cursorOf(last) : null };
  });

  router.get('/actors/:type/:id', documented.actor, async (ctx) => {
    const type = ctx.params.type ?? '';
    const id = ctx.params.id ?? '';
    const module = deps.runtime.registry.get(type);
    const actor = personalViewFor(ctx.state, deps.runtime.registry, await deps.runtime.get(type, id));
    const key = actorKey(type, id);
    const [pendingTimers, inFlight] = await Promise.all([
      timers.find({ actor: key }).sort({ dueAt: 1 }).toArray(),
      effects.find({ actor: key }).toArray(),
    ]);
    const children = module.children ? module.children(actor.context) : [];
    const childViews = await Promise.all(
      children.map(async (child) => {
        try {
          const view = await deps.runtime.get(child.type, child.id);
          return { type: child.type, id: child.id, state: view.state, updatedAt: view.updatedAt };
        } catch {
          return { type: child.type, id: child.id, state: null, updatedAt: null };
        }
      }),
    );
    ctx.body = {
      type,
      id,
      state: actor.state,
      value: actor.value,
      status: actor.status,
      tags: actor.tags,
      accepts: actor.accepts,
      revision: actor.revision,
      version: actor.version,
      createdAt: actor.createdAt,
      updatedAt: actor.updatedAt,
      context: redact(actor.context),
      children: childViews,
      timers: pendingTimers.map((t) => ({ id: t._id, event: (JSON.parse(t.event) as EventObject).type, dueAt: t.dueAt.toISOString() })),
      effects: inFlight.map((e) => ({
        id: e._id,
        src: e.src,
        invokeId: e.invokeId,
        attempts: e.attempts,
        nextAttemptAt: e.nextAttemptAt.toISOString(),
        lastError: e.lastError,
        createdAt: e.createdAt.toISOString(),
      })),
      journal: `/actors/${encodeURIComponent(type)}/${encodeURIComponent(id)}/journal`,
      slaMs: module.slaMs?.[actor.state] ?? null,
    };
  });

  router.post('/actors/:type/:id/events', documented.event, async (ctx) => {
    const type = ctx.params.type ?? '';
    const id = ctx.params.id ?? '';
    const body = parseBody(eventBody, ctx.state.body ?? {});
    const who = ctx.state.principal?.name ?? 'unknown';
    const before = await deps.runtime.get(type, id);
    const result = await deps.runtime.send(type, id, body.event as EventObject, {
      origin: { kind: 'admin', requestId: ctx.state.requestId, actorName: who, reason: body.reason },
    });
    await deps.audit.recordChange({
      operation: 'actor.event',
      actor: `${type}/${id}`,
      principal: who,
      status: 200,
      details: { event: body.event.type, reason: body.reason, from: before.state, to: result.actor.state },
    });
    ctx.body = { type, id, state: result.actor.state, revision: result.actor.revision, accepts: result.actor.accepts };
  });

  router.post('/actors/:type/:id/retry', documented.retry, async (ctx) => {
    const type = ctx.params.type ?? '';
    const id = ctx.params.id ?? '';
    const body = parseBody(retryBody, ctx.state.body ?? {});
    await deps.runtime.get(type, id);
    const filter = { actor: actorKey(type, id), ...(body.effectId ? { _id: body.effectId } : {}) };
    const pending = await effects.find(filter).toArray();
    if (pending.length === 0)
      throw errors.notFound(body.effectId ? `effect ${body.effectId} of ${type}/${id}` : `an effect in flight for ${type}/${id}`);
    // due now: the worker runs it on its next poll (the lease still keeps two processes from running it at once)
    for (const effect of pending)
      await effects.updateOne({ _id: effect._id }, { $set: { nextAttemptAt: new Date(now()), runningUntil: null } });
    const who = ctx.state.principal?.name ?? 'unknown';
    await deps.audit.recordChange({
      operation: 'actor.retry',
      actor: `${type}/${id}`,
      principal: who,
      status: 200,
      details: { effects: pending.map((e) => e._id), reason: body.reason },
    });
    ctx.body = { retried: pending.map((e) => ({ id: e._id, src: e.src, attempts: e.attempts })) };
  });

  router.get('/incidents', documented.incidents, async (ctx) => {
    await deps.runtime.flushProjections();
    const at = now();
    const stuckBefore = new Date(at - (deps.stuckEffectMs ?? 5 * 60_000));
    const stuckEffects = await effects
      .find({ $or: [{ createdAt: { $lt: stuckBefore } }, { attempts: { $gte: 2 } }] })
      .limit(200)
      .toArray();
    const overdue: Array<Record<string, unknown>> = [];
    for (const module of deps.runtime.registry.list()) {
      for (const [state, sla] of Object.entries(module.slaMs ?? {})) {
        const late = await deps.queries.summaries(
          { type: module.type, states: [state], updatedBefore: new Date(at - sla) },
          { limit: 100 },
        );
        for (const a of late) overdue.push({ type: a.type, id: a.id, state: a.state, since: a.updatedAt.toISOString(), slaMs: sla });
      }
    }
    const attention = await deps.queries.summaries({ tag: 'alert' }, { limit: 200 });
    ctx.body = {
      stuckEffects: stuckEffects.map((e) => ({
        type: e.type,
        id: e.actorId,
        effect: e._id,
        src: e.src,
        attempts: e.attempts,
        since: e.createdAt.toISOString(),
        lastError: e.lastError,
      })),
      overdue,
      needsAttention: attention.map((a) => ({ type: a.type, id: a.id, state: a.state, since: a.updatedAt.toISOString() })),
    };
  });

  return router;
}
