import { test } from 'node:test';
import assert from 'node:assert/strict';
import { novaPoshtaConnector } from '../../../actors/connectors/novaposhta/connector.ts';
import { NovaPoshtaClient } from '../../../actors/connectors/novaposhta/client.ts';
import { NP_ERROR_CODES } from '../../../actors/connectors/novaposhta/protocol.ts';
import { NOVAPOSHTA_SANDBOX_API_KEY, SANDBOX_CITIES } from '../../../actors/connectors/novaposhta/sandbox.ts';
import { ConnectorError } from '../../../actors/connectors/kit/errors.ts';
import { connectorHttpFor, withSandboxClient } from '../../support/connectors.ts';

const withNovaPoshta = (run: Parameters<typeof withSandboxClient<NovaPoshtaClient>>[1], policy = {}) =>
  withSandboxClient<NovaPoshtaClient>(novaPoshtaConnector, run, { policy });

async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ConnectorError, `not a ConnectorError: ${String(error)}`);
  return error;
}

test('the connection test reads one city with the API key, in the NP envelope at the single JSON endpoint', () =>
  withNovaPoshta(async ({ sandbox, client }) => {
    const detail = await novaPoshtaConnector.test(client);
    assert.equal(detail, `authenticated; ${SANDBOX_CITIES.length} cities in the directory`);
    const [request] = sandbox.requests();
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, '/json/');
    assert.deepEqual(JSON.parse(request?.body ?? '{}'), {
      apiKey: NOVAPOSHTA_SANDBOX_API_KEY,
      modelName: 'Address',
      calledMethod: 'getCities',
      methodProperties: { Limit: 1 },
    });
  }));

test('cities are found by a fragment of their name and paged with the total count', () =>
  withNovaPoshta(async ({ client }) => {
    const lviv = await client.getCities({ findByString: 'льв' });
    assert.deepEqual(lviv.items.map((c) => c.Description), ['Львів']);
    const second = await client.getCities({ page: 2, limit: 1 });
    assert.equal(second.totalCount, 3);
    assert.deepEqual(second.items.map((c) => c.Description), ['Львів']);
    const beyond = await client.getCities({ page: 9, limit: 1 });
    assert.deepEqual(beyond.items, []);
  }));

test('warehouses of one city come back typed, branches and postomats alike', () =>
  withNovaPoshta(async ({ client }) => {
    const kyiv = SANDBOX_CITIES[0]?.Ref ?? '';
    const page = await client.getWarehouses({ cityRef: kyiv });
    assert.equal(page.totalCount, 3);
    assert.ok(page.items.every((w) => w.CityRef === kyiv));
    assert.deepEqual(page.items.map((w) => w.CategoryOfWarehouse).sort(), ['Branch', 'Branch', 'Postomat']);
    assert.equal(typeof page.items[0]?.Number, 'string');
  }));

test('a wrong or empty API key is a non-retryable error carrying NP\'s own code, and the key never reaches the call record', () =>
  withNovaPoshta(async ({ sandbox, client, clientWith, calls }) => {
    const wrong = await rejection(clientWith({ apiKey: 'not-the-right-key-42' }).getCities({ limit: 1 }));
    assert.equal(wrong.code, NP_ERROR_CODES.authFailed);
    assert.equal(wrong.retryable, false);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.message, 'API auth fail');
    const { http } = connectorHttpFor(novaPoshtaConnector, { baseUrl: sandbox.url, calls });
    const empty = await rejection(new NovaPoshtaClient(http, '').getCities({ limit: 1 }));
    assert.equal(empty.code, NP_ERROR_CODES.emptyApiKey);
    assert.equal(calls.length, 2);
    assert.equal(calls[0]?.outcome, 'rejected');
    assert.ok(!JSON.stringify(calls).includes('not-the-right-key-42'), 'the key leaked into a call record');
    await client.getCities({ limit: 1 });
  }));

test('"service unavailable" inside a 200 is retryable; other business errors are not', () =>
  withNovaPoshta(async ({ sandbox, client }) => {
    sandbox.faults.inject({ kind: 'status', status: 200, count: 1, body: { success: false, data: [], errors: ['Service Unavailable'], errorCodes: [NP_ERROR_CODES.serviceUnavailable] } });
    const unavailable = await rejection(client.getCities());
    assert.equal(unavailable.code, NP_ERROR_CODES.serviceUnavailable);
    assert.equal(unavailable.retryable, true);
    sandbox.faults.inject({ kind: 'status', status: 200, count: 1, body: { success: false, data: [], errors: ['Document number is not correct'], errorCodes: [NP_ERROR_CODES.documentNumberIncorrect] } });
    const invalid = await rejection(client.getCities());
    assert.equal(invalid.code, NP_ERROR_CODES.documentNumberIncorrect);
    assert.equal(invalid.retryable, false);
  }));

test('reads are retried through a 503 and a dropped connection; a malformed body and a silent server are typed failures', () =>
  withNovaPoshta(
    async ({ sandbox, client, calls }) => {
      sandbox.faults.inject({ kind: 'status', status: 503, count: 1 });
      sandbox.faults.inject({ kind: 'disconnect', count: 1 });
      const cities = await client.getCities();
      assert.equal(cities.items.length, 3);
      assert.equal(calls.at(-1)?.attempts, 3);

      sandbox.faults.inject({ kind: 'malformed', count: 1 });
      assert.equal((await rejection(client.getCities())).code, 'bad_response');

      sandbox.faults.inject({ kind: 'timeout', count: 3 });
      const silent = await rejection(client.getCities());
      assert.equal(silent.code, 'timeout');
      assert.equal(silent.retryable, true);
    },
    { timeoutMs: 300, retries: 2 },
  ));

test('an answer that is not the NP envelope is a bad_response naming the field, not a crash', () =>
  withNovaPoshta(async ({ sandbox, client }) => {
    sandbox.faults.inject({ kind: 'status', status: 200, count: 1, body: { success: true, data: [{ Description: 'no ref' }] } });
    const error = await rejection(client.getCities());
    assert.equal(error.code, 'bad_response');
    assert.match(error.message, /0\.Ref/);
  }));
