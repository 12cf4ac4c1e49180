import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startUzumSandbox, UZUM_SANDBOX_CREDENTIALS } from '../../actors/platform/connectors/uzum/sandbox.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, TEST_ADMIN_KEY } from '../support/hub-process.ts';

/** Debian's chromium, installed by .ci/run (no browser download at run time). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve('test-output/screenshots');

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

interface MarketplaceView {
  name: string;
  enabled: boolean;
  cursor: string | null;
  orders: { imported: number; held: number };
}
interface OrderView {
  state: string;
  marketplace: { told: string[]; cancelledThere: boolean; incident: { status: string; code: string; message: string } | null } | null;
}

/**
 * The console's Marketplaces and Orders pages over a hub process with the Uzum sandbox (in this process) enabled:
 * one product listed at Uzum, orders imported through the jobs API and by the page's "Import now", one held
 * (a product not listed here, whose title is markup), one Uzum refuses to confirm (the order's incident).
 */
test('the console shows each marketplace’s sync state, its held orders and incidents, runs an import, and lists orders by source', async () => {
  await mkdir(SHOTS, { recursive: true });
  const uzum = await startUzumSandbox();
  const hub = await startHubProcess({
    dbName: uniqueDatabaseName('console-marketplaces'),
    env: {
      HUB_INTEGRATION_UZUM: JSON.stringify({
        baseUrl: uzum.url,
        credentials: UZUM_SANDBOX_CREDENTIALS,
        settings: { enabled: true, ordersIntervalMinutes: 600, pushIntervalSeconds: 1, http: { retries: 3, maxRetryAfterMs: 5_000 } },
      }),
    },
  });
  const client = hubClient(hub.url);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const runJob = async (name: string) => {
      const run = await client.post(`/admin/jobs/${name}/run`);
      assert.equal(run.status, 200, JSON.stringify(run.body));
      return run.body as unknown as { output: Record<string, unknown> | null };
    };
    const order = async (id: string) => (await client.get(`/orders/${encodeURIComponent(id)}`)).body as unknown as OrderView;
    const uzumState = async () =>
      ((await client.get('/admin/marketplaces')).body as unknown as { marketplaces: MarketplaceView[] }).marketplaces.find(
        (m) => m.name === 'uzum',
      );

    const listed = await client.call('PUT', '/admin/products/PIYOLA-6', {
      name: 'Піали, 6 шт',
      price: 9_600_000,
      stock: 20,
      marketplaces: { uzum: { skuId: 4100003, barcode: '4780000000031' } },
    });
    assert.equal(listed.status, 201, JSON.stringify(listed.body));

    // a product sold at Uzum but not listed here (its title is markup: text on the page, never an element)
    const markup = '<img src=x onerror="window.__injected=1">Dasturxon';
    const unlisted = uzum.addProduct({ title: markup, price: 240_000, stock: 5 });
    const unmapped = uzum.addOrder({ lines: [{ skuId: unlisted.skuId, qty: 1 }] });
    const placed = uzum.addOrder({ lines: [{ skuId: 4100003, qty: 2 }] });
    // past Uzum's acceptance deadline: Uzum refuses the confirmation, the order's incident
    const late = uzum.addOrder({
      lines: [{ skuId: 4100003, qty: 1 }],
      createdAt: Date.now() - 3 * 86_400_000,
      acceptUntil: Date.now() - 1_000,
    });
    await runJob('marketplace-orders:uzum');

    const placedId = `uzum-${placed.id}`;
    const lateId = `uzum-${late.id}`;
    await eventually(
      async () => (await order(placedId)).marketplace?.told.includes('confirmed'),
      30_000,
      'Uzum told the order is confirmed',
    );
    await eventually(async () => (await order(lateId)).marketplace?.incident, 30_000, 'the refusal is the order’s incident');
    const before = await uzumState();
    assert.ok(before?.enabled && before.cursor && before.orders.imported >= 1 && before.orders.held >= 1, JSON.stringify(before));

    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(error.message));
    await page.goto(`${hub.url}/admin`);
    await page.fill('input[name=apiKey]', TEST_ADMIN_KEY);
    await page.click('button[type=submit]');
    await page.locator('[data-machine]').first().waitFor();

    // the Marketplaces page: uzum enabled, with what it imported, its cursor (shortened; whole in the title)
    await page.click('header nav a[href="#/marketplaces"]');
    const card = page.locator('.card.marketplace[data-marketplace=uzum]');
    await card.waitFor();
    const field = (name: string) => card.locator(`tr[data-field="${name}"] td`);
    assert.equal(await card.getAttribute('data-enabled'), 'true');
    assert.equal(await card.locator('[data-field=enabled]').textContent(), 'enabled');
    assert.ok(Number(await field('orders.imported').textContent()) >= 1);
    assert.equal(Number(await field('orders.imported').textContent()), before.orders.imported);
    assert.equal(Number(await field('orders.held').textContent()), before.orders.held);
    assert.equal(await field('cursor').locator('.cursor').getAttribute('title'), before.cursor);
    assert.ok(before.cursor.startsWith(((await field('cursor').textContent()) ?? '').replace(/…$/, '')));
    assert.equal(Number(await field('listings').textContent()), 1);
    assert.equal(Number(await field('incidents').textContent()), 1);
    assert.match((await field('orders.lastRunAt').textContent()) ?? '', /\d/);
    assert.equal(await page.locator('.card.marketplace[data-marketplace=rozetka]').getAttribute('data-enabled'), 'false');
    assert.equal(await page.locator('.card.marketplace[data-marketplace=rozetka] [data-field=enabled]').textContent(), 'disabled');
    assert.ok(await page.locator('.card.marketplace[data-marketplace=rozetka] button[data-action=import]').isDisabled());

    // the held orders: the unmapped one, why (its title as text)
    await card.locator('details[data-section="uzum:held"] > summary').click();
    const heldRow = card.locator(`tr[data-held="${unmapped.id}"]`);
    await heldRow.waitFor();
    const why = heldRow.locator('td.error');
    assert.match((await why.textContent()) ?? '', /^unmapped_item: no product is listed at uzum/);
    assert.ok(((await why.textContent()) ?? '').includes(markup), 'the title shown as text');
    assert.equal(await page.locator('main img').count(), 0, 'no element made from the title');
    assert.equal(await page.evaluate('window.__injected'), undefined);

    // the incidents: the order Uzum refused to confirm
    await card.locator('details[data-section="uzum:incidents"] > summary').click();
    const incidentRow = card.locator(`tr[data-incident="${lateId}"]`);
    await incidentRow.waitFor();
    assert.equal(await incidentRow.locator('td.state').textContent(), 'confirmed');
    assert.ok(await incidentRow.locator('td.error').isVisible());
    await shot(page, 'marketplaces-1-uzum');

    // Import now: a new Uzum order comes in; the counts follow, the open sections stay open
    const fresh = uzum.addOrder({ lines: [{ skuId: 4100003, qty: 1 }] });
    await card.locator('button[data-action=import]').click();
    await card.locator('.run-result', { hasText: /^Import: .*created 1/ }).waitFor({ timeout: 30_000 });
    assert.equal(await card.locator('.run-result.error').count(), 0);
    assert.equal(Number(await field('orders.imported').textContent()), before.orders.imported + 1);
    assert.ok(await heldRow.isVisible(), 'the held orders are still shown');
    assert.ok(await incidentRow.isVisible(), 'the incidents are still shown');
    assert.equal((await uzumState())?.orders.imported, before.orders.imported + 1);

    // Push now
    await card.locator('button[data-action=push]').click();
    await card.locator('.run-result', { hasText: /^Push: / }).waitFor({ timeout: 30_000 });
    assert.equal(await card.locator('.run-result.error').count(), 0, (await card.locator('.run-result').textContent()) ?? '');
    assert.match((await field('push.lastRunAt').textContent()) ?? '', /\d/);
    await shot(page, 'marketplaces-2-imported');

    // the Orders page, Uzum's: the imported orders, each with its source and Uzum's id
    await page.click('header nav a[href="#/orders"]');
    await page.locator('#orders[data-filters=""]').waitFor();
    await page.selectOption('select[name=source]', 'uzum');
    await page.locator('#orders[data-filters="source=uzum"]').waitFor();
    const freshId = `uzum-${fresh.id}`;
    const rows = page.locator('#orders tbody tr[data-order]');
    await page.locator(`#orders tr[data-order="${freshId}"]`).waitFor();
    const listedIds = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-order')));
    for (const id of [placedId, lateId, freshId]) assert.ok(listedIds.includes(id), `${id} listed: ${listedIds.join(', ')}`);
    assert.deepEqual(
      [...new Set(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-source'))))],
      ['uzum'],
      'only Uzum’s orders',
    );
    const placedRow = page.locator(`#orders tr[data-order="${placedId}"]`);
    assert.equal(await placedRow.locator('td.source').textContent(), 'uzum');
    assert.equal(await placedRow.locator('td.external').textContent(), String(placed.id));
    assert.match((await placedRow.locator('td.money').textContent()) ?? '', /сум$/);
    await shot(page, 'orders-1-uzum');
    // another marketplace: none of these
    await page.selectOption('select[name=source]', 'rozetka');
    await page.locator('#orders[data-filters="source=rozetka"]').waitFor();
    assert.equal(await rows.count(), 0);
    assert.equal(await page.locator('#orders tbody td.muted').textContent(), 'No orders match.');

    // an order's marketplace block: what Uzum has been told
    await page.goto(`${hub.url}/admin#/orders?source=uzum`);
    await placedRow.click();
    await page.locator('h1', { hasText: placedId }).waitFor();
    assert.equal(await page.locator('#order-source').textContent(), 'uzum');
    await page.locator('#order-marketplace [data-told=confirmed]').waitFor();
    assert.equal(await page.locator('#order-marketplace p.incident').count(), 0);
    assert.equal(await page.locator('#order-marketplace tr[data-fact=cancelledThere] td').textContent(), 'no');
    assert.equal(await page.locator('#order-items tr[data-sku="PIYOLA-6"] td').nth(2).textContent(), '2');
    await shot(page, 'orders-2-placed');

    // the refused one: its incident in red
    await page.goto(`${hub.url}/admin#/order/${encodeURIComponent(lateId)}`);
    const incident = page.locator('#order-marketplace p.incident.error');
    await incident.waitFor();
    const refused = (await order(lateId)).marketplace?.incident;
    assert.ok(((await incident.textContent()) ?? '').includes(`refused "confirmed": ${refused?.code}: ${refused?.message}`));
    assert.ok(await page.locator('h1 .badge', { hasText: 'incident' }).isVisible());
    await shot(page, 'orders-3-incident');

    // the buyer cancels at Uzum: cancelled there
    uzum.cancelByBuyer(fresh.id);
    await runJob('marketplace-orders:uzum');
    await eventually(
      async () => {
        const now = await order(freshId);
        return now.state === 'cancelled' && now.marketplace?.cancelledThere;
      },
      30_000,
      'cancelled there',
    );
    await page.goto(`${hub.url}/admin#/order/${encodeURIComponent(freshId)}`);
    await page.locator('#order-marketplace .cancelled-there').waitFor();
    assert.equal(await page.locator('#order-state').textContent(), 'cancelled');
    assert.match((await page.locator('#order-cancellation').textContent()) ?? '', /cancelled at uzum/);
    assert.deepEqual(failures, [], 'the page threw');
  } finally {
    await browser.close();
    await hub.terminate();
    await uzum.close();
  }
});
