import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MongoClient, MongoServerError } from 'mongodb';
import { openDatabaseServer, type DatabaseServer } from '../../persistence/embedded-database.ts';
import { findPostgreSqlBinaries } from '../../persistence/embedded-postgresql.ts';
import { ensurePrivateDir } from '../../persistence/private-files.ts';
import { eventually } from '../support/database.ts';
import { childrenOf } from '../support/processes.ts';

// Real PostgreSQL 15 (Debian's postgresql-15) under real FerretDB processes of ours; nothing is mocked.

const run = promisify(execFile);
const silent = () => {};
const owner = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/embedded-postgresql-owner.ts');
const asRoot = process.getuid?.() === 0;
const temporaryDirs: string[] = [];

async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hub-pg-'));
  temporaryDirs.push(dir);
  return dir;
}

after(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The embedded database's processes started by `owner`: the postmaster (its pid is its process group's) and the FerretDB front ends. */
async function serversOf(owner: number): Promise<{ postmaster: number; ferretDbs: number[] }> {
  const postmasters = await childrenOf(owner, 'postgres');
  assert.equal(postmasters.length, 1, `one postmaster: ${postmasters.join(', ')}`);
  return { postmaster: postmasters[0]!, ferretDbs: await childrenOf(owner, 'hub-ferretdb') };
}

function alive(pidOrGroup: number): boolean {
  try {
    process.kill(pidOrGroup, 0);
    return true;
  } catch {
    return false;
  }
}

/** What is left of them: the PostgreSQL process group (postmaster and backends), FerretDB processes. */
function leftOver(servers: { postmaster: number; ferretDbs: number[] }): string[] {
  return [
    ...(alive(-servers.postmaster) ? [`PostgreSQL's process group ${servers.postmaster}`] : []),
    ...servers.ferretDbs.filter(alive).map((pid) => `FerretDB ${pid}`),
  ];
}

/** psql as the cluster's superuser, through the private socket. */
async function sql(dataDir: string, query: string): Promise<string> {
  const bin = await findPostgreSqlBinaries();
  const { stdout } = await run(path.join(bin, 'psql'), [
    '-h',
    path.join(dataDir, 'postgresql/run'),
    '-U',
    'hub',
    '-d',
    'ferretdb',
    '-tAc',
    query,
  ]);
  return stdout.trim();
}

async function openPostgreSqlDatabase(dataDir: string, frontEnds: 1 | 2 = 1, logged?: string[]): Promise<DatabaseServer> {
  return openDatabaseServer({
    dataDir,
    embeddedDb: 'postgresql',
    frontEnds,
    log: logged ? (level, message) => logged.push(`${level} ${message}`) : silent,
  });
}

test('HUB_EMBEDDED_DB=postgresql: FerretDB on a real PostgreSQL reached only through a private socket, durable settings, nothing left after stop()', async () => {
  const dataDir = await temporaryDir();
  const logged: string[] = [];
  const server = await openPostgreSqlDatabase(dataDir, 2, logged);
  let servers = { postmaster: 0, ferretDbs: [] as number[] };
  try {
    assert.equal(server.kind, 'ferretdb');
    assert.equal(server.storage, 'postgresql');
    assert.equal(server.uris.length, 2);
    assert.equal(server.uri, server.uris[0]);
    assert.ok(logged.includes('info embedded PostgreSQL started'), logged.join('\n'));
    servers = await serversOf(process.pid);
    assert.equal(servers.ferretDbs.length, 2);

    const client = await MongoClient.connect(server.uri);
    try {
      const things = client.db('embedded').collection<{ _id: string; nested: { list: string[] } }>('things');
      await things.insertOne({ _id: 'a', nested: { list: ['x', 'y'] } });
      assert.deepEqual(await things.findOne({ _id: 'a' }), { _id: 'a', nested: { list: ['x', 'y'] } });
    } finally {
      await client.close();
    }

    // durability stays PostgreSQL's default, and there is no TCP listener at all
    assert.equal(await sql(dataDir, 'SHOW fsync'), 'on');
    assert.equal(await sql(dataDir, 'SHOW synchronous_commit'), 'on');
    assert.equal(await sql(dataDir, 'SHOW full_page_writes'), 'on');
    assert.equal(await sql(dataDir, 'SHOW listen_addresses'), '');
    assert.equal(await sql(dataDir, 'SHOW server_encoding'), 'UTF8');
    assert.equal(await sql(dataDir, 'SELECT count(*) FROM pg_stat_activity WHERE client_addr IS NOT NULL OR client_port <> -1'), '0');

    // modes: the socket's folder is the only way in (trust authentication relies on it)
    const base = await stat(path.join(dataDir, 'postgresql'));
    const socketDir = await stat(path.join(dataDir, 'postgresql/run'));
    assert.equal((socketDir.mode & 0o777).toString(8), '700');
    assert.equal((base.mode & 0o777).toString(8), '700');
    // what the hub does to DATA_DIR whenever it writes a key there: PostgreSQL must still reach its files afterwards
    await ensurePrivateDir(dataDir);
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      assert.equal(base.uid, Number(stdout.trim()), 'root runs PostgreSQL as the user postgres');
      assert.equal(socketDir.uid, base.uid);
      assert.equal(((await stat(dataDir)).mode & 0o777).toString(8), '711', 'DATA_DIR: traversable, not listable');
    } else {
      assert.equal(base.uid, process.getuid?.());
      assert.equal(((await stat(dataDir)).mode & 0o777).toString(8), '700');
    }
  } finally {
    await server.stop();
  }
  // a clean start and a clean stop: a PostgreSQL that lost its way to its own files would PANIC at its last checkpoint
  assert.deepEqual(
    logged.filter((line) => !line.startsWith('info ')),
    [],
    'no warnings or errors',
  );
  // (the wrapper's watcher may take a moment to see the pipe close and go)
  await eventually(() => (leftOver(servers).length === 0 ? true : undefined), 5_000, 'no process left after stop()');
  await server.stop(); // a second stop() is harmless
});

test('finds by _id are index searches on PostgreSQL too (FerretDB 1.24 alone would scan the table)', async () => {
  const dataDir = await temporaryDir();
  const server = await openPostgreSqlDatabase(dataDir);
  const client = await MongoClient.connect(server.uri);
  try {
    const collection = client.db('lookups').collection<{ _id: string; n: number }>('many');
    await collection.insertMany(Array.from({ length: 3000 }, (_, n) => ({ _id: `doc-${n}`, n })));
    const plan = await eventually(
      async () => {
        const explained = (await collection.find({ _id: 'doc-2345' }).explain()) as { queryPlanner?: unknown };
        const text = JSON.stringify(explained.queryPlanner ?? {});
        return /"Index Name":"hub_id_lookup_[0-9a-f]{32}"/.test(text) ? text : undefined;
      },
      10_000,
      'our GIN index in the query plan',
    );
    assert.doesNotMatch(plan, /Seq Scan/);
    assert.deepEqual(await collection.findOne({ _id: 'doc-2345' }), { _id: 'doc-2345', n: 2345 });
    // FerretDB's own view is unchanged: the index is ours, not in its metadata
    assert.deepEqual(
      (await collection.listIndexes().toArray()).map((index) => index.name as string),
      ['_id_'],
    );
  } finally {
    await client.close();
    await server.stop();
  }
});

test('an acknowledged write survives kill -9 of PostgreSQL (every process of it); the next start gets past its postmaster.pid', async () => {
  const dataDir = await temporaryDir();
  const logged: string[] = [];
  const first = await openPostgreSqlDatabase(dataDir, 1, logged);
  const acknowledged: string[] = [];
  try {
    const client = await MongoClient.connect(first.uri, { retryWrites: false });
    try {
      const journal = client.db('durable').collection<{ _id: string; n: number }>('journal');
      for (let n = 0; n < 40; n++) {
        await journal.insertOne({ _id: `entry-${n}`, n });
        acknowledged.push(`entry-${n}`);
      }
      // In the same tick as the last acknowledgement: nothing gets a chance to flush in between.
      process.kill(-(await serversOf(process.pid)).postmaster, 'SIGKILL');
    } finally {
      await client.close(true);
    }
    await eventually(() => logged.includes('error the embedded PostgreSQL exited unexpectedly'), 10_000, 'the launcher to notice');
  } finally {
    await first.stop();
  }
  assert.ok((await stat(path.join(dataDir, 'postgresql/cluster/postmaster.pid'))).isFile(), 'a kill -9 leaves postmaster.pid');

  const second = await openPostgreSqlDatabase(dataDir);
  try {
    const client = await MongoClient.connect(second.uri);
    try {
      const stored = await client.db('durable').collection<{ _id: string }>('journal').find({}).sort({ n: 1 }).toArray();
      assert.deepEqual(
        stored.map((doc) => doc._id),
        acknowledged,
      );
    } finally {
      await client.close();
    }
  } finally {
    await second.stop();
  }
});

test('a SIGKILLed hub leaves no PostgreSQL or FerretDB behind, and what they acknowledged is there at the next start', async () => {
  const dataDir = await temporaryDir();
  const parent = spawn(process.execPath, ['--import', 'tsx', owner, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const parentExited = new Promise<NodeJS.Signals | null>((resolve) => parent.once('exit', (_code, signal) => resolve(signal)));
  let servers = { postmaster: 0, ferretDbs: [] as number[] };
  try {
    const uri = await new Promise<string>((resolve, reject) => {
      parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      parent.once('exit', (code) => reject(new Error(`the owner exited (${code}) before it printed a URI`)));
    });
    servers = await serversOf(parent.pid!);
    assert.equal(servers.ferretDbs.length, 1);
    const client = await MongoClient.connect(uri);
    try {
      await client.db('orphans').collection<{ _id: string }>('acks').insertOne({ _id: 'before-the-kill' });
    } finally {
      await client.close();
    }
    parent.kill('SIGKILL');
    assert.equal(await parentExited, 'SIGKILL');
    await eventually(() => (leftOver(servers).length === 0 ? true : undefined), 30_000, 'no orphan left');
  } finally {
    if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    // a failed test leaves none
    if (servers.postmaster && alive(-servers.postmaster)) process.kill(-servers.postmaster, 'SIGKILL');
    for (const pid of servers.ferretDbs.filter(alive)) process.kill(pid, 'SIGKILL');
  }

  const next = await openPostgreSqlDatabase(dataDir);
  try {
    const client = await MongoClient.connect(next.uri);
    try {
      assert.deepEqual(await client.db('orphans').collection<{ _id: string }>('acks').find({}).toArray(), [{ _id: 'before-the-kill' }]);
    } finally {
      await client.close();
    }
  } finally {
    await next.stop();
  }
});

test('a postmaster.pid whose pid now belongs to another program (reused after a kill -9) does not stop the start', async () => {
  const dataDir = await temporaryDir();
  const first = await openPostgreSqlDatabase(dataDir);
  const pidFile = path.join(dataDir, 'postgresql/cluster/postmaster.pid');
  const live = await readFile(pidFile, 'utf8');
  await first.stop();
  // A live process of PostgreSQL's own user, so PostgreSQL itself would take it for a running postmaster and refuse.
  const postgresUser = asRoot ? await run('id', ['-u', 'postgres']).then(({ stdout }) => Number(stdout.trim())) : undefined;
  const stranger = spawn('sleep', ['60'], {
    stdio: 'ignore',
    ...(postgresUser === undefined ? {} : { uid: postgresUser, gid: postgresUser }),
  });
  try {
    await writeFile(pidFile, live.replace(/^\d+/, String(stranger.pid)));
    const second = await openPostgreSqlDatabase(dataDir);
    await second.stop();
    assert.equal(stranger.exitCode, null, 'the stranger was left alone');
  } finally {
    stranger.kill('SIGKILL');
  }
});

test('without PostgreSQL’s programs the start fails at once, naming the Debian package', async () => {
  const emptyBin = await temporaryDir();
  const dataDir = await temporaryDir();
  await assert.rejects(
    openDatabaseServer({ dataDir, embeddedDb: 'postgresql', postgresqlBinDir: emptyBin, log: silent }),
    (error: Error) => {
      assert.match(error.message, /postgresql-15/);
      assert.match(error.message, new RegExp(`found in none of: ${emptyBin}\\.`));
      assert.match(error.message, /HUB_EMBEDDED_DB=sqlite|MONGODB_URI/);
      return true;
    },
  );
  assert.deepEqual(await readdir(dataDir), [], 'nothing was created');
  assert.match(await findPostgreSqlBinaries(), /^\/usr\/lib\/postgresql\/\d+\/bin$/, 'found where Debian puts it');
});

test('with MONGODB_URI, HUB_EMBEDDED_DB=postgresql starts nothing and says it is ignored', async () => {
  const logged: string[] = [];
  const server = await openDatabaseServer({
    mongodbUri: 'mongodb://db.example:27017',
    embeddedDb: 'postgresql',
    dataDir: path.join(await temporaryDir(), 'never-created'),
    log: (level, message) => logged.push(`${level} ${message}`),
  });
  assert.deepEqual(
    { kind: server.kind, storage: server.storage, uris: server.uris },
    { kind: 'external', storage: null, uris: ['mongodb://db.example:27017'] },
  );
  assert.ok(
    logged.includes('info HUB_EMBEDDED_DB=postgresql is ignored: MONGODB_URI is set, so no embedded database starts'),
    logged.join('\n'),
  );
});

test('FerretDB loads collections and indexes once per front end: created through one after the other loaded them, they are unseen there', async () => {
  const server = await openPostgreSqlDatabase(await temporaryDir(), 2);
  const [a, b] = await Promise.all(server.uris.map((uri) => MongoClient.connect(uri, { retryWrites: false })));
  try {
    // Created through the first front end before the second is used: both see the same, and PostgreSQL enforces it.
    await a!.db('shared').collection<{ _id: string; key: string }>('keys').createIndex({ key: 1 }, { unique: true, name: 'key_1' });
    await a!.db('shared').collection<{ _id: string; key: string }>('keys').insertOne({ _id: 'k1', key: 'same' });
    assert.deepEqual(await b!.db('shared').collection<{ _id: string; key: string }>('keys').find({}).toArray(), [
      { _id: 'k1', key: 'same' },
    ]);
    assert.deepEqual(
      (await b!.db('shared').collection<{ _id: string; key: string }>('keys').listIndexes().toArray())
        .map((index) => index.name as string)
        .sort(),
      ['_id_', 'key_1'],
    );
    await assert.rejects(
      b!.db('shared').collection<{ _id: string; key: string }>('keys').insertOne({ _id: 'k2', key: 'same' }),
      (error: unknown) => error instanceof MongoServerError && error.code === 11000,
    );

    // Created through the first after the second loaded its metadata: the second reads nothing and cannot write.
    await a!.db('shared').collection<{ _id: string }>('late').insertOne({ _id: 'l1' });
    assert.deepEqual(await b!.db('shared').collection<{ _id: string }>('late').find({}).toArray(), [], 'invisible to the other front end');
    await assert.rejects(b!.db('shared').collection<{ _id: string }>('late').insertOne({ _id: 'l2' }), /already exists/);
    // hence scripts/cluster-primary.ts creates every collection through the first front end before any worker starts
  } finally {
    await Promise.all([a?.close(), b?.close()]);
    await server.stop();
  }
});
