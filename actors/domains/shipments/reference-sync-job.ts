import type { NovaPoshtaClient } from '../../platform/connectors/novaposhta/client.ts';
import { upsertAll, type ReferenceCollections } from '../../../persistence/reference.ts';
import type { JobDefinition } from '../../platform/jobs/registry.ts';

const PAGE = 500;

/**
 * Pages Nova Poshta's cities and branches into `np_cities` / `np_warehouses`
 * (500 a call), reporting progress after every page; rows NP no longer lists
 * are removed at the end of a complete run. Daily, and on demand.
 */
export function novaPoshtaReferenceSyncJob(deps: {
  reference: ReferenceCollections;
  client: () => NovaPoshtaClient;
  now?: () => number;
}): JobDefinition {
  const now = deps.now ?? Date.now;
  return {
    name: 'novaposhta-reference-sync',
    description: 'copies Nova Poshta cities and branches into the hub (searchable at /reference/*, used to validate orders)',
    every: '1 day',
    syncs: 'novaposhta',
    async run({ progress }) {
      const client = deps.client();
      const syncedAt = new Date(now());
      let cities = 0;
      for (let page = 1; ; page += 1) {
        const { items, totalCount } = await client.getCities({ page, limit: PAGE });
        await upsertAll(
          deps.reference.cities,
          items.map((c) => ({
            _id: c.Ref,
            name: c.Description,
            nameRu: c.DescriptionRu ?? null,
            area: c.AreaDescription ?? null,
            type: c.SettlementTypeDescription ?? null,
            search: `${c.Description} ${c.DescriptionRu ?? ''}`.toLocaleLowerCase('uk'),
            syncedAt,
          })),
        );
        cities += items.length;
        progress({ phase: 'cities', done: cities, total: totalCount });
        if (items.length < PAGE || cities >= totalCount) break;
      }
      let warehouses = 0;
      for (let page = 1; ; page += 1) {
        const { items, totalCount } = await client.getWarehouses({ page, limit: PAGE });
        await upsertAll(
          deps.reference.warehouses,
          items.map((w) => ({
            _id: w.Ref,
            cityRef: w.CityRef,
            cityName: w.CityDescription ?? null,
            name: w.Description,
            shortAddress: w.ShortAddress ?? null,
            number: w.Number,
            category: w.CategoryOfWarehouse ?? null,
            status: w.WarehouseStatus ?? null,
            maxWeight: w.PlaceMaxWeightAllowed ? Number(w.PlaceMaxWeightAllowed) : null,
            search: `${w.Description} ${w.ShortAddress ?? ''}`.toLocaleLowerCase('uk'),
            syncedAt,
          })),
        );
        warehouses += items.length;
        progress({ phase: 'warehouses', done: warehouses, total: totalCount });
        if (items.length < PAGE || warehouses >= totalCount) break;
      }
      // a complete run: what NP no longer lists is gone
      const staleCities = (await deps.reference.cities.deleteMany({ syncedAt: { $lt: syncedAt } })).deletedCount;
      const staleWarehouses = (await deps.reference.warehouses.deleteMany({ syncedAt: { $lt: syncedAt } })).deletedCount;
      return { cities, warehouses, removed: staleCities + staleWarehouses };
    },
  };
}
