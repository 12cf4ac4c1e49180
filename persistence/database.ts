import mongoose from 'mongoose';
import { collectionsOf, ensureCollections, type Collections } from './collections.ts';
import { MAX_POOL_SIZE } from './ferretdb-limits.ts';

export interface Database {
  connection: mongoose.Connection;
  collections: Collections;
  close(): Promise<void>;
  ping(): Promise<boolean>;
}

/**
 * Connects to `uri` / `dbName`, creates the runtime's collections and indexes.
 * Mongoose holds only the connection (pool, server selection); collections are
 * declared with `defineCollection` and used through the driver.
 */
export async function connectDatabase(uri: string, dbName: string, options: { poolSize?: number } = {}): Promise<Database> {
  const connection = mongoose.createConnection(uri, {
    dbName,
    serverSelectionTimeoutMS: 10_000,
    maxPoolSize: options.poolSize ?? MAX_POOL_SIZE,
    autoIndex: false,
    autoCreate: false,
  });
  await connection.asPromise();
  const db = connection.db;
  if (!db) throw new Error('database handle missing after connect');
  await ensureCollections(db);
  return {
    connection,
    collections: collectionsOf(db),
    async close() {
      await connection.close();
    },
    async ping() {
      try {
        await db.command({ ping: 1 });
        return true;
      } catch {
        return false;
      }
    },
  };
}
