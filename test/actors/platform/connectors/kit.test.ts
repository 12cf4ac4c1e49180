import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker } from '../../../../actors/platform/connectors/kit/circuit-breaker.ts';
import { ConnectorError } from '../../../../actors/platform/connectors/kit/errors.ts';
import { retryAfterMs, scrub } from '../../../../actors/platform/connectors/kit/http.ts';
import { RateLimitExceeded, TokenBucket } from '../../../../actors/platform/connectors/kit/rate-limit.ts';
import type { SandboxServer } from '../../../../actors/platform/connectors/kit/sandbox.ts';
import { connectorHttpFor } from '../../../support/connectors.ts';
import { ItemsClient, itemsConnector, startItemsSandbox } from '../../../support/items-connector.ts';

async function withSandbox(run: (sandbox: SandboxServer) => Promise<void>): Promise<void> {
  const sandbox = await startItemsSandbox();
  try {
    await run(sandbox);
  } finally {
    await sandbox.close();
  }
}

test('an idempotent read is retried on 503 and succeeds, with every attempt reaching the sandbox', () =>
  withSandbox(async (sandbox) => {
    const { client } = connectorHttpFor<ItemsClient>(itemsConnector, { baseUrl: sandbox.url, policy: { retries: 2 } });
    const created = await client.create('cup');
    sandbox.faults.inject({ kind: 'status', status: 503, count: 2 });
    const item = await client.get(created.id);
    assert.equal(item.name, 'cup');
    assert.equal(sandbox.requests({ method: 'GET' }).length, 3);
  }));

test('a retry storm is bounded: a failing read is tried 1 + retries times, then the circuit refuses without calling', () =>
  withSandbox(async (sandbox) => {
    const { client, breaker, calls } = connectorHttpFor<ItemsClient>(itemsConnector, {
      baseUrl: sandbox.url,
      policy: { retries: 2, breakerFailureThreshold: 6, breakerCooldownMs: 60_000 },
    });
    sandbox.faults.inject({ kind: 'status', status: 500 });
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => client.get('1')));
    assert.ok(outcomes.every((o) => o.status === 'rejected'));
    const sent = sandbox.requests().length;
    // Ten calls with two retries each could make 30 requests; the breaker opened at 6 failures.
    assert.ok(sent <= 10 + 6, `the sandbox saw ${sent} requests`);
    assert.equal(breaker.state, 'open');
    const before = sandbox.requests().length;
    await assert.rejects(
      client.get('1'),
      (error: unknown) => error instanceof ConnectorError && error.code === 'circuit_open' && error.retryable,
    );
    assert.equal(sandbox.requests().length, before, 'an open circuit sends nothing');
    assert.ok(calls.some((c) => c.outcome === 'refused'));
  }));

test('a POST without an idempotency key is never retried; with one it is', () =>
  withSandbox(async (sandbox) => {
    const { client } = connectorHttpFor<ItemsClient>(itemsConnector, { baseUrl: sandbox.url, policy: { retries: 3 } });
    sandbox.faults.inject({ kind: 'status', status: 502, count: 1 });
    await assert.rejects(
      client.create('a'),
      (error: unknown) => error instanceof ConnectorError && error.status === 502 && error.retryable,
    );
    assert.equal(sandbox.requests({ method: 'POST' }).length, 1);
    sandbox.faults.inject({ kind: 'status', status: 502, count: 1 });
    const item = await client.create('b', 'key-1');
    assert.equal(item.name, 'b');
    assert.equal(sandbox.requests({ method: 'POST' }).length, 3);
    assert.equal(sandbox.requests({ method: 'POST' }).at(-1)?.headers['idempotency-key'], 'key-1');
  }));

test('Retry-After is honoured, and one longer than the policy allows is not waited for', () =>
  withSandbox(async (sandbox) => {
    const { client } = connectorHttpFor<ItemsClient>(itemsConnector, {
      baseUrl: sandbox.url,
      policy: { retries: 1, maxRetryAfterMs: 5_000 },
    });
    const { id } = await client.create('x');
    sandbox.faults.inject({ kind: 'status', status: 429, count: 1, retryAfterSeconds: 1 });
    const started = Date.now();
    await client.get(id);
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
    sandbox.faults.inject({ kind: 'status', status: 429, count: 1, retryAfterSeconds: 3600 });
    const before = sandbox.requests().length;
    await assert.rejects(
      client.get(id),
      (error: unknown) => error instanceof ConnectorError && error.code === 'partner_rate_limited' && error.retryable,
    );
    assert.equal(sandbox.requests().length, before + 1);
    assert.equal(retryAfterMs('2'), 2000);
    assert.ok(retryAfterMs(new Date(Date.now() + 10_000).toUTCString()) > 8000);
  }));

test('the circuit half-opens after the cooldown and one successful probe closes it', () =>
  withSandbox(async (sandbox) => {
    const { client, breaker } = connectorHttpFor<ItemsClient>(itemsConnector, {
      baseUrl: sandbox.url,
      policy: { retries: 0, breakerFailureThreshold: 2, breakerCooldownMs: 300 },
    });
    const { id } = await client.create('probe');
    sandbox.faults.inject({ kind: 'status', status: 503, count: 2 });
    await assert.rejects(client.get(id));
    await assert.rejects(client.get(id));
    assert.equal(breaker.state, 'open');
    // the point is the passing of time: the 300 ms cooldown, and a little more
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.equal((await client.get(id)).name, 'probe');
    assert.equal(breaker.state, 'closed');
  }));

test('a failed probe opens the circuit again, and only one probe goes out at a time', () => {
  let now = 0;
  const changes: string[] = [];
  const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, now: () => now, onChange: (c) => changes.push(c.to) });
  breaker.failure(false);
  assert.deepEqual(breaker.acquire(), { allowed: false, retryInMs: 1000 });
  now = 1000;
  const probe = breaker.acquire();
  assert.deepEqual(probe, { allowed: true, probe: true });
  assert.equal(breaker.acquire().allowed, false, 'a second caller waits for the probe');
  breaker.failure(true);
  assert.equal(breaker.state, 'open');
  now = 2500;
  assert.equal(breaker.acquire().allowed, true);
  breaker.success(true);
  assert.deepEqual(changes, ['open', 'halfOpen', 'open', 'halfOpen', 'closed']);
});

test('4xx answers are mapped with the partner code, are not retried, and do not open the circuit', () =>
  withSandbox(async (sandbox) => {
    const { client, breaker } = connectorHttpFor<ItemsClient>(itemsConnector, {
      baseUrl: sandbox.url,
      policy: { breakerFailureThreshold: 2 },
    });
    for (let i = 0; i < 3; i += 1) {
      await assert.rejects(
        client.get('missing'),
        (error: unknown) => error instanceof ConnectorError && error.code === 'NOT_FOUND' && !error.retryable && error.status === 404,
      );
    }
    assert.equal(breaker.state, 'closed');
    assert.equal(sandbox.requests().length, 3);
  }));

test('a business error inside a 2xx and a malformed body become typed errors', () =>
  withSandbox(async (sandbox) => {
    const { client } = connectorHttpFor<ItemsClient>(itemsConnector, { baseUrl: sandbox.url });
    await assert.rejects(
      client.create('refuse'),
      (error: unknown) => error instanceof ConnectorError && error.code === 'REFUSED' && error.integration === 'items',
    );
    sandbox.faults.inject({ kind: 'malformed', count: 1 });
    await assert.rejects(
      client.create('x'),
      (error: unknown) => error instanceof ConnectorError && error.code === 'bad_response' && !error.retryable,
    );
  }));

test('a call that gets no answer times out with a retryable error; a dropped connection is a network error', () =>
  withSandbox(async (sandbox) => {
    const { client } = connectorHttpFor<ItemsClient>(itemsConnector, { baseUrl: sandbox.url, policy: { timeoutMs: 200, retries: 1 } });
    sandbox.faults.inject({ kind: 'timeout' });
    await assert.rejects(
      client.get('1'),
      (error: unknown) => error instanceof ConnectorError && error.code === 'timeout' && error.retryable,
    );
    assert.equal(sandbox.requests().length, 2, 'a read that timed out is retried once');
    sandbox.faults.clear();
    sandbox.faults.inject({ kind: 'disconnect', count: 5 });
    await assert.rejects(
      client.create('y'),
      (error: unknown) => error instanceof ConnectorError && error.code === 'network_error' && error.retryable,
    );
  }));

test('credentials never appear in call records, even when the partner echoes them', () =>
  withSandbox(async (sandbox) => {
    const { client, calls } = connectorHttpFor<ItemsClient>(itemsConnector, {
      baseUrl: sandbox.url,
      credentials: { apiKey: 'wrong-key-999' },
    });
    client.key = 'wrong-key-999';
    await assert.rejects(client.get('1'), (error: unknown) => error instanceof ConnectorError && error.code === 'AUTH' && !error.retryable);
    const text = JSON.stringify(calls);
    assert.ok(!text.includes('wrong-key-999'));
    assert.equal(scrub('token=abcd1234 and abcd1234', ['abcd1234']).includes('abcd1234'), false);
  }));

test('the rate limit spaces calls out and refuses a caller that would wait too long', async () => {
  const bucket = new TokenBucket({ perSecond: 20, burst: 2 });
  const started = Date.now();
  await Promise.all(Array.from({ length: 6 }, () => bucket.take(5_000)));
  // two from the burst, four more at 20/s → at least ~200 ms
  assert.ok(Date.now() - started >= 180, `took ${Date.now() - started} ms`);
  const strict = new TokenBucket({ perSecond: 1, burst: 1 });
  await strict.take(0);
  await assert.rejects(strict.take(100), RateLimitExceeded);
});

test('a sandbox is controlled over HTTP too: faults, recorded requests, reset', () =>
  withSandbox(async (sandbox) => {
    const control = (method: string, path: string, body?: unknown) =>
      fetch(`${sandbox.url}/__sandbox/${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    assert.equal((await control('POST', 'faults', { kind: 'status', status: 418, count: 1, path: '/items' })).status, 201);
    assert.equal((await control('POST', 'faults', { kind: 'nonsense' })).status, 400);
    assert.equal((await fetch(`${sandbox.url}/items/1`)).status, 418);
    assert.equal((await fetch(`${sandbox.url}/items/1`)).status, 401, 'the fault was used up');
    const recorded = (await (await control('GET', 'requests')).json()) as {
      requests: Array<{ path: string; fault: string | null; status: number }>;
    };
    assert.deepEqual(
      recorded.requests.map((r) => [r.path, r.fault, r.status]),
      [
        ['/items/1', 'status', 418],
        ['/items/1', null, 401],
      ],
    );
    assert.equal((await control('POST', 'reset')).status, 204);
    assert.equal(sandbox.requests().length, 0);
    assert.equal((await control('GET', 'nothing')).status, 404);
  }));

test('a 4xx other than 408 and 425 is the request\'s fault: not retryable, sent once; 408 and 425 say "not now" and are retryable', () =>
  withSandbox(async (sandbox) => {
    const { client } = connectorHttpFor<ItemsClient>(itemsConnector, { baseUrl: sandbox.url, policy: { retries: 2 } });
    const { id } = await client.create('cup');
    const verdicts: Array<[number, string, boolean, number]> = [];
    for (const status of [400, 404, 409, 410, 422, 408, 425]) {
      const before = sandbox.requests({ method: 'GET' }).length;
      sandbox.faults.inject({ kind: 'status', status, count: 1 });
      const error = await client.get(id).then(
        () => assert.fail(`HTTP ${status} was taken as success`),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ConnectorError);
      verdicts.push([status, error.code, error.retryable, sandbox.requests({ method: 'GET' }).length - before]);
    }
    assert.deepEqual(verdicts, [
      [400, 'http_400', false, 1],
      [404, 'http_404', false, 1],
      [409, 'http_409', false, 1],
      [410, 'http_410', false, 1],
      [422, 'http_422', false, 1],
      [408, 'http_408', true, 1],
      [425, 'http_425', true, 1],
    ]);
  }));
