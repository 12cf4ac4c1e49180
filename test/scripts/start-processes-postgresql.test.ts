import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, readlink, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { MongoClient } from 'mongodb';
import { startEchoSandbox, type EchoSandbox } from '../../actors/platform/connectors/echo/sandbox.ts';
import { allCollections } from '../../persistence/all-collections.ts';
import { AGENDA_COLLECTION } from '../../persistence/scheduler.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, TEST_ADMIN_KEY, type HubProcess } from '../support/hub-process.ts';
import { orderBody, payOnPage, waitForOrder } from '../support/shop.ts';
import { childrenOf } from '../support/processes.ts';

/**
 * `HUB_EMBEDDED_DB=postgresql` with three processes and no MONGODB_URI: the
 * primary starts PostgreSQL and two FerretDB front ends on it, and hands the
 * workers one or the other. Real processes throughout; the tests run in order
 * on one hub.
 */

const PROCESSES = 3;
const dbName = uniqueDatabaseName('pgcluster');
let echo: EchoSandbox;
let hub: HubProcess;

before(async () => {
  echo = await startEchoSandbox();
  hub = await startHubProcess({
    dbName,
    processes: PROCESSES,
    startTimeoutMs: 100_000, // initdb, PostgreSQL, two FerretDB and three workers on a shared two-core machine
    env: {
      MONGODB_URI: '', // blank is unset: the hub starts its embedded database
      HUB_EMBEDDED_DB: 'postgresql',
      ECHO_BASE_URL: echo.url,
      HUB_MAIL_FROM: 'shop@example.com',
    },
  });
});

after(async () => {
  if (hub && hub.child.exitCode === null && hub.child.signalCode === null) await hub.terminate();
  await echo?.close();
  if (hub) await rm(hub.dataDir, { recursive: true, force: true });
});

/** A request on a connection of its own (the cluster hands out connections), with the pid of the worker that answered. */
function call(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<{ status: number; pid: number; body: Record<string, unknown> }>((resolve, reject) => {
    const sent = request(
      `${hub.url}${pathname}`,
      {
        method,
        agent: false,
        timeout: 20_000,
        headers: {
          authorization: `Bearer ${TEST_ADMIN_KEY}`,
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
          ...headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            pid: Number(/pid=(\d+)/.exec(String(response.headers['x-hub-process'] ?? ''))?.[1] ?? Number.NaN),
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          });
        });
      },
    );
    sent.on('error', reject);
    sent.on('timeout', () => sent.destroy(new Error(`${method} ${pathname}: no answer in time`)));
    sent.end(payload);
  });
}

/** TCP sockets on the loopback, by inode: local and remote port, and whether it listens. */
async function tcpSockets(): Promise<Map<string, { local: number; remote: number; listening: boolean }>> {
  const sockets = new Map<string, { local: number; remote: number; listening: boolean }>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const port = (address: string) => parseInt(address.split(':')[1] ?? '0', 16);
      sockets.set(fields[9]!, { local: port(fields[1]!), remote: port(fields[2]!), listening: fields[3] === '0A' });
    }
  }
  return sockets;
}

/** The socket inodes a process holds. */
async function socketInodes(pid: number): Promise<string[]> {
  const inodes: string[] = [];
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.push(match[1]!);
  }
  return inodes;
}

/** The hub's FerretDB front ends (the primary's hub-ferretdb children): pid and the port each listens on. */
async function frontEnds(): Promise<Array<{ pid: number; port: number }>> {
  const sockets = await tcpSockets();
  const found: Array<{ pid: number; port: number }> = [];
  for (const pid of await childrenOf(hub.pid, 'hub-ferretdb')) {
    const listening = (await socketInodes(pid)).map((inode) => sockets.get(inode)).find((socket) => socket?.listening);
    if (listening) found.push({ pid, port: listening.local });
  }
  return found;
}

/** The front-end ports a worker holds connections to. */
async function frontEndPortsOf(pid: number, ports: number[]): Promise<number[]> {
  const sockets = await tcpSockets();
  const remotes = (await socketInodes(pid)).map((inode) => sockets.get(inode)?.remote ?? 0);
  return ports.filter((port) => remotes.includes(port));
}

/** Runs `work` over `items` from `senders` concurrent loops. */
async function concurrently<T>(items: T[], senders: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

test('the primary runs two FerretDB front ends on one PostgreSQL and the workers are spread over both', async () => {
  const ferretDbs = await frontEnds();
  assert.equal(ferretDbs.length, 2, JSON.stringify(ferretDbs));
  const ports = ferretDbs.map((frontEnd) => frontEnd.port);

  const workers = new Set<number>();
  for (let i = 0; i < PROCESSES * 4; i += 1) workers.add((await call('GET', '/health/live')).pid);
  assert.equal(workers.size, PROCESSES, `answered by ${[...workers].join(', ')}`);

  const byFrontEnd = new Map<number, number[]>();
  for (const worker of workers) {
    const used = await frontEndPortsOf(worker, ports);
    assert.equal(used.length, 1, `worker ${worker} talks to one front end (${used.join(', ')})`);
    byFrontEnd.set(used[0]!, [...(byFrontEnd.get(used[0]!) ?? []), worker]);
  }
  assert.deepEqual(
    [...byFrontEnd.values()].map((pids) => pids.length).sort(),
    [1, 2],
    'workers 1 and 3 on the first front end, worker 2 on the second',
  );
});

test('events sent to one actor through every worker (so through both front ends) are each applied once', async () => {
  assert.equal((await call('POST', '/actors/probe', { id: 'counter' })).status, 201);
  const events = Array.from({ length: 90 }, (_, i) => `add-${i}`);
  const servedBy = new Set<number>();
  await concurrently(events, 9, async (key) => {
    const answer = await call('POST', '/actors/probe/counter/events', { type: 'ADD', amount: 1 }, { 'idempotency-key': key });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    servedBy.add(answer.pid);
  });
  assert.equal(servedBy.size, PROCESSES, 'every worker took part');
  const view = await call('GET', '/actors/probe/counter');
  assert.equal((view.body.context as { total: number }).total, events.length, 'no event lost, none applied twice');
  assert.equal(view.body.revision, 1 + events.length);
});

test('an order flows from acceptance through payment at the sandbox to confirmation, seen alike by every worker', async () => {
  const client = hubClient(hub.url);
  assert.equal((await client.call('PUT', '/admin/products/CUP-1', { name: 'Чашка', price: 25_000, stock: 10 })).status, 201);
  const created = await client.post('/orders', orderBody({ externalId: 'PG-1' }), { 'Idempotency-Key': 'pg-1' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const paying = await waitForOrder(client, 'PG-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');
  await payOnPage(String(paying.paymentUrl), 'success');
  await waitForOrder(client, 'PG-1', (o) => o.state === 'fulfilment.awaitingShipment', 'confirmed');
  const seenBy = new Set<number>();
  for (let i = 0; i < PROCESSES * 3; i += 1) {
    const seen = await call('GET', '/orders/PG-1');
    assert.equal(seen.body.state, 'fulfilment.awaitingShipment', `seen alike by worker ${seen.pid}`);
    seenBy.add(seen.pid);
  }
  assert.ok(seenBy.size > 1, 'answers from several workers');
});

test('both front ends know the same collections and indexes: every one was created through the first before the second was used', async () => {
  const ports = (await frontEnds()).map((frontEnd) => frontEnd.port);
  const views = await Promise.all(
    ports.map(async (port) => {
      const client = await MongoClient.connect(`mongodb://127.0.0.1:${port}/`);
      try {
        const db = client.db(dbName);
        const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((collection) => collection.name).sort();
        const indexes = await Promise.all(
          names.map(
            async (name) =>
              `${name}: ${(await db.collection(name).listIndexes().toArray())
                .map((index) => index.name as string)
                .sort()
                .join(' ')}`,
          ),
        );
        return { names, indexes };
      } finally {
        await client.close();
      }
    }),
  );
  const [first, second] = views;
  assert.ok(first && second);
  for (const declared of [...allCollections.map((collection) => collection.name), AGENDA_COLLECTION]) {
    assert.ok(first.names.includes(declared), `${declared} exists`);
  }
  assert.deepEqual(second.names, first.names, 'the same collections');
  assert.deepEqual(second.indexes, first.indexes, 'the same indexes');
});

test('SIGTERM to the primary stops the workers, the front ends and PostgreSQL', async () => {
  const ferretDbs = await frontEnds();
  const postmasters = await childrenOf(hub.pid, 'postgres');
  assert.equal(postmasters.length, 1, 'the primary runs one PostgreSQL');
  const { code } = await hub.terminate();
  assert.equal(code, 0);
  assert.doesNotMatch(hub.output(), /did not stop in time|shutdown took too long|exited unexpectedly/);
  // every process of the hub kept PostgreSQL's way to its files (DATA_DIR), or its last checkpoint would PANIC
  assert.doesNotMatch(hub.output(), /postgres: .*(FATAL|PANIC|ERROR):/);
  for (const { pid } of ferretDbs) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `front end ${pid} has ended`);
  // PostgreSQL and its backends are one process group, the postmaster's
  await eventually(
    () => {
      try {
        process.kill(-postmasters[0]!, 0);
        return undefined;
      } catch {
        return true;
      }
    },
    10_000,
    'PostgreSQL to end',
  );
});
