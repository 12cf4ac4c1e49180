import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { uniqueDatabaseName } from '../support/database.ts';
import { startHubProcess } from '../support/hub-process.ts';

/**
 * What an unfriendly client can do to the service from outside, first: hold
 * connections open by sending a byte a second.
 */

/** A socket that sends `request` one byte a second; resolves when the hub closes it, with what it answered. */
function slowClient(url: URL, request: string): { socket: Socket; closed: Promise<{ afterMs: number; answer: string }> } {
  const started = Date.now();
  const socket = connect(Number(url.port), url.hostname);
  let answer = '';
  let sent = 0;
  const drip = setInterval(() => {
    if (sent < request.length && !socket.destroyed) socket.write(request[sent++] ?? '');
  }, 1000);
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  socket.on('error', () => {});
  const closed = new Promise<{ afterMs: number; answer: string }>((resolve) =>
    socket.once('close', () => {
      clearInterval(drip);
      resolve({ afterMs: Date.now() - started, answer });
    }),
  );
  return { socket, closed };
}

test('slow clients are cut off after the configured timeouts while everyone else is served', async () => {
  const hub = await startHubProcess({
    dbName: uniqueDatabaseName('hostile-slow'),
    env: { HUB_HTTP_HEADERS_TIMEOUT_MS: '2000', HUB_HTTP_REQUEST_TIMEOUT_MS: '4000' },
  });
  const url = new URL(hub.url);
  const clients: Array<ReturnType<typeof slowClient>> = [];
  try {
    // 60 that never finish their headers, 20 that say nothing at all, 20 that announce a body and trickle it
    for (let i = 0; i < 60; i++)
      clients.push(slowClient(url, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`));
    for (let i = 0; i < 20; i++) clients.push(slowClient(url, ''));
    for (let i = 0; i < 20; i++) {
      const client = slowClient(url, 'x'.repeat(100));
      client.socket.write(`POST /webhooks/liqpay HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n`);
      clients.push(client);
    }

    // meanwhile the hub answers everyone else
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${hub.url}/health/live`);
      assert.equal(response.status, 200);
      await response.text();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const closedAll = await Promise.race([
      Promise.all(clients.map((client) => client.closed)),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 9_000)),
    ]);
    assert.ok(closedAll, `still open after 9 s: ${clients.filter((c) => !c.socket.destroyed).length} of ${clients.length}`);
    const headerClients = closedAll.slice(0, 80);
    const bodyClients = closedAll.slice(80);
    // the headers timeout (2 s) plus the interval connections are checked at (1 s) plus a margin
    for (const { afterMs } of headerClients) assert.ok(afterMs < 4_500, `a slow header was cut after ${afterMs} ms`);
    for (const { afterMs } of bodyClients) assert.ok(afterMs < 6_500, `a slow body was cut after ${afterMs} ms`);
    assert.ok(
      headerClients.some(({ answer }) => answer.startsWith('HTTP/1.1 408')),
      'a client that took too long is told 408',
    );

    const after = await fetch(`${hub.url}/health/live`);
    assert.equal(after.status, 200);
  } finally {
    for (const client of clients) client.socket.destroy();
    await hub.terminate();
  }
});
