import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, type SnapshotFrom } from 'xstate';
import { stepper } from '../support/machines.ts';
import shipment, { DEFAULT_STATUS_MAP, type ShipmentInput, type TrackedEvent } from '../../machines/shipment.ts';
import { workOf } from '../../actors/runtime/machine-glue.ts';
import { shipmentCodeOf } from '../../common/shipment-code.ts';

const { machine } = shipment;
const step = stepper(machine);
const ctx = (snapshot: SnapshotFrom<typeof machine>) => snapshot.context;
const notices = (actions: Parameters<typeof workOf>[0]) =>
  workOf(actions)
    .spawns.filter((s) => s.src === 'notifyShipment')
    .map((s) => (s.input as { stage: string }).stage);
const input: ShipmentInput = {
  shipmentId: 'SHOP-1001',
  orderId: 'SHOP-1001',
  recipient: { name: 'Олена', phone: '380501234567', email: 'olena@example.com' },
  cityRef: 'city',
  warehouseRef: 'branch',
  address: null,
  declaredValue: 50_000,
  description: 'Чашка',
  collectOnDelivery: null,
  statusMap: DEFAULT_STATUS_MAP,
  requestedAt: '2026-11-22T10:00:00.000Z',
};
const tracked = (number: string, statusCode: string, extra: Partial<TrackedEvent> = {}): TrackedEvent => ({
  type: 'TRACKED',
  number,
  statusCode,
  status: `status ${statusCode}`,
  ...extra,
});

function withWaybill(): SnapshotFrom<typeof machine> {
  const [quoting, actions] = initialTransition(machine, input);
  assert.equal(quoting.value, 'quoting');
  assert.deepEqual(
    workOf(actions).spawns.map((s) => s.src),
    ['quoteShipment'],
  );
  const [creating, create] = step(quoting, {
    type: 'xstate.done.actor.quote',
    output: { cost: 70, estimatedDelivery: '2026-11-24T18:00:00' },
  });
  assert.equal(creating.value, 'creatingWaybill');
  assert.deepEqual(
    workOf(create).spawns.map((s) => s.src),
    ['createWaybill'],
  );
  const [announcing, told] = step(creating, {
    type: 'xstate.done.actor.waybill',
    output: { number: '20450000000001', ref: 'ref-1', cost: 70, recovered: false },
  });
  assert.equal(announcing.value, 'announcingWaybill');
  assert.deepEqual(notices(told), ['awaitingPickup']);
  const [pickup] = step(announcing, { type: 'xstate.done.actor.notify-awaitingPickup', output: { notified: true } });
  assert.equal(pickup.value, 'awaitingPickup');
  return pickup;
}

test('quote → waybill → tracked through transit and the branch to delivered, each stage told', () => {
  let s = withWaybill();
  let actions;
  [s, actions] = step(s, tracked('20450000000001', '4'));
  assert.equal(s.value, 'inTransit');
  assert.deepEqual(notices(actions), ['inTransit']);
  [s, actions] = step(s, tracked('20450000000001', '5'));
  assert.equal(s.value, 'inTransit');
  assert.deepEqual(notices(actions), [], 'a new status in the same stage tells nobody');
  s = step(s, tracked('20450000000001', '7'))[0];
  assert.equal(s.value, 'atWarehouse');
  [s, actions] = step(s, tracked('20450000000001', '9'));
  assert.equal(s.value, 'delivered');
  assert.deepEqual(notices(actions), ['delivered']);
  assert.deepEqual(
    ctx(s).history.map((h) => h.statusCode),
    ['4', '5', '7', '9'],
  );
});

test('the same status twice, another number, or an unknown code change nothing', () => {
  let s = step(withWaybill(), tracked('20450000000001', '4'))[0];
  const revisionHistory = ctx(s).history.length;
  s = step(s, tracked('20450000000001', '4'))[0];
  s = step(s, tracked('99999999999999', '9'))[0];
  assert.equal(ctx(s).history.length, revisionHistory);
  s = step(s, tracked('20450000000001', '777'))[0];
  assert.equal(s.value, 'inTransit');
  assert.equal(ctx(s).history.at(-1)?.stage, 'unknown');
});

test('the status table is configuration: a shipment created with another table follows it', () => {
  const custom = { ...input, statusMap: { ...DEFAULT_STATUS_MAP, '4': 'atWarehouse' as const } };
  let [s] = initialTransition(machine, custom);
  s = step(s, { type: 'xstate.done.actor.quote', output: { cost: 1, estimatedDelivery: null } })[0];
  s = step(s, { type: 'xstate.done.actor.waybill', output: { number: '20450000000001', ref: 'r', cost: null, recovered: false } })[0];
  s = step(s, {
    type: 'xstate.error.actor.notify-awaitingPickup',
    error: { code: 'x', message: 'smtp down', retryable: true, attempts: 5 },
  })[0];
  assert.equal(s.value, 'awaitingPickup', 'a failed notice does not hold the parcel');
  assert.equal(step(s, tracked('20450000000001', '4'))[0].value, 'atWarehouse');
});

test('refused → returning with the return waybill → returned when the sender receives it', () => {
  let s = step(withWaybill(), tracked('20450000000001', '7'))[0];
  s = step(s, tracked('20450000000001', '103'))[0];
  assert.equal(s.value, 'refused');
  s = step(s, tracked('20450000000001', '102'))[0];
  assert.equal(s.value, 'returning');
  s = step(s, tracked('20450000000001', '102', { returnNumber: '20450000000002' }))[0];
  assert.equal(ctx(s).returnNumber, '20450000000002', 'the return number learned later is kept');
  s = step(s, tracked('20450000000002', '5'))[0];
  assert.equal(s.value, 'returning');
  const [returned, actions] = step(s, tracked('20450000000002', '9'));
  assert.equal(returned.value, 'returned');
  assert.deepEqual(notices(actions), ['returned']);
});

test('cancel before pickup deletes the waybill; a waybill that left already cannot be deleted and tracking goes on', () => {
  const [deleting, actions] = step(withWaybill(), { type: 'CANCEL', reason: 'order cancelled' });
  assert.equal(deleting.value, 'deletingWaybill');
  assert.deepEqual(
    workOf(actions).spawns.map((x) => x.input),
    [{ shipmentId: 'SHOP-1001', ref: 'ref-1' }],
  );
  assert.equal(step(deleting, { type: 'xstate.done.actor.delete', output: { deleted: true } })[0].value, 'cancelled');
  assert.equal(
    step(deleting, {
      type: 'xstate.error.actor.delete',
      error: { code: 'novaposhta_error', message: 'handed over', retryable: false, attempts: 1 },
    })[0].value,
    'awaitingPickup',
  );
  assert.equal(step(withWaybill(), tracked('20450000000001', '4'))[0].can({ type: 'CANCEL', reason: 'x' }), false);
});

test('a waybill NP refuses (validation) fails the shipment for a person (alert) instead of retrying; RETRY tries again', () => {
  let [s] = initialTransition(machine, input);
  s = step(s, { type: 'xstate.error.actor.quote', error: { code: 'timeout', message: 'x', retryable: true, attempts: 5 } })[0];
  assert.equal(s.value, 'creatingWaybill', 'no price is no reason to stop');
  s = step(s, {
    type: 'xstate.error.actor.waybill',
    error: { code: '20000200103', message: 'CityRecipient not found', retryable: false, attempts: 1 },
  })[0];
  assert.equal(s.value, 'failed');
  assert.ok(s.hasTag('alert'));
  assert.equal(ctx(s).error?.code, '20000200103');
  assert.equal(step(s, { type: 'RETRY' })[0].value, 'creatingWaybill');
});

test('a waybill made elsewhere is only tracked, not announced', () => {
  const [s, actions] = initialTransition(machine, { ...input, existingWaybill: { number: '20450000000009', ref: 'r9' } });
  assert.equal(s.value, 'awaitingPickup');
  assert.deepEqual(workOf(actions).spawns, []);
  assert.equal(ctx(s).waybill?.number, '20450000000009');
});

test('codes 14 (handed over for inspection) and 107 (storage fee accruing) keep a parcel at the branch', () => {
  for (const code of ['14', '107']) {
    const inTransit = step(withWaybill(), tracked('20450000000001', '4'))[0];
    const [atBranch, actions] = step(inTransit, tracked('20450000000001', code));
    assert.equal(atBranch.value, 'atWarehouse', code);
    assert.deepEqual(notices(actions), ['atWarehouse'], `${code}: the customer hears the parcel waits`);
  }
});

test('a return learned while the shipment is refused (NP still says 103) takes it back and on to returned', () => {
  let s = step(withWaybill(), tracked('20450000000001', '7'))[0];
  s = step(s, tracked('20450000000001', '103'))[0];
  assert.equal(s.value, 'refused');
  const [learned, actions] = step(s, tracked('20450000000001', '103', { returnNumber: '20450000000002' }));
  s = learned;
  assert.equal(s.value, 'returning', 'the return waybill, whatever the status');
  assert.deepEqual(notices(actions), ['returning']);
  assert.equal(ctx(s).returnNumber, '20450000000002');
  s = step(s, tracked('20450000000002', '4'))[0];
  assert.equal(s.value, 'returning');
  assert.equal(step(s, tracked('20450000000002', '9'))[0].value, 'returned');
});

test('a refused shipment that knows its return waybill already follows it: moving is returning, received is returned', () => {
  // what a shipment refused before this version may hold: the return number recorded, the state still refused
  const refused = step(step(withWaybill(), tracked('20450000000001', '7'))[0], tracked('20450000000001', '103'))[0];
  const stuck = { ...refused, context: { ...ctx(refused), returnNumber: '20450000000002' } } as typeof refused;
  assert.equal(step(stuck, tracked('20450000000002', '5'))[0].value, 'returning');
  assert.equal(step(stuck, tracked('20450000000002', '9'))[0].value, 'returned');
  assert.equal(step(stuck, tracked('20450000000001', '103'))[0].value, 'refused', 'the old number says nothing any more');
});

test('in refused, a status with no return waybill is only recorded', () => {
  const refused = step(step(withWaybill(), tracked('20450000000001', '7'))[0], tracked('20450000000001', '103'))[0];
  const [s] = step(refused, tracked('20450000000001', '777'));
  assert.equal(s.value, 'refused');
  assert.equal(ctx(s).returnNumber, null);
});

test('the shipment keeps a short code derived from its id and hands it to the carrier effects', () => {
  const long = { ...input, shipmentId: `SHOP-${'9'.repeat(120)}` };
  const [s, actions] = initialTransition(machine, long);
  assert.equal(ctx(s).ourCode, shipmentCodeOf(long.shipmentId));
  assert.ok(ctx(s).ourCode.length <= 21);
  assert.equal((workOf(actions).spawns[0]?.input as { ourCode: string }).ourCode, ctx(s).ourCode, 'the quote has it');
  const [, create] = step(s, { type: 'xstate.done.actor.quote', output: { cost: 1, estimatedDelivery: null } });
  assert.equal((workOf(create).spawns[0]?.input as { ourCode: string }).ourCode, ctx(s).ourCode, 'the waybill has it');
});

test('version 1 snapshots migrate to 2 keeping the id they wrote on their waybill as their code', () => {
  assert.equal(shipment.version, 2);
  const migrate = shipment.migrations[1];
  assert.ok(migrate);
  const [s] = initialTransition(machine, input);
  const { ourCode: _dropped, ...v1Context } = ctx(s);
  const migrated = migrate({ status: 'active', value: 'creatingWaybill', context: v1Context });
  assert.equal((migrated.context as { ourCode: string }).ourCode, 'SHOP-1001', 'a version-1 save wrote the id itself');
  const longId = 'X'.repeat(40); // version 1 refused such an id on the waybill: it never wrote one
  const migratedLong = migrate({ status: 'active', value: 'creatingWaybill', context: { ...v1Context, shipmentId: longId } });
  assert.equal((migratedLong.context as { ourCode: string }).ourCode, shipmentCodeOf(longId));
});

test('a parcel first seen refused or on its way back, the earlier statuses skipped between polls, leaves awaiting pickup', () => {
  const [refused, told] = step(withWaybill(), tracked('20450000000001', '103'));
  assert.equal(refused.value, 'refused');
  assert.deepEqual(notices(told), ['refused']);
  assert.equal(step(withWaybill(), tracked('20450000000001', '102'))[0].value, 'returning');
});

test('a return learned while the parcel waits at the branch takes the shipment on its way back', () => {
  const atBranch = step(withWaybill(), tracked('20450000000001', '7'))[0];
  const [s, actions] = step(atBranch, tracked('20450000000001', '7', { returnNumber: '20450000000002' }));
  assert.equal(s.value, 'returning');
  assert.deepEqual(notices(actions), ['returning']);
  assert.equal(step(atBranch, tracked('20450000000001', '7', { returnNumber: null }))[0].value, 'atWarehouse');
});
