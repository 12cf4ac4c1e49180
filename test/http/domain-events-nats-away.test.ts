import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureNatsServerBinary } from '../../persistence/embedded-nats/build.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, type HubProcess } from '../support/hub-process.ts';

/**
 * NATS away: a hub whose NATS does not answer still commits (events wait in the outbox, the admin view says
 * so), and once a nats-server appears at that address everything waiting is published, once each.
 */

let hub: HubProcess | null = null;
let nats: ChildProcess | null = null;
let dir = '';

after(async () => {
  await hub?.terminate();
  nats?.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface EventsView {
  connected: boolean;
  stream: { messages: number } | null;
  outbox: { waiting: number };
  publisher: { published: number; duplicates: number };
}

test('commits go on while NATS is away; its events wait in the outbox and are published once it is back', async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'nats-away-'));
  const port = await freePort();
  hub = await startHubProcess({ dbName: uniqueDatabaseName('nats-away'), env: { HUB_EVENTS: 'on', NATS_URL: `nats://127.0.0.1:${port}` } });
  const client = hubClient(hub.url);
  const view = async () => (await client.get('/admin/events')).body as unknown as EventsView;

  for (const id of ['away-1', 'away-2']) {
    assert.equal((await client.post('/actors/probe', { id })).status, 201, 'a creation is not held up');
    for (let n = 0; n < 5; n += 1)
      assert.equal(
        (await client.post(`/actors/probe/${id}/events`, { type: 'ADD', amount: 1 }, { 'Idempotency-Key': `${id}-${n}` })).status,
        200,
      );
  }
  const waiting = await view();
  assert.equal(waiting.connected, false);
  assert.equal(waiting.stream, null);
  assert.equal(waiting.outbox.waiting, 12, 'two creations and ten events, waiting');

  const binary = await ensureNatsServerBinary({ log: () => undefined });
  nats = spawn(binary, ['-js', '-sd', path.join(dir, 'store'), '-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const published = await eventually(
    async () => {
      const now = await view();
      return now.connected && now.outbox.waiting === 0 && (now.stream?.messages ?? 0) >= 12 ? now : undefined;
    },
    60_000,
    'the waiting events published',
  );
  assert.equal(published.stream?.messages, 12, 'each once');
});
