import { createCollections } from './collections.ts';
import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';

/** Nova Poshta's directory, synced daily (`novaposhta-reference-sync`), read by the shop and by order validation. */

export interface CityDoc {
  _id: string; // NP Ref
  name: string;
  nameRu: string | null;
  area: string | null;
  type: string | null;
  /** lower-case names, for search */
  search: string;
  syncedAt: Date;
}

export interface WarehouseDoc {
  _id: string; // NP Ref
  cityRef: string;
  cityName: string | null;
  name: string;
  shortAddress: string | null;
  number: string;
  category: string | null;
  status: string | null;
  maxWeight: number | null;
  search: string;
  syncedAt: Date;
}

export interface ReferenceCollections {
  cities: Collection<CityDoc>;
  warehouses: Collection<WarehouseDoc>;
}

export function referenceCollections(db: Db): ReferenceCollections {
  return { cities: db.collection<CityDoc>('np_cities'), warehouses: db.collection<WarehouseDoc>('np_warehouses') };
}

export async function ensureReferenceIndexes(db: Db): Promise<void> {
  await createCollections(db, ['np_cities', 'np_warehouses']);
  const c = referenceCollections(db);
  await c.cities.createIndex({ search: 1 });
  await c.warehouses.createIndex({ cityRef: 1, number: 1 });
  await c.warehouses.createIndex({ search: 1 });
}

export async function upsertAll<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<void> {
  if (docs.length === 0) return;
  const operations = docs.map((doc) => ({
    replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true },
  })) as unknown as AnyBulkWriteOperation<T>[];
  await collection.bulkWrite(operations, { ordered: false });
}

/** A user's search text as a safe, case-insensitive "contains" pattern. */
export function containsPattern(text: string): RegExp {
  return new RegExp(text.toLocaleLowerCase('uk').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}
