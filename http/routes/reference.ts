import Router from '@koa/router';
import { z } from 'zod';
import { containsPattern, type ReferenceCollections } from '../../persistence/reference.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { queryText } from '../middleware/query-text.ts';
import { parseQuery } from '../validation.ts';

const citiesQuery = z.object({ q: queryText(100).optional(), limit: z.coerce.number().int().min(1).max(200).default(20) });
const warehousesQuery = z.object({
  city: queryText(64).pipe(z.string().min(1)),
  q: queryText(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const documented = contracts('Shipments', {
  cities: { summary: "Nova Poshta's cities as last synced", auth: ['operator', 'viewer'], query: citiesQuery },
  warehouses: { summary: "A city's Nova Poshta branches as last synced", auth: ['operator', 'viewer'], query: warehousesQuery },
});

/** Nova Poshta's cities and branches as last synced, for the shop's delivery form. */
export function referenceRoutes(reference: ReferenceCollections): Router<HubState> {
  const router = new Router<HubState>({ prefix: '/reference' });

  router.get('/cities', documented.cities, async (ctx) => {
    const query = parseQuery(citiesQuery, ctx.query);
    const filter = query.q ? { search: { $regex: containsPattern(query.q) } } : {};
    const cities = await reference.cities.find(filter).sort({ name: 1 }).limit(query.limit).toArray();
    ctx.body = {
      cities: cities.map((c) => ({ ref: c._id, name: c.name, area: c.area, type: c.type })),
      syncedAt: cities[0]?.syncedAt ?? null,
    };
  });

  router.get('/warehouses', documented.warehouses, async (ctx) => {
    const query = parseQuery(warehousesQuery, ctx.query);
    const filter = { cityRef: query.city, ...(query.q ? { search: { $regex: containsPattern(query.q) } } : {}) };
    const warehouses = await reference.warehouses.find(filter).limit(query.limit).toArray();
    warehouses.sort((a, b) => Number(a.number) - Number(b.number));
    ctx.body = {
      warehouses: warehouses.map((w) => ({
        ref: w._id,
        number: w.number,
        name: w.name,
        address: w.shortAddress,
        category: w.category,
        status: w.status,
        maxWeight: w.maxWeight,
      })),
    };
  });

  return router;
}
