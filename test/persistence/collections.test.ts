import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Db, type Document } from 'mongodb';
import { ensureAlertIndexes } from '../../persistence/alerts.ts';
import { ensurePaymeIndexes } from '../../persistence/payme.ts';
import { allCollections } from '../../persistence/all-collections.ts';
import { ensureCollections, isDuplicateKeyError } from '../../persistence/collections.ts';
import { ensureCommerceIndexes } from '../../persistence/commerce.ts';
import { ensureCollectionIndexes, type DeclaredIndex } from '../../persistence/define-collection.ts';
import { ensureGoodfinIndexes } from '../../persistence/goodfin.ts';
import { ensureClickIndexes } from '../../persistence/click.ts';
import { ensureLoyaltyIndexes } from '../../persistence/loyalty.ts';
import { ensureMarketplaceIndexes } from '../../persistence/marketplaces.ts';
import { ensureReferenceIndexes } from '../../persistence/reference.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';

/**
 * The indexes the hub created before collections were declared (Mongoose
 * schemas and raw `createIndex` calls), with the options it gave them.
 * Databases in use hold these; the declarations must find them, not add
 * copies under other names.
 */
const indexedBeforeDeclarations: Record<string, Array<{ key: Record<string, 1 | -1>; unique?: true; name?: string }>> = {
  actors: [
    { key: { type: 1, state: 1, updatedAt: -1 } },
    { key: { type: 1, updatedAt: -1 } },
    { key: { updatedAt: -1 } },
    { key: { tags: 1, updatedAt: -1 } },
  ],
  journal: [{ key: { idem: 1 }, unique: true, name: 'idem_unique' }],
  effects: [{ key: { actor: 1 } }],
  timers: [{ key: { actor: 1 } }],
  audit: [{ key: { integration: 1, at: -1 } }, { key: { at: 1 } }],
  inbox: [{ key: { integration: 1, receivedAt: -1 } }],
  alerts: [{ key: { fingerprint: 1, status: 1 } }, { key: { lastAt: -1 } }],
  invoice_numbers: [{ key: { orderId: 1 }, unique: true }],
  mail: [{ key: { status: 1, createdAt: 1 } }, { key: { orderId: 1 } }],
  np_cities: [{ key: { search: 1 } }],
  np_warehouses: [{ key: { cityRef: 1, number: 1 } }, { key: { search: 1 } }],
  goodfin_outbox: [{ key: { status: 1, nextAttemptAt: 1 } }, { key: { applicationId: 1, seq: 1 } }, { key: { msgId: 1 } }],
  goodfin_numbers: [{ key: { applicationId: 1 }, unique: true }],
};

async function withDb(run: (db: Db) => Promise<void>): Promise<void> {
  const client = await new MongoClient(databaseUri()).connect();
  const db = client.db(uniqueDatabaseName('collections'));
  try {
    await run(db);
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}

async function indexesOf(db: Db, collection: string): Promise<Document[]> {
  return (await db.collection(collection).listIndexes().toArray()).sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

test('every collection is declared once', () => {
  const names = allCollections.map((declaration) => declaration.name);
  assert.deepEqual(
    names.filter((name, at) => names.indexOf(name) !== at),
    [],
  );
});

test('ensuring indexes twice creates every declared collection with exactly its declared indexes', () =>
  withDb(async (db) => {
    await ensureCollectionIndexes(db, allCollections);
    const first = new Map<string, Document[]>();
    for (const declaration of allCollections) first.set(declaration.name, await indexesOf(db, declaration.name));

    await ensureCollectionIndexes(db, allCollections);
    for (const declaration of allCollections) {
      const indexes = await indexesOf(db, declaration.name);
      assert.deepEqual(indexes, first.get(declaration.name), `${declaration.name}: the second ensure changed its indexes`);
      // keys as entries: a compound index's field order matters
      const declared = declaration.indexes.map((index) => ({ name: index.name, key: Object.entries(index.key), unique: index.unique }));
      const found = indexes
        .filter((index) => index.name !== '_id_')
        .map((index) => ({ name: index.name, key: Object.entries(index.key as Document), unique: index.unique === true }));
      assert.deepEqual(
        found,
        declared.sort((a, b) => a.name.localeCompare(b.name)),
        `${declaration.name}: indexes differ from its declaration`,
      );
    }
  }));

test('every declared unique index refuses a second document with the same key', () =>
  withDb(async (db) => {
    await ensureCollectionIndexes(db, allCollections);
    const uniqueIndexes = allCollections.flatMap((declaration) =>
      declaration.indexes.filter((index) => index.unique).map((index) => ({ collection: declaration.name, index })),
    );
    assert.ok(uniqueIndexes.length > 0, 'no unique index is declared');
    for (const { collection, index } of uniqueIndexes) {
      const sameKey = Object.fromEntries(Object.keys(index.key).map((field) => [field, `same ${field}`]));
      await db.collection(collection).insertOne({ _id: `${index.name} first`, ...sameKey } as Document);
      await assert.rejects(
        db.collection(collection).insertOne({ _id: `${index.name} second`, ...sameKey } as Document),
        (error) => isDuplicateKeyError(error),
        `${collection}.${index.name} accepted a duplicate`,
      );
    }
  }));

test('a database indexed before the declarations keeps its indexes as they were, with no copies', () =>
  withDb(async (db) => {
    for (const [collection, indexes] of Object.entries(indexedBeforeDeclarations)) {
      await db.createCollection(collection);
      for (const { key, ...options } of indexes) await db.collection(collection).createIndex(key, options);
    }
    // what that database holds: names the driver chose, keys in order, uniqueness
    const describe = (index: Document) => ({
      name: String(index.name),
      key: Object.entries(index.key as Document),
      unique: index.unique === true,
    });
    const before = new Map<string, Array<ReturnType<typeof describe>>>();
    for (const collection of Object.keys(indexedBeforeDeclarations))
      before.set(collection, (await indexesOf(db, collection)).map(describe));

    await ensureCollectionIndexes(db, allCollections);
    for (const [collection, indexes] of before) {
      const declaration = allCollections.find((declared) => declared.name === collection);
      assert.ok(declaration, `${collection} is not declared`);
      for (const index of indexes.filter((held) => held.name !== '_id_')) {
        const declaredIndex: DeclaredIndex | undefined = declaration.indexes.find((candidate) => candidate.name === index.name);
        assert.ok(declaredIndex, `${collection}: index ${index.name} is not declared under its name`);
        assert.deepEqual(
          { name: declaredIndex.name, key: Object.entries(declaredIndex.key), unique: declaredIndex.unique },
          index,
          `${collection}.${index.name}`,
        );
      }
      const now = (await indexesOf(db, collection)).map(describe);
      for (const index of indexes)
        assert.ok(
          now.some((held) => held.name === index.name),
          `${collection}: index ${index.name} is gone`,
        );
      const keys = now.map((index) => JSON.stringify(index.key));
      assert.equal(new Set(keys).size, keys.length, `${collection}: one key is indexed twice`);
    }
  }));

test('the start-up functions create every declared index', () =>
  withDb(async (db) => {
    // as connectDatabase and the server's start do
    await ensureCollections(db);
    await ensureAlertIndexes(db);
    await ensureCommerceIndexes(db);
    await ensureReferenceIndexes(db);
    await ensureGoodfinIndexes(db);
    // the Payme merchant API's, ensured when it starts
    await ensurePaymeIndexes(db);
    await ensureClickIndexes(db); // the Click merchant module's, once the hub is reachable
    await ensureLoyaltyIndexes(db);
    await ensureMarketplaceIndexes(db);
    for (const declaration of allCollections.filter((declared) => declared.indexes.length > 0)) {
      const names = (await indexesOf(db, declaration.name)).map((index) => String(index.name));
      for (const index of declaration.indexes)
        assert.ok(names.includes(index.name), `${declaration.name}.${index.name} is not created at start-up`);
    }
  }));
