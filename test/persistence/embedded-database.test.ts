import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoBulkWriteError, MongoClient, MongoServerError } from 'mongodb';
import { bulkWriteInCommands } from '../../persistence/bulk-write.ts';
import { openDatabaseServer, redactMongoUri, type DatabaseServer } from '../../persistence/embedded-database.ts';
import { eventually } from '../support/database.ts';

// These tests start their own FerretDB servers (whatever MONGODB_URI says): they test the starting.

const silent = () => {};
const owner = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/embedded-database-owner.ts');
const temporaryDirs: string[] = [];

async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hub-embedded-'));
  temporaryDirs.push(dir);
  return dir;
}

after(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function portAccepts(uri: string): Promise<boolean> {
  const { hostname, port } = new URL(uri);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs `body` against a fresh embedded server and client, then closes both. */
async function withServer(body: (client: MongoClient, server: DatabaseServer) => Promise<void>): Promise<void> {
  const server = await openDatabaseServer({ dataDir: await temporaryDir(), log: silent });
  const client = await MongoClient.connect(server.uri);
  try {
    await body(client, server);
  } finally {
    await client.close();
    await server.stop();
  }
}

test('without MONGODB_URI a real FerretDB starts on a free port, stores documents, and stop() closes the port', async () => {
  const dataDir = await temporaryDir();
  const logged: string[] = [];
  const server = await openDatabaseServer({ dataDir, log: (level, message) => logged.push(`${level} ${message}`) });
  assert.equal(server.kind, 'ferretdb');
  assert.match(server.uri, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
  assert.ok(logged.includes('info embedded FerretDB (SQLite) started'), logged.join('\n'));
  try {
    const client = await MongoClient.connect(server.uri);
    try {
      const things = client.db('embedded').collection<{ _id: string; n: number; nested: { list: string[] } }>('things');
      await things.insertOne({ _id: 'a', n: 1, nested: { list: ['x', 'y'] } });
      assert.deepEqual(await things.findOne({ _id: 'a' }), { _id: 'a', n: 1, nested: { list: ['x', 'y'] } });
    } finally {
      await client.close();
    }
    assert.ok(
      (await readdir(path.join(dataDir, 'ferretdb'))).some((name) => name.endsWith('.sqlite')),
      'SQLite files live under <dataDir>/ferretdb',
    );
  } finally {
    await server.stop();
  }
  assert.equal(await portAccepts(server.uri), false, 'the port refuses connections after stop()');
  await server.stop(); // a second stop() is harmless
});

test('data survives a stop and a restart on the same data directory', async () => {
  const dataDir = await temporaryDir();
  const first = await openDatabaseServer({ dataDir, log: silent });
  try {
    const client = await MongoClient.connect(first.uri);
    await client
      .db('durable')
      .collection<{ _id: string; n: number }>('things')
      .insertMany([
        { _id: 'a', n: 1 },
        { _id: 'b', n: 2 },
      ]);
    await client.close();
  } finally {
    await first.stop();
  }

  const second = await openDatabaseServer({ dataDir, log: silent });
  try {
    const client = await MongoClient.connect(second.uri);
    try {
      const things = client.db('durable').collection<{ _id: string; n: number }>('things');
      assert.deepEqual(await things.find({}).sort({ _id: 1 }).toArray(), [
        { _id: 'a', n: 1 },
        { _id: 'b', n: 2 },
      ]);
    } finally {
      await client.close();
    }
  } finally {
    await second.stop();
  }
});

test('a unique index refuses a duplicate insert with code 11000 (the runtime commits on this)', async () => {
  await withServer(async (client) => {
    const collection = client.db('unique').collection<{ _id: string; key: string }>('c');
    await collection.createIndex({ key: 1 }, { unique: true, name: 'key_1' });
    await collection.insertOne({ _id: '1', key: 'k' });
    const isDuplicate = (error: unknown) => error instanceof MongoServerError && error.code === 11000;
    await assert.rejects(collection.insertOne({ _id: '2', key: 'k' }), isDuplicate, 'duplicate on the secondary unique index');
    await assert.rejects(collection.insertOne({ _id: '1', key: 'other' }), isDuplicate, 'duplicate _id');
    assert.deepEqual(await collection.find({}).toArray(), [{ _id: '1', key: 'k' }], 'nothing was written by the refused inserts');
  });
});

test('concurrent inserts of one unique key: exactly one wins, the others get 11000', async () => {
  await withServer(async (client, server) => {
    const other = await MongoClient.connect(server.uri);
    try {
      const a = client.db('race').collection<{ _id: string; key: string }>('c');
      const b = other.db('race').collection<{ _id: string; key: string }>('c');
      await a.createIndex({ key: 1 }, { unique: true });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, n) => (n % 2 === 0 ? a : b).insertOne({ _id: `doc-${n}`, key: 'the-one' })),
      );
      const won = results.filter((result) => result.status === 'fulfilled');
      const lost = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      assert.equal(won.length, 1);
      assert.ok(
        lost.every((result) => (result.reason as { code?: unknown }).code === 11000),
        String(lost.map((result) => result.reason)),
      );
      assert.equal(await a.countDocuments({ key: 'the-one' }), 1);
    } finally {
      await other.close();
    }
  });
});

test('an unordered insertMany reports each duplicate at its own index and inserts the rest', async () => {
  await withServer(async (client) => {
    const collection = client.db('batch').collection<{ _id: string; idem: string }>('c');
    await collection.createIndex({ idem: 1 }, { unique: true, name: 'idem_1' });
    await collection.insertOne({ _id: 'x', idem: 'k1' });
    const docs = [
      { _id: 'd0', idem: 'n0' },
      { _id: 'x', idem: 'n1' }, // existing _id
      { _id: 'd2', idem: 'k1' }, // existing idem
      { _id: 'd3', idem: 'n3' },
      { _id: 'd3', idem: 'n4' }, // _id repeated within the batch
      { _id: 'd5', idem: 'n3' }, // idem repeated within the batch
      { _id: 'd6', idem: 'n6' },
    ];
    const error = await collection.insertMany(docs, { ordered: false }).then(
      () => assert.fail('the batch should have failed'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof MongoBulkWriteError, String(error));
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    assert.deepEqual(
      writeErrors.map((writeError) => [writeError.index, writeError.code]),
      [
        [1, 11000],
        [2, 11000],
        [4, 11000],
        [5, 11000],
      ],
    );
    assert.equal(error.result.insertedCount, 3);
    assert.deepEqual(
      (await collection.find({}).sort({ _id: 1 }).toArray()).map((doc) => doc._id),
      ['d0', 'd3', 'd6', 'x'],
    );
  });
});

test('an update into a taken unique key is refused and changes nothing (FerretDB answers code 1, not 11000)', async () => {
  await withServer(async (client) => {
    const collection = client.db('updates').collection<{ _id: string; idem: string }>('c');
    await collection.createIndex({ idem: 1 }, { unique: true, name: 'idem_1' });
    await collection.insertMany([
      { _id: 'a', idem: 'taken' },
      { _id: 'b', idem: 'free' },
    ]);
    // MongoDB says 11000 here; FerretDB 1.24 passes SQLite's UNIQUE failure on as InternalError (code 1).
    await assert.rejects(collection.updateOne({ _id: 'b' }, { $set: { idem: 'taken' } }), (error: unknown) => {
      return (
        error instanceof MongoServerError && (error.code === 11000 || (error.code === 1 && /UNIQUE constraint failed/.test(error.message)))
      );
    });
    assert.deepEqual(await collection.findOne({ _id: 'b' }), { _id: 'b', idem: 'free' });
  });
});

test('bulk updates of hundreds go through in commands of 50; FerretDB waits forever on one update command of 100', async () => {
  await withServer(async (client, server) => {
    const collection = client.db('bulk').collection<{ _id: string; n: number }>('items');
    await collection.insertMany(Array.from({ length: 300 }, (_, n) => ({ _id: `item-${n}`, n })));
    const updates = (count: number) =>
      Array.from({ length: count }, (_, n) => ({ updateOne: { filter: { _id: `item-${n}` }, update: { $inc: { n: 1000 } } } }));
    const within = <T>(work: Promise<T>, ms: number) =>
      Promise.race([
        work.then(() => 'done' as const),
        new Promise<'stalled'>((resolve) => setTimeout(() => resolve('stalled'), ms).unref()),
      ]);

    assert.equal(await within(bulkWriteInCommands(collection, updates(300)), 20_000), 'done');
    assert.equal(await collection.countDocuments({ n: { $gte: 1000 } }), 300);
    // the limit this works around: one command of 100 statements never answers (its own connection is dropped here)
    const stuck = await MongoClient.connect(server.uri);
    try {
      const command = stuck.db('bulk').collection<{ _id: string; n: number }>('items').bulkWrite(updates(100), { ordered: false });
      command.catch(() => undefined);
      assert.equal(await within(command, 3_000), 'stalled');
    } finally {
      await stuck.close(true);
    }
  });
});

test('lookups by _id are index searches, not table scans (FerretDB 1.24 alone would scan)', async () => {
  await withServer(async (client) => {
    const collection = client.db('lookups').collection<{ _id: string; n: number }>('many');
    await collection.insertMany(Array.from({ length: 5000 }, (_, n) => ({ _id: `doc-${n}`, n })));
    const plan = await eventually(
      async () => {
        // A real query first: SQLite's EXPLAIN QUERY PLAN answers from the connection's cached schema
        // (it never checks the schema cookie), so a pooled connection that has not run a statement since
        // the index appeared would still report a SCAN. Real statements re-prepare on a schema change.
        await collection.findOne({ _id: 'doc-1' });
        const explained = (await collection.find({ _id: 'doc-4321' }).explain()) as { queryPlanner?: { Plan?: string[] } };
        const text = (explained.queryPlanner?.Plan ?? []).join(' ');
        return /USING INDEX/.test(text) ? text : undefined;
      },
      10_000,
      'an index search in the query plan',
    );
    assert.match(plan, /SEARCH .* USING INDEX \S+_hub_id_lookup/);
    assert.deepEqual(await collection.findOne({ _id: 'doc-4321' }), { _id: 'doc-4321', n: 4321 });
  });
});

test('with MONGODB_URI nothing is started, the URI is used as given, and its credentials are not logged', async () => {
  const dataDir = path.join(await temporaryDir(), 'never-created');
  const logged: unknown[] = [];
  const uri = 'mongodb://hub-user:s3cr3t-pass@db.example:27017/?authSource=admin&tlsCertificateKeyFilePassword=also-secret';
  const started = Date.now();
  const server = await openDatabaseServer({ mongodbUri: uri, dataDir, log: (...entry) => logged.push(entry) });
  assert.deepEqual({ uri: server.uri, kind: server.kind }, { uri, kind: 'external' });
  assert.ok(Date.now() - started < 1000, 'returned at once');
  await assert.rejects(stat(dataDir), { code: 'ENOENT' }, 'no data directory was created: nothing was started');
  const text = JSON.stringify(logged);
  assert.ok(text.includes('db.example:27017'), text);
  assert.ok(!text.includes('s3cr3t-pass') && !text.includes('hub-user') && !text.includes('also-secret'), text);
  await server.stop();
});

test('redactMongoUri strips user:pass@ and secret query parameters', () => {
  assert.equal(redactMongoUri('mongodb://u:p@h1:1,h2:2/db?replicaSet=rs'), 'mongodb://h1:1,h2:2/db?replicaSet=rs');
  assert.equal(redactMongoUri('mongodb+srv://u:p%40ss@cluster.example/'), 'mongodb+srv://cluster.example/');
  assert.equal(
    redactMongoUri('mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:abc&w=1'),
    'mongodb://h/?authMechanismProperties=***&w=1',
  );
  assert.equal(redactMongoUri('mongodb://127.0.0.1:27017/'), 'mongodb://127.0.0.1:27017/');
});

test('if FerretDB cannot start, openDatabaseServer rejects with its stderr', async () => {
  const dataDir = await temporaryDir();
  await mkdir(path.join(dataDir, 'ferretdb'));
  await writeFile(path.join(dataDir, 'ferretdb', 'broken.sqlite'), 'this is not an SQLite database file, not at all; '.repeat(4));
  await assert.rejects(openDatabaseServer({ dataDir, log: silent }), /exited \(code 1\) before it was ready[\s\S]*file is not a database/);
});

test('the database does not outlive a SIGKILLed parent process', async () => {
  const dataDir = await temporaryDir();
  const parent = spawn(process.execPath, ['--import', 'tsx', owner, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const parentExited = new Promise<NodeJS.Signals | null>((resolve) => parent.once('exit', (_code, signal) => resolve(signal)));
  const uri = await new Promise<string>((resolve, reject) => {
    let out = '';
    parent.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    void parentExited.then((signal) => reject(new Error(`the owner process exited (${signal}) before printing a URI`)));
  });
  assert.match(uri, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(await portAccepts(uri), true, 'the FerretDB child is up');
  parent.kill('SIGKILL');
  assert.equal(await parentExited, 'SIGKILL');
  await eventually(async () => !(await portAccepts(uri)), 10_000, 'the orphaned FerretDB to exit');
});
