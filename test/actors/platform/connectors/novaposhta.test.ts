import { test } from 'node:test';
import assert from 'node:assert/strict';
import { novaPoshtaConnector } from '../../../../actors/platform/connectors/novaposhta/connector.ts';
import { NovaPoshtaClient } from '../../../../actors/platform/connectors/novaposhta/client.ts';
import { NP_ERROR_CODES } from '../../../../actors/platform/connectors/novaposhta/protocol.ts';
import {
  NOVAPOSHTA_SANDBOX_API_KEY,
  SANDBOX_CITIES,
  SANDBOX_WAREHOUSES,
  type NovaPoshtaSandbox,
} from '../../../../actors/platform/connectors/novaposhta/sandbox.ts';
import type { CallRecord } from '../../../../actors/platform/connectors/kit/http.ts';
import { connectorHttpFor, withSandboxClient, rejection } from '../../../support/connectors.ts';

const withNovaPoshta = (run: Parameters<typeof withSandboxClient<NovaPoshtaClient>>[1], policy = {}) =>
  withSandboxClient<NovaPoshtaClient>(novaPoshtaConnector, run, { policy });

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
    assert.deepEqual(
      lviv.items.map((c) => c.Description),
      ['Львів'],
    );
    const second = await client.getCities({ page: 2, limit: 1 });
    assert.equal(second.totalCount, 3);
    assert.deepEqual(
      second.items.map((c) => c.Description),
      ['Львів'],
    );
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

test("a wrong or empty API key is a non-retryable error carrying NP's own code, and the key never reaches the call record", () =>
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
    sandbox.faults.inject({
      kind: 'status',
      status: 200,
      count: 1,
      body: { success: false, data: [], errors: ['Service Unavailable'], errorCodes: [NP_ERROR_CODES.serviceUnavailable] },
    });
    const unavailable = await rejection(client.getCities());
    assert.equal(unavailable.code, NP_ERROR_CODES.serviceUnavailable);
    assert.equal(unavailable.retryable, true);
    sandbox.faults.inject({
      kind: 'status',
      status: 200,
      count: 1,
      body: { success: false, data: [], errors: ['Document number is not correct'], errorCodes: [NP_ERROR_CODES.documentNumberIncorrect] },
    });
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

const [kyivCity, lvivCity] = SANDBOX_CITIES;
const waybill = (overrides: Record<string, unknown> = {}) => ({
  PayerType: 'Recipient' as const,
  PaymentMethod: 'Cash' as const,
  DateTime: '22.11.2026',
  CargoType: 'Parcel' as const,
  Weight: 1,
  ServiceType: 'WarehouseWarehouse' as const,
  SeatsAmount: 1,
  Description: 'Чашки',
  Cost: 500,
  CitySender: kyivCity?.Ref ?? '',
  Sender: 'sender-ref',
  SenderAddress: 'sender-address-ref',
  ContactSender: 'contact-ref',
  SendersPhone: '380661112233',
  CityRecipient: lvivCity?.Ref ?? '',
  RecipientAddress: SANDBOX_WAREHOUSES.find((w) => w.CityRef === lvivCity?.Ref)?.Ref ?? '',
  RecipientsPhone: '380501234567',
  NewAddress: '1' as const,
  RecipientName: 'Олена Петренко',
  RecipientType: 'PrivatePerson' as const,
  InfoRegClientBarcodes: 'SHOP-1001',
  ...overrides,
});

const withNp = (run: (setup: { np: NovaPoshtaSandbox; client: NovaPoshtaClient; calls: CallRecord[] }) => Promise<void>) =>
  withSandboxClient<NovaPoshtaClient>(novaPoshtaConnector, ({ sandbox, client, calls }) =>
    run({ np: sandbox as NovaPoshtaSandbox, client, calls }),
  );

test('a quote: price and delivery date; the date is read from both answer shapes NP is known to give', () =>
  withNp(async ({ np, client }) => {
    const price = await client.getDocumentPrice({
      citySender: kyivCity?.Ref ?? '',
      cityRecipient: lvivCity?.Ref ?? '',
      weight: 1,
      serviceType: 'WarehouseWarehouse',
      cost: 500,
      cargoType: 'Parcel',
      seatsAmount: 1,
    });
    assert.ok(price.Cost > 0);
    const date = await client.getDocumentDeliveryDate({
      citySender: kyivCity?.Ref ?? '',
      cityRecipient: lvivCity?.Ref ?? '',
      serviceType: 'WarehouseWarehouse',
    });
    assert.match(date ?? '', /^\d{4}-\d{2}-\d{2}T18:00:00$/);
    np.faults.inject({
      kind: 'status',
      status: 200,
      count: 1,
      body: { success: true, data: [{ date: '2019.01.02 12:13:14', timezone_type: '3', timezone: 'Europe/Kiev' }], errors: [] },
    });
    assert.equal(
      await client.getDocumentDeliveryDate({ citySender: 'a', cityRecipient: 'b', serviceType: 'WarehouseWarehouse' }),
      '2019-01-02T12:13:14',
    );
  }));

test('a waybill is created with a 14-digit number, found again by our order id, and tracked 1 → 4 → … → 9 as the sandbox moves it', () =>
  withNp(async ({ np, client }) => {
    const saved = await client.saveWaybill(waybill());
    assert.match(saved.IntDocNumber, /^\d{14}$/);
    const found = await client.findWaybillsByOrder('SHOP-1001', new Date(Date.now() - 86_400_000));
    assert.deepEqual(
      found.map((d) => d.IntDocNumber),
      [saved.IntDocNumber],
    );
    const seen: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const [state] = await client.track([{ number: saved.IntDocNumber, phone: '380501234567' }]);
      seen.push(state?.StatusCode ?? '?');
      np.advance(saved.IntDocNumber);
    }
    assert.deepEqual(seen, ['1', '4', '5', '6', '7', '9']);
    const [unmasked] = await client.track([{ number: saved.IntDocNumber, phone: '380501234567' }]);
    const [masked] = await client.track([{ number: saved.IntDocNumber }]);
    assert.equal(unmasked?.RecipientFullNameEW, 'Олена Петренко');
    assert.equal(masked?.RecipientFullNameEW, undefined, 'without the phone NP hides the recipient');
  }));

test('a refused parcel goes 103 → 102 and points to its return waybill, which is tracked back to the sender', () =>
  withNp(async ({ np, client }) => {
    const saved = await client.saveWaybill(waybill());
    np.setScenario(saved.IntDocNumber, 'refused');
    np.advance(saved.IntDocNumber, 6);
    const [refused] = await client.track([{ number: saved.IntDocNumber }]);
    assert.equal(refused?.StatusCode, '102');
    assert.equal(refused?.LastCreatedOnTheBasisDocumentType, 'Return');
    const back = refused?.LastCreatedOnTheBasisNumber ?? '';
    assert.match(back, /^\d{14}$/);
    np.advance(back, 10);
    assert.equal((await client.track([{ number: back }]))[0]?.StatusCode, '9');
  }));

test('NP validation errors are typed and not retried; postomat limits are refused before NP is called', () =>
  withNp(async ({ np, client, calls }) => {
    const missing = await rejection(client.saveWaybill({ ...waybill(), CityRecipient: 'nowhere' }));
    assert.deepEqual([missing.code, missing.retryable], ['20000200103', false]);
    assert.equal(calls.at(-1)?.attempts, 1);
    const before = np.calls('InternetDocument.save');
    const postomat = await rejection(client.saveWaybill(waybill({ Weight: 25, Cost: 20_000 }), { toPostomat: true }));
    assert.equal(postomat.code, 'postomat_restrictions');
    assert.match(postomat.message, /OptionsSeat/);
    assert.match(postomat.message, /10 000 UAH/);
    assert.equal(np.calls('InternetDocument.save'), before, 'nothing was sent');
    const invalid = await rejection(client.saveWaybill(waybill({ Weight: 0 })));
    assert.equal(invalid.code, 'invalid_waybill');
  }));

test('a waybill is deleted while it is still with the sender, not after; unknown numbers track as status 3; 101 documents are refused', () =>
  withNp(async ({ np, client }) => {
    const first = await client.saveWaybill(waybill());
    await client.deleteWaybill(first.Ref);
    assert.equal((await client.track([{ number: first.IntDocNumber }]))[0]?.StatusCode, '2');
    const second = await client.saveWaybill(waybill({ InfoRegClientBarcodes: 'SHOP-1002' }));
    np.advance(second.IntDocNumber);
    await rejection(client.deleteWaybill(second.Ref));
    assert.equal((await client.track([{ number: '20450000000000' }]))[0]?.StatusCode, '3');
    const tooMany = await rejection(client.track(Array.from({ length: 101 }, (_, i) => ({ number: String(i) }))));
    assert.equal(tooMany.code, 'too_many_documents');
  }));

test('a lost answer: the sandbox creates the waybill and never answers; a lookup by order id finds it', () =>
  withSandboxClient<NovaPoshtaClient>(
    novaPoshtaConnector,
    async ({ sandbox, client }) => {
      const np = sandbox as NovaPoshtaSandbox;
      np.faults.inject({ kind: 'lost', count: 1, bodyIncludes: '"calledMethod":"save"' });
      const lost = await rejection(client.saveWaybill(waybill({ InfoRegClientBarcodes: 'SHOP-LOST' })));
      assert.equal(lost.code, 'timeout');
      const found = await client.findWaybillsByOrder('SHOP-LOST', new Date(Date.now() - 86_400_000));
      assert.equal(found.length, 1);
      assert.equal(np.waybills().filter((w) => w.orderRef === 'SHOP-LOST').length, 1);
    },
    { policy: { timeoutMs: 300 } },
  ));

test('settlements are searched by name, paged, with the city Ref that waybills use', () =>
  withNp(async ({ client }) => {
    const found = await client.searchSettlements({ cityName: 'Оде' });
    assert.equal(found.TotalCount, 1);
    assert.equal(found.Addresses[0]?.DeliveryCity, SANDBOX_CITIES[2]?.Ref);
    assert.equal(found.Addresses[0]?.Warehouses, 1);
  }));
