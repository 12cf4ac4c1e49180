import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rozetkaConnector } from '../../../../actors/platform/connectors/rozetka/connector.ts';
import type { RozetkaClient } from '../../../../actors/platform/connectors/rozetka/client.ts';
import { encodePassword, ROZETKA_ERROR_CODES } from '../../../../actors/platform/connectors/rozetka/protocol.ts';
import { ROZETKA_SANDBOX_CREDENTIALS, type RozetkaSandbox } from '../../../../actors/platform/connectors/rozetka/sandbox.ts';
import { withSandboxClient, rejection } from '../../../support/connectors.ts';

type Setup = Parameters<Parameters<typeof withSandboxClient<RozetkaClient>>[1]>[0] & { rozetka: RozetkaSandbox };

const withRozetka = (run: (setup: Setup) => Promise<void>) =>
  withSandboxClient<RozetkaClient>(rozetkaConnector, (setup) => run({ ...setup, rozetka: setup.sandbox as RozetkaSandbox }));

test('the password is sent base64-encoded, as Rozetka requires (Passw0rd! → UGFzc3cwcmQh)', () => {
  assert.equal(encodePassword('Passw0rd!'), 'UGFzc3cwcmQh');
});

test('the connection test logs in; later calls carry the bearer token and do not log in again', () =>
  withRozetka(async ({ client, rozetka }) => {
    assert.equal(await rozetkaConnector.test(client), 'authenticated; seller session opened');
    const [login] = rozetka.requests({ path: '/sites' });
    assert.deepEqual(JSON.parse(login?.body ?? '{}'), {
      username: ROZETKA_SANDBOX_CREDENTIALS.username,
      password: encodePassword(ROZETKA_SANDBOX_CREDENTIALS.password),
    });
    const page = await client.searchOrders();
    assert.equal(page.orders.length, 3);
    await client.getOrder(page.orders[0]?.id ?? 0);
    assert.equal(rozetka.logins(), 1);
    const [search] = rozetka.requests({ path: '/orders/search' });
    assert.match(search?.headers.authorization ?? '', /^Bearer [0-9a-f]{48}$/);
  }));

test('a wrong password is code 1004 (not retryable), and neither it nor its base64 nor a token reaches a call record', () =>
  withRozetka(async ({ client, clientWith, calls }) => {
    const error = await rejection(
      rozetkaConnector.test(clientWith({ username: ROZETKA_SANDBOX_CREDENTIALS.username, password: 'Wrong-Secret-99' })),
    );
    assert.deepEqual(
      [error.code, error.message, error.retryable, error.status],
      [ROZETKA_ERROR_CODES.incorrectCredentials, 'incorrect_username_password', false, 401],
    );
    await client.searchOrders();
    const recorded = JSON.stringify(calls);
    assert.ok(!recorded.includes('Wrong-Secret-99') && !recorded.includes(encodePassword('Wrong-Secret-99')));
    assert.ok(!recorded.includes(client.session.token ?? 'no token'), 'the bearer token leaked into a call record');
  }));

test('an expired session (6001) logs in once more and repeats the call; concurrent callers share that one login', () =>
  withRozetka(async ({ client, rozetka }) => {
    await client.searchOrders();
    rozetka.expireSessions();
    const pages = await Promise.all(Array.from({ length: 5 }, () => client.searchOrders()));
    assert.ok(pages.every((p) => p.orders.length === 3));
    assert.equal(rozetka.logins(), 2);
    assert.equal(rozetka.requests({ path: '/sites' }).length, 2);
  }));

test('order search filters by type and pages 20 at a time, newest first', () =>
  withRozetka(async ({ client, rozetka }) => {
    for (let i = 0; i < 25; i += 1) rozetka.addOrder();
    const fresh = await client.searchOrders({ types: 4 });
    assert.equal(fresh._meta.totalCount, 27);
    assert.equal(fresh._meta.pageCount, 2);
    assert.equal(fresh.orders.length, 20);
    assert.ok(fresh.orders.every((o, i, all) => i === 0 || (all[i - 1]?.id ?? 0) > o.id));
    const second = await client.searchOrders({ types: 4, page: 2 });
    assert.equal(second.orders.length, 7);
    const done = await client.searchOrders({ types: 3 });
    assert.deepEqual(
      done.orders.map((o) => o.status),
      [6],
    );
  }));

test("status changes follow Rozetka's waybill rules; an unknown order is 1019", () =>
  withRozetka(async ({ client }) => {
    const [order] = (await client.searchOrders({ types: 4 })).orders;
    const id = order?.id ?? 0;
    const missing = await rejection(client.updateOrder(id, { status: 3 }));
    assert.deepEqual([missing.code, missing.message], [ROZETKA_ERROR_CODES.requiredParameter, 'required_parameter: ttn']);
    const packed = await client.updateOrder(id, { status: 2, ttn: '20450000000001' });
    assert.deepEqual([packed.status, packed.ttn], [61, '20450000000001']);
    assert.equal((await client.updateOrder(id, { status: 3 })).status, 3);
    assert.equal((await client.getOrder(id)).status, 3);
    assert.equal((await rejection(client.getOrder(1))).code, ROZETKA_ERROR_CODES.entityNotFound);
  }));

test('technical maintenance (503) is retried for reads and typed when it persists', () =>
  withRozetka(async ({ client, rozetka, calls }) => {
    await client.signIn();
    const maintenance = { success: false, errors: { message: 'technical_maintenance', code: 5503 } };
    rozetka.faults.inject({ kind: 'status', status: 503, count: 1, path: '/orders', body: maintenance });
    assert.equal((await client.searchOrders()).orders.length, 3);
    assert.equal(calls.at(-1)?.attempts, 2);
    rozetka.faults.inject({ kind: 'status', status: 503, count: 3, path: '/orders', body: maintenance });
    const error = await rejection(client.searchOrders());
    assert.deepEqual([error.code, error.retryable, error.status], [ROZETKA_ERROR_CODES.maintenance, true, 503]);
  }));
