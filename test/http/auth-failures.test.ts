import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertInput } from '../../actors/platform/alerts/alerts.ts';
import { AuthenticationFailures } from '../../http/auth-failures.ts';

/** An alert sink that keeps what it is given (the alerts module itself is tested on its own). */
function collectingSink() {
  const raised: AlertInput[] = [];
  return { raised, raise: async (input: AlertInput) => raised.push(input) };
}

test('failures from one address raise an alert at the threshold, then once per further threshold in the window', async () => {
  const alerts = collectingSink();
  const failures = new AuthenticationFailures({ threshold: 5, windowMs: 60_000, alerts, now: () => 0 });
  for (let i = 1; i <= 4; i++) assert.equal(failures.record('203.0.113.7'), null, `failure ${i}`);
  await failures.record('203.0.113.7');
  assert.equal(alerts.raised.length, 1);
  assert.equal(alerts.raised[0]?.kind, 'auth_failures');
  assert.equal(alerts.raised[0]?.subject, '203.0.113.7');
  assert.deepEqual(alerts.raised[0]?.details, { address: '203.0.113.7', failuresInWindow: 5, windowMs: 60_000 });
  for (let i = 6; i <= 12; i++) await failures.record('203.0.113.7');
  assert.equal(alerts.raised.length, 2, 'again at 10, not at every failure');
  assert.equal(alerts.raised[1]?.details?.failuresInWindow, 10);
  // another address counts on its own
  for (let i = 0; i < 4; i++) await failures.record('198.51.100.1');
  assert.equal(alerts.raised.length, 2);
});

test('failures spread wider than the window never reach the threshold', async () => {
  let now = 0;
  const alerts = collectingSink();
  const failures = new AuthenticationFailures({ threshold: 3, windowMs: 1_000, alerts, now: () => now });
  for (let i = 0; i < 10; i++) {
    await failures.record('203.0.113.7');
    await failures.record('203.0.113.7');
    now += 1_000;
  }
  assert.equal(alerts.raised.length, 0);
  await failures.record('203.0.113.7');
  await failures.record('203.0.113.7');
  await failures.record('203.0.113.7');
  assert.equal(alerts.raised.length, 1);
});

test('the addresses held are bounded', () => {
  const failures = new AuthenticationFailures({ threshold: 3, windowMs: 60_000, maxKeys: 50 });
  for (let i = 0; i < 5_000; i++) failures.record(`10.0.${Math.floor(i / 256)}.${i % 256}`);
  assert.equal(failures.size, 50);
});
