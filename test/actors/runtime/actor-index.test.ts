import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { ActorIndex } from '../../../actors/runtime/actor-index.ts';
import type { ActorDoc } from '../../../persistence/collections.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../../support/database.ts';
import { quietLogger } from '../../support/runtime-harness.ts';

const doc = (type: string, id: string, state: string, at: number, tags: string[] = [], revision = 1): ActorDoc => ({
  _id: `${type}/${id}`,
  type,
  id,
  version: 1,
  revision,
  state,
  status: 'active',
  tags,
  snapshot: '{}',
  runtime: { effects: [], timers: [] },
  createdAt: new Date(at),
  updatedAt: new Date(at),
});

test('the actor index loads the projection, answers filtered newest-first pages through a cursor, and keeps up with commits and other processes', async () => {
  const client = await new MongoClient(databaseUri()).connect();
  const db = client.db(uniqueDatabaseName('actor_index'));
  const actors = db.collection<ActorDoc>('actors');
  const base = Date.parse('2026-11-22T10:00:00Z');
  await actors.insertMany([
    ...Array.from({ length: 30 }, (_, i) =>
      doc('order', `O-${String(i).padStart(2, '0')}`, i % 3 === 0 ? 'paying' : 'completed', base + i * 1000, i === 7 ? ['alert'] : []),
    ),
    ...Array.from({ length: 10 }, (_, i) => doc('payment', `P-${i}`, 'succeeded', base + 500 + i * 1000)),
  ]);
  const index = new ActorIndex(actors, quietLogger, { refreshMs: 60_000 });
  try {
    index.start();
    await index.idle();
    assert.equal(index.ready, true);
    assert.equal(index.size, 40);
    assert.deepEqual(index.counts('order'), { paying: 10, completed: 20 });

    const seen: string[] = [];
    let cursor: { at: number; key: string } | undefined;
    for (;;) {
      const page = index.query({ type: 'order', limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.map((a) => a.id));
      const last = page.at(-1);
      if (page.length < 7 || !last) break;
      cursor = { at: last.updatedAt, key: last.key };
    }
    assert.equal(seen.length, 30);
    assert.deepEqual(seen.slice(0, 3), ['O-29', 'O-28', 'O-27'], 'newest first');
    assert.equal(new Set(seen).size, 30, 'no page repeats an actor');
    assert.deepEqual(
      index.query({ type: 'order', state: 'paying', limit: 3 }).map((a) => a.id),
      ['O-27', 'O-24', 'O-21'],
    );
    assert.deepEqual(
      index.query({ tag: 'alert', limit: 10 }).map((a) => a.key),
      ['order/O-07'],
    );
    assert.deepEqual(
      index.query({ q: 'P-', updatedBefore: base + 3000, limit: 10 }).map((a) => a.id),
      ['P-2', 'P-1', 'P-0'],
    );

    // a commit of this process: at once; an older revision never wins
    index.note({
      type: 'order',
      id: 'O-00',
      revision: 5,
      eventType: 'X',
      from: 'paying',
      to: 'cancelled',
      status: 'active',
      tags: [],
      previousTags: [],
      version: 1,
      at: base + 100_000,
      context: {},
    });
    assert.equal(index.query({ type: 'order', limit: 1 })[0]?.id, 'O-00');
    index.note({
      type: 'order',
      id: 'O-00',
      revision: 4,
      eventType: 'X',
      from: 'x',
      to: 'stale',
      status: 'active',
      tags: [],
      previousTags: [],
      version: 1,
      at: base + 200_000,
      context: {},
    });
    assert.equal(index.query({ type: 'order', limit: 1 })[0]?.state, 'cancelled');

    // another process's commit: through the projection on the next refresh
    await actors.insertOne(doc('shipment', 'S-1', 'inTransit', Date.now(), ['tracked']));
    await index.refresh();
    await eventually(
      () => (index.query({ type: 'shipment', limit: 5 }).length === 1 ? true : undefined),
      5_000,
      "the other process's actor",
    );
  } finally {
    index.stop();
    await db.dropDatabase();
    await client.close();
  }
});
