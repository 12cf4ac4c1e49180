import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, type HubProcess } from '../support/hub-process.ts';

/**
 * What an unfriendly client can do to the service from outside: call it as
 * fast as it can, with one API key, from one address, or guessing keys.
 * The hub runs with tight limits and nothing exempt; X-Forwarded-For from the
 * test (a trusted proxy on loopback) stands for distinct callers.
 */

const API_BURST = 8;
const PUBLIC_BURST = 4;
const AUTH_FAILURE_THRESHOLD = 3;
/** what the test's callers present as a guessed key; it must appear nowhere in the hub's output */
const GUESSED_KEY = 'hub_GuessedKeyThatMustNeverBeLogged0123456789';

let hub: HubProcess;
let admin: ReturnType<typeof hubClient>;

before(async () => {
  hub = await startHubProcess({
    dbName: uniqueDatabaseName('hostile-limits'),
    env: {
      LOG_LEVEL: 'http',
      HUB_SANDBOXES: 'off',
      HUB_TRUSTED_PROXIES: '127.0.0.1',
      HUB_RATE_LIMIT_EXEMPT: 'none',
      // one token a second: a refused caller is told to come back in 1 s
      HUB_RATE_LIMIT_API_PER_MINUTE: '60',
      HUB_RATE_LIMIT_API_BURST: String(API_BURST),
      HUB_RATE_LIMIT_PUBLIC_PER_MINUTE: '60',
      HUB_RATE_LIMIT_PUBLIC_BURST: String(PUBLIC_BURST),
      HUB_AUTH_FAILURE_ALERT_THRESHOLD: String(AUTH_FAILURE_THRESHOLD),
      HUB_AUTH_FAILURE_WINDOW_MS: '60000',
    },
  });
  admin = hubClient(hub.url);
});

after(async () => {
  await hub.terminate();
});

const from = (address: string) => ({ 'x-forwarded-for': address });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function assertTooMany(response: { status: number; headers: Headers; body: { error?: { code: string } } }, label: string): number {
  assert.equal(response.status, 429, `${label}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.error?.code, 'too_many_requests', label);
  const retryAfter = response.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^[1-9]\d*$/, `${label}: Retry-After in whole seconds, got ${retryAfter}`);
  return Number(retryAfter);
}

async function webhook(address: string): Promise<{ status: number; headers: Headers; body: { error?: { code: string } } }> {
  const response = await fetch(`${hub.url}/webhooks/liqpay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...from(address) },
    body: 'data=e30%3D&signature=Zm9yZ2Vk',
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { error?: { code: string } } };
}

test('one API key over its rate is answered 429 with Retry-After while another key still passes, and recovers after the wait', async () => {
  const created = await admin.post('/admin/api-keys', { name: 'eager reader', role: 'viewer' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  // from one address with a budget of 4: authenticated requests do not spend it, only the key's own 8 count
  const reader = hubClient(hub.url, String(created.body.key));
  for (let i = 1; i <= API_BURST; i++) {
    const answer = await reader.get('/admin/alerts', from('192.0.2.50'));
    assert.equal(answer.status, 200, `request ${i} of the burst: ${JSON.stringify(answer.body)}`);
  }
  const refused = await reader.get('/admin/alerts', from('192.0.2.50'));
  const retryAfter = assertTooMany(refused, 'the key past its burst');
  assert.equal(retryAfter, 1);
  assert.equal((await reader.get('/admin/jobs', from('192.0.2.51'))).status, 429, 'the limit is the key, whatever its address');

  assert.equal((await admin.get('/admin/alerts')).status, 200, 'another key is not limited');

  await sleep(retryAfter * 1000 + 100);
  assert.equal((await reader.get('/admin/alerts', from('192.0.2.50'))).status, 200, 'after Retry-After the key passes again');
});

test('one address over its rate on a webhook is answered 429 on every public endpoint while another address is served', async () => {
  for (let i = 1; i <= PUBLIC_BURST; i++) {
    const answer = await webhook('203.0.113.10');
    assert.equal(answer.status, 503, `delivery ${i} reaches the partner's endpoint (not configured): ${JSON.stringify(answer.body)}`);
  }
  const retryAfter = assertTooMany(await webhook('203.0.113.10'), 'the address past its burst');

  const survey = await fetch(`${hub.url}/orders/no-such-order/survey?token=x`, { headers: from('203.0.113.10') });
  await survey.text();
  assert.equal(survey.status, 429, 'the survey pages share the address budget');
  const health = await fetch(`${hub.url}/health/live`, { headers: from('203.0.113.10') });
  await health.text();
  assert.equal(health.status, 200, 'health is never limited');

  assert.equal((await webhook('203.0.113.20')).status, 503, 'another address is served');

  await sleep(retryAfter * 1000 + 100);
  assert.equal((await webhook('203.0.113.10')).status, 503, 'after Retry-After the address is served again');

  const metrics = await admin.get('/metrics');
  assert.match(String(metrics.body), /hub_http_rate_limited_total\{limit="address"\} [1-9]/);
  assert.match(String(metrics.body), /hub_http_rate_limited_total\{limit="api_key"\} [1-9]/);
});

test('guessed API keys from one address raise an alert naming it, are then limited, and the key is never logged', async () => {
  const guesser = hubClient(hub.url, GUESSED_KEY);
  for (let i = 1; i <= PUBLIC_BURST; i++) {
    const answer = await guesser.get('/admin/alerts', from('198.51.100.23'));
    assert.equal(answer.status, 401, `guess ${i}`);
    assert.equal(answer.body.error?.code, 'unauthorized');
  }
  assertTooMany(await guesser.get('/admin/alerts', from('198.51.100.23')), 'the guesser past its budget');
  const missing = await fetch(`${hub.url}/admin/alerts`, { headers: from('198.51.100.23') });
  await missing.text();
  assert.equal(missing.status, 429, 'a request without a key from the address is limited too');

  const alerts = await admin.get('/admin/alerts?kind=auth_failures');
  assert.equal(alerts.status, 200, JSON.stringify(alerts.body));
  const raised = (alerts.body as unknown as { alerts: Array<{ kind: string; subject: string; details: Record<string, unknown> }> }).alerts;
  assert.deepEqual(
    raised.map((alert) => alert.subject),
    ['198.51.100.23'],
    JSON.stringify(raised),
  );
  assert.equal(raised[0]?.details.failuresInWindow, AUTH_FAILURE_THRESHOLD);

  const output = hub.output();
  assert.ok(!output.includes(GUESSED_KEY), 'the presented key is not in the log');
  assert.ok(!output.includes(GUESSED_KEY.slice(0, 20)), 'nor a part of it');
  const refusals = output.split('\n').filter((line) => line.includes('request with a missing or unknown API key refused'));
  assert.ok(
    refusals.some((line) => line.includes('198.51.100.23') && / warn /.test(line)),
    `the refusal is logged at warn with the address:\n${refusals.join('\n')}`,
  );
  assert.ok(refusals.filter((line) => line.includes('198.51.100.23')).length <= 3, 'and rate-limited');
});
