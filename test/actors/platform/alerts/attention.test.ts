import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, setup } from 'xstate';
import { Alerts } from '../../../../actors/platform/alerts/alerts.ts';
import { alertOnAttention, ATTENTION_TAG } from '../../../../actors/platform/alerts/attention.ts';
import { defineMachineModule } from '../../../../machines/machine-module.ts';
import { alertsCollection } from '../../../../persistence/alerts.ts';
import { eventually, uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger, startRuntime } from '../../../support/runtime-harness.ts';

// A ticket that can get stuck: `stuck` is tagged for a person's attention, as an order's `blocked` will be.
const ticket = defineMachineModule({
  type: 'ticket',
  version: 1,
  description: 'test: a state that needs a person',
  migrations: {},
  machine: setup({
    types: {} as { context: { notes: number }; events: { type: 'JAM' } | { type: 'NOTE' } | { type: 'FREE' } },
  }).createMachine({
    id: 'ticket',
    initial: 'open',
    context: { notes: 0 },
    states: {
      open: { on: { JAM: 'stuck', NOTE: { actions: assign({ notes: ({ context }) => context.notes + 1 }) } } },
      stuck: { tags: [ATTENTION_TAG], on: { FREE: 'open', NOTE: { actions: assign({ notes: ({ context }) => context.notes + 1 }) } } },
    },
  }),
});

test('entering a state tagged "alert" raises one alert per entry; staying in it raises none; repeats of one actor group', async () => {
  const harness = await startRuntime({
    dbName: uniqueDatabaseName('attention'),
    machines: [ticket],
    startWorker: false,
    onTransitioned: (change) => listener(change),
  });
  const alerts = new Alerts({ collection: alertsCollection.open(harness.database.collections.db), channels: [], logger: quietLogger });
  const listener = alertOnAttention(alerts, quietLogger);
  const options = { origin: { kind: 'event' as const } };
  try {
    await harness.runtime.create('ticket', 't-1', undefined, options);
    await harness.runtime.send('ticket', 't-1', { type: 'NOTE' }, options);
    assert.equal((await alerts.list({})).alerts.length, 0, 'no alert outside a tagged state');

    await harness.runtime.send('ticket', 't-1', { type: 'JAM' }, options);
    const [raised] = await eventually(
      async () => {
        const { alerts: found } = await alerts.list({});
        return found.length > 0 ? found : undefined;
      },
      5_000,
      'the alert',
    );
    assert.equal(raised?.kind, 'actor_needs_attention');
    assert.equal(raised?.subject, 'ticket/t-1');
    assert.match(raised?.message ?? '', /ticket t-1 entered stuck \(on JAM\)/);

    await harness.runtime.send('ticket', 't-1', { type: 'NOTE' }, options);
    await harness.runtime.send('ticket', 't-1', { type: 'NOTE' }, options);
    await alerts.idle();
    assert.equal((await alerts.list({})).alerts[0]?.count, 1, 'staying in the state raised again');

    await harness.runtime.send('ticket', 't-1', { type: 'FREE' }, options);
    await harness.runtime.send('ticket', 't-1', { type: 'JAM' }, options);
    await eventually(async () => ((await alerts.list({})).alerts[0]?.count === 2 ? true : undefined), 5_000, 'the grouped repeat');
    assert.equal((await alerts.list({})).alerts.length, 1);

    await harness.runtime.create('ticket', 't-2', undefined, options);
    await harness.runtime.send('ticket', 't-2', { type: 'JAM' }, options);
    await eventually(async () => ((await alerts.list({})).alerts.length === 2 ? true : undefined), 5_000, "a second actor's own alert");
  } finally {
    await alerts.idle();
    await harness.database.collections.db.dropDatabase();
    await harness.close();
  }
});
