import Router from '@koa/router';
import { z } from 'zod';
import { MARKETPLACES } from '../../common/marketplaces.ts';
import { errors } from '../../common/errors.ts';
import type { MarketplaceSync } from '../../actors/domains/marketplaces/sync.ts';
import { mapPersonalPaths, maskValue } from '../../actors/runtime/personal-data.ts';
import type { PersonalDataPaths } from '../../machines/machine-module.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { parseQuery } from '../validation.ts';
import { readsPersonalData } from '../personal-data.ts';

const nameSchema = z.enum(MARKETPLACES);
const incidentsQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });

const marketplaceName = z.object({ name: nameSchema });

/** Where a held order (the port's `MarketplaceOrder`) names its buyer: masked for viewers. */
const HELD_ORDER_PERSONAL_DATA: PersonalDataPaths = { 'customer.name': 'name', 'customer.phone': 'phone', 'customer.email': 'email' };

const documented = contracts('Marketplaces', {
  list: { summary: "Each marketplace's sync state: cursor, last import and push, what is due, incidents", auth: ['operator', 'viewer'] },
  held: { summary: 'Orders held at import (product not listed, branch unknown)', auth: ['operator', 'viewer'], params: marketplaceName },
  incidents: {
    summary: 'Orders whose status push the marketplace refused',
    auth: ['operator', 'viewer'],
    params: marketplaceName,
    query: incidentsQuery,
  },
});

/**
 * `/admin/marketplaces`: each marketplace's sync state (cursor, last import and push, what is still due,
 * incidents), the orders held at import, and the orders whose status a marketplace refused. Imports and
 * pushes run now through `POST /admin/jobs/marketplace-orders:<name>/run` and `…/marketplace-push/run`.
 */
export function marketplaceRoutes(deps: { marketplaces: MarketplaceSync }): Router<HubState> {
  const router = new Router<HubState>();
  const nameOf = (raw: string | undefined) => {
    const parsed = nameSchema.safeParse(raw);
    if (!parsed.success) throw errors.notFound(`marketplace ${raw ?? ''}`);
    return parsed.data;
  };

  router.get('/admin/marketplaces', documented.list, async (ctx) => {
    ctx.body = { marketplaces: await deps.marketplaces.views() };
  });

  router.get('/admin/marketplaces/:name/held', documented.held, async (ctx) => {
    const name = nameOf(ctx.params.name);
    const held = await deps.marketplaces.imports.held(name);
    const personal = readsPersonalData(ctx.state);
    ctx.body = {
      held: held.map((doc) => ({
        externalId: doc.externalId,
        reason: doc.reason,
        attempts: doc.attempts,
        firstSeenAt: doc.firstSeenAt,
        lastTriedAt: doc.lastTriedAt,
        order: personal ? doc.order : mapPersonalPaths(doc.order, HELD_ORDER_PERSONAL_DATA, maskValue),
      })),
    };
  });

  router.get('/admin/marketplaces/:name/incidents', documented.incidents, async (ctx) => {
    const name = nameOf(ctx.params.name);
    const { limit } = parseQuery(incidentsQuery, ctx.query);
    const docs = await deps.marketplaces.collections.orders
      .find({ marketplace: name, incident: { $ne: null } })
      .sort({ updatedAt: -1 })
      .limit(limit)
      .toArray();
    ctx.body = {
      incidents: docs.map((doc) => ({ orderId: doc._id, externalId: doc.externalId, told: doc.told, incident: doc.incident })),
    };
  });

  return router;
}
