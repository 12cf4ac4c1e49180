import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../http/rate-limiter.ts';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('a burst is allowed at once, the next request is refused with the time until a token is back', () => {
  const clock = manualClock();
  const limiter = new RateLimiter({ perMinute: 60, burst: 3, now: clock.now });
  for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('a'), { allowed: true, retryAfterMs: 0 });
  assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterMs: 1_000 });
  clock.advance(400);
  assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterMs: 600 });
});

test('the bucket refills at the rate and never above the burst', () => {
  const clock = manualClock();
  const limiter = new RateLimiter({ perMinute: 120, burst: 2, now: clock.now });
  assert.ok(limiter.take('a').allowed);
  assert.ok(limiter.take('a').allowed);
  assert.equal(limiter.take('a').allowed, false);
  clock.advance(500); // 2 a second: one token back
  assert.ok(limiter.take('a').allowed);
  assert.equal(limiter.take('a').allowed, false);
  clock.advance(60_000); // a minute idle fills the bucket to its burst, not to 120
  assert.ok(limiter.take('a').allowed);
  assert.ok(limiter.take('a').allowed);
  assert.equal(limiter.take('a').allowed, false);
});

test('each key has its own bucket', () => {
  const clock = manualClock();
  const limiter = new RateLimiter({ perMinute: 60, burst: 1, now: clock.now });
  assert.ok(limiter.take('a').allowed);
  assert.equal(limiter.take('a').allowed, false);
  assert.ok(limiter.take('b').allowed);
});

test('a token given back can be spent again, but the bucket holds no more than its burst', () => {
  const clock = manualClock();
  const limiter = new RateLimiter({ perMinute: 60, burst: 2, now: clock.now });
  assert.ok(limiter.take('a').allowed);
  assert.ok(limiter.take('a').allowed);
  limiter.giveBack('a');
  assert.ok(limiter.take('a').allowed);
  assert.equal(limiter.take('a').allowed, false);
  limiter.giveBack('a');
  limiter.giveBack('a');
  limiter.giveBack('a');
  assert.ok(limiter.take('a').allowed);
  assert.ok(limiter.take('a').allowed);
  assert.equal(limiter.take('a').allowed, false);
});

test('a flood of distinct keys holds no more buckets than the bound, evicting the least recently used', () => {
  const clock = manualClock();
  const limiter = new RateLimiter({ perMinute: 60, burst: 1, maxKeys: 100, now: clock.now });
  assert.ok(limiter.take('steady').allowed);
  for (let i = 0; i < 10_000; i++) {
    limiter.take(`flood-${i}`);
    assert.ok(limiter.size <= 100, `${limiter.size} buckets after ${i + 1} keys`);
    if (i % 50 === 0) limiter.take('steady'); // used often: it stays, and stays empty
  }
  assert.equal(limiter.size, 100);
  assert.equal(limiter.take('steady').allowed, false, 'a bucket in use is not evicted by the flood');
  // the flood's first keys were evicted: they come back with a full bucket
  assert.ok(limiter.take('flood-0').allowed);
});

test('buckets idle long enough to be full again are dropped', () => {
  const clock = manualClock();
  const limiter = new RateLimiter({ perMinute: 60, burst: 5, now: clock.now }); // full again 5 s after the last use
  for (let i = 0; i < 1_000; i++) limiter.take(`caller-${i}`);
  assert.equal(limiter.size, 1_000);
  clock.advance(4_000);
  limiter.take('late');
  assert.equal(limiter.size, 1_001, 'not yet full: kept');
  clock.advance(1_000);
  limiter.take('later');
  assert.equal(limiter.size, 2, 'only the buckets used within the last 5 s remain');
});
