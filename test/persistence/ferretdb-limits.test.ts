import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bulkWriteInCommands, MAX_STATEMENTS_PER_COMMAND } from '../../persistence/bulk-write.ts';
import { connectDatabase, type Database } from '../../persistence/database.ts';
import { databasePoolSizeFor, FERRETDB_CONNECTIONS_PER_DATABASE } from '../../persistence/ferretdb-limits.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';

interface LoadDoc {
  _id: string;
  n: number;
  by: string;
}

test('pool sizes: each process of a hub of N keeps its commands, one bulk write among them, within one FerretDB database’s connections', () => {
  assert.equal(databasePoolSizeFor(1), 32);
  for (let processes = 1; processes <= 10; processes += 1) {
    const pool = databasePoolSizeFor(processes);
    assert.ok(pool >= 2, `${processes} processes: ${pool}`);
    // what the processes' commands can hold at once: every command one connection, a bulk write its statements
    const held = processes * (pool - 1 + MAX_STATEMENTS_PER_COMMAND);
    assert.ok(held < FERRETDB_CONNECTIONS_PER_DATABASE, `${processes} processes × ${pool} connections hold ${held}`);
  }
});

test('three processes’ pools of update commands and bulk writes at full tilt on one database all finish', async () => {
  // Beyond FerretDB's connections (the old 50-statement bulk writes of three processes) every command on
  // the database waited for good: this run then never finishes and the race below fails.
  const processes = 3;
  const dbName = uniqueDatabaseName('ferretlimits');
  const poolSize = databasePoolSizeFor(processes);
  const connections: Database[] = [];
  try {
    for (let i = 0; i < processes; i += 1) connections.push(await connectDatabase(databaseUri(), dbName, { poolSize }));
    const load = (database: Database) => database.connection.db!.collection<LoadDoc>('ferretdb_load');
    const ids = Array.from({ length: 400 }, (_, i) => `doc-${i}`);
    await load(connections[0]!).insertMany(ids.map((_id) => ({ _id, n: 0, by: 'seed' })));

    const work = connections.flatMap((database, process) => [
      // a projection batch: replacements of every document, in commands of MAX_STATEMENTS_PER_COMMAND
      bulkWriteInCommands(
        load(database),
        ids.map((_id) => ({ replaceOne: { filter: { _id }, replacement: { _id, n: process, by: `bulk-${process}` } } })),
      ),
      // and as many single updates in flight as the pool allows
      ...Array.from({ length: poolSize }, async (_, lane) => {
        for (let i = lane; i < ids.length; i += poolSize)
          await load(database).updateOne({ _id: ids[i]! }, { $set: { by: `update-${process}-${lane}` } });
      }),
    ]);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      Promise.all(work).then(() => 'finished' as const),
      new Promise<'stuck'>((resolve) => {
        timer = setTimeout(() => resolve('stuck'), 90_000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, 'finished', 'every command finished');
    assert.equal(await load(connections[0]!).countDocuments({ by: { $ne: 'seed' } }), ids.length, 'every document was written');
  } finally {
    for (const database of connections) await database.close();
  }
});
