import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { ShtrihMEmulator } from '../../hardware/emulators/shtrih-m-emulator.ts';
import { printReceipt } from '../support/fiscal.ts';
import { TEST_ADMIN_KEY } from '../support/hub-process.ts';
import { orderBody, waitForOrder, withShop } from '../support/shop.ts';

/** Debian's chromium, installed by .ci/run (no browser download at run time). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve('test-output/screenshots');

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

test('the console: sign in, find an order by state, see its statechart with the current state, send an allowed event, see the new state', () =>
  withShop(async ({ hub, client }) => {
    await mkdir(SHOTS, { recursive: true });
    await client.post('/orders', orderBody({ externalId: 'WEB-1' }), { 'Idempotency-Key': 'web-1' });
    await waitForOrder(client, 'WEB-1', (o) => o.state === 'paying', 'the order paying');
    // a register (the emulator, on a PTY) with one printed receipt, for the devices page
    const devicesDir = await mkdtemp(path.join(tmpdir(), 'console-devices-'));
    const register = await ShtrihMEmulator.start({ dir: devicesDir, name: 'till' });
    await client.call('PUT', '/admin/devices/main', { kind: 'fiscal-register', driver: 'shtrih-m', path: register.hostPath });
    const printed = await printReceipt(
      client,
      { items: [{ name: 'Чашка', qty: 1, price: 25_000 }], payments: { cash: 25_000 }, cashier: 'Олена' },
      'web-receipt',
    );

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const failures: string[] = [];
      page.on('pageerror', (error) => failures.push(error.message));

      await page.goto(`${hub.url}/admin`);
      await page.fill('input[name=apiKey]', 'not-a-key');
      await page.click('button[type=submit]');
      await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
      await page.fill('input[name=apiKey]', TEST_ADMIN_KEY);
      await page.click('button[type=submit]');
      await page.locator('[data-machine=order]').waitFor();
      await shot(page, '1-actors');

      // find the order by its state: the "paying" count of the order machine
      await page.locator('[data-machine=order] [data-state=paying]').click();
      await page.locator('[data-machine=order] [data-state=paying].active').waitFor();
      await page.locator('tr[data-actor="order/WEB-1"]').waitFor();
      assert.equal(await page.locator('tbody tr').count(), 1, 'only the paying order is listed');
      await page.locator('tr[data-actor="order/WEB-1"]').click();

      // its statechart, drawn, with the current state highlighted
      await page.locator('#statechart svg').waitFor();
      assert.equal(await page.locator('#current-state').textContent(), 'paying');
      const highlighted = page.locator('#statechart svg g.current');
      assert.equal(await highlighted.count(), 1);
      assert.match((await highlighted.textContent()) ?? '', /paying/);
      assert.ok((await page.locator('#statechart svg g.visited').count()) >= 2, 'visited states are marked');
      await shot(page, '2-order-paying');

      // send an event the state accepts
      const buttons = await page.locator('#events button').allTextContents();
      assert.ok(buttons.includes('CANCEL'), `accepted events: ${buttons.join(', ')}`);
      await page.click('#events button[data-event=CANCEL]');
      await page.fill('dialog input[name=reason]', 'the customer phoned to cancel');
      await page.fill('dialog textarea[name=payload]', '{"reason": "customer phoned", "by": "console"}');
      await page.click('dialog button[type=submit]');
      await page.locator('#current-state', { hasText: 'cancel' }).waitFor();
      await page.reload();
      await page.locator('#statechart svg').waitFor();
      await shot(page, '3-order-cancelled');
      const state = await page.locator('#current-state').textContent();
      assert.ok(state === 'cancelled' || state === 'cancelling', state ?? '');
      assert.match((await page.locator('#statechart svg g.current').textContent()) ?? '', /cancel/);

      await page.goto(`${hub.url}/admin#/integrations`);
      await page.locator('table tbody tr').first().waitFor();
      await shot(page, '4-integrations');

      // devices with their health, and the receipt with its state and the register's number
      await page.goto(`${hub.url}/admin#/devices`);
      const device = page.locator('#devices tr[data-device=main]');
      await device.waitFor();
      assert.match((await device.textContent()) ?? '', /fiscal-register.*yes.*shift open/);
      const row = page.locator(`#receipts tr[data-receipt="${String(printed.id)}"]`);
      await row.waitFor();
      const cells = await row.locator('td').allTextContents();
      assert.deepEqual([cells[1], cells[4], cells[5]], ['printed', '250.00', String(printed.documentNumber)]);
      await shot(page, '5-devices');
      assert.deepEqual(failures, [], 'the page threw');
    } finally {
      await browser.close();
      await register.stop();
      await rm(devicesDir, { recursive: true, force: true });
    }
    const audit = await client.get('/admin/audit?operation=actor.event&actor=order/WEB-1');
    assert.equal((audit.body.entries as Array<{ details: { reason: string } }>)[0]?.details.reason, 'the customer phoned to cancel');
  }));
