import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import Koa from 'koa';
import winston from 'winston';
import { AppError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import type { HubState } from '../../http/context.ts';
import { errorMapping } from '../../http/middleware/errors.ts';
import { RefusalLog } from '../../http/middleware/refusal-log.ts';
import { requestContext } from '../../http/middleware/request-context.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { startHubProcess } from '../support/hub-process.ts';

/**
 * What an unfriendly client can do to the service from outside: flood its
 * log with calls it is sure to be refused.
 */

test('200 forged partner calls are refused with a few warnings and never a stack trace', async () => {
  const hub = await startHubProcess({
    dbName: uniqueDatabaseName('hostile-log'),
    env: {
      LOG_LEVEL: 'warn',
      HUB_SANDBOXES: 'off',
      // configured: a forged signature is a 401; an address off the allow-list a 403
      HUB_INTEGRATION_LIQPAY: JSON.stringify({ credentials: { publicKey: 'i000000001', privateKey: 'private-key-of-the-test' } }),
      HUB_INTEGRATION_MONOBANK: JSON.stringify({
        credentials: { token: 'monobank-token-of-the-test' },
        settings: { allowedIps: ['10.9.9.9'] },
      }),
    },
  });
  try {
    const before = hub.output().length;
    const routes = [
      { path: '/webhooks/liqpay', status: 401 }, // bad signature
      { path: '/webhooks/monobank', status: 403 }, // not on the allow-list
      { path: '/webhooks/jowi', status: 503 }, // not configured
      { path: '/webhooks/payme', status: 503 }, // a merchant API, not configured
      { path: '/webhooks/nobody', status: 404 }, // no such partner
    ];
    const calls = 200;
    for (let round = 0; round < calls / 20; round++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const route = routes[(round * 20 + i) % routes.length] ?? routes[0]!;
          const response = await fetch(`${hub.url}${route.path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'data=eyJmb3JnZWQiOnRydWV9&signature=Zm9yZ2Vk',
          });
          await response.text();
          return { route, status: response.status };
        }),
      );
      for (const { route, status } of answers) assert.equal(status, route.status, route.path);
    }
    // the forged signatures also raise one alert (grouped: repeats count, they do not log again)
    await eventually(() => hub.output().slice(before).includes('alert: signature_failures'), 10_000, 'the signature alert');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const logged = hub
      .output()
      .slice(before)
      .split('\n')
      .filter((line) => line.trim() !== '');
    const shown = `${logged.length} lines for ${calls} forged calls:\n${logged.slice(0, 20).join('\n').slice(0, 3000)}`;
    assert.ok(!logged.some((line) => /\\n\s+at |^\s+at /.test(line)), `a stack trace; ${shown}`);
    const refusals = logged.filter((line) => !line.includes('alert: signature_failures'));
    assert.equal(logged.length - refusals.length, 1, `one alert; ${shown}`);
    assert.ok(
      refusals.every((line) => /^\S+ warn {2}/.test(line)),
      `every refusal a warning; ${shown}`,
    );
    // at most 3 lines a minute per route and caller address (the 404 is not logged at warn)
    assert.ok(refusals.length <= 3 * (routes.length - 1), shown);
    for (const refused of ['liqpay', 'monobank', 'jowi', 'payme'])
      assert.ok(
        logged.some((line) => line.includes(`/webhooks/${refused}`)),
        `the refusal on ${refused} is logged; ${shown}`,
      );
  } finally {
    await hub.terminate();
  }
});

test('an unexpected error still logs at error with its stack; a refusal we meant logs a few warnings and no stack', async () => {
  const stream = new PassThrough();
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  const logger = createLogger({ level: 'warn', json: true, transports: [new winston.transports.Stream({ stream })] });
  const app = new Koa<HubState>();
  app.silent = true;
  app.use(requestContext(logger));
  app.use(errorMapping({ refusals: new RefusalLog({ perWindow: 2 }) }));
  app.use((ctx) => {
    if (ctx.path === '/refused') throw new AppError(503, 'integration_not_configured', 'integration x is not configured');
    throw new Error('the database went away');
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (let i = 0; i < 20; i++) assert.equal((await fetch(`${base}/refused`)).status, 503);
    assert.equal((await fetch(`${base}/broken`)).status, 500);
    await new Promise((resolve) => setImmediate(resolve));
    const entries = written
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const refusals = entries.filter((entry) => entry.path === undefined && entry.code === 'integration_not_configured');
    assert.equal(refusals.length, 2);
    for (const entry of refusals) {
      assert.equal(entry.level, 'warn');
      assert.equal(entry.route, 'GET /refused');
      assert.ok(!JSON.stringify(entry).includes('    at '));
    }
    const failures = entries.filter((entry) => entry.level === 'error');
    assert.ok(failures.some((entry) => String(entry.error).includes('the database went away') && String(entry.error).includes('    at ')));
    assert.ok(failures.some((entry) => entry.message === 'GET /broken 500'));
    assert.equal(entries.length, 2 + 2);
  } finally {
    server.close();
  }
});

test('after a quiet minute the refusal log says how many lines it left out', () => {
  const stream = new PassThrough();
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  const logger = createLogger({ level: 'warn', json: true, transports: [new winston.transports.Stream({ stream })] });
  let now = 0;
  const refusals = new RefusalLog({ perWindow: 3, windowMs: 60_000, maxKeys: 2, now: () => now });
  const from = (address: string) => ({ route: '/webhooks/x', address });
  const logged = Array.from({ length: 10 }, () => refusals.warn(logger, from('10.0.0.1'), 'refused'));
  assert.deepEqual(
    logged.map((yes) => (yes ? 1 : 0)),
    [1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.equal(refusals.warn(logger, from('10.0.0.2'), 'refused'), true, 'another caller has lines of its own');
  now = 60_000;
  assert.equal(refusals.warn(logger, from('10.0.0.1'), 'refused'), true);
  // the keys held are bounded: an expired one makes room; with none expired, the rest share one key
  now = 60_001;
  assert.equal(refusals.warn(logger, from('10.0.0.3'), 'refused'), true);
  for (const address of ['10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7']) refusals.warn(logger, from(address), 'refused');
  const lines = written
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, 6 + 3);
  assert.equal(lines[4]?.suppressedInLastWindow, 7);
  assert.deepEqual(
    lines.slice(5).map((line) => line.remoteAddress),
    ['10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'],
  );
});
