import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, createInbox, headers, type NatsConnection } from '@nats-io/transport-node';
import { MongoClient } from 'mongodb';
import type { DomainEventMessage } from '../../actors/platform/events/publisher.ts';
import { openNatsServer, type NatsServer } from '../../persistence/embedded-nats/server.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, TEST_ADMIN_KEY, type HubProcess } from '../support/hub-process.ts';
import { orderBody, waitForOrder } from '../support/shop.ts';

/**
 * Domain events end to end: a hub process publishes every committed transition to a real nats-server
 * (JetStream), at least once, in order per actor, deduplicated by the commit id — also when the hub is
 * killed with SIGKILL in the middle of a burst of commits; commands come in on `hub.commands.<type>`.
 */

let dir = '';
let nats: NatsServer;
let nc: NatsConnection;
let hub: HubProcess;
let client: ReturnType<typeof hubClient>;
const dbName = uniqueDatabaseName('events');
let dataDir = '';

const hubEnv = () => ({ HUB_EVENTS: 'on', NATS_URL: nats.url });

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'events-'));
  dataDir = path.join(dir, 'hub');
  // the broker outlives the hub: it is the test's, as a company's NATS would be
  nats = await openNatsServer({ dataDir: path.join(dir, 'broker'), log: () => undefined });
  nc = await connect({ servers: nats.url });
  hub = await startHubProcess({ dbName, dataDir, env: hubEnv() });
  client = hubClient(hub.url);
});

after(async () => {
  await hub?.terminate();
  await nc?.close();
  await nats?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Every message of the stream HUB so far, in stream order. */
async function streamMessages(): Promise<Array<{ subject: string; message: DomainEventMessage }>> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info('HUB');
  if (state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get('HUB', { deliver_policy: DeliverPolicy.All });
  const found: Array<{ subject: string; message: DomainEventMessage }> = [];
  const messages = await consumer.fetch({ max_messages: state.messages, expires: 5_000 });
  for await (const m of messages) {
    found.push({ subject: m.subject, message: m.json<DomainEventMessage>() });
    if (found.length === state.messages) break;
  }
  return found;
}

async function outboxWaiting(): Promise<number> {
  const body = (await client.get('/admin/events')).body as { outbox: { waiting: number } };
  return body.outbox.waiting;
}

test("an order's transitions are published as hub.order.* and hub.payment.* with no personal data, described in /asyncapi.json", async () => {
  const product = await client.call('PUT', '/admin/products/EV-CUP', { name: 'Чашка', price: 25_000, stock: 10 });
  assert.ok(product.status === 200 || product.status === 201, JSON.stringify(product.body));
  const created = await client.post(
    '/orders',
    orderBody({
      externalId: 'EV-1',
      customer: { name: 'Софія Подієва', phone: '+380671112299', email: 'sofia.podiieva@example.com' },
      items: [{ sku: 'EV-CUP', name: 'Чашка', qty: 1, unitPrice: 25_000 }],
      total: 25_000,
    }),
    { 'Idempotency-Key': 'ev-1' },
  );
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await waitForOrder(client, 'EV-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');
  const events = await eventually(
    async () => {
      const all = await streamMessages();
      const ofOrder = all.filter((e) => e.message.type === 'order' && e.message.actorId === 'EV-1');
      return ofOrder.some((e) => e.message.event === 'awaitingPayment') && all.some((e) => e.subject.startsWith('hub.payment.'))
        ? all
        : undefined;
    },
    30_000,
    'the order awaiting payment, published',
  );
  const order = events.filter((e) => e.message.type === 'order' && e.message.actorId === 'EV-1');
  assert.deepEqual(
    order.map((e) => e.message.revision),
    order.map((_, i) => i + 1),
    'every revision, once, in order',
  );
  assert.equal(order[0]?.subject, 'hub.order.accepted');
  const last = order.at(-1)!;
  assert.equal(last.subject, 'hub.order.awaitingPayment');
  assert.deepEqual(Object.keys(last.message).sort(), ['actorId', 'data', 'event', 'id', 'occurredAt', 'revision', 'state', 'type']);
  assert.equal((last.message.data as { externalId: string; total: number }).total, 25_000);
  const text = JSON.stringify(events);
  for (const personal of ['Софія', '380671112299', 'sofia.podiieva']) assert.ok(!text.includes(personal), `${personal} is not published`);

  const asyncapi = (await (await fetch(`${hub.url}/asyncapi.json`)).json()) as {
    asyncapi: string;
    channels: Record<string, { address: string }>;
  };
  assert.equal(asyncapi.asyncapi, '3.0.0');
  const addresses = Object.values(asyncapi.channels).map((c) => c.address);
  for (const address of ['hub.order.paid', 'hub.order.awaitingPayment', 'hub.shipment.delivered', 'hub.commands.order'])
    assert.ok(addresses.includes(address), address);

  await eventually(async () => (await outboxWaiting()) === 0 || undefined, 30_000, 'the outbox drained');
  const view = (await client.get('/admin/events')).body as { connected: boolean; stream: { messages: number } };
  assert.equal(view.connected, true);
  assert.equal(view.stream.messages, (await streamMessages()).length);
  const metrics = await client.get('/metrics');
  assert.match(String(metrics.body), /hub_events_outbox_waiting 0/);
});

test('a hub killed with SIGKILL mid-burst: after a restart every committed transition is published exactly once, in order per actor', async () => {
  const actors = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
  for (const id of actors) assert.equal((await client.post('/actors/probe', { id })).status, 201);
  // 20 actors × 15 events, sent concurrently; the hub dies while they are being committed
  let sent = 0;
  const burst = Promise.all(
    actors.map(async (id) => {
      for (let n = 0; n < 15; n += 1) {
        const answer = await client
          .post(`/actors/probe/${id}/events`, { type: 'ADD', amount: 1 }, { 'Idempotency-Key': `${id}-${n}` })
          .catch(() => null);
        if (!answer || answer.status !== 200) return;
        sent += 1;
      }
    }),
  );
  await eventually(() => sent >= 60 || undefined, 30_000, 'commits under way');
  await hub.crash();
  await burst;
  hub = await startHubProcess({ dbName, dataDir, env: hubEnv() });
  client = hubClient(hub.url);
  await eventually(async () => (await outboxWaiting()) === 0 || undefined, 60_000, 'the outbox drained after the restart');

  // the journal is the truth: what was committed must be what was published
  const mongo = await MongoClient.connect(databaseUri());
  try {
    const journal = await mongo
      .db(dbName)
      .collection<{ actor: string; revision: number; commitId: string }>('journal')
      .find({ actor: { $in: actors.map((id) => `probe/${id}`) } }, { projection: { actor: 1, revision: 1, commitId: 1 } })
      .toArray();
    const published = (await streamMessages()).filter((e) => e.message.type === 'probe' && e.message.actorId.startsWith('burst-'));
    const ids = published.map((e) => e.message.id);
    assert.equal(new Set(ids).size, ids.length, 'no event twice in the stream');
    assert.deepEqual(
      published.map((e) => e.message.id).sort(),
      journal.map((entry) => entry.commitId).sort(),
      'every committed transition, and nothing that was not committed',
    );
    for (const id of actors) {
      const revisions = published.filter((e) => e.message.actorId === id).map((e) => e.message.revision);
      assert.deepEqual(
        revisions,
        revisions.map((_, i) => i + 1),
        `${id} in order`,
      );
    }
  } finally {
    await mongo.close();
  }
});

test('a command on hub.commands.probe is applied once under its message id, and its result comes back', async () => {
  assert.equal((await client.post('/actors/probe', { id: 'commanded' })).status, 201);
  const js = jetstream(nc);
  const replies = createInbox();
  const answers: unknown[] = [];
  const subscription = nc.subscribe(replies, {
    callback: (_error, message) => {
      answers.push(message.json());
    },
  });
  const send = async (msgID: string, body: unknown) => {
    const h = headers();
    h.set('Hub-Reply-To', replies);
    return js.publish('hub.commands.probe', JSON.stringify(body), { msgID, headers: h });
  };
  const first = await send('cmd-1', { id: 'commanded', event: { type: 'ADD', amount: 5 } });
  assert.equal(first.duplicate, false);
  const again = await send('cmd-1', { id: 'commanded', event: { type: 'ADD', amount: 5 } });
  assert.equal(again.duplicate, true, 'JetStream drops the repeat');
  await send('cmd-2', { id: 'commanded', event: { type: 'NO_SUCH_EVENT' } });
  await send('cmd-3', { nonsense: true });
  await eventually(() => answers.length >= 3 || undefined, 30_000, 'three replies');
  subscription.unsubscribe();
  const [applied, refused, invalid] = answers as Array<{ ok: boolean; actor?: { revision: number }; error?: { code: string } }>;
  assert.equal(applied?.ok, true);
  assert.equal(refused?.ok, false);
  assert.equal(invalid?.error?.code, 'invalid_command');
  const actor = (await client.get('/actors/probe/commanded')).body as { context: { total: number }; revision: number };
  assert.equal(actor.context.total, 5, 'applied once');
});

/** A POST on a connection of its own (a cluster hands out connections, not requests); answers status and worker. */
function postAlone(url: string, body: unknown, key: string): Promise<{ status: number; worker: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const sent = request(
      url,
      {
        method: 'POST',
        agent: false,
        timeout: 20_000,
        headers: {
          authorization: `Bearer ${TEST_ADMIN_KEY}`,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(payload)),
          'idempotency-key': key,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, worker: String(response.headers['x-hub-process'] ?? '') }));
      },
    );
    sent.on('timeout', () => sent.destroy(new Error('timed out')));
    sent.on('error', reject);
    sent.end(payload);
  });
}

test('three hub processes publish every transition once and in order per actor, while its events reach any of them', async () => {
  const cluster = await startHubProcess({ dbName: uniqueDatabaseName('events-cluster'), processes: 3, env: hubEnv() });
  try {
    const actors = Array.from({ length: 8 }, (_, i) => `spread-${i}`);
    const workers = new Set<string>();
    for (const id of actors) {
      const created = await postAlone(`${cluster.url}/actors/probe`, { id }, `create-${id}`);
      assert.equal(created.status, 201);
      workers.add(created.worker);
    }
    await Promise.all(
      actors.map(async (id) => {
        for (let n = 0; n < 12; n += 1) {
          const sent = await postAlone(`${cluster.url}/actors/probe/${id}/events`, { type: 'ADD', amount: 1 }, `${id}-${n}`);
          assert.equal(sent.status, 200);
          workers.add(sent.worker);
        }
      }),
    );
    assert.ok(workers.size >= 2, `answered by ${[...workers].join(', ')}`);
    const published = await eventually(
      async () => {
        const mine = (await streamMessages()).filter((e) => e.message.type === 'probe' && e.message.actorId.startsWith('spread-'));
        return mine.length >= actors.length * 13 ? mine : undefined;
      },
      60_000,
      'every transition published',
    );
    const ids = published.map((e) => e.message.id);
    assert.equal(new Set(ids).size, ids.length, 'none twice');
    for (const id of actors)
      assert.deepEqual(
        published.filter((e) => e.message.actorId === id).map((e) => e.message.revision),
        Array.from({ length: 13 }, (_, i) => i + 1),
        `${id}: every revision once, in order`,
      );
  } finally {
    await cluster.terminate();
  }
});
