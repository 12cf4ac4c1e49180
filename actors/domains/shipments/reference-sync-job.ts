import type { NovaPoshtaClient } from '../../platform/connectors/novaposhta/client.ts';
import { upsertAll, type ReferenceCollections } from '../../../persistence/reference.ts';
import type { JobDefinition } from '../../platform/jobs/registry.ts';

const PAGE = 500;

/**
 * Pages Nova Poshta's cities and branches into `np_cities` / `np_warehouses`
 * (500 asked a call), reporting progress after every page. A list ends at an
 * empty page or when NP's `totalCount` is reached — never at a short page,
 * which NP may answer before the end. Rows NP no longer lists are removed
 * only after a pass that saw every row NP counted. Daily, and on demand.
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
      let citiesTotal: number | null;
      let warehousesTotal: number | null;
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
        citiesTotal = totalCount;
        progress({ phase: 'cities', done: cities, total: totalCount });
        if (items.length === 0 || (totalCount !== null && cities >= totalCount)) break;
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
        warehousesTotal = totalCount;
        progress({ phase: 'warehouses', done: warehouses, total: totalCount });
        if (items.length === 0 || (totalCount !== null && warehouses >= totalCount)) break;
      }
      const complete = (done: number, total: number | null) => total === null || done >= total;
      if (!complete(cities, citiesTotal) || !complete(warehouses, warehousesTotal)) {
        // NP ran out of pages before its own count: keep what we had rather than delete what we did not see
        return { cities, warehouses, removed: 0, complete: false };
      }
      // a complete pass: what NP no longer lists is gone
      const staleCities = (await deps.reference.cities.deleteMany({ syncedAt: { $lt: syncedAt } })).deletedCount;
      const staleWarehouses = (await deps.reference.warehouses.deleteMany({ syncedAt: { $lt: syncedAt } })).deletedCount;
      return { cities, warehouses, removed: staleCities + staleWarehouses };
    },
  };
}
