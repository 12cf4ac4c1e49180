import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { novaPoshtaConnector } from '../../../../actors/platform/connectors/novaposhta/connector.ts';
import { NovaPoshtaClient } from '../../../../actors/platform/connectors/novaposhta/client.ts';
import { NP_ERROR_CODES, npDate, returnWaybillOf } from '../../../../actors/platform/connectors/novaposhta/protocol.ts';
import {
  NOVAPOSHTA_SANDBOX_API_KEY,
  SANDBOX_CITIES,
  SANDBOX_WAREHOUSES,
  startNovaPoshtaSandbox,
  type NovaPoshtaSandbox,
} from '../../../../actors/platform/connectors/novaposhta/sandbox.ts';
import type { CallRecord } from '../../../../actors/platform/connectors/kit/http.ts';
import { connectorHttpFor, withSandboxClient, rejection } from '../../../support/connectors.ts';
import {
  GET_DOCUMENT_LIST_DEFAULT,
  NEW_ADDRESS_SAVE,
  PRICE_REDELIVERY_PROPERTIES,
  TRACKING_REQUEST,
} from '../../../fixtures/novaposhta-published.ts';

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
const lvivBranch = SANDBOX_WAREHOUSES.find((w) => w.CityRef === lvivCity?.Ref);
const waybill = (overrides: Record<string, unknown> = {}) => ({
  PayerType: 'Recipient' as const,
  PaymentMethod: 'Cash' as const,
  DateTime: npDate(new Date()),
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
  RecipientAddress: lvivBranch?.Ref ?? '',
  RecipientsPhone: '380501234567',
  NewAddress: '1' as const,
  RecipientCityName: 'Львів',
  RecipientArea: 'Львівська',
  RecipientAreaRegions: '',
  RecipientAddressName: lvivBranch?.Number ?? '',
  RecipientHouse: '',
  RecipientFlat: '',
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
    const found = await client.findWaybillsByOrder('SHOP-1001', { since: new Date(Date.now() - 86_400_000), until: new Date() });
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
    assert.equal(refused?.LastCreatedOnTheBasisDocumentType, 'CargoReturn');
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
      const found = await client.findWaybillsByOrder('SHOP-LOST', { since: new Date(Date.now() - 86_400_000), until: new Date() });
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

/** A save as NP takes it, past our client's own checks: what the sandbox itself refuses. */
const rawSave = async (client: NovaPoshtaClient, properties: Record<string, unknown>) =>
  (await client.request('InternetDocument', 'save', properties, { item: z.looseObject({ IntDocNumber: z.string() }), idempotent: false }))
    .data;

test('the waybill schema is strict: a field it does not know is refused by name, never dropped on the way to NP', () =>
  withNp(async ({ np, client }) => {
    const before = np.calls('InternetDocument.save');
    const unknown = await rejection(client.saveWaybill({ ...waybill(), AdditionalInformation: 'крихке' } as never));
    assert.equal(unknown.code, 'invalid_waybill');
    assert.match(unknown.message, /AdditionalInformation/);
    assert.equal(np.calls('InternetDocument.save'), before, 'nothing was sent');
    // what it knows reaches NP exactly as set
    const cod = { BackwardDeliveryData: [{ PayerType: 'Recipient' as const, CargoType: 'Money' as const, RedeliveryString: '1234.56' }] };
    await client.saveWaybill(waybill({ ...cod, InfoRegClientBarcodes: 'SHOP-COD' }));
    const sent = np.savedRequests().at(-1) ?? {};
    assert.deepEqual(sent.BackwardDeliveryData, cod.BackwardDeliveryData);
    assert.equal(sent.InfoRegClientBarcodes, 'SHOP-COD');
    const both = await rejection(client.saveWaybill(waybill({ ...cod, AfterpaymentOnGoodsCost: '1234.56' })));
    assert.equal(both.code, 'invalid_waybill', 'a money transfer and payment control at once');
  }));

test("the sandbox refuses a shipping date before today in Kyiv with NP's code and text, judged by its own clock", async () => {
  // 00:30 in Kyiv on 16 January is still 15 January in UTC
  const np = await startNovaPoshtaSandbox({ now: () => Date.parse('2026-01-15T22:30:00Z') });
  const { client } = connectorHttpFor<NovaPoshtaClient>(novaPoshtaConnector, { baseUrl: np.url, policy: { retries: 0 } });
  try {
    const utcDated = await rejection(client.saveWaybill(waybill({ DateTime: '15.01.2026' })));
    assert.deepEqual([utcDated.code, utcDated.message], ['20000400455', 'DateTime cannot be less then now']);
    const kyivDated = await client.saveWaybill(waybill({ DateTime: '16.01.2026' }));
    assert.match(kyivDated.IntDocNumber, /^\d{14}$/);
    np.setClock(Date.parse('2026-01-16T22:30:00Z'));
    assert.equal((await rejection(client.saveWaybill(waybill({ DateTime: '16.01.2026' })))).code, '20000400455');
  } finally {
    await np.close();
  }
});

test("the sandbox refuses what NP refuses in a waybill's form, each with NP's code", () =>
  withNp(async ({ client }) => {
    const refusedWith = async (overrides: Record<string, unknown>) => {
      const error = await rejection(rawSave(client, waybill(overrides)));
      return [error.code, error.message];
    };
    const postomat = SANDBOX_WAREHOUSES.find((w) => w.CategoryOfWarehouse === 'Postomat');
    assert.deepEqual(await refusedWith({ InfoRegClientBarcodes: 'X'.repeat(37) }), ['20000200189', 'InfoRegClientBarcodes is too long']);
    assert.deepEqual(await refusedWith({ InfoRegClientBarcodes: 'SHOP 1/2' }), [
      '20000200188',
      'InfoRegClientBarcodes has invalid characters',
    ]);
    assert.deepEqual(
      await refusedWith({
        CityRecipient: kyivCity?.Ref,
        RecipientCityName: 'Київ',
        RecipientAddress: postomat?.Ref,
        RecipientAddressName: postomat?.Number,
        AfterpaymentOnGoodsCost: '500.00',
      }),
      ['20000200032', 'AfterpaymentOnGoodsCost is disabled for Postomat NovaPoshta'],
    );
    assert.deepEqual(await refusedWith({ BackwardDeliveryData: { CargoType: 'Money' } }), [
      '20000200086',
      'BackwardDeliveryData must be array',
    ]);
    assert.deepEqual(
      await refusedWith({ BackwardDeliveryData: [{ PayerType: 'Recipient', CargoType: 'Documents', RedeliveryString: '10' }] }),
      ['20000200083', 'BackwardDelivery must be Money'],
    );
    assert.deepEqual(
      await refusedWith({ BackwardDeliveryData: [{ PayerType: 'Recipient', CargoType: 'Money', RedeliveryString: '12,50' }] }),
      ['20000200079', 'BackwardDelivery Money RedeliveryString is not valid'],
    );
    // the inline recipient: the city by its name, the branch by its number there
    assert.deepEqual(await refusedWith({ RecipientCityName: '' }), ['20000200281', 'RecipientCityName not selected']);
    assert.deepEqual(await refusedWith({ RecipientCityName: 'Одеса' }), ['20000200279', 'RecipientCityName not found']);
    assert.deepEqual(await refusedWith({ RecipientAddressName: '999' }), ['20000200273', 'RecipientAddressName not found']);
    assert.deepEqual(await refusedWith({ RecipientType: 'Organization' }), ['20000200300', 'RecipientType is invalid']);
    assert.deepEqual(
      await refusedWith({ ServiceType: 'WarehouseDoors', RecipientAddress: undefined, RecipientAddressName: 'вул. Городоцька' }),
      ['20000200296', 'RecipientHouse not selected'],
    );
    assert.match((await rawSave(client, waybill()))[0]?.IntDocNumber ?? '', /^\d{14}$/, 'the right form passes');
  }));

test('published requests: the sandbox accepts them, and our client sends the same shapes', () =>
  withNp(async ({ np, client }) => {
    // NP's documented new-address example, as published (its blank date is today)
    const documented = await rawSave(client, { ...NEW_ADDRESS_SAVE.methodProperties });
    assert.match(documented[0]?.IntDocNumber ?? '', /^\d{14}$/);
    assert.equal(np.waybills().at(-1)?.scenario, 'delivered', 'to Kyiv branch №1, found by the name "Киев" and the number "1"');

    const list = await client.request(
      'InternetDocument',
      'getDocumentList',
      { ...GET_DOCUMENT_LIST_DEFAULT.methodProperties },
      {
        item: z.looseObject({ Ref: z.string() }),
        idempotent: true,
      },
    );
    assert.deepEqual(list.data, [], 'a published list request of 2019: accepted, empty');
    await client.findWaybillsByOrder('SHOP-1001', { since: new Date(), until: new Date() });
    const ours = JSON.parse(np.requests().at(-1)?.body ?? '{}') as { methodProperties: Record<string, unknown> };
    for (const key of Object.keys(ours.methodProperties))
      assert.ok(key in GET_DOCUMENT_LIST_DEFAULT.methodProperties, `${key} is in the published getDocumentList request`);

    const tracked = await client.request(
      'TrackingDocument',
      'getStatusDocuments',
      { ...TRACKING_REQUEST.methodProperties },
      {
        item: z.looseObject({ StatusCode: z.string() }),
        idempotent: true,
      },
    );
    assert.equal(tracked.data[0]?.StatusCode, '3', 'the published number is unknown here');
    await client.track([{ number: '20400048799000', phone: '380600000000' }]);
    const ourTracking = JSON.parse(np.requests().at(-1)?.body ?? '{}') as Record<string, unknown>;
    assert.deepEqual(
      { ...ourTracking, apiKey: TRACKING_REQUEST.apiKey },
      { ...TRACKING_REQUEST, methodProperties: { Documents: [...TRACKING_REQUEST.methodProperties.Documents] } },
    );

    const cities = { CitySender: kyivCity?.Ref, CityRecipient: lvivCity?.Ref };
    const price = await client.request(
      'InternetDocument',
      'getDocumentPrice',
      { ...cities, ...PRICE_REDELIVERY_PROPERTIES },
      {
        item: z.looseObject({ CostRedelivery: z.string() }),
        idempotent: true,
      },
    );
    assert.ok(Number(price.data[0]?.CostRedelivery) > 0, 'money redelivery is priced');
    await client.getDocumentPrice({
      citySender: kyivCity?.Ref ?? '',
      cityRecipient: lvivCity?.Ref ?? '',
      weight: 1,
      serviceType: 'WarehouseWarehouse',
      cost: 500,
      cargoType: 'Parcel',
      seatsAmount: 1,
      redeliveryAmount: '100.00',
    });
    const ourPrice = JSON.parse(np.requests().at(-1)?.body ?? '{}') as { methodProperties: Record<string, unknown> };
    assert.deepEqual(Object.keys(ourPrice.methodProperties).sort(), Object.keys({ ...cities, ...PRICE_REDELIVERY_PROPERTIES }).sort());
    assert.deepEqual(ourPrice.methodProperties.RedeliveryCalculate, { CargoType: 'Money', Amount: '100.00' });
  }));

test('a return is a return only when NP says CargoReturn: a redirect also names a new waybill and is not one', () =>
  withNp(async ({ np, client }) => {
    const first = await client.saveWaybill(waybill({ InfoRegClientBarcodes: 'SHOP-R1' }));
    const second = await client.saveWaybill(waybill({ InfoRegClientBarcodes: 'SHOP-R2' }));
    const redirected = np.redirect(first.IntDocNumber);
    const returned = np.orderReturn(second.IntDocNumber);
    const [one, two] = await client.track([{ number: first.IntDocNumber }, { number: second.IntDocNumber }]);
    assert.deepEqual([one?.LastCreatedOnTheBasisNumber, one?.LastCreatedOnTheBasisDocumentType], [redirected, 'Redirecting']);
    assert.deepEqual([two?.LastCreatedOnTheBasisNumber, two?.LastCreatedOnTheBasisDocumentType], [returned, 'CargoReturn']);
    assert.equal(returnWaybillOf(one ?? {}), null);
    assert.equal(returnWaybillOf(two ?? {}), returned);
  }));
