import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import order from '../../machines/order.ts';
import product from '../../machines/product.ts';
import shipment from '../../machines/shipment.ts';
import {
  NOVAPOSHTA_SANDBOX_API_KEY,
  SANDBOX_SENDER,
  SANDBOX_WAREHOUSES,
  startNovaPoshtaSandbox,
  type NovaPoshtaSandbox,
} from '../../actors/platform/connectors/novaposhta/sandbox.ts';
import { waitForAlerts } from '../support/alerts.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, hubDatabases, startHubProcess } from '../support/hub-process.ts';
import { waitForMail } from '../support/mailbox.ts';
import { orderBody, sharedShop, waitForOrder } from '../support/shop.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';
import { npSandbox, shipmentOf, track, waitForShipment } from '../support/parcels.ts';
import { shipmentCodeOf } from '../../common/shipment-code.ts';

// One hub for the tests of orders' parcels (each test has its own orders and customer); the directory and
// crash tests start their own.
const shop = sharedShop();

// Every actor these tests drove, replayed from its journal once their hubs have stopped: the machines are deterministic.
after(async () => {
  await shop.close();
  await assertHubJournalsReplay(hubDatabases(), [order, product, shipment]);
});

test("a paid order's parcel goes from quote to delivered by polling alone; the order follows and the customer hears of it", () =>
  shop.run(async ({ client, mailbox, email, orderBody }) => {
    // to Lviv: a parcel between cities (within Kyiv it would skip the transit statuses)
    const lviv = SANDBOX_WAREHOUSES.find((w) => w.CityDescription === 'Львів');
    await client.post(
      '/orders',
      orderBody({
        externalId: 'NP-1',
        payment: { method: 'cod' },
        delivery: { carrier: 'novaposhta', cityRef: lviv?.CityRef, warehouseRef: lviv?.Ref, fee: 0 },
      }),
      { 'Idempotency-Key': 'np-1' },
    );
    const pickup = await waitForShipment(client, 'NP-1', 'awaitingPickup');
    const number = pickup.context.waybill?.number ?? '';
    assert.match(number, /^\d{14}$/);
    const created = await waitForMail(mailbox, email, /створено накладну/);
    assert.match(created.text, new RegExp(`cargo_number=${number}`));

    const np = await npSandbox(client);
    const path: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      await np.advance(number);
      await track(client);
      path.push((await shipmentOf(client, 'NP-1')).state);
    }
    assert.deepEqual(path, ['inTransit', 'inTransit', 'inTransit', 'atWarehouse', 'delivered']);
    await waitForMail(mailbox, email, /чекає у відділенні/);
    const order = await waitForOrder(client, 'NP-1', (o) => o.state === 'delivered' || o.state === 'completed', 'the order delivered');
    assert.equal((order.shipment as { waybill: string }).waybill, number);
    // the first test on the shared hub: no other parcel is being tracked
    const quiet = await track(client);
    assert.deepEqual([quiet.shipments, quiet.calls], [0, 0], 'a delivered parcel is no longer tracked');
  }));

test('a refused parcel comes back on its return waybill; the order is returned for a person', () =>
  shop.run(async ({ client, orderBody }) => {
    await client.post('/orders', orderBody({ externalId: 'NP-2', payment: { method: 'cod' } }), { 'Idempotency-Key': 'np-2' });
    const number = (await waitForShipment(client, 'NP-2', 'awaitingPickup')).context.waybill?.number ?? '';
    const np = await npSandbox(client);
    await np.scenario(number, 'refused');
    await np.advance(number, 4); // at the branch
    await track(client);
    await np.advance(number, 1); // 103: refused
    await track(client);
    assert.equal((await shipmentOf(client, 'NP-2')).state, 'refused');
    await np.advance(number, 1); // 102: going back, a return waybill made
    await track(client);
    const returning = await shipmentOf(client, 'NP-2');
    assert.equal(returning.state, 'returning');
    const back = returning.context.returnNumber ?? '';
    assert.match(back, /^\d{14}$/);
    await np.advance(back, 10);
    await track(client);
    await waitForShipment(client, 'NP-2', 'returned');
    await waitForOrder(client, 'NP-2', (o) => o.state === 'returned', 'the order returned');
    const alerts = await waitForAlerts(client, 'actor_needs_attention', 'order/NP-2');
    assert.equal(alerts[0]?.severity, 'critical');
  }));

test('cancelling an order before pickup deletes its waybill', () =>
  shop.run(async ({ client, orderBody }) => {
    await client.post('/orders', orderBody({ externalId: 'NP-3', payment: { method: 'cod' } }), { 'Idempotency-Key': 'np-3' });
    const number = (await waitForShipment(client, 'NP-3', 'awaitingPickup')).context.waybill?.number ?? '';
    await client.post('/orders/NP-3/cancel', { reason: 'no longer needed' });
    await waitForShipment(client, 'NP-3', 'cancelled');
    const base = String((await client.get('/admin/integrations/novaposhta')).body.baseUrl);
    const waybills = (await (await fetch(`${base}/sandbox/waybills`)).json()) as { waybills: Array<{ number: string; status: string }> };
    assert.equal(waybills.waybills.find((w) => w.number === number)?.status, '2', 'deleted at Nova Poshta');
  }));

test('a waybill that cannot be made (a city outside the directory) stops the shipment with the reason, after one call, for a person to fix', () =>
  shop.run(async ({ client }) => {
    const created = await client.post('/actors/shipment', {
      id: 'NP-BAD',
      input: {
        shipmentId: 'NP-BAD',
        orderId: 'NP-BAD',
        recipient: { name: 'Олена', phone: '380501234567', email: null },
        cityRef: 'no-such-city',
        warehouseRef: null,
        address: { street: 'вул. Хрещатик', house: '1' },
        declaredValue: 50_000,
        description: 'Чашка',
        collectOnDelivery: null,
        statusMap: { '1': 'awaitingPickup' },
        requestedAt: new Date().toISOString(),
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const failed = await waitForShipment(client, 'NP-BAD', 'failed');
    assert.deepEqual(
      [failed.context.error?.code, failed.context.error?.message, failed.context.error?.attempts],
      [
        'recipient_not_in_directory',
        'city no-such-city is not in the synced Nova Poshta directory: run novaposhta-reference-sync, or fix the delivery',
        1,
      ],
    );
    assert.deepEqual((await client.get('/actors/shipment/NP-BAD')).body.accepts, ['CANCEL', 'RETRY']);
  }));

test('the directory sync pages a few thousand branches with progress, and the shop can search them', async () => {
  const np = await startNovaPoshtaSandbox({ generated: { settlements: 60, branchesEach: 50 } });
  const hub = await startHubProcess({
    dbName: uniqueDatabaseName('np_reference'),
    env: {
      LOG_LEVEL: 'info',
      HUB_INTEGRATION_NOVAPOSHTA: JSON.stringify({
        baseUrl: np.url,
        credentials: { apiKey: NOVAPOSHTA_SANDBOX_API_KEY },
        settings: { sender: SANDBOX_SENDER },
      }),
    },
  });
  try {
    const client = hubClient(hub.url);
    const run = await client.post('/admin/jobs/novaposhta-reference-sync/run', {});
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.deepEqual(run.body.output, { cities: 63, warehouses: 3005, removed: 0 });
    assert.equal(np.calls('Address.getWarehouses') >= 7, true, 'paged 500 at a time');
    const progress = hub
      .output()
      .split('\n')
      .filter((line) => line.includes('job progress') && line.includes('phase=warehouses'));
    assert.ok(progress.length >= 7, `progress lines: ${progress.length}`);
    assert.match(progress.at(-1) ?? '', /done=3005 total=3005/);

    const cities = await client.get('/reference/cities?q=пісочне-4');
    const found = cities.body.cities as Array<{ ref: string; name: string }>;
    assert.ok(found.length >= 1 && found.every((c) => c.name.toLowerCase().includes('пісочне-4')));
    const branches = await client.get(`/reference/warehouses?city=${found[0]?.ref ?? ''}&q=соборна`);
    const list = branches.body.warehouses as Array<{ name: string; category: string }>;
    assert.ok(list.length > 0 && list.every((w) => /Соборна/.test(w.name)));
    const all = await client.get(`/reference/warehouses?city=${found[0]?.ref ?? ''}&limit=500`);
    assert.equal((all.body.warehouses as unknown[]).length, 50);
  } finally {
    await hub.terminate();
    await np.close();
  }
});

test('a waybill is created exactly once when the hub is killed while NP is answering its save', async () => {
  const np: NovaPoshtaSandbox = await startNovaPoshtaSandbox();
  const dbName = uniqueDatabaseName('np_crash');
  const env = {
    HUB_EFFECT_LEASE_MS: '1500',
    HUB_INTEGRATION_NOVAPOSHTA: JSON.stringify({
      baseUrl: np.url,
      credentials: { apiKey: NOVAPOSHTA_SANDBOX_API_KEY },
      settings: { sender: SANDBOX_SENDER },
    }),
  };
  let hub = await startHubProcess({ dbName, env });
  try {
    const client = hubClient(hub.url);
    await client.call('PUT', '/admin/products/CUP-1', { name: 'Чашка', price: 25_000, stock: 10 });
    // NP creates the waybill and its answer never arrives: the hub is killed while it waits
    const crashCode = shipmentCodeOf('NP-CRASH'); // what the shipment writes on its waybill
    np.faults.inject({ kind: 'lost', count: 1, bodyIncludes: '"calledMethod":"save"' });
    await client.post('/orders', orderBody({ externalId: 'NP-CRASH', payment: { method: 'cod' } }), { 'Idempotency-Key': 'np-crash' });
    await eventually(() => (np.waybills().some((w) => w.orderRef === crashCode) ? true : undefined), 20_000, 'NP to create the waybill');
    await hub.crash();

    hub = await startHubProcess({ dbName, env });
    const again = hubClient(hub.url);
    const shipment = await waitForShipment(again, 'NP-CRASH', 'awaitingPickup');
    assert.equal(shipment.context.waybill?.recovered, true, 'found by the order id, not created again');
    assert.equal(np.waybills().filter((w) => w.orderRef === crashCode).length, 1);
    assert.equal(np.calls('InternetDocument.save'), 1);
    assert.equal(shipment.context.waybill?.number, np.waybills().find((w) => w.orderRef === crashCode)?.number);
  } finally {
    await hub.crash().catch(() => undefined);
    await np.close();
  }
});
