import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, type SnapshotFrom } from 'xstate';
import { stepper } from '../support/machines.ts';
import product, {
  availableUnits,
  PRODUCT_REFUSALS,
  productEventSchema,
  productRefusal,
  type ProductEvent,
} from '../../machines/product.ts';

const { machine } = product;
const start = (stock = 10) => initialTransition(machine, { sku: 'CUP-1', name: 'Чашка', price: 25_000, stock })[0];
const transitionOf = stepper(machine);
const step = (snapshot: SnapshotFrom<typeof machine>, event: Parameters<typeof transitionOf>[1]) => transitionOf(snapshot, event)[0];
const ctx = (snapshot: SnapshotFrom<typeof machine>) => snapshot.context;

test('a reservation holds units for an order; asking twice for the same order holds them once', () => {
  let s = step(start(10), { type: 'RESERVE', orderId: 'o-1', qty: 3 });
  s = step(s, { type: 'RESERVE', orderId: 'o-1', qty: 3 });
  assert.deepEqual(ctx(s).reservations, { 'o-1': 3 });
  assert.equal(availableUnits(ctx(s)), 7);
});

test('a reservation beyond what is available is refused and recorded, holding nothing', () => {
  let s = step(start(4), { type: 'RESERVE', orderId: 'o-1', qty: 3 });
  s = step(s, { type: 'RESERVE', orderId: 'o-2', qty: 2 });
  assert.deepEqual(ctx(s).reservations, { 'o-1': 3 });
  assert.deepEqual(ctx(s).lastRefusal, { orderId: 'o-2', qty: 2, available: 1 });
});

test('release frees the units; commit takes them out of stock for good', () => {
  let s = step(start(10), { type: 'RESERVE', orderId: 'o-1', qty: 3 });
  s = step(s, { type: 'RESERVE', orderId: 'o-2', qty: 2 });
  s = step(s, { type: 'RELEASE', orderId: 'o-1' });
  s = step(s, { type: 'COMMIT', orderId: 'o-2' });
  assert.deepEqual([ctx(s).stock, ctx(s).sold, availableUnits(ctx(s))], [8, 2, 8]);
  assert.deepEqual(ctx(s).reservations, {});
  const again = step(s, { type: 'COMMIT', orderId: 'o-2' });
  assert.equal(ctx(again).stock, 8, 'a second commit of the same order takes nothing more');
  const back = step(again, { type: 'RESTOCK', returnId: 'RET-1', qty: 1 });
  assert.deepEqual([ctx(back).stock, ctx(back).sold, availableUnits(ctx(back))], [9, 1, 9], 'a returned unit is on the shelf again');
});

test('stock may not be set below what is reserved; name and price change freely', () => {
  let s = step(start(10), { type: 'RESERVE', orderId: 'o-1', qty: 6 });
  assert.equal(s.can({ type: 'SET', stock: 5 }), false);
  s = step(s, { type: 'SET', stock: 6, price: 27_000, name: 'Чашка велика' });
  assert.deepEqual([ctx(s).stock, ctx(s).price, ctx(s).name], [6, 27_000, 'Чашка велика']);
});

test('events from outside are validated: no zero or fractional quantities', () => {
  assert.equal(productEventSchema.safeParse({ type: 'RESERVE', orderId: 'o', qty: 0 }).success, false);
  assert.equal(productEventSchema.safeParse({ type: 'RESERVE', orderId: 'o', qty: 1.5 }).success, false);
  assert.equal(productEventSchema.safeParse({ type: 'SET', stock: -1 }).success, false);
});

// Refusals: why the product turns an event down (the runtime answers them in event_not_accepted's details.reason).
const typedStart = (stock: number) => initialTransition(machine, { sku: 'CUP-1', name: 'Чашка', price: 25_000, stock })[0];
const typedStep = (snapshot: ReturnType<typeof typedStart>, event: ProductEvent) => transitionOf(snapshot, event)[0];

test('stock set below what open orders hold is refused as stock_below_reserved, with both figures', () => {
  const s = typedStep(typedStart(10), { type: 'RESERVE', orderId: 'o-1', qty: 6 });
  const below: ProductEvent = { type: 'SET', stock: 5 };
  assert.equal(s.can(below), false);
  assert.deepEqual(productRefusal(s, below), {
    code: PRODUCT_REFUSALS.stockBelowReserved,
    message: 'stock 5 is below the 6 units reserved by open orders',
    details: { stock: 5, reserved: 6 },
  });
  assert.equal(product.refusal, productRefusal, 'the module hands the runtime its refusal');
  const covered: ProductEvent = { type: 'SET', stock: 6 };
  assert.equal(s.can(covered), true);
  assert.equal(productRefusal(s, covered), null, 'stock that covers the reservations is no refusal');
});

test('releasing or committing for an order that holds nothing is refused as no_reservation', () => {
  const s = typedStep(typedStart(10), { type: 'RESERVE', orderId: 'o-1', qty: 1 });
  for (const type of ['RELEASE', 'COMMIT'] as const) {
    const event: ProductEvent = { type, orderId: 'o-2' };
    assert.equal(s.can(event), false);
    assert.deepEqual(productRefusal(s, event), {
      code: PRODUCT_REFUSALS.noReservation,
      message: 'order o-2 holds no reservation of CUP-1',
      details: { orderId: 'o-2' },
    });
  }
});

test('a second reservation for an order that holds units already is answered already_reserved (the machine takes it and does nothing)', () => {
  const s = typedStep(typedStart(10), { type: 'RESERVE', orderId: 'o-1', qty: 3 });
  const again: ProductEvent = { type: 'RESERVE', orderId: 'o-1', qty: 4 };
  assert.equal(s.can(again), false, 'a transition without target or actions is not "accepted" to XState');
  assert.deepEqual(productRefusal(s, again), {
    code: PRODUCT_REFUSALS.alreadyReserved,
    message: 'order o-1 holds 3 units of CUP-1 already',
    details: { orderId: 'o-1', reserved: 3 },
  });
  assert.equal(productRefusal(s, { type: 'RESERVE', orderId: 'o-2', qty: 100 }), null, 'too few units is taken, and recorded');
});
