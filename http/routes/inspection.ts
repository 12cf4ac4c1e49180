import Router from '@koa/router';
import { z } from 'zod';
import type { AnyStateNode, EventObject } from 'xstate';
import { redact } from '../../common/logger.ts';
import { errors } from '../../common/errors.ts';
import type { AuditLog } from '../../actors/audit/audit-log.ts';
import type { ActorIndex } from '../../actors/runtime/actor-index.ts';
import type { ActorRuntime } from '../../actors/runtime/runtime.ts';
import { actorKey, type ActorStore } from '../../actors/runtime/store.ts';
import type { MachineModule } from '../../machines/machine-module.ts';
import type { ActorDoc, Collections } from '../../persistence/collections.ts';
import type { HubState } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import { parseBody, parseQuery } from '../validation.ts';

/**
 * The inspection API (`/admin/machines`, `/admin/actors`, `/admin/incidents`):
 * every machine's definition for drawing and its actors by state, one
 * actor's whole story (context with secrets redacted, children, timers,
 * effects in flight, journal), manual events with a reason (audited), and
 * what is stuck.
 */
export interface InspectionDeps {
  runtime: ActorRuntime;
  /** answers the lists once loaded (FerretDB cannot: see ActorIndex) */
  index?: ActorIndex;
  store: ActorStore;
  collections: Collections;
  audit: AuditLog;
  /** an effect in flight longer than this is an incident */
  stuckEffectMs?: number;
  now?: () => number;
}

const listQuery = z.object({
  type: z.string().max(64).optional(),
  state: z.string().max(200).optional(),
  tag: z.string().max(64).optional(),
  updatedBefore: z.iso.datetime({ offset: true }).optional(),
  q: z.string().trim().min(1).max(128).optional(),
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

function cursorOf(doc: Pick<ActorDoc, 'updatedAt' | '_id'>): string {
  return `${doc.updatedAt.toISOString()}|${doc._id}`;
}

function fromCursor(cursor: string): { at: Date; id: string } {
  const [at, ...rest] = cursor.split('|');
  const date = new Date(at ?? '');
  if (Number.isNaN(date.getTime()) || rest.length === 0)
    throw errors.badRequest('invalid cursor', [{ path: 'query:cursor', message: 'use nextCursor from the previous page' }]);
  return { at: date, id: rest.join('|') };
}

export function inspectionRoutes(deps: InspectionDeps): Router<HubState> {
  const router = new Router<HubState>({ prefix: '/admin' });
  const now = deps.now ?? Date.now;
  const { actors, effects, timers } = deps.collections;

  router.get('/machines', requireRole('admin', 'operator', 'viewer'), async (ctx) => {
    await deps.runtime.flushProjections();
    const machines = [];
    for (const module of deps.runtime.registry.list()) {
      let counts: Record<string, number> = {};
      if (deps.index?.ready) counts = deps.index.counts(module.type);
      else {
        const rows = (await actors
          .aggregate([{ $match: { type: module.type } }, { $group: { _id: '$state', count: { $sum: 1 } } }])
          .toArray()) as Array<{ _id: string; count: number }>;
        for (const row of rows) counts[row._id] = row.count;
      }
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

  router.get('/machines/:type', requireRole('admin', 'operator', 'viewer'), (ctx) => {
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

  router.get('/actors', requireRole('admin', 'operator', 'viewer'), async (ctx) => {
    const query = parseQuery(listQuery, ctx.query);
    if (deps.index?.ready) {
      const cursor = query.cursor ? fromCursor(query.cursor) : undefined;
      const found = deps.index.query({
        ...(query.type ? { type: query.type } : {}),
        ...(query.state ? { state: query.state } : {}),
        ...(query.tag ? { tag: query.tag } : {}),
        ...(query.q ? { q: query.q } : {}),
        ...(query.updatedBefore ? { updatedBefore: Date.parse(query.updatedBefore) } : {}),
        ...(cursor ? { cursor: { at: cursor.at.getTime(), key: cursor.id } } : {}),
        limit: query.limit,
      });
      const last = found.at(-1);
      ctx.body = {
        actors: found.map((a) => ({
          type: a.type,
          id: a.id,
          state: a.state,
          status: a.status,
          tags: a.tags,
          revision: a.revision,
          version: a.version,
          createdAt: new Date(a.createdAt).toISOString(),
          updatedAt: new Date(a.updatedAt).toISOString(),
        })),
        nextCursor: found.length === query.limit && last ? `${new Date(last.updatedAt).toISOString()}|${last.key}` : null,
      };
      return;
    }
    await deps.runtime.flushProjections();
    const filter: Record<string, unknown> = {};
    if (query.type) filter.type = query.type;
    if (query.state) filter.state = query.state;
    if (query.tag) filter.tags = query.tag;
    if (query.q) filter.id = { $regex: new RegExp(`^${query.q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) };
    const before: Record<string, Date> = {};
    if (query.updatedBefore) before.$lt = new Date(query.updatedBefore);
    const conditions: Record<string, unknown>[] = [filter];
    if (query.cursor) {
      const cursor = fromCursor(query.cursor);
      conditions.push({ $or: [{ updatedAt: { $lt: cursor.at } }, { updatedAt: cursor.at, _id: { $lt: cursor.id } }] });
    }
    if (before.$lt) conditions.push({ updatedAt: before });
    const docs = await actors
      .find(conditions.length === 1 ? filter : { $and: conditions }, { projection: { snapshot: 0, runtime: 0 } })
      .sort({ updatedAt: -1, _id: -1 })
      .limit(query.limit)
      .toArray();
    ctx.body = {
      actors: docs.map((d) => ({
        type: d.type,
        id: d.id,
        state: d.state,
        status: d.status,
        tags: d.tags,
        revision: d.revision,
        version: d.version,
        createdAt: d.createdAt.toISOString(),
        updatedAt: d.updatedAt.toISOString(),
      })),
      nextCursor: docs.length === query.limit ? cursorOf(docs[docs.length - 1] as ActorDoc) : null,
    };
  });

  router.get('/actors/:type/:id', requireRole('admin', 'operator', 'viewer'), async (ctx) => {
    const type = ctx.params.type ?? '';
    const id = ctx.params.id ?? '';
    const module = deps.runtime.registry.get(type);
    const actor = await deps.runtime.get(type, id);
    const key = actorKey(type, id);
    const [pendingTimers, inFlight] = await Promise.all([
      timers.find({ actor: key }).sort({ dueAt: 1 }).toArray(),
      effects.find({ actor: key }).toArray(),
    ]);
    const children = module.children ? module.children(actor.context as never) : [];
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

  router.post('/actors/:type/:id/events', requireRole('admin', 'operator'), async (ctx) => {
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

  router.post('/actors/:type/:id/retry', requireRole('admin', 'operator'), async (ctx) => {
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

  router.get('/incidents', requireRole('admin', 'operator', 'viewer'), async (ctx) => {
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
        const late = await actors
          .find({ type: module.type, state, updatedAt: { $lt: new Date(at - sla) } }, { projection: { snapshot: 0, runtime: 0 } })
          .limit(100)
          .toArray();
        for (const doc of late)
          overdue.push({ type: doc.type, id: doc.id, state: doc.state, since: doc.updatedAt.toISOString(), slaMs: sla });
      }
    }
    const attention = await actors
      .find({ tags: 'alert' }, { projection: { snapshot: 0, runtime: 0 } })
      .sort({ updatedAt: -1 })
      .limit(200)
      .toArray();
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
      needsAttention: attention.map((d) => ({ type: d.type, id: d.id, state: d.state, since: d.updatedAt.toISOString() })),
    };
  });

  return router;
}
