import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, setup } from 'xstate';
import { defineMachineModule, effect, type EffectFailure } from '../../../machines/machine-module.ts';
import { bindEffects } from '../../../actors/runtime/effects.ts';
import type { SandboxServer } from '../../../actors/platform/connectors/kit/sandbox.ts';
import { connectorHttpFor } from '../../support/connectors.ts';
import { uniqueDatabaseName } from '../../support/database.ts';
import { ItemsClient, itemsConnector, startItemsSandbox } from '../../support/items-connector.ts';
import { startRuntime, waitForState, type Harness } from '../../support/runtime-harness.ts';

/** Looks an item up at a partner through the connector kit: the effect a permanent 4xx must not repeat. */
interface LookupContext {
  itemId: string;
  name: string | null;
  failure: EffectFailure | null;
}

const lookup = defineMachineModule({
  type: 'lookup',
  version: 1,
  description: 'test: one item fetched from the items sandbox',
  migrations: {},
  machine: setup({
    types: {} as { context: LookupContext; input: { itemId: string } },
    actors: { fetchItem: effect<{ id: string; name: string }, { itemId: string }>() },
  }).createMachine({
    id: 'lookup',
    initial: 'fetching',
    context: ({ input }) => ({ itemId: input.itemId, name: null, failure: null }),
    states: {
      fetching: {
        invoke: {
          id: 'fetch',
          src: 'fetchItem',
          input: ({ context }) => ({ itemId: context.itemId }),
          onDone: { target: 'found', actions: assign({ name: ({ event }) => event.output.name }) },
          onError: { target: 'failed', actions: assign({ failure: ({ event }) => event.error as EffectFailure }) },
        },
      },
      found: { type: 'final' },
      failed: { type: 'final' },
    },
  }),
});

const MAX_ATTEMPTS = 5;
let sandbox: SandboxServer;
let client: ItemsClient;
let harness: Harness;

before(async () => {
  sandbox = await startItemsSandbox();
  // the kit's own retries stay on: a permanent answer must pass both the kit and the worker untried
  client = connectorHttpFor<ItemsClient>(itemsConnector, { baseUrl: sandbox.url, policy: { retries: 2 } }).client;
  harness = await startRuntime({
    dbName: uniqueDatabaseName('permanent'),
    machines: [lookup],
    effects: [bindEffects(lookup, { fetchItem: (input) => client.get(input.itemId) })],
    maxAttempts: MAX_ATTEMPTS,
    pollMs: 100,
  });
});

after(async () => {
  await harness.close();
  await sandbox.close();
});

test('a partner answering 400 inside an effect is called once: the machine gets the failure on the first attempt, not after five', async () => {
  const { id } = await client.create('cup');
  const before = sandbox.requests({ method: 'GET' }).length;
  sandbox.faults.inject({ kind: 'status', status: 400, count: 1 });
  await harness.runtime.of(lookup).create('lookup-400', { itemId: id }, { origin: { kind: 'event' } });
  const failed = await waitForState(harness.runtime, 'lookup', 'lookup-400', 'failed');
  assert.deepEqual((failed.context as LookupContext).failure, {
    code: 'http_400',
    message: 'items answered HTTP 400',
    retryable: false,
    attempts: 1,
  });
  assert.equal(sandbox.requests({ method: 'GET' }).length - before, 1, 'exactly one call reached the partner');
});

test('a partner answering 408 (a request time-out: not now, rather than not this) is tried again and the lookup succeeds', async () => {
  const { id } = await client.create('saucer');
  const before = sandbox.requests({ method: 'GET' }).length;
  sandbox.faults.inject({ kind: 'status', status: 408, count: 1 });
  await harness.runtime.of(lookup).create('lookup-408', { itemId: id }, { origin: { kind: 'event' } });
  const found = await waitForState(harness.runtime, 'lookup', 'lookup-408', 'found');
  assert.equal((found.context as LookupContext).name, 'saucer');
  assert.equal(sandbox.requests({ method: 'GET' }).length - before, 2, 'the refused attempt and the one that succeeded');
});
