import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, transition, type AnyMachineSnapshot, type EventObject } from 'xstate';
import product, { availableUnits, productEventSchema, type ProductContext } from '../../machines/product.ts';

const { machine } = product;
const start = (stock = 10) => initialTransition(machine, { sku: 'CUP-1', name: 'Чашка', price: 25_000, stock })[0];
const step = (snapshot: AnyMachineSnapshot, event: EventObject & Record<string, unknown>) =>
  transition(machine, snapshot as never, event as never)[0];
const ctx = (snapshot: AnyMachineSnapshot) => snapshot.context as ProductContext;

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
});

test('stock may not be set below what is reserved; name and price change freely', () => {
  let s = step(start(10), { type: 'RESERVE', orderId: 'o-1', qty: 6 });
  assert.equal(s.can({ type: 'SET', stock: 5 } as never), false);
  s = step(s, { type: 'SET', stock: 6, price: 27_000, name: 'Чашка велика' });
  assert.deepEqual([ctx(s).stock, ctx(s).price, ctx(s).name], [6, 27_000, 'Чашка велика']);
});

test('events from outside are validated: no zero or fractional quantities', () => {
  assert.equal(productEventSchema.safeParse({ type: 'RESERVE', orderId: 'o', qty: 0 }).success, false);
  assert.equal(productEventSchema.safeParse({ type: 'RESERVE', orderId: 'o', qty: 1.5 }).success, false);
  assert.equal(productEventSchema.safeParse({ type: 'SET', stock: -1 }).success, false);
});
