import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyStateNode } from 'xstate';
import { domainEventNameOf, domainEventProblems } from '../../actors/runtime/domain-events.ts';
import { allMachines } from '../../machines/index.ts';
import order from '../../machines/order.ts';

/** Every state a machine can rest in, flattened as the runtime stores it (`fulfilment.shipped`). */
function leafStates(node: AnyStateNode, prefix: string[] = []): string[] {
  const children = Object.entries(node.states);
  if (node.type === 'parallel') throw new Error(`${node.id} is parallel: name its events by hand`);
  if (children.length === 0) return [prefix.join('.')];
  return children.flatMap(([key, child]) => leafStates(child, [...prefix, key]));
}

test('every state of every machine publishes exactly one declared domain event, with a name fit for a subject', () => {
  const problems = allMachines.flatMap((module) =>
    domainEventProblems(module.type, module.domainEvents, leafStates(module.machine.root as AnyStateNode)),
  );
  assert.deepEqual(problems, []);
});

test('the checks find what they are for: an undeclared state, a state in two events, a name with a separator', () => {
  const declared = {
    events: { 'paid.now': { description: 'x', states: ['paying', 'paid'] }, later: { description: 'y', states: ['paid', 'ghost'] } },
    data: order.domainEvents!.data,
  };
  assert.deepEqual(domainEventProblems('order', declared, ['paying', 'paid', 'shipped']), [
    'order: "paid.now" is not a name (letters and digits, a lower-case first)',
    'order: "paid" belongs to both paid.now and later',
    'order.later names "ghost", which the machine does not have',
    'order: "shipped" publishes no event',
  ]);
  assert.deepEqual(domainEventProblems('commands', declared, []).slice(0, 1), ['"commands" cannot be a subject\'s token']);
});

test("an order's events are named for the business, and its data carries no personal data", () => {
  const named = (state: string) => domainEventNameOf(order.domainEvents!, state);
  assert.deepEqual(
    ['paying', 'issuingDocuments', 'fulfilment.awaitingShipment', 'fulfilment.shipped', 'delivered', 'cancelled'].map(named),
    ['awaitingPayment', 'paid', 'awaitingShipment', 'shipped', 'delivered', 'cancelled'],
  );
  const data = order.domainEvents!.data.parse({
    orderId: 'O-1',
    externalId: 'SHOP-1',
    source: 'shop',
    currency: 'UAH',
    total: 50_000,
    customer: { name: 'Олена Петренко', phone: '+380501234567', email: 'olena@example.com' },
    payment: { method: 'monobank' },
    delivery: { carrier: 'novaposhta', cityRef: 'c', warehouseRef: 'w', address: { street: 'Хрещатик', house: '1' } },
    shipment: null,
    cancellation: null,
  });
  const text = JSON.stringify(data);
  for (const personal of ['Олена', '380501234567', 'olena@', 'Хрещатик'])
    assert.ok(!text.includes(personal), `${personal} is not published`);
  assert.deepEqual(data, {
    orderId: 'O-1',
    externalId: 'SHOP-1',
    source: 'shop',
    currency: 'UAH',
    total: 50_000,
    payment: { method: 'monobank' },
    delivery: { carrier: 'novaposhta' },
    shipment: null,
    cancellation: null,
  });
});
