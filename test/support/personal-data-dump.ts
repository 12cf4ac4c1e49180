import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Binary, MongoClient } from 'mongodb';
import { databaseUri } from './database.ts';

/**
 * "A dump of the database shows none of them": every collection of a hub's database and every file under
 * its DATA_DIR, searched for pieces of a person. A value kept as base64 or in a binary field counts as kept
 * in clear all the same, so those are decoded before the search.
 */

/** Every string a document holds, with what base64 and binary fields decode to. */
function textOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
    if (value.length >= 16 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) out.push(Buffer.from(value, 'base64').toString('utf8'));
  } else if (value instanceof Binary) {
    out.push(Buffer.from(value.buffer).toString('utf8'));
  } else if (Buffer.isBuffer(value)) {
    out.push(value.toString('utf8'));
  } else if (Array.isArray(value)) {
    for (const item of value) textOf(item, out);
  } else if (value instanceof Date) {
    // nothing personal in a date
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      textOf(item, out);
    }
  }
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** Where the dump holds any of the needles: `collection "id" holds "needle"` and `file name holds "needle"`; empty when nowhere. */
export async function personalDataInDump(options: { dbName: string; dataDir: string; needles: readonly string[] }): Promise<string[]> {
  const found = new Set<string>();
  const mongo = await MongoClient.connect(databaseUri());
  try {
    const db = mongo.db(options.dbName);
    for (const { name } of await db.listCollections().toArray()) {
      for (const doc of await db.collection(name).find({}).toArray()) {
        const text = textOf(doc).join('\n');
        for (const needle of options.needles)
          if (text.includes(needle)) found.add(`${name} ${JSON.stringify(String(doc._id))} holds "${needle}"`);
      }
    }
  } finally {
    await mongo.close();
  }
  for (const file of await filesUnder(options.dataDir)) {
    const text = textOf((await readFile(file)).toString('utf8')).join('\n');
    for (const needle of options.needles)
      if (text.includes(needle)) found.add(`file ${path.relative(options.dataDir, file)} holds "${needle}"`);
  }
  return [...found];
}
