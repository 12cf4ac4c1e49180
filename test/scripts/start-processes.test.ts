import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { MongoClient } from 'mongodb';
import { startEchoSandbox, type EchoSandbox } from '../../actors/platform/connectors/echo/sandbox.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, TEST_ADMIN_KEY, type HubProcess } from '../support/hub-process.ts';
import { orderBody, payOnPage, waitForOrder } from '../support/shop.ts';

/**
 * One hub of three processes (HUB_PROCESSES=3) on the test database: a
 * cluster primary and three workers sharing the port. The tests run in order
 * on it; the last one kills a worker.
 */

const PROCESSES = 3;
const dbName = uniqueDatabaseName('processes');
let echo: EchoSandbox;
let hub: HubProcess;
let mongo: MongoClient;
/** the workers' pids, as the first test found them */
let workers = new Set<number>();

before(async () => {
  echo = await startEchoSandbox();
  mongo = await new MongoClient(databaseUri()).connect();
  hub = await startHubProcess({
    dbName,
    processes: PROCESSES,
    env: { ECHO_BASE_URL: echo.url, HUB_EFFECT_LEASE_MS: '4000', HUB_MAIL_FROM: 'shop@example.com' },
  });
});

after(async () => {
  if (hub && hub.child.exitCode === null && hub.child.signalCode === null) await hub.terminate();
  await mongo?.close();
  await echo?.close();
});

interface Answer {
  status: number;
  /** X-Hub-Process: which worker answered */
  process: string;
  pid: number;
  /** Idempotent-Replayed: the first answer to this key, given again */
  replayed: boolean;
  body: Record<string, unknown>;
}

/**
 * A request on a connection of its own: the cluster hands out connections,
 * not requests, so a kept-alive connection would always reach one worker.
 */
function call(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 20_000): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<Answer>((resolve, reject) => {
    const sent = request(
      `${hub.url}${pathname}`,
      {
        method,
        agent: false,
        timeout: timeoutMs,
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
          const label = String(response.headers['x-hub-process'] ?? '');
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            process: label,
            pid: Number(/pid=(\d+)/.exec(label)?.[1] ?? Number.NaN),
            replayed: response.headers['idempotent-replayed'] === 'true',
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          });
        });
      },
    );
    sent.on('error', reject);
    sent.on('timeout', () => sent.destroy(new Error(`${method} ${pathname}: no answer within ${timeoutMs} ms`)));
    sent.end(payload);
  });
}

/** A text answer (the metrics) on a connection of its own, with the pid of the process that gave it. */
function callText(pathname: string): Promise<{ pid: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(`${hub.url}${pathname}`, { agent: false, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({
          pid: Number(/pid=(\d+)/.exec(String(response.headers['x-hub-process'] ?? ''))?.[1] ?? Number.NaN),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    sent.on('error', reject);
    sent.end();
  });
}

/** One sample of a Prometheus text exposition (`name{labels}` as written), 0 when absent. */
function metricValue(text: string, sample: string): number {
  const line = text.split('\n').find((row) => row.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

/** The workers' pids, from the processes that answer `count` connections. */
async function answeringPids(count: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < count; i += 1) pids.add((await call('GET', '/health/live')).pid);
  return pids;
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

test('the primary prints one address for all its processes, and every process serves requests on it', async () => {
  const listening = hub.output().match(/Integration hub listening on \S+ \((\d+) processes\)/g) ?? [];
  assert.deepEqual(
    listening.map((line) => line.replace(/listening on \S+/, 'listening on URL')),
    [`Integration hub listening on URL (${PROCESSES} processes)`],
    'said once, with the number of processes',
  );
  workers = await answeringPids(PROCESSES * 4);
  assert.equal(workers.size, PROCESSES, `answered by ${[...workers].join(', ')}`);
  assert.ok(!workers.has(hub.pid), 'the primary serves nothing itself');
});

test('events sent to one actor through every process at once are each applied exactly once', async () => {
  assert.equal((await call('POST', '/actors/probe', { id: 'counter' })).status, 201);
  const events = Array.from({ length: 150 }, (_, i) => `add-${i}`);
  const servedBy = new Set<number>();
  await concurrently(events, 15, async (key) => {
    const answer = await call('POST', '/actors/probe/counter/events', { type: 'ADD', amount: 1 }, { 'idempotency-key': key });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    servedBy.add(answer.pid);
  });
  assert.equal(servedBy.size, PROCESSES, 'every process took part');
  // repeats reach other processes than the first sending did: each recognises the key
  for (const key of events.slice(0, 10)) {
    const repeat = await call('POST', '/actors/probe/counter/events', { type: 'ADD', amount: 1 }, { 'idempotency-key': key });
    assert.equal(repeat.status, 200);
    assert.equal(repeat.replayed, true, `${key} answered from its first answer`);
  }
  const view = await call('GET', '/actors/probe/counter');
  assert.equal((view.body.context as { total: number }).total, events.length, 'no event lost, none applied twice');
  assert.equal(view.body.revision, 1 + events.length, 'one revision per event');
});

test("with each actor's commands routed to its owning process, those 150 events raced no stale copy", async () => {
  const metrics = new Map<number, string>();
  await eventually(
    async () => {
      const answer = await callText('/metrics');
      metrics.set(answer.pid, answer.text);
      return metrics.size === PROCESSES ? true : undefined;
    },
    20_000,
    'the metrics of every process',
  );
  const sum = (name: string) => [...metrics.values()].reduce((total, text) => total + metricValue(text, name), 0);
  // every event that reached a process other than the counter's owner was handed to the owner
  assert.ok(sum('hub_actor_routed_calls{outcome="here"}') >= 100, `routed: ${sum('hub_actor_routed_calls{outcome="here"}')}`);
  assert.equal(sum('hub_actor_routed_calls{outcome="lost"}'), 0);
  // without routing (HUB_ACTOR_ROUTING=off) the same run loses commit races to stale cached copies
  assert.equal(sum('hub_actor_revision_conflicts'), 0, 'no commit found its revision taken');
});

test('an order paid at the Monobank sandbox is confirmed whichever process handles the callback', async () => {
  // every process talks to one Monobank sandbox, the primary's
  const sandboxByProcess = new Map<number, unknown>();
  for (let i = 0; i < PROCESSES * 3; i += 1) {
    const view = await call('GET', '/admin/integrations/monobank');
    assert.equal(view.body.mode, 'sandbox');
    sandboxByProcess.set(view.pid, view.body.baseUrl);
  }
  assert.equal(sandboxByProcess.size, PROCESSES);
  assert.equal(new Set(sandboxByProcess.values()).size, 1, `one sandbox: ${JSON.stringify([...sandboxByProcess])}`);

  const client = hubClient(hub.url);
  assert.equal((await client.call('PUT', '/admin/products/CUP-1', { name: 'Чашка', price: 25_000, stock: 10 })).status, 201);
  const created = await client.post('/orders', orderBody({ externalId: 'PROC-1' }), { 'Idempotency-Key': 'proc-1' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const paying = await waitForOrder(client, 'PROC-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');
  // one sandbox for every process: the invoice created by one is the invoice the page pays and the others poll
  await payOnPage(String(paying.paymentUrl), 'success');
  const confirmed = await waitForOrder(client, 'PROC-1', (o) => o.state === 'fulfilment.awaitingShipment', 'confirmed');
  assert.equal(confirmed.state, 'fulfilment.awaitingShipment');
  for (let i = 0; i < PROCESSES * 2; i += 1) {
    const seen = await call('GET', '/orders/PROC-1');
    assert.equal(seen.body.state, 'fulfilment.awaitingShipment', `seen alike by process ${seen.process}`);
  }
});

test('a worker killed with SIGKILL is restarted; what it accepted stays, and the calls it held are finished by the others, once each', async () => {
  const leases = mongo.db(dbName).collection<{ _id: string; owner: string; effectId?: string }>('leases');
  const probes = Array.from({ length: 12 }, (_, i) => `fx-${i}`);
  for (const id of probes) assert.equal((await call('POST', '/actors/probe', { id })).status, 201);
  const requestsBefore = echo.requests();
  const sideEffectsBefore = echo.sideEffects();

  // Every call reaches the echo service, which performs it and holds its answer: the calls are in flight.
  echo.hold();
  let victim: number;
  let heldByVictim: string[];
  let requestsAtListing: number;
  try {
    await Promise.all(
      probes.map(async (id) => {
        const answer = await call('POST', `/actors/probe/${id}/events`, { type: 'CALL', message: id });
        assert.equal(answer.status, 200);
      }),
    );
    await echo.waitForRequests(requestsBefore + probes.length);
    // A worker claims an effect's attempt and renews the claim while its call waits, so each held call has one
    // claim, its sender's. Should a claim ever be taken over (a sender stalled past its lease), the first sender
    // still waits with the same key: an effect must be sent again after the kill only if every claim of it is
    // the victim's. Only the probes' effects count: another actor's effect (an order's, from a test before)
    // may hold a claim too.
    const probeEffects = await mongo
      .db(dbName)
      .collection<{ _id: string; type: string; actorId: string }>('effects')
      .find({ type: 'probe', actorId: { $in: probes } })
      .toArray();
    const probeEffectIds = new Set(probeEffects.map((effect) => effect._id));
    requestsAtListing = echo.requests();
    const sendersByEffect = new Map<string, Set<number>>();
    for (const lease of await leases.find({ effectId: { $in: [...probeEffectIds] } }).toArray()) {
      const effectId = String(lease.effectId);
      const pid = Number(/:(\d+):[^:]+$/.exec(lease.owner)?.[1]);
      sendersByEffect.set(effectId, (sendersByEffect.get(effectId) ?? new Set()).add(pid));
    }
    const onlyHeldBy = new Map<number, string[]>();
    for (const [effectId, senders] of sendersByEffect) {
      if (senders.size !== 1) continue;
      const [pid] = [...senders] as [number];
      onlyHeldBy.set(pid, [...(onlyHeldBy.get(pid) ?? []), effectId]);
    }
    // the worker that alone holds the most calls
    [victim, heldByVictim] = [...onlyHeldBy.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [Number.NaN, []];
    assert.ok(
      heldByVictim.length > 0,
      `some worker alone holds calls (${JSON.stringify([...sendersByEffect].map(([e, p]) => [e, [...p]]))})`,
    );
    assert.ok(workers.has(victim), `${victim} is one of the workers ${[...workers].join(', ')}`);
    process.kill(victim, 'SIGKILL');
  } finally {
    echo.release();
  }

  // Commands keep being accepted while the victim is gone and while it comes back.
  const events = Array.from({ length: 60 }, (_, i) => `after-kill-${i}`);
  const acknowledged = new Set<string>();
  await concurrently(events, 6, async (key) => {
    // A connection the dying worker had taken is reset; one the primary was handing it stays unanswered
    // (README, "Known limits"). Either way the outcome is unknown: retried below with the same key.
    const answer = await call('POST', '/actors/probe/counter/events', { type: 'ADD', amount: 1 }, { 'idempotency-key': key }, 3_000).catch(
      () => null,
    );
    if (answer?.status === 200) acknowledged.add(key);
  });
  assert.ok(acknowledged.size > 0);
  for (const key of events) {
    const answer = await call('POST', '/actors/probe/counter/events', { type: 'ADD', amount: 1 }, { 'idempotency-key': key });
    assert.equal(answer.status, 200);
    if (acknowledged.has(key)) assert.equal(answer.replayed, true, `${key} was accepted before`);
  }

  // the primary forks a new worker: three answer again, the killed one is not among them
  const pids = await eventually(
    async () => {
      const answering = await answeringPids(PROCESSES * 3);
      return answering.size === PROCESSES ? answering : undefined;
    },
    30_000,
    'three workers again',
  );
  assert.ok(!pids.has(victim), 'the killed worker is gone');
  assert.match(hub.output(), new RegExp(`a hub process ended; it is started again.*pid=${victim}.*signal=SIGKILL`));

  for (const id of probes) {
    const view = await hubClient(hub.url).waitForState(`/actors/probe/${id}`, 'idle', 30_000);
    assert.equal((view.context as { lastResult: { echoed: string } }).lastResult.echoed, id);
    assert.equal(view.revision, 3, `${id}: created, called, one result`);
  }
  assert.equal(echo.sideEffects() - sideEffectsBefore, probes.length, 'each call performed once at the echo service');
  // a takeover between the listing and the kill counts too: it also sends the call again
  assert.ok(
    echo.requests() - requestsAtListing >= heldByVictim.length,
    `the ${heldByVictim.length} calls only the killed worker held were made again (with their keys): ${echo.requests() - requestsAtListing} requests since`,
  );
  const counter = await call('GET', '/actors/probe/counter');
  assert.equal((counter.body.context as { total: number }).total, 150 + events.length, 'nothing accepted lost, nothing applied twice');
});

test('SIGTERM to the primary stops every worker gracefully, then the primary', async () => {
  const running = await answeringPids(PROCESSES * 3);
  const { code } = await hub.terminate();
  assert.equal(code, 0);
  for (const pid of running) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `worker ${pid} has ended`);
  assert.doesNotMatch(hub.output(), /did not stop in time|shutdown took too long/);
});
