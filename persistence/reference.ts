import type { AnyBulkWriteOperation, Collection, Db } from 'mongodb';
import { bulkWriteInCommands } from './bulk-write.ts';
import { defineCollection, ensureCollectionIndexes, openCollections, type OpenedCollections } from './define-collection.ts';

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

export const citiesCollection = defineCollection<CityDoc>({
  name: 'np_cities',
  description: "Nova Poshta's cities",
  indexes: [{ key: { search: 1 } }],
});

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

export const warehousesCollection = defineCollection<WarehouseDoc>({
  name: 'np_warehouses',
  description: "Nova Poshta's warehouses and parcel lockers, by city",
  indexes: [{ key: { cityRef: 1, number: 1 } }, { key: { search: 1 } }],
});

/** The directory's collections, created with their indexes at start-up. */
const reference = { cities: citiesCollection, warehouses: warehousesCollection };

export type ReferenceCollections = OpenedCollections<typeof reference>;

export function referenceCollections(db: Db): ReferenceCollections {
  return openCollections(db, reference);
}

export async function ensureReferenceIndexes(db: Db): Promise<void> {
  await ensureCollectionIndexes(db, Object.values(reference));
}

export async function upsertAll<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<void> {
  if (docs.length === 0) return;
  const operations = docs.map((doc) => ({
    replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true },
  })) as unknown as AnyBulkWriteOperation<T>[];
  await bulkWriteInCommands(collection, operations);
}

/** A user's search text as a safe, case-insensitive "contains" pattern. */
export function containsPattern(text: string): RegExp {
  return new RegExp(text.toLocaleLowerCase('uk').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}
