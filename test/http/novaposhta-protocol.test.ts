import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import order from '../../machines/order.ts';
import product from '../../machines/product.ts';
import shipment from '../../machines/shipment.ts';
import { SANDBOX_WAREHOUSES } from '../../actors/platform/connectors/novaposhta/sandbox.ts';
import { npDate } from '../../actors/platform/connectors/novaposhta/protocol.ts';
import { formatMinorUnits } from '../../common/money.ts';
import { hubDatabases } from '../support/hub-process.ts';
import { orderBody, waitForOrder, withShop } from '../support/shop.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';
import { npSandbox, shipmentOf, track, waitForShipment } from '../support/parcels.ts';

/**
 * Nova Poshta's protocol as a running hub speaks it to its sandbox: the
 * waybill of a cash-on-delivery order, and a parcel that comes back.
 */

after(() => assertHubJournalsReplay(hubDatabases(), [order, product, shipment]));

const lviv = SANDBOX_WAREHOUSES.find((w) => w.CityDescription === 'Львів');
const toLviv = { carrier: 'novaposhta', cityRef: lviv?.CityRef, warehouseRef: lviv?.Ref, fee: 0 };

test('a cash-on-delivery order with a long id: a short code on the waybill, the money as NP transfers it, the recipient named inline', () =>
  withShop(async ({ client }) => {
    const before = npDate(new Date());
    // no external id: the order's id is derived from the key, 46 characters, longer than NP's field
    const created = await client.post('/orders', orderBody({ externalId: undefined, payment: { method: 'cod' }, delivery: toLviv }), {
      'Idempotency-Key': 'np-protocol-cod-order-with-a-long-derived-id',
    });
    const orderId = String(created.body.id);
    assert.ok(orderId.length > 36, orderId);
    const parcel = await waitForShipment(client, orderId, 'awaitingPickup');
    assert.ok(parcel.context.ourCode.length <= 21, parcel.context.ourCode);

    const np = await npSandbox(client);
    const [save, ...more] = await np.sent('save');
    assert.equal(more.length, 0, 'one save');
    const due = ((await client.get(`/orders/${orderId}`)).body.pricing as { total: number }).total;
    assert.equal(save?.InfoRegClientBarcodes, parcel.context.ourCode);
    assert.deepEqual(save?.BackwardDeliveryData, [{ PayerType: 'Recipient', CargoType: 'Money', RedeliveryString: formatMinorUnits(due) }]);
    assert.equal(save?.AfterpaymentOnGoodsCost, undefined);
    assert.deepEqual(
      [save?.NewAddress, save?.RecipientCityName, save?.RecipientAddressName, save?.RecipientName, save?.RecipientType],
      ['1', 'Львів', lviv?.Number, 'Олена Петренко', 'PrivatePerson'],
    );
    assert.ok([before, npDate(new Date())].includes(String(save?.DateTime)), `the Kyiv day: ${String(save?.DateTime)}`);
    const [quote] = await np.sent('getDocumentPrice');
    assert.deepEqual(quote?.RedeliveryCalculate, { CargoType: 'Money', Amount: formatMinorUnits(due) });
    assert.equal(quote?.ServiceType, save?.ServiceType);
  }));

test('a refused parcel whose return NP makes while it still says "refused" comes back and the order is returned; a redirect is not a return', () =>
  withShop(async ({ client }) => {
    await client.post('/orders', orderBody({ externalId: 'NP-BACK', payment: { method: 'cod' }, delivery: toLviv }), {
      'Idempotency-Key': 'np-back',
    });
    await client.post('/orders', orderBody({ externalId: 'NP-AWAY', payment: { method: 'cod' }, delivery: toLviv }), {
      'Idempotency-Key': 'np-away',
    });
    const back = (await waitForShipment(client, 'NP-BACK', 'awaitingPickup')).context.waybill?.number ?? '';
    const away = (await waitForShipment(client, 'NP-AWAY', 'awaitingPickup')).context.waybill?.number ?? '';
    const np = await npSandbox(client);
    await np.scenario(back, 'refused');
    await np.advance(back, 4); // 7: at the branch
    await np.advance(away, 4);
    await track(client);
    await np.advance(back, 1); // 103: refused, no return yet
    await track(client);
    assert.equal((await shipmentOf(client, 'NP-BACK')).state, 'refused');
    assert.equal((await shipmentOf(client, 'NP-AWAY')).state, 'atWarehouse');

    const returnNumber = await np.basis(back, 'return'); // the sender orders it back: NP still says 103
    const redirectNumber = await np.basis(away, 'redirect');
    await track(client);
    const returning = await shipmentOf(client, 'NP-BACK');
    assert.deepEqual([returning.state, returning.context.returnNumber], ['returning', returnNumber]);
    const redirected = await shipmentOf(client, 'NP-AWAY');
    assert.deepEqual([redirected.state, redirected.context.returnNumber], ['atWarehouse', null], `${redirectNumber} is not a return`);

    await np.advance(returnNumber, 10);
    await track(client);
    await waitForShipment(client, 'NP-BACK', 'returned');
    await waitForOrder(client, 'NP-BACK', (o) => o.state === 'returned', 'the order returned');
  }));
