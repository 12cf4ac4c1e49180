import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoSandbox, type EchoSandbox } from '../../actors/platform/connectors/echo/sandbox.ts';
import { connectDatabase, type Database } from '../../persistence/database.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, type HubProcess } from '../support/hub-process.ts';

/**
 * Every test here kills a real service process with SIGKILL — no shutdown
 * hooks, no flushing — and checks what a fresh process finds.
 */

let echo: EchoSandbox;
const running = new Set<HubProcess>();

before(async () => {
  echo = await startEchoSandbox();
});

after(async () => {
  for (const hub of running) await hub.crash().catch(() => undefined);
  await echo.close();
});

async function hub(dbName: string, env: Record<string, string> = {}): Promise<HubProcess> {
  const started = await startHubProcess({ dbName, env: { ECHO_BASE_URL: echo.url, HUB_EFFECT_LEASE_MS: '1500', ...env } });
  running.add(started);
  return started;
}

async function crash(process: HubProcess): Promise<void> {
  await process.crash();
  running.delete(process);
}

async function readyAfterCycles(client: ReturnType<typeof hubClient>, cycles: number): Promise<void> {
  await eventually(
    async () => {
      const ready = await client.get('/health/ready');
      return ready.status === 200 && (ready.body.worker as { cycles: number }).cycles >= cycles;
    },
    15_000,
    `the worker to complete ${cycles} polls`,
  );
}

test('a crash after the 2xx loses nothing, and retrying unanswered requests applies each exactly once', async () => {
  const dbName = uniqueDatabaseName('crash2xx');
  const first = await hub(dbName);
  const client = hubClient(first.url);
  const actors = Array.from({ length: 10 }, (_, i) => `acc-${i}`);
  for (const id of actors) assert.equal((await client.post('/actors/probe', { id })).status, 201);

  // 300 events in flight from 20 concurrent senders; the process is killed in the middle.
  const events = Array.from({ length: 300 }, (_, i) => ({ actor: actors[i % actors.length]!, key: `ev-${i}` }));
  const acknowledged = new Set<string>();
  let next = 0;
  const sender = async () => {
    while (next < events.length) {
      const event = events[next++]!;
      try {
        const response = await client.post(
          `/actors/probe/${event.actor}/events`,
          { type: 'ADD', amount: 1 },
          { 'idempotency-key': event.key },
        );
        if (response.status === 200) acknowledged.add(event.key);
      } catch {
        // connection reset by the kill: unknown outcome, retried below
      }
    }
  };
  const senders = Array.from({ length: 20 }, sender);
  await eventually(() => acknowledged.size >= 100, 30_000, '100 acknowledged events');
  await crash(first);
  await Promise.all(senders);
  assert.ok(acknowledged.size < events.length, 'the kill must land while events are in flight');

  const second = await hub(dbName);
  const client2 = hubClient(second.url);
  const totals = new Map<string, number>();
  for (const id of actors) totals.set(id, ((await client2.get(`/actors/probe/${id}`)).body.context as { total: number }).total);
  const totalAfterCrash = [...totals.values()].reduce((a, b) => a + b, 0);
  assert.ok(
    totalAfterCrash >= acknowledged.size,
    `every acknowledged event survived (${totalAfterCrash} applied, ${acknowledged.size} acknowledged)`,
  );

  // The caller retries everything it is unsure of, with the same keys.
  for (const event of events) {
    const response = await client2.post(
      `/actors/probe/${event.actor}/events`,
      { type: 'ADD', amount: 1 },
      { 'idempotency-key': event.key },
    );
    assert.equal(response.status, 200);
    if (acknowledged.has(event.key)) assert.equal(response.headers.get('idempotent-replayed'), 'true');
  }
  let grandTotal = 0;
  for (const id of actors) {
    const view = await client2.get(`/actors/probe/${id}`);
    grandTotal += (view.body.context as { total: number }).total;
    assert.equal(view.body.revision, 1 + (view.body.context as { total: number }).total, 'one revision per applied event');
  }
  assert.equal(grandTotal, events.length, 'each event applied exactly once');
  await crash(second);
});

test('an effect in flight when the process is killed completes after restart, with one side effect', async () => {
  const dbName = uniqueDatabaseName('crasheffect');
  const first = await hub(dbName);
  const client = hubClient(first.url);
  await client.post('/actors/probe', { id: 'fx-1' });
  const requestsBefore = echo.requests();
  const sideEffectsBefore = echo.sideEffects();
  echo.hold();
  try {
    assert.equal((await client.post('/actors/probe/fx-1/events', { type: 'CALL', message: 'once' })).status, 200);
    await echo.waitForRequests(requestsBefore + 1);
    // The echo service has performed the side effect; its answer has not reached the hub.
    await crash(first);
  } finally {
    echo.release();
  }
  assert.equal(echo.sideEffects() - sideEffectsBefore, 1);

  const second = await hub(dbName);
  const client2 = hubClient(second.url);
  const view = await client2.waitForState('/actors/probe/fx-1', 'idle', 20_000);
  assert.equal((view.context as { lastResult: { echoed: string } }).lastResult.echoed, 'once');
  assert.equal(echo.sideEffects() - sideEffectsBefore, 1, 'the external side effect happened exactly once');
  assert.equal(echo.requests() - requestsBefore, 2, 'the call was retried once, with the same idempotency key');
  await crash(second);
});

test('an effect that completed before the kill is not repeated after restart', async () => {
  const dbName = uniqueDatabaseName('crashdone');
  const first = await hub(dbName);
  const client = hubClient(first.url);
  await client.post('/actors/probe', { id: 'fx-2' });
  const requestsBefore = echo.requests();
  await client.post('/actors/probe/fx-2/events', { type: 'CALL', message: 'done' });
  await client.waitForState('/actors/probe/fx-2', 'idle', 10_000);
  await crash(first);

  const second = await hub(dbName);
  const client2 = hubClient(second.url);
  await readyAfterCycles(client2, 3);
  assert.equal(echo.requests() - requestsBefore, 1, 'no second call');
  const view = await client2.get('/actors/probe/fx-2');
  assert.equal(view.body.revision, 3);
  await crash(second);
});

test('a durable timeout survives a kill: due while no process runs, it fires exactly once after the restart', async () => {
  const dbName = uniqueDatabaseName('crashtimer');
  const first = await hub(dbName);
  const client = hubClient(first.url);
  await client.post('/actors/probe', { id: 'tm-1', input: { timeoutMs: 2000 } });
  await client.post('/actors/probe', { id: 'tm-2', input: { timeoutMs: 2000 } });
  await client.post('/actors/probe/tm-1/events', { type: 'WAIT' });
  await client.post('/actors/probe/tm-2/events', { type: 'WAIT' });
  // both timers were committed by now, so they are due 2 s from now at the latest
  const dueBy = Date.now() + 2000;
  await client.post('/actors/probe/tm-2/events', { type: 'CANCEL' });
  await crash(first);
  // the point is the passing of time: the timers fall due while no process runs
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueBy - Date.now()) + 100));

  // Two processes come back at once; the timer still fires once.
  const second = await hub(dbName);
  const third = await hub(dbName);
  const client2 = hubClient(second.url);
  const view = await client2.waitForState('/actors/probe/tm-1', 'timedOut', 10_000);
  await readyAfterCycles(client2, 4);
  await readyAfterCycles(hubClient(third.url), 4);
  const settled = await client2.get('/actors/probe/tm-1');
  assert.equal((settled.body.context as { timeouts: number }).timeouts, 1);
  assert.equal(settled.body.revision, 3, 'init, WAIT, one timeout');
  assert.equal(view.revision, 3);
  const cancelled = await client2.get('/actors/probe/tm-2');
  assert.equal(cancelled.body.state, 'idle', 'a cancelled timer never fires');
  assert.equal(cancelled.body.revision, 3);
  await crash(second);
  await crash(third);
});

test('projections a killed process never wrote are repaired from the journal by the next one, without anyone loading the actors', async () => {
  const dbName = uniqueDatabaseName('crashprojection');
  // projections wait 10 s of quiet: the kill below lands before any of them is written
  const env = { HUB_PROJECTION_QUIET_MS: '10000', HUB_PROJECTION_REPAIR_AFTER_MS: '12000' };
  const first = await hub(dbName, env);
  const client = hubClient(first.url);
  const ids = Array.from({ length: 8 }, (_, i) => `pj-${i}`);
  for (const id of ids) assert.equal((await client.post('/actors/probe', { id })).status, 201);
  const committedAt = Date.now();
  await Promise.all(ids.map(async (id) => assert.equal((await client.post(`/actors/probe/${id}/events`, { type: 'FINISH' })).status, 200)));
  await crash(first);

  const database: Database = await connectDatabase(databaseUri(), dbName);
  try {
    // what a job that selects by state reads: the projections, never the journal
    const finished = () => database.collections.actors.countDocuments({ type: 'probe', state: 'finished' });
    assert.equal(await finished(), 0, 'the kill left every projection behind its journal');
    assert.equal(await database.collections.journal.countDocuments({ actor: { $in: ids.map((id) => `probe/${id}`) }, to: 'finished' }), 8);
    assert.ok((await database.collections.projectionsDue.countDocuments({})) > 0, 'the batches left their records');

    const second = await hub(dbName, env);
    await eventually(async () => (await finished()) === ids.length, 40_000, 'every projection repaired');
    assert.ok(Date.now() - committedAt >= 12_000, 'not before HUB_PROJECTION_REPAIR_AFTER_MS');
    assert.equal(await database.collections.projectionsDue.countDocuments({}), 0, 'and their records gone');
    const metrics = await hubClient(second.url).get('/metrics');
    assert.match(String(metrics.body), /^hub_actor_projections_repaired 8$/m);
    await crash(second);
  } finally {
    await database.close();
  }
});

test('two processes, 50 concurrent senders on one actor: every event once, revisions contiguous, state equals a serial replay', async () => {
  const dbName = uniqueDatabaseName('twowriters');
  const a = await hub(dbName);
  const b = await hub(dbName);
  const clients = [hubClient(a.url), hubClient(b.url)];
  await clients[0]!.post('/actors/probe', { id: 'shared' });
  const accepted: number[] = [];
  await Promise.all(
    Array.from({ length: 50 }, async (_, sender) => {
      const client = clients[sender % 2]!;
      for (let i = 0; i < 4; i += 1) {
        const amount = sender * 10 + i + 1;
        const response = await client.post(
          '/actors/probe/shared/events',
          { type: 'ADD', amount },
          { 'idempotency-key': `s${sender}-${i}` },
        );
        assert.equal(response.status, 200, JSON.stringify(response.body));
        accepted.push(amount);
      }
    }),
  );
  const database: Database = await connectDatabase(databaseUri(), dbName);
  try {
    const entries = await database.collections.journal.find({ actor: 'probe/shared' }).toArray();
    entries.sort((x, y) => x.revision - y.revision);
    assert.deepEqual(
      entries.map((e) => e.revision),
      Array.from({ length: 201 }, (_, i) => i + 1),
      'revisions 1..201, no gap, no duplicate',
    );
    const amounts = entries.slice(1).map((e) => (JSON.parse(e.event) as { amount: number }).amount);
    assert.deepEqual(
      [...amounts].sort((x, y) => x - y),
      [...accepted].sort((x, y) => x - y),
      'each accepted event exactly once',
    );
    const serial = amounts.reduce((sum, amount) => sum + amount, 0);
    for (const client of clients) {
      const view = await client.get('/actors/probe/shared');
      assert.equal(view.body.revision, 201);
      assert.equal((view.body.context as { total: number }).total, serial);
    }
  } finally {
    await database.close();
  }
  await crash(a);
  await crash(b);
});

test('SIGTERM finishes in-flight work and exits 0 within 10 s', async () => {
  const dbName = uniqueDatabaseName('sigterm');
  const process = await hub(dbName);
  const client = hubClient(process.url);
  await client.post('/actors/probe', { id: 'term-1' });
  const inFlight = Array.from({ length: 20 }, (_, i) =>
    client.post('/actors/probe/term-1/events', { type: 'ADD', amount: 1 }, { 'idempotency-key': `t${i}` }).catch(() => null),
  );
  const result = await process.terminate();
  running.delete(process);
  const responses = await Promise.all(inFlight);
  assert.equal(result.code, 0, process.output());
  assert.ok(result.ms < 10_000, `took ${result.ms} ms`);
  const acknowledged = responses.filter((r) => r?.status === 200).length;
  const database = await connectDatabase(databaseUri(), dbName);
  try {
    const stored = await database.collections.journal.countDocuments({ actor: 'probe/term-1' });
    assert.ok(stored - 1 >= acknowledged, 'every acknowledged event is stored');
  } finally {
    await database.close();
  }
});
