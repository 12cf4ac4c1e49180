import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../support/database.ts';
import { hubClient } from '../support/hub-process.ts';
import { orderBody, waitForOrder, withShop } from '../support/shop.ts';

interface GraphNode {
  id: string;
  key: string;
  tags: string[];
  invoke: Array<{ id: string; src: string }>;
  transitions: Array<{ event: string; targets: string[]; guard: string | null }>;
  always: Array<{ targets: string[]; guard: string | null }>;
  states: GraphNode[];
}

const flatten = (node: GraphNode): GraphNode[] => [node, ...node.states.flatMap(flatten)];

test("inspection: machines with counts and drawable definitions, actors filtered and paged, one actor's whole story, manual events audited, incidents", () =>
  withShop(async ({ client, hub }) => {
    await client.post('/orders', orderBody({ externalId: 'INS-1', payment: { method: 'cod' } }), { 'Idempotency-Key': 'ins-1' });
    await waitForOrder(client, 'INS-1', (o) => o.state === 'fulfilment.awaitingShipment', 'confirmed');
    for (let i = 0; i < 5; i += 1)
      await client.post('/actors/probe', { id: `probe-${i}`, input: { label: i === 0 ? 'api token=abc123secretvalue' : `probe ${i}` } });

    const machines = await client.get('/admin/machines');
    const list = machines.body.machines as Array<{ type: string; version: number; total: number; states: Record<string, number> }>;
    assert.deepEqual(list.map((m) => m.type).sort(), [
      'goodfin-application',
      'order',
      'payment',
      'pos-sale',
      'print-job',
      'probe',
      'product',
      'receipt',
      'shipment',
    ]);
    assert.equal(list.find((m) => m.type === 'probe')?.states.idle, 5);
    assert.equal(list.find((m) => m.type === 'order')?.states['fulfilment.awaitingShipment'], 1);

    const definition = await client.get('/admin/machines/order');
    const nodes = flatten(definition.body.graph as GraphNode);
    const paying = nodes.find((n) => n.key === 'paying');
    assert.ok(paying?.transitions.some((t) => t.event === 'CANCEL' && t.targets.includes('order.cancelling')));
    assert.deepEqual(paying?.invoke, [{ id: 'payment', src: 'startPayment' }]);
    assert.ok(nodes.find((n) => n.key === 'paymentFailed')?.always.some((t) => t.guard === 'attemptsLeft'));
    assert.deepEqual(nodes.find((n) => n.key === 'blocked')?.tags, ['alert']);
    assert.deepEqual(
      nodes.find((n) => n.key === 'fulfilment')?.states.map((s) => s.key),
      ['awaitingShipment', 'shipped'],
    );

    // filters and cursor paging
    const page1 = await client.get('/admin/actors?type=probe&limit=2');
    const page2 = await client.get(`/admin/actors?type=probe&limit=2&cursor=${encodeURIComponent(String(page1.body.nextCursor))}`);
    const page3 = await client.get(`/admin/actors?type=probe&limit=2&cursor=${encodeURIComponent(String(page2.body.nextCursor))}`);
    const ids = [page1, page2, page3].flatMap((p) => (p.body.actors as Array<{ id: string }>).map((a) => a.id));
    assert.deepEqual([...ids].sort(), ['probe-0', 'probe-1', 'probe-2', 'probe-3', 'probe-4']);
    assert.equal(page3.body.nextCursor, null);
    assert.deepEqual(
      ((await client.get('/admin/actors?q=INS')).body.actors as Array<{ type: string; id: string }>).map((a) => `${a.type}/${a.id}`).sort(),
      ['order/INS-1', 'shipment/INS-1'],
    );
    assert.deepEqual(
      ((await client.get('/admin/actors?type=order&state=fulfilment.awaitingShipment')).body.actors as Array<{ id: string }>).map(
        (a) => a.id,
      ),
      ['INS-1'],
    );
    assert.equal((await client.get('/admin/actors?cursor=nonsense')).status, 400);

    // one actor: children, redacted context, timers, journal link
    const order = await eventually(
      async () => {
        const { body } = await client.get('/admin/actors/order/INS-1');
        return (body.children as Array<{ state: string | null }>)[0]?.state === 'awaitingPickup' ? body : undefined;
      },
      15_000,
      'the shipment child',
    );
    assert.deepEqual(order.children, [
      { type: 'shipment', id: 'INS-1', state: 'awaitingPickup', updatedAt: (order.children as Array<{ updatedAt: string }>)[0]?.updatedAt },
    ]);
    assert.deepEqual(
      (order.timers as Array<{ event: string }>).map((t) => t.event),
      ['xstate.after.promisedDelivery.order.fulfilment'],
    );
    assert.equal(order.journal, '/actors/order/INS-1/journal');
    const secretProbe = await client.get('/admin/actors/probe/probe-0');
    assert.ok(!JSON.stringify(secretProbe.body).includes('abc123secretvalue'), 'a secret in the context reached the inspection API');

    // manual events need a reason and are audited
    const noReason = await client.post('/admin/actors/probe/probe-1/events', { event: { type: 'ADD', amount: 2 } });
    assert.equal(noReason.status, 400);
    const sent = await client.post('/admin/actors/probe/probe-1/events', {
      event: { type: 'ADD', amount: 2 },
      reason: 'correcting a lost delivery',
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const audit = await client.get('/admin/audit?operation=actor.event&actor=probe/probe-1');
    const entry = (audit.body.entries as Array<{ principal: string; details: { reason: string; event: string } }>)[0];
    assert.deepEqual([entry?.details.event, entry?.details.reason], ['ADD', 'correcting a lost delivery']);
    const journal = await client.get('/actors/probe/probe-1/journal');
    const last = (journal.body.entries as Array<{ origin: { kind: string; reason?: string } }>).at(-1);
    assert.deepEqual([last?.origin.kind, last?.origin.reason], ['admin', 'correcting a lost delivery']);
    assert.equal((await client.post('/admin/actors/probe/probe-1/retry', { reason: 'nothing is running' })).status, 404);

    // a viewer reads everything and changes nothing
    const viewerKey = String((await client.post('/admin/api-keys', { name: 'auditor', role: 'viewer' })).body.key);
    const viewer = hubClient(hub.url, viewerKey);
    assert.equal((await viewer.get('/admin/actors?type=probe')).status, 200);
    assert.equal((await viewer.get('/admin/actors/order/INS-1')).status, 200);
    assert.equal(
      (await viewer.post('/admin/actors/probe/probe-1/events', { event: { type: 'ADD', amount: 1 }, reason: 'a viewer trying' })).status,
      403,
    );
    assert.equal((await viewer.post('/admin/actors/probe/probe-1/retry', { reason: 'a viewer trying' })).status, 403);

    // incidents: a shipment NP refused waits for a person
    await client.post('/actors/shipment', {
      id: 'INS-BAD',
      input: {
        shipmentId: 'INS-BAD',
        orderId: 'INS-BAD',
        recipient: { name: 'X', phone: '380501234567', email: null },
        cityRef: 'nowhere',
        warehouseRef: null,
        address: { street: 'a', house: '1' },
        declaredValue: 100,
        description: 'x',
        collectOnDelivery: null,
        statusMap: {},
        requestedAt: new Date().toISOString(),
      },
    });
    const incidents = await eventually(
      async () => {
        const { body } = await client.get('/admin/incidents');
        return (body.needsAttention as Array<{ id: string }>).some((a) => a.id === 'INS-BAD') ? body : undefined;
      },
      15_000,
      'the failed shipment listed',
    );
    assert.ok(Array.isArray(incidents.stuckEffects) && Array.isArray(incidents.overdue));
  }));
