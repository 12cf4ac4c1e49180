import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { novaPoshtaReferenceSyncJob } from '../../../../actors/domains/shipments/reference-sync-job.ts';
import { novaPoshtaCarrier, RECIPIENT_NOT_IN_DIRECTORY } from '../../../../actors/platform/connectors/novaposhta/carrier.ts';
import type { NovaPoshtaClient } from '../../../../actors/platform/connectors/novaposhta/client.ts';
import { novaPoshtaConnector, novaPoshtaSettingsSchema } from '../../../../actors/platform/connectors/novaposhta/connector.ts';
import {
  SANDBOX_CITIES,
  SANDBOX_SENDER,
  SANDBOX_WAREHOUSES,
  startNovaPoshtaSandbox,
  type NovaPoshtaSandbox,
} from '../../../../actors/platform/connectors/novaposhta/sandbox.ts';
import type { Carrier, ParcelRequest } from '../../../../actors/platform/connectors/ports/carrier.ts';
import { shipmentCodeOf } from '../../../../common/shipment-code.ts';
import { connectDatabase } from '../../../../persistence/database.ts';
import { ensureReferenceIndexes, referenceCollections, type ReferenceCollections } from '../../../../persistence/reference.ts';
import { connectorHttpFor, rejection } from '../../../support/connectors.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger } from '../../../support/runtime-harness.ts';
import { SAVE_WAREHOUSE_DEFAULT } from '../../../fixtures/novaposhta-published.ts';

/**
 * Nova Poshta as the shipment's carrier, against the sandbox and the
 * directory synced from it into the real database: what the waybill and the
 * quote say, at the instants where dates go wrong.
 */

const [kyiv, lviv] = SANDBOX_CITIES;
const lvivBranch = SANDBOX_WAREHOUSES.find((w) => w.CityRef === lviv?.Ref);
const postomat = SANDBOX_WAREHOUSES.find((w) => w.CategoryOfWarehouse === 'Postomat');
const call = { actor: { type: 'shipment', id: 'test' } };

const parcel = (overrides: Partial<ParcelRequest> = {}): ParcelRequest => ({
  ourCode: shipmentCodeOf('SHOP-1001'),
  recipient: { name: 'Олена Петренко', phone: '+380501234567' },
  cityRef: lviv?.Ref ?? '',
  warehouseRef: lvivBranch?.Ref ?? null,
  address: null,
  declaredValue: 50_000,
  description: 'Чашки',
  collectOnDelivery: null,
  ...overrides,
});

interface Setup {
  np: NovaPoshtaSandbox;
  client: NovaPoshtaClient;
  reference: ReferenceCollections;
  /** a carrier whose clock (and the sandbox's) reads `at` */
  carrierAt(at: number, settings?: Record<string, unknown>): Carrier;
}

async function withCarrier(run: (setup: Setup) => Promise<void>): Promise<void> {
  const np = await startNovaPoshtaSandbox();
  const database = await connectDatabase(databaseUri(), uniqueDatabaseName('np_carrier'));
  const { client } = connectorHttpFor<NovaPoshtaClient>(novaPoshtaConnector, { baseUrl: np.url, policy: { retries: 0, timeoutMs: 500 } });
  try {
    await ensureReferenceIndexes(database.collections.db);
    const reference = referenceCollections(database.collections.db);
    await novaPoshtaReferenceSyncJob({ reference, client: () => client }).run({
      logger: quietLogger,
      trigger: 'manual',
      progress: () => undefined,
    });
    const carrierAt = (at: number, settings: Record<string, unknown> = {}) => {
      np.setClock(at);
      const parsed = novaPoshtaSettingsSchema.parse({ sender: SANDBOX_SENDER, ...settings });
      return novaPoshtaCarrier({
        client: () => client,
        settings: () => ({ ...parsed, sender: SANDBOX_SENDER }),
        reference,
        logger: quietLogger,
        now: () => at,
      });
    };
    await run({ np, client, reference, carrierAt });
  } finally {
    await database.collections.db.dropDatabase();
    await database.close();
    await np.close();
  }
}

const novaPoshtaListItem = z.looseObject({ Ref: z.string() });
const lastSave = (np: NovaPoshtaSandbox) => np.savedRequests().at(-1) ?? {};

// Kyiv is UTC+2 in winter and UTC+3 in summer; it changes on the last Sundays of March (29.03.2026, 03:00 → 04:00)
// and October (25.10.2026, 04:00 → 03:00). Each instant is written in UTC with the Kyiv day it is.
const KYIV_DAYS: Array<[label: string, utc: string, kyivDay: string]> = [
  ['23:59 in winter', '2026-01-15T21:59:00Z', '15.01.2026'],
  ['00:01 in winter (UTC still the day before)', '2026-01-15T22:01:00Z', '16.01.2026'],
  ['23:59 in summer', '2026-07-15T20:59:00Z', '15.07.2026'],
  ['00:01 in summer (UTC still the day before)', '2026-07-15T21:01:00Z', '16.07.2026'],
  ['23:59 the night before summer time', '2026-03-28T21:59:00Z', '28.03.2026'],
  ['00:01 on the day summer time starts (UTC+2)', '2026-03-28T22:01:00Z', '29.03.2026'],
  ['23:59 on the day summer time starts (UTC+3 by then)', '2026-03-29T20:59:00Z', '29.03.2026'],
  ['00:01 the day after summer time starts', '2026-03-29T21:01:00Z', '30.03.2026'],
  ['23:59 the night before winter time', '2026-10-24T20:59:00Z', '24.10.2026'],
  ['00:01 on the day winter time returns (UTC+3)', '2026-10-24T21:01:00Z', '25.10.2026'],
  ['23:59 on the day winter time returns (UTC+2 by then)', '2026-10-25T21:59:00Z', '25.10.2026'],
  ['00:01 the day after winter time returns', '2026-10-25T22:01:00Z', '26.10.2026'],
];

test("a waybill's DateTime is the shipping day in Kyiv at the edges of the day and of both summer-time changes, and NP takes it", () =>
  withCarrier(async ({ np, carrierAt }) => {
    for (const [label, utc, kyivDay] of KYIV_DAYS) {
      const created = await carrierAt(Date.parse(utc)).createWaybill(parcel({ ourCode: `DAY-${kyivDay.replace(/\./g, '')}` }), call);
      assert.match(created.number, /^\d{14}$/, label);
      assert.equal(lastSave(np).DateTime, kyivDay, label);
    }
  }));

test('a waybill saved after midnight in Kyiv (still yesterday in UTC) is found again by its code: the lookup window is in Kyiv days', () =>
  withCarrier(async ({ np, client, carrierAt }) => {
    const savedAt = Date.parse('2026-03-28T22:30:00Z'); // 00:30 on 29.03 in Kyiv
    const code = shipmentCodeOf('NP-MIDNIGHT');
    np.faults.inject({ kind: 'lost', count: 1, bodyIncludes: '"calledMethod":"save"' });
    const carrier = carrierAt(savedAt);
    assert.equal((await rejection(carrier.createWaybill(parcel({ ourCode: code }), call))).code, 'timeout');
    assert.equal(lastSave(np).DateTime, '29.03.2026');

    // the hub comes back ten minutes later and searches from a day before the request
    const since = new Date(savedAt - 24 * 3600_000);
    const found = await carrierAt(savedAt + 10 * 60_000).findByOurCode(code, since, call);
    assert.equal(found?.number, np.waybills().find((w) => w.orderRef === code)?.number, 'found, not created twice');
    assert.deepEqual(
      JSON.parse(np.requests().at(-1)?.body ?? '{}').methodProperties,
      { DateTimeFrom: '28.03.2026', DateTimeTo: '29.03.2026', GetFullList: '1' },
      'the window in Kyiv days',
    );
    // the window in UTC days (what the hub asked before) ends on 28.03 and misses it
    const utcWindow = await client.request(
      'InternetDocument',
      'getDocumentList',
      { DateTimeFrom: '27.03.2026', DateTimeTo: '28.03.2026', GetFullList: '1' },
      { item: novaPoshtaListItem, idempotent: true },
    );
    assert.deepEqual(utcWindow.data, []);
  }));

test("cash on delivery is NP's money transfer, the amount formatted from kopiykas; the quote prices it with the save's service type", () =>
  withCarrier(async ({ np, carrierAt }) => {
    const carrier = carrierAt(Date.now());
    await carrier.quote(parcel({ collectOnDelivery: 123_456 }), call);
    const quote = JSON.parse(np.requests().find((r) => r.body.includes('getDocumentPrice'))?.body ?? '{}').methodProperties;
    assert.deepEqual(quote.RedeliveryCalculate, { CargoType: 'Money', Amount: '1234.56' });

    await carrier.createWaybill(parcel({ collectOnDelivery: 123_456 }), call);
    const saved = lastSave(np);
    assert.deepEqual(saved.BackwardDeliveryData, [{ PayerType: 'Recipient', CargoType: 'Money', RedeliveryString: '1234.56' }]);
    assert.equal(saved.AfterpaymentOnGoodsCost, undefined, 'no payment control without the agreement');
    assert.equal(quote.ServiceType, saved.ServiceType);

    // 19.99 UAH is 1998.9999999999998 kopiykas in floating point: the string is made from the integer
    await carrier.createWaybill(parcel({ collectOnDelivery: 1999, ourCode: 'COD-1999' }), call);
    assert.equal((lastSave(np).BackwardDeliveryData as Array<{ RedeliveryString: string }>)[0]?.RedeliveryString, '19.99');

    await carrier.createWaybill(parcel({ ourCode: 'NO-COD' }), call);
    assert.equal(lastSave(np).BackwardDeliveryData, undefined, 'nothing to collect: no backward delivery');

    // to a postomat the quote and the save agree on the postomat's service type
    await carrier.quote(parcel({ cityRef: kyiv?.Ref ?? '', warehouseRef: postomat?.Ref ?? null, collectOnDelivery: 5000 }), call);
    await carrier.createWaybill(parcel({ cityRef: kyiv?.Ref ?? '', warehouseRef: postomat?.Ref ?? null, ourCode: 'PST-1' }), call);
    const postomatQuote = JSON.parse(
      np
        .requests()
        .filter((r) => r.body.includes('getDocumentPrice'))
        .at(-1)?.body ?? '{}',
    );
    assert.equal(postomatQuote.methodProperties.ServiceType, lastSave(np).ServiceType);
  }));

test('with a payment-control agreement the money is collected as AfterpaymentOnGoodsCost, except at a postomat where NP refuses it', () =>
  withCarrier(async ({ np, carrierAt }) => {
    const carrier = carrierAt(Date.now(), { paymentControl: true });
    await carrier.createWaybill(parcel({ collectOnDelivery: 50_050 }), call);
    assert.equal(lastSave(np).AfterpaymentOnGoodsCost, '500.50');
    assert.equal(lastSave(np).BackwardDeliveryData, undefined);

    const toPostomat = await carrier.createWaybill(
      parcel({ cityRef: kyiv?.Ref ?? '', warehouseRef: postomat?.Ref ?? null, collectOnDelivery: 50_050, ourCode: 'PST-COD' }),
      call,
    );
    assert.match(toPostomat.number, /^\d{14}$/, 'NP took it');
    assert.equal(lastSave(np).AfterpaymentOnGoodsCost, undefined);
    assert.deepEqual(lastSave(np).BackwardDeliveryData, [{ PayerType: 'Recipient', CargoType: 'Money', RedeliveryString: '500.50' }]);
  }));

test("the recipient goes inline in NP's documented form, named from the synced directory; a place it does not know is refused before NP", () =>
  withCarrier(async ({ np, reference, carrierAt }) => {
    const carrier = carrierAt(Date.now());
    await carrier.createWaybill(parcel(), call);
    const toBranch = lastSave(np);
    assert.deepEqual(
      [
        toBranch.NewAddress,
        toBranch.RecipientCityName,
        toBranch.RecipientArea,
        toBranch.RecipientAreaRegions,
        toBranch.RecipientAddressName,
      ],
      ['1', 'Львів', 'Львівська', '', lvivBranch?.Number],
    );
    assert.deepEqual(
      [toBranch.RecipientName, toBranch.RecipientType, toBranch.RecipientsPhone, toBranch.RecipientHouse, toBranch.RecipientFlat],
      ['Олена Петренко', 'PrivatePerson', '380501234567', '', ''],
    );
    // every key we send is one NP's published inline-recipient request has, or one of the extras we use on purpose
    const extras = new Set(['InfoRegClientBarcodes', 'BackwardDeliveryData', 'AfterpaymentOnGoodsCost', 'OptionsSeat']);
    for (const key of Object.keys(toBranch))
      assert.ok(key in SAVE_WAREHOUSE_DEFAULT.methodProperties || extras.has(key), `${key} is in the published request`);

    await carrier.createWaybill(
      parcel({ warehouseRef: null, address: { street: 'вул. Городоцька', house: '12', flat: '3' }, ourCode: 'DOORS-1' }),
      call,
    );
    const toDoors = lastSave(np);
    assert.deepEqual(
      [toDoors.ServiceType, toDoors.RecipientAddressName, toDoors.RecipientHouse, toDoors.RecipientFlat, toDoors.RecipientAddress],
      ['WarehouseDoors', 'вул. Городоцька', '12', '3', undefined],
    );

    await reference.cities.deleteOne({ _id: lviv?.Ref ?? '' });
    const before = np.calls('InternetDocument.save');
    const unknown = await rejection(carrier.createWaybill(parcel({ ourCode: 'NOWHERE' }), call));
    assert.deepEqual([unknown.code, unknown.retryable], [RECIPIENT_NOT_IN_DIRECTORY, false]);
    assert.match(unknown.message, /novaposhta-reference-sync/);
    assert.equal(np.calls('InternetDocument.save'), before, 'nothing was sent');
  }));

test('the code on the waybill fits NP whatever the shipment id; tracking reports a return only for a CargoReturn', () =>
  withCarrier(async ({ np, carrierAt }) => {
    const carrier = carrierAt(Date.now());
    const longId = `ORDER/${'ж'.repeat(60)}/${'9'.repeat(60)}`;
    const created = await carrier.createWaybill(parcel({ ourCode: shipmentCodeOf(longId) }), call);
    assert.ok(String(lastSave(np).InfoRegClientBarcodes).length <= 21);
    assert.deepEqual(await carrier.findByOurCode(shipmentCodeOf(longId), new Date(Date.now() - 86_400_000), call), {
      number: created.number,
      ref: created.ref,
    });

    const other = await carrier.createWaybill(parcel({ ourCode: 'OTHER-1' }), call);
    const redirected = np.redirect(created.number);
    const back = np.orderReturn(other.number);
    const reports = await carrier.track([
      { number: created.number, phone: '+380501234567' },
      { number: other.number, phone: '+380501234567' },
    ]);
    assert.ok(redirected);
    assert.deepEqual(
      reports.map((r) => r.returnNumber),
      [null, back],
    );
  }));
