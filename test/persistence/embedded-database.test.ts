import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { openDatabaseServer } from '../../persistence/embedded-database.ts';
import { eventually } from '../support/database.ts';

const silent = () => {};
const owner = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/embedded-database-owner.ts');

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

test('without MONGODB_URI a real FerretDB starts on a free port, keeps data across restarts, and stops', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-embedded-'));
  const first = await openDatabaseServer({ dataDir, log: silent });
  assert.equal(first.kind, 'ferretdb');
  assert.match(first.uri, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
  const client = await MongoClient.connect(first.uri);
  await client.db('embedded').collection<{ _id: string; n: number }>('things').insertOne({ _id: 'a', n: 1 });
  await client.close();
  await first.stop();
  assert.equal(await portAccepts(first.uri), false, 'the port is closed after stop()');

  const second = await openDatabaseServer({ dataDir, log: silent });
  try {
    const again = await MongoClient.connect(second.uri);
    assert.deepEqual(await again.db('embedded').collection('things').findOne({ _id: 'a' as never }), { _id: 'a', n: 1 });
    await again.close();
  } finally {
    await second.stop();
  }
});

test('a unique index refuses a duplicate insert with code 11000 (the runtime commits on this)', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-embedded-'));
  const server = await openDatabaseServer({ dataDir, log: silent });
  const client = await MongoClient.connect(server.uri);
  try {
    const collection = client.db('unique').collection<{ _id: string; key: string }>('c');
    await collection.createIndex({ key: 1 }, { unique: true });
    await collection.insertOne({ _id: '1', key: 'k' });
    await assert.rejects(collection.insertOne({ _id: '2', key: 'k' }), (error: { code?: number }) => error.code === 11000);
    await assert.rejects(collection.insertOne({ _id: '1', key: 'other' }), (error: { code?: number }) => error.code === 11000);
  } finally {
    await client.close();
    await server.stop();
  }
});

test('lookups by _id are index searches, not table scans (FerretDB 1.24 alone would scan)', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-embedded-'));
  const server = await openDatabaseServer({ dataDir, log: silent });
  const client = await MongoClient.connect(server.uri);
  try {
    const collection = client.db('lookups').collection<{ _id: string; n: number }>('many');
    await collection.insertMany(Array.from({ length: 5000 }, (_, n) => ({ _id: `doc-${n}`, n })));
    const plan = await eventually(async () => {
      const explained = (await collection.find({ _id: 'doc-4321' }).explain()) as { queryPlanner?: { Plan?: string[] } };
      const text = (explained.queryPlanner?.Plan ?? []).join(' ');
      return /USING INDEX/.test(text) ? text : undefined;
    }, 10_000, 'an index search in the query plan');
    assert.match(plan, /SEARCH .* USING INDEX \S+_hub_id_lookup/);
    assert.deepEqual(await collection.findOne({ _id: 'doc-4321' }), { _id: 'doc-4321', n: 4321 });
  } finally {
    await client.close();
    await server.stop();
  }
});

test('with MONGODB_URI nothing is started and the URI is used as given', async () => {
  const server = await openDatabaseServer({ mongodbUri: 'mongodb://db.example:27017/', dataDir: '/nonexistent', log: silent });
  assert.deepEqual({ uri: server.uri, kind: server.kind }, { uri: 'mongodb://db.example:27017/', kind: 'external' });
  await server.stop();
});

test('the database does not outlive a killed parent process', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-embedded-'));
  const parent = spawn(process.execPath, ['--import', 'tsx', owner, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const uri = await new Promise<string>((resolve, reject) => {
    parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    parent.once('exit', (code) => reject(new Error(`owner exited with ${code}`)));
  });
  assert.equal(await portAccepts(uri), true);
  parent.kill('SIGKILL');
  await eventually(async () => !(await portAccepts(uri)), 10_000, 'the orphaned FerretDB to exit');
});
