import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelReasonOf, duePushes, progressOf } from '../../../../actors/domains/marketplaces/status-outbox.ts';
import { marketplaceOrderId } from '../../../../actors/domains/marketplaces/order-import.ts';

const fresh = { told: [], cancelledThere: false, incident: null } as const;
const none = { errors: [], cancellation: null };

test('what a marketplace should know follows the order: confirmed, shipped with its waybill, delivered', () => {
  assert.deepEqual(progressOf('reservingStock', none), { wanted: [], reason: 'seller_cancelled', final: false });
  assert.deepEqual(progressOf('issuingDocuments', none).wanted, []);
  assert.deepEqual(progressOf('fulfilment.awaitingShipment', none), { wanted: ['confirmed'], reason: 'seller_cancelled', final: false });
  assert.deepEqual(progressOf('fulfilment.shipped', none).wanted, ['confirmed', 'shipped']);
  assert.deepEqual(progressOf('delivered', none), {
    wanted: ['confirmed', 'shipped', 'delivered'],
    reason: 'seller_cancelled',
    final: true,
  });
  assert.equal(progressOf('completed', none).final, true);
  assert.deepEqual(progressOf('returned', none), { wanted: ['confirmed', 'shipped'], reason: 'seller_cancelled', final: true });
  // a parcel that left while we were not looking: everything it skipped is told, in order
  assert.deepEqual(duePushes(progressOf('fulfilment.shipped', none), fresh, '20450000000001', null), [
    { status: 'confirmed' },
    { status: 'shipped', waybill: '20450000000001' },
  ]);
  assert.deepEqual(duePushes(progressOf('delivered', none), { ...fresh, told: ['confirmed', 'shipped'] }, 'X', null), [
    { status: 'delivered' },
  ]);
});

test('an order given up is cancelled with the reason in the marketplaces’ words, unless the marketplace cancelled it', () => {
  const outOfStock = { errors: [{ code: 'out_of_stock', message: 'CUP-1: 2 asked, 0 available' }], cancellation: null };
  assert.equal(cancelReasonOf(outOfStock), 'out_of_stock');
  assert.equal(cancelReasonOf({ errors: [{ code: 'unknown_product', message: '' }], cancellation: null }), 'out_of_stock');
  assert.equal(cancelReasonOf({ errors: [{ code: 'invalid_warehouse', message: '' }], cancellation: null }), 'cannot_deliver');
  assert.equal(cancelReasonOf({ errors: [], cancellation: { reason: 'клієнт передумав', by: 'olena' } }), 'seller_cancelled');
  assert.deepEqual(progressOf('rejected', outOfStock), { wanted: ['cancelled'], reason: 'out_of_stock', final: true });
  assert.equal(progressOf('releasingRejected', outOfStock).final, false);
  assert.equal(progressOf('cancelling', none).final, false);
  assert.equal(progressOf('cancelled', none).final, true);
  assert.deepEqual(duePushes(progressOf('rejected', outOfStock), fresh, null, null), [{ status: 'cancelled', reason: 'out_of_stock' }]);
  assert.deepEqual(duePushes(progressOf('cancelled', none), { ...fresh, told: ['confirmed'] }, null, 'клієнт передумав'), [
    { status: 'cancelled', reason: 'seller_cancelled', comment: 'клієнт передумав' },
  ]);
  // cancelled by the marketplace (or its buyer): nothing to tell back
  assert.deepEqual(duePushes(progressOf('cancelled', none), { ...fresh, cancelledThere: true }, null, null), []);
});

test('a refused push is not repeated, and the order goes on to what comes after it', () => {
  const refused = { told: [], cancelledThere: false, incident: { status: 'confirmed' as const } };
  assert.deepEqual(duePushes(progressOf('fulfilment.awaitingShipment', none), refused, null, null), []);
  assert.deepEqual(duePushes(progressOf('fulfilment.shipped', none), refused, '2045', null), [{ status: 'shipped', waybill: '2045' }]);
});

test("a marketplace order's actor id is made from the marketplace and its id, within the runtime's alphabet", () => {
  assert.equal(marketplaceOrderId('rozetka', '701000002'), 'rozetka-701000002');
  assert.equal(marketplaceOrderId('ozon', '0123456789-0001-1'), 'ozon-0123456789-0001-1');
  assert.equal(marketplaceOrderId('wildberries', 'a/b c'), 'wildberries-a_b_c');
  assert.ok(marketplaceOrderId('uzum', 'x'.repeat(300)).length <= 128);
});
