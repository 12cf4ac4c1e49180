import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, type AnyMachineSnapshot, type AnyStateNode, type SnapshotFrom } from 'xstate';
import { stepper, timerFiring } from '../support/machines.ts';
import order, { paymentBasket, type OrderEvent, type OrderInput } from '../../machines/order.ts';
import { orderPolicySchema, priceOrder, validateOrder } from '../../machines/order-rules.ts';
import { acceptedEvents, flattenStateValue, workOf } from '../../actors/runtime/machine-glue.ts';

const { machine } = order;
const step = stepper(machine);
const ctx = (snapshot: SnapshotFrom<typeof machine>) => snapshot.context;
const spawned = (actions: Parameters<typeof workOf>[0]) => workOf(actions).spawns.map((s) => s.src);

function orderInput(overrides: Partial<OrderInput> = {}): OrderInput {
  return {
    orderId: 'SHOP-1001',
    acceptedAt: '2026-11-22T10:00:00.000Z',
    externalId: 'SHOP-1001',
    source: 'shop',
    customer: { name: 'Олена Петренко', phone: '+380501234567', email: 'olena@example.com' },
    items: [{ sku: 'CUP-1', name: 'Чашка', qty: 2, unitPrice: 25_000 }],
    currency: 'UAH',
    delivery: { carrier: 'novaposhta', cityRef: 'city-1', warehouseRef: 'wh-1', fee: 0 },
    payment: { method: 'monobank' },
    total: 50_000,
    policy: orderPolicySchema.parse({ maxPaymentAttempts: 2, paymentRetryDelayMs: 1_000 }),
    ...overrides,
  };
}

const lines = [{ sku: 'CUP-1', name: 'Чашка', qty: 2, unitPrice: 25_000 }];

function toPaying(input = orderInput()): AnyMachineSnapshot {
  const [start, actions] = initialTransition(machine, input);
  assert.equal(start.value, 'reservingStock');
  assert.deepEqual(spawned(actions), ['reserveStock']);
  const [checking, checks] = step(start, { type: 'xstate.done.actor.reserve', output: { ok: true, lines } });
  assert.equal(checking.value, 'checkingDelivery');
  assert.deepEqual(spawned(checks), ['checkDelivery']);
  const [paying, pays] = step(checking, {
    type: 'xstate.done.actor.coverage',
    output: { ok: true, cityName: 'Київ', warehouseName: 'Відділення №1' },
  });
  assert.deepEqual(spawned(pays), ['startPayment']);
  return paying;
}

const paid = (s: AnyMachineSnapshot, paymentId = 'SHOP-1001-P1') =>
  step(s, { type: 'PAYMENT_RESULT', paymentId, outcome: 'succeeded', failure: null });
const declined = (s: AnyMachineSnapshot, paymentId: string) =>
  step(s, { type: 'PAYMENT_RESULT', paymentId, outcome: 'failed', failure: { code: 'declined', message: 'Недостатньо коштів' } });

test('validation: every problem gets its own code, and an invalid order is rejected before touching stock', () => {
  const input = orderInput({ customer: { name: '', phone: '12345' }, total: 49_000, delivery: { carrier: 'novaposhta', fee: 0 } });
  const codes = validateOrder(input).map((e) => `${e.code}:${e.path}`);
  assert.deepEqual(
    codes.sort(),
    [
      'invalid_phone:customer.phone',
      'missing_field:customer.email',
      'missing_field:customer.name',
      'missing_field:delivery.cityRef',
      'missing_field:delivery.warehouseRef',
      'total_mismatch:total',
    ].sort(),
  );
  const [s, actions] = initialTransition(machine, input);
  assert.equal(s.value, 'rejected');
  assert.deepEqual(spawned(actions), ['notifyCustomer']);
});

test('pricing: VAT 20 % is shown inside the total; fees apply by payment method', () => {
  const policy = orderPolicySchema.parse({
    fees: [
      { name: 'cod_fee', percent: 2, methods: ['cod'] },
      { name: 'packing', fixed: 1_500 },
    ],
  });
  const card = priceOrder(orderInput(), policy);
  assert.deepEqual(card, {
    subtotal: 50_000,
    deliveryFee: 0,
    fees: [{ name: 'packing', amount: 1_500 }],
    total: 51_500,
    vatRatePercent: 20,
    vat: 8_583,
    currency: 'UAH',
  });
  const cod = priceOrder(orderInput({ payment: { method: 'cod' } }), policy);
  assert.deepEqual(
    cod.fees.map((f) => f.name),
    ['cod_fee', 'packing'],
  );
  assert.equal(cod.total, 52_500);
});

test("stock refused → rejected with the effect's codes; delivery refused → stock released, then rejected", () => {
  const [start] = initialTransition(machine, orderInput());
  const [noStock] = step(start, {
    type: 'xstate.done.actor.reserve',
    output: { ok: false, errors: [{ code: 'out_of_stock', message: 'CUP-1: 1 left', path: 'items.0' }] },
  });
  assert.equal(noStock.value, 'rejected');
  assert.deepEqual(
    ctx(noStock).errors.map((e) => e.code),
    ['out_of_stock'],
  );

  const [checking] = step(start, { type: 'xstate.done.actor.reserve', output: { ok: true, lines } });
  const [releasing, actions] = step(checking, {
    type: 'xstate.done.actor.coverage',
    output: { ok: false, errors: [{ code: 'invalid_warehouse', message: 'no such branch' }] },
  });
  assert.equal(releasing.value, 'releasingRejected');
  assert.deepEqual(
    workOf(actions).spawns.map((x) => x.input),
    [{ orderId: 'SHOP-1001', skus: ['CUP-1'] }],
  );
  assert.equal(step(releasing, { type: 'xstate.done.actor.release', output: { released: 1 } })[0].value, 'rejected');
});

test('a valid order is priced and pays through a child payment with a unique reference', () => {
  const s = toPaying();
  assert.equal(s.value, 'paying');
  assert.deepEqual(ctx(s).currentPayment, { id: 'SHOP-1001-P1', attempt: 1, outcome: 'pending' });
  assert.equal(ctx(s).pricing?.total, 50_000);
  assert.equal(ctx(s).delivery.cityName, 'Київ');
});

test('paid → documents → awaiting shipment with a promised date and an on-time timer', () => {
  const [issuing, actions] = paid(toPaying());
  assert.equal(issuing.value, 'issuingDocuments');
  assert.deepEqual(spawned(actions), ['issueDocuments']);
  const [fulfilment, next] = step(issuing, {
    type: 'xstate.done.actor.documents',
    output: { invoiceNumber: 7, issuedAt: '2026-11-22T10:05:00.000Z' },
  });
  assert.deepEqual(fulfilment.value, { fulfilment: 'awaitingShipment' });
  assert.deepEqual(ctx(fulfilment).invoice, { number: 7, issuedAt: '2026-11-22T10:05:00.000Z' });
  assert.equal(ctx(fulfilment).promisedBy, '2026-11-25T10:05:00.000Z');
  assert.equal(ctx(fulfilment).receipt?.paymentId, 'SHOP-1001-P1');
  assert.deepEqual(spawned(next).sort(), ['notifyCustomer', 'requestShipment']);
  assert.deepEqual(workOf(next).spawns.find((x) => x.src === 'requestShipment')?.input, {
    orderId: 'SHOP-1001',
    carrier: 'novaposhta',
    recipient: { name: 'Олена Петренко', phone: '+380501234567', email: 'olena@example.com' },
    cityRef: 'city-1',
    warehouseRef: 'wh-1',
    address: null,
    declaredValue: 50_000,
    description: 'Чашка',
    collectOnDelivery: null,
  });
  assert.deepEqual(
    workOf(next).delays.map((d) => d.delayMs),
    [3 * 24 * 3600 * 1000],
  );
  const [late] = step(fulfilment, timerFiring(workOf(next).delays[0]));
  assert.equal(ctx(late).late, true);
  assert.deepEqual(late.value, { fulfilment: 'awaitingShipment' }, 'a late order is flagged, not moved');
});

test('a failed payment notifies, waits and tries again; after the last attempt the order is blocked (alert) and its stock released', () => {
  let [s, actions] = declined(toPaying(), 'SHOP-1001-P1');
  assert.equal(s.value, 'awaitingPaymentRetry');
  assert.deepEqual(spawned(actions), ['notifyCustomer']);
  assert.deepEqual(
    workOf(actions).delays.map((d) => d.delayMs),
    [1_000],
  );
  [s, actions] = step(s, timerFiring(workOf(actions).delays[0]));
  assert.equal(s.value, 'paying');
  assert.equal(ctx(s).currentPayment?.id, 'SHOP-1001-P2');
  assert.deepEqual(spawned(actions), ['startPayment']);
  assert.equal(declined(s, 'SHOP-1001-P1')[0].value, 'paying', 'a result for an old attempt changes nothing');
  [s, actions] = declined(s, 'SHOP-1001-P2');
  assert.equal(s.value, 'releasingBlocked');
  assert.deepEqual(spawned(actions), ['releaseStock']);
  [s, actions] = step(s, { type: 'xstate.done.actor.releaseBlocked', output: { released: 1 } });
  assert.equal(s.value, 'blocked');
  assert.deepEqual(
    workOf(actions).spawns.map((x) => (x.input as { template: string }).template),
    ['order_blocked'],
  );
  assert.ok(s.hasTag('alert'));
  assert.deepEqual(
    ctx(s).paymentErrors.map((e) => e.paymentId),
    ['SHOP-1001-P1', 'SHOP-1001-P2'],
  );
  const [again] = step(s, { type: 'RETRY_PAYMENT', by: 'admin' });
  assert.equal(again.value, 'reservingStock');
  assert.deepEqual([ctx(again).paymentAttempts, ctx(again).paymentAttemptsBefore], [2, 2]);

  // a new round: the policy's attempts again, under new payment ids (P1 and P2 are finished actors)
  s = step(again, { type: 'xstate.done.actor.reserve', output: { ok: true, lines } })[0];
  [s, actions] = step(s, { type: 'xstate.done.actor.coverage', output: { ok: true, cityName: 'Київ', warehouseName: 'Відділення №1' } });
  assert.equal(s.value, 'paying');
  assert.equal(ctx(s).currentPayment?.id, 'SHOP-1001-P3');
  assert.equal((workOf(actions).spawns[0]?.input as { paymentId: string }).paymentId, 'SHOP-1001-P3');
  [s, actions] = declined(s, 'SHOP-1001-P3');
  assert.equal(s.value, 'awaitingPaymentRetry', 'one attempt of this round is used, one is left');
  [s] = step(s, timerFiring(workOf(actions).delays[0]));
  assert.equal(ctx(s).currentPayment?.id, 'SHOP-1001-P4');
  [s] = declined(s, 'SHOP-1001-P4');
  assert.equal(s.value, 'releasingBlocked');
  assert.deepEqual(
    order.children?.(ctx(s)).map((c) => c.id),
    ['SHOP-1001-P1', 'SHOP-1001-P2', 'SHOP-1001-P3', 'SHOP-1001-P4'],
  );
});

test('version 1 orders migrate: the attempts so far are all of the current round', () => {
  const migrate = order.migrations[1];
  assert.ok(migrate);
  const migrated = migrate({ status: 'active', value: 'paying', context: { orderId: 'o-1', paymentAttempts: 2 } });
  assert.deepEqual(migrated.context, { orderId: 'o-1', paymentAttempts: 2, paymentAttemptsBefore: 0 });
  assert.equal(order.version, 2);
});

test('cash on delivery skips payment', () => {
  let [s] = initialTransition(machine, orderInput({ payment: { method: 'cod' } }));
  s = step(s, { type: 'xstate.done.actor.reserve', output: { ok: true, lines } })[0];
  const [issuing] = step(s, { type: 'xstate.done.actor.coverage', output: { ok: true, cityName: 'Київ', warehouseName: null } });
  assert.equal(issuing.value, 'issuingDocuments');
  assert.equal(ctx(issuing).receipt?.method, 'cod');
});

test('shipped commits the stock; delivered sends the survey; an answer completes the order', () => {
  let s = paid(toPaying())[0];
  s = step(s, { type: 'xstate.done.actor.documents', output: { invoiceNumber: 1, issuedAt: '2026-11-22T10:05:00.000Z' } })[0];
  let actions;
  [s, actions] = step(s, { type: 'SHIPPED', waybill: '20450000000001', at: '2026-11-22T12:00:00.000Z' });
  assert.deepEqual(s.value, { fulfilment: 'shipped' });
  assert.deepEqual(spawned(actions).sort(), ['commitStock', 'notifyCustomer']);
  [s, actions] = step(s, { type: 'DELIVERED', at: '2026-11-23T12:00:00.000Z' });
  assert.equal(s.value, 'delivered');
  assert.deepEqual(
    workOf(actions)
      .spawns.map((x) => x.src)
      .sort(),
    ['commitStock', 'notifyCustomer'],
    'stock committed here too, should shipped have been left before its commit ran',
  );
  assert.deepEqual(workOf(actions).spawns.find((x) => x.src === 'notifyCustomer')?.input, {
    orderId: 'SHOP-1001',
    template: 'survey',
    to: 'olena@example.com',
    data: { currency: 'UAH' },
  });
  assert.deepEqual(workOf(actions).spawns.find((x) => x.src === 'commitStock')?.input, { orderId: 'SHOP-1001', skus: ['CUP-1'] });
  s = step(s, { type: 'SURVEY_ANSWERED', rating: 5, comment: 'Дякую' })[0];
  assert.equal(s.value, 'completed');
  assert.equal(s.status, 'done');
  assert.deepEqual(ctx(s).survey, { sent: false, rating: 5, comment: 'Дякую' });
});

test('a parcel that comes back returns the order for a person (alert)', () => {
  let s = paid(toPaying())[0];
  s = step(s, { type: 'xstate.done.actor.documents', output: { invoiceNumber: 1, issuedAt: '2026-11-22T10:05:00.000Z' } })[0];
  s = step(s, { type: 'SHIPPED', at: '2026-11-22T12:00:00.000Z' })[0];
  const [returned] = step(s, { type: 'RETURNED' });
  assert.equal(returned.value, 'returned');
  assert.ok(returned.hasTag('alert'));
});

test('cancel before shipping: stock released, a paid payment refunded; money arriving after cancellation is refunded too', () => {
  let s = paid(toPaying())[0];
  s = step(s, { type: 'xstate.done.actor.documents', output: { invoiceNumber: 1, issuedAt: '2026-11-22T10:05:00.000Z' } })[0];
  const [cancelling, actions] = step(s, { type: 'CANCEL', reason: 'changed my mind', by: 'operator' });
  assert.equal(cancelling.value, 'cancelling');
  assert.deepEqual(
    workOf(actions).spawns.map((x) => x.input),
    [
      {
        orderId: 'SHOP-1001',
        shipmentId: 'SHOP-1001',
        skus: ['CUP-1'],
        refundPaymentId: 'SHOP-1001-P1',
        reason: 'changed my mind',
        to: 'olena@example.com',
      },
    ],
  );
  assert.equal(step(cancelling, { type: 'xstate.done.actor.cancel', output: { refundRequested: true } })[0].value, 'cancelled');

  const [unpaidCancel] = step(toPaying(), { type: 'CANCEL', reason: 'no', by: 'operator' });
  const [cancelled] = step(unpaidCancel, { type: 'xstate.done.actor.cancel', output: { refundRequested: false } });
  const [refunding, late] = paid(cancelled);
  assert.equal(refunding.value, 'refundingLatePayment');
  assert.deepEqual(
    workOf(late).spawns.map((x) => (x.input as { refundPaymentId: string }).refundPaymentId),
    ['SHOP-1001-P1'],
  );
});

test('shipped orders can no longer be cancelled', () => {
  let s = paid(toPaying())[0];
  s = step(s, { type: 'xstate.done.actor.documents', output: { invoiceNumber: 1, issuedAt: '2026-11-22T10:05:00.000Z' } })[0];
  s = step(s, { type: 'SHIPPED', at: '2026-11-22T12:00:00.000Z' })[0];
  assert.equal(s.can({ type: 'CANCEL', reason: 'x', by: 'y' }), false);
});

/**
 * Every state an order rests in (the transient `validating`, `pricing` and `paymentFailed` pass straight
 * through), reached the way a real order reaches it, keyed by its state value.
 */
function restingStates(): Map<string, AnyMachineSnapshot> {
  const found = new Map<string, AnyMachineSnapshot>();
  const keep = (s: AnyMachineSnapshot) => {
    found.set(flattenStateValue(s.value), s);
    return s;
  };
  const reserving = keep(initialTransition(machine, orderInput())[0]);
  const checking = keep(step(reserving, { type: 'xstate.done.actor.reserve', output: { ok: true, lines } })[0]);
  const releasingRejected = keep(
    step(checking, {
      type: 'xstate.done.actor.coverage',
      output: { ok: false, errors: [{ code: 'invalid_warehouse', message: 'no such branch' }] },
    })[0],
  );
  keep(step(releasingRejected, { type: 'xstate.done.actor.release', output: { released: 1 } })[0]);

  const paying = keep(toPaying());
  const [retrying, retryActions] = declined(paying, 'SHOP-1001-P1');
  keep(retrying);
  const secondAttempt = step(retrying, timerFiring(workOf(retryActions).delays[0]))[0];
  const releasingBlocked = keep(declined(secondAttempt, 'SHOP-1001-P2')[0]);
  keep(step(releasingBlocked, { type: 'xstate.done.actor.releaseBlocked', output: { released: 1 } })[0]);

  const issuing = keep(paid(paying)[0]);
  keep(
    step(issuing, {
      type: 'xstate.error.actor.documents',
      error: { code: 'pdf_failed', message: 'no fonts', retryable: false, attempts: 5 },
    })[0],
  );
  const awaitingShipment = keep(
    step(issuing, { type: 'xstate.done.actor.documents', output: { invoiceNumber: 1, issuedAt: '2026-11-22T10:05:00.000Z' } })[0],
  );
  const shipped = keep(step(awaitingShipment, { type: 'SHIPPED', waybill: '20450000000001', at: '2026-11-22T12:00:00.000Z' })[0]);
  keep(step(shipped, { type: 'RETURNED' })[0]);
  const delivered = keep(step(shipped, { type: 'DELIVERED', at: '2026-11-23T12:00:00.000Z' })[0]);
  keep(step(delivered, { type: 'SURVEY_ANSWERED', rating: 5 })[0]);

  const cancelling = keep(step(paying, { type: 'CANCEL', reason: 'no', by: 'operator' })[0]);
  const cancelled = keep(step(cancelling, { type: 'xstate.done.actor.cancel', output: { refundRequested: false } })[0]);
  keep(paid(cancelled)[0]);
  return found;
}

const cancelEvent: OrderEvent = { type: 'CANCEL', reason: 'customer phoned', by: 'desk' };
const undoInput = (overrides: { shipmentId?: string; skus: string[]; refundPaymentId: string | null }) => ({
  orderId: 'SHOP-1001',
  shipmentId: null,
  reason: 'customer phoned',
  to: 'olena@example.com',
  ...overrides,
});

// The states that accept CANCEL, one by one: adding a state here or dropping one is a change of behaviour, not a tidy-up.
const cancellableStates = {
  reservingStock: { undo: undoInput({ skus: [], refundPaymentId: null }), timersDropped: 0 },
  checkingDelivery: { undo: undoInput({ skus: ['CUP-1'], refundPaymentId: null }), timersDropped: 0 },
  paying: { undo: undoInput({ skus: ['CUP-1'], refundPaymentId: null }), timersDropped: 0 },
  awaitingPaymentRetry: { undo: undoInput({ skus: ['CUP-1'], refundPaymentId: null }), timersDropped: 1 },
  blocked: { undo: undoInput({ skus: [], refundPaymentId: null }), timersDropped: 0 },
  documentsFailed: { undo: undoInput({ skus: ['CUP-1'], refundPaymentId: 'SHOP-1001-P1' }), timersDropped: 0 },
  'fulfilment.awaitingShipment': {
    undo: undoInput({ shipmentId: 'SHOP-1001', skus: ['CUP-1'], refundPaymentId: 'SHOP-1001-P1' }),
    timersDropped: 1,
  },
};
const refusingStates = [
  'releasingRejected',
  'rejected',
  'releasingBlocked',
  'issuingDocuments',
  'fulfilment.shipped',
  'delivered',
  'completed',
  'returned',
  'cancelling',
  'cancelled',
  'refundingLatePayment',
];

test('the two CANCEL lists name every state an order can rest in, once', () => {
  const restingInDefinition: string[] = [];
  const visit = (node: AnyStateNode) => {
    const children = Object.values(node.states);
    if (children.length === 0 && node.always === undefined) restingInDefinition.push(node.path.join('.'));
    children.forEach(visit);
  };
  visit(machine.root);
  assert.deepEqual([...Object.keys(cancellableStates), ...refusingStates].sort(), restingInDefinition.sort());
  assert.deepEqual([...restingStates().keys()].sort(), restingInDefinition.sort(), 'the test reaches every one of them');
});

test('CANCEL from each of the seven states before shipping goes to cancelling, records who and why, and asks to undo what was done', () => {
  const states = restingStates();
  for (const [state, expected] of Object.entries(cancellableStates)) {
    const before = states.get(state);
    assert.ok(before, state);
    assert.ok(before.can(cancelEvent), `${state} accepts CANCEL`);
    assert.ok(acceptedEvents(before).includes('CANCEL'), `${state} lists CANCEL among the events it accepts`);
    const [after, actions] = step(before, cancelEvent);
    assert.equal(after.value, 'cancelling', state);
    assert.deepEqual(
      ctx(after),
      { ...ctx(before), cancellation: { reason: 'customer phoned', by: 'desk' } },
      `${state}: nothing else changes`,
    );
    const work = workOf(actions);
    assert.deepEqual(work.spawns, [{ invokeId: 'cancel', src: 'cancelOrder', input: expected.undo }], state);
    assert.equal(work.cancels.length, expected.timersDropped, `${state}: the timers of the state left are dropped`);
    assert.deepEqual(work.delays, [], state);
  }
});

test('every other state refuses CANCEL and stays as it was', () => {
  const states = restingStates();
  for (const state of refusingStates) {
    const before = states.get(state);
    assert.ok(before, state);
    assert.equal(before.can(cancelEvent), false, `${state} refuses CANCEL`);
    assert.ok(!acceptedEvents(before).includes('CANCEL'), state);
    const [after, actions] = step(before, cancelEvent);
    assert.deepEqual(after.value, before.value, state);
    assert.deepEqual(after.context, before.context, state);
    assert.deepEqual(workOf(actions), { spawns: [], delays: [], cancels: [], unsupported: [] }, state);
  }
});

test('an attempt paid after it had failed (expired) pays the order while it waits to try again', () => {
  const [waiting] = declined(toPaying(), 'SHOP-1001-P1');
  assert.equal(waiting.value, 'awaitingPaymentRetry');
  const [s, actions] = paid(waiting, 'SHOP-1001-P1');
  assert.equal(s.value, 'issuingDocuments');
  assert.deepEqual(ctx(s).currentPayment, { id: 'SHOP-1001-P1', attempt: 1, outcome: 'succeeded' });
  assert.equal(ctx(s).receipt?.paymentId, 'SHOP-1001-P1');
  assert.deepEqual(spawned(actions), ['issueDocuments']);
  assert.deepEqual(workOf(actions).cancels.length, 1, 'the retry timer is dropped');
});

test('an earlier attempt paid after all while the next one waits pays the order, and becomes the payment a cancel refunds', () => {
  const [waiting, actions] = declined(toPaying(), 'SHOP-1001-P1');
  const [s] = step(waiting, timerFiring(workOf(actions).delays[0]));
  assert.equal(ctx(s).currentPayment?.id, 'SHOP-1001-P2');
  const [credited] = paid(s, 'SHOP-1001-P1');
  assert.equal(credited.value, 'issuingDocuments');
  assert.deepEqual(ctx(credited).currentPayment, { id: 'SHOP-1001-P1', attempt: 1, outcome: 'succeeded' });
  assert.equal(paid(s, 'OTHER-ORDER-P1')[0].value, 'paying', "another order's payment is not this order's money");
  assert.equal(paid(s, 'SHOP-1001-P3')[0].value, 'paying', "an attempt never made is not this order's");
});

test('a blocked order does not take a late payment (its stock is released): the payment refunds it', () => {
  const [releasing] = declined(toPaying(orderInput({ policy: orderPolicySchema.parse({ maxPaymentAttempts: 1 }) })), 'SHOP-1001-P1');
  const [s] = step(releasing, { type: 'xstate.done.actor.releaseBlocked', output: { released: 1 } });
  assert.equal(s.value, 'blocked');
  const [after] = paid(s, 'SHOP-1001-P1');
  assert.equal(after.value, 'blocked');
  assert.equal(ctx(after).receipt, null);
});

test("the payment's basket adds up to what the customer pays: goods, delivery, fees and VAT charged on top are lines", () => {
  const goods = [{ sku: 'CUP-1', name: 'Чашка', qty: 2, unitPrice: 25_000 }];
  const sum = (basket: ReturnType<typeof paymentBasket>) => basket.reduce((total, line) => total + line.qty * line.price, 0);
  const input = orderInput({ delivery: { carrier: 'novaposhta', cityRef: 'city-1', warehouseRef: 'wh-1', fee: 6_000 } });
  const included = priceOrder(input, orderPolicySchema.parse({ fees: [{ name: 'packing', fixed: 1_500 }] }));
  const basket = paymentBasket({ lines: goods, pricing: included });
  assert.deepEqual(
    basket.map((line) => [line.sku, line.qty, line.price]),
    [
      ['CUP-1', 2, 25_000],
      ['DELIVERY', 1, 6_000],
      ['FEE-packing', 1, 1_500],
    ],
  );
  assert.equal(sum(basket), included.total);
  const onTop = priceOrder(input, orderPolicySchema.parse({ vatIncluded: false }));
  const taxed = paymentBasket({ lines: goods, pricing: onTop });
  assert.deepEqual(taxed.at(-1), { name: 'ПДВ 20%', qty: 1, price: onTop.vat, sku: 'VAT' });
  assert.equal(sum(taxed), onTop.total);
  assert.deepEqual(
    paymentBasket({ lines: goods, pricing: null }).map((line) => line.sku),
    ['CUP-1'],
  );
});

test('an order in soums pays through Payme in UZS (tiyin); its parcel is declared in hryvnias at the policy rate, rounded up', () => {
  const soums = orderInput({
    currency: 'UZS',
    customer: { name: 'Dilnoza Karimova', phone: '+998901234567', email: 'dilnoza@example.com' },
    items: [{ sku: 'CUP-1', name: 'Чашка', qty: 2, unitPrice: 7_500_050 }],
    total: 15_000_100,
    payment: { method: 'payme' },
    policy: orderPolicySchema.parse({ exchangeRates: { UZS: 300 } }),
  });
  assert.deepEqual(validateOrder(soums), [], 'an Uzbek phone is valid on a soum order');
  const [start] = initialTransition(machine, soums);
  const [checking] = step(start, {
    type: 'xstate.done.actor.reserve',
    output: { ok: true, lines: [{ sku: 'CUP-1', name: 'Чашка', qty: 2, unitPrice: 7_500_050 }] },
  });
  const [paying, pays] = step(checking, {
    type: 'xstate.done.actor.coverage',
    output: { ok: true, cityName: 'Київ', warehouseName: 'Відділення №1' },
  });
  const payment = workOf(pays).spawns.find((x) => x.src === 'startPayment')?.input as Record<string, unknown>;
  assert.equal(payment.provider, 'payme');
  assert.equal(payment.currency, 'UZS');
  assert.equal(payment.amount, 15_000_100);
  assert.equal(ctx(paying).pricing?.currency, 'UZS');
  const [issuing] = paid(paying);
  const [, next] = step(issuing, {
    type: 'xstate.done.actor.documents',
    output: { invoiceNumber: 8, issuedAt: '2026-11-22T10:05:00.000Z' },
  });
  const shipment = workOf(next).spawns.find((x) => x.src === 'requestShipment')?.input as Record<string, unknown>;
  // 15 000 100 tiyin at 300 soums per hryvnia = 50 000.33… kopiykas → 50 001
  assert.equal(shipment.declaredValue, 50_001);
  const notice = workOf(next).spawns.find((x) => x.src === 'notifyCustomer')?.input as { data: Record<string, unknown> };
  assert.equal(notice.data.currency, 'UZS', 'the customer is told amounts in the order currency');
  assert.equal(
    validateOrder({ ...soums, currency: 'UAH' }).find((e) => e.path === 'customer.phone')?.code,
    'invalid_phone',
    'a hryvnia order still wants a Ukrainian phone',
  );
});

/** An FBS order from Uzum: paid there, carried by Uzum's logistics, priced by Uzum. */
const marketplaceInput = (overrides: Partial<OrderInput> = {}) =>
  orderInput({
    orderId: 'uzum-5001',
    externalId: '5001',
    source: 'uzum',
    customer: {},
    currency: 'UZS',
    items: [{ sku: 'CUP-1', name: 'Чашка', qty: 1, unitPrice: 9_900_000 }],
    delivery: { carrier: 'marketplace', service: 'uzum-fbs', fee: 0 },
    payment: { method: 'marketplace' },
    total: 9_900_000,
    ...overrides,
  });

test('a marketplace order needs no customer or address when its logistics carry it, and keeps its own price at the stock check', () => {
  assert.deepEqual(validateOrder(marketplaceInput()), []);
  // a Rozetka order that we ship through Nova Poshta still needs the recipient and the branch, but no e-mail
  const rozetka = marketplaceInput({
    source: 'rozetka',
    currency: 'UAH',
    delivery: { carrier: 'novaposhta', fee: 0 },
    customer: { name: 'Олена' },
  });
  assert.deepEqual(
    validateOrder(rozetka).map((e) => e.path),
    ['customer.phone', 'delivery.cityRef', 'delivery.warehouseRef'],
  );
  const [start, actions] = initialTransition(machine, marketplaceInput());
  assert.equal(start.value, 'reservingStock');
  assert.equal((workOf(actions).spawns[0]?.input as { checkPrice: boolean }).checkPrice, false);
  const [, shopActions] = initialTransition(machine, orderInput());
  assert.equal((workOf(shopActions).spawns[0]?.input as { checkPrice: boolean }).checkPrice, true);
});

test('an order paid at its marketplace skips our payment, and its own logistics ask for no parcel of ours', () => {
  const [start] = initialTransition(machine, marketplaceInput());
  const [checking, checks] = step(start, {
    type: 'xstate.done.actor.reserve',
    output: { ok: true, lines: [{ sku: 'CUP-1', name: 'Чашка', qty: 1, unitPrice: 9_900_000 }] },
  });
  assert.deepEqual(workOf(checks).spawns[0]?.input, {
    carrier: 'marketplace',
    service: 'uzum-fbs',
    cityRef: '',
    warehouseRef: null,
    hasAddress: false,
  });
  const [issuing, issues] = step(checking, {
    type: 'xstate.done.actor.coverage',
    output: { ok: true, cityName: 'uzum-fbs', warehouseName: null },
  });
  assert.equal(issuing.value, 'issuingDocuments');
  assert.deepEqual(spawned(issues), ['issueDocuments']);
  assert.deepEqual(ctx(issuing).receipt, { paymentId: null, method: 'marketplace', amount: 9_900_000, paidAt: null });
  assert.equal(ctx(issuing).paymentAttempts, 0);
  const [fulfilment] = step(issuing, {
    type: 'xstate.done.actor.documents',
    output: { invoiceNumber: 9, issuedAt: '2026-11-22T10:05:00.000Z' },
  });
  assert.deepEqual(fulfilment.value, { fulfilment: 'awaitingShipment' });
  assert.equal(ctx(fulfilment).shipmentRequested, false);
  assert.deepEqual(order.children?.(ctx(fulfilment)), []);
  const [shipped] = step(fulfilment, { type: 'SHIPPED', at: '2026-11-22T12:00:00.000Z' });
  assert.deepEqual(shipped.value, { fulfilment: 'shipped' });
});
