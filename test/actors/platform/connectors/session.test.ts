import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorError, partnerErrorCode } from '../../../../actors/platform/connectors/kit/errors.ts';
import { TokenSession } from '../../../../actors/platform/connectors/kit/session.ts';

function sessionWithClock(lifetimeMs: number | null) {
  let now = 1_000_000;
  let issued = 0;
  const session = new TokenSession(
    async () => {
      issued += 1;
      const token = `token-${issued}`;
      // a login takes a moment, so that callers arriving meanwhile find it in flight
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
      return { token, expiresAt: lifetimeMs === null ? null : now + lifetimeMs };
    },
    { renewBeforeMs: 1_000, now: () => now },
  );
  return { session, advance: (ms: number) => (now += ms), issued: () => issued };
}

test('a token is reused until a margin before it expires, then renewed', async () => {
  const { session, advance } = sessionWithClock(10_000);
  assert.equal(await session.obtain(), 'token-1');
  advance(8_999);
  assert.equal(await session.obtain(), 'token-1');
  advance(2);
  assert.equal(await session.obtain(), 'token-2');
  assert.equal(session.loginCount, 2);
});

test('a token with no stated expiry is kept until the partner refuses it', async () => {
  const { session, advance } = sessionWithClock(null);
  await session.obtain();
  advance(10 * 24 * 3600 * 1000);
  assert.equal(await session.obtain(), 'token-1');
});

test('concurrent callers share one login', async () => {
  const { session, issued } = sessionWithClock(60_000);
  const tokens = await Promise.all(Array.from({ length: 10 }, () => session.obtain()));
  assert.deepEqual(new Set(tokens), new Set(['token-1']));
  assert.equal(issued(), 1);
});

test('an expired-token error renews once and repeats the call once; other errors pass through untouched', async () => {
  const { session } = sessionWithClock(60_000);
  const seen: string[] = [];
  const expired = (error: ConnectorError) => error.code === 'expired';
  const result = await session.run(async (token) => {
    seen.push(token);
    if (token === 'token-1') throw new ConnectorError('x', partnerErrorCode('expired'), 'session expired', false, 401);
    return 'done';
  }, expired);
  assert.equal(result, 'done');
  assert.deepEqual(seen, ['token-1', 'token-2']);

  await assert.rejects(
    session.run(async () => {
      throw new ConnectorError('x', partnerErrorCode('expired'), 'still expired', false, 401);
    }, expired),
    /still expired/,
  );
  assert.equal(session.loginCount, 3, 'a second refusal must not loop');

  await assert.rejects(
    session.run(async () => {
      throw new ConnectorError('x', partnerErrorCode('other'), 'not about the token', false, 400);
    }, expired),
    /not about the token/,
  );
  assert.equal(session.loginCount, 3);
});

test('a failed login is not cached: the next call tries again', async () => {
  let attempts = 0;
  const session = new TokenSession(
    async () => {
      attempts += 1;
      if (attempts === 1) throw new ConnectorError('x', 'network_error', 'down', true);
      return { token: 'fresh', expiresAt: null };
    },
    { renewBeforeMs: 0 },
  );
  await assert.rejects(session.obtain(), /down/);
  assert.equal(await session.obtain(), 'fresh');
});
