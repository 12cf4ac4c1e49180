import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { JOWI_SANDBOX_CREDENTIALS, startJowiSandbox } from '../../actors/platform/connectors/jowi/sandbox.ts';
import { ShtrihMEmulator } from '../../hardware/emulators/shtrih-m-emulator.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, TEST_ADMIN_KEY } from '../support/hub-process.ts';

/** Debian's chromium, installed by .ci/run (no browser download at run time). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve('test-output/screenshots');

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

type Sale = {
  id: string;
  state: string;
  loyalty: { status: string; warning: string | null };
  receipt: { id: string; state: string } | null;
  accrual: { status: string } | null;
  paymentUrl: string | null;
};

/**
 * The console's Sales page over a hub process: a register (the emulator), JOWi Club as its sandbox in this
 * process (customer c-1001: phone 998901234567, silver 5 %), Payme as the hub's own sandbox. Three sales: one
 * with the loyalty discount, one while JOWi is down (offline: full price, a warning, the `loyalty-offline` tag),
 * one waiting for a Payme payment with an item name that is markup.
 */
test('the console lists sales with their loyalty status and receipt, filters the offline ones, and shows a sale with its totals', async () => {
  await mkdir(SHOTS, { recursive: true });
  const dir = await mkdtemp(path.join(tmpdir(), 'console-sales-'));
  const register = await ShtrihMEmulator.start({ dir, name: 'till' });
  const jowi = await startJowiSandbox();
  const hub = await startHubProcess({
    dbName: uniqueDatabaseName('console-sales'),
    dataDir: path.join(dir, 'hub'),
    env: {
      HUB_FISCAL_POLICY: JSON.stringify({ retryDelayMs: 100, maxRetryDelayMs: 500, alertAfterMs: 1_000 }),
      HUB_POS_POLICY: JSON.stringify({ stores: { main: { fiscalRegister: 'main', receiptPrinter: null } } }),
      HUB_INTEGRATION_JOWI: JSON.stringify({
        baseUrl: jowi.url,
        credentials: JOWI_SANDBOX_CREDENTIALS,
        settings: { lookupTimeoutMs: 500, accrualRetryBaseMs: 200, accrualRetryMaxMs: 1_000, http: { timeoutMs: 500, retries: 0 } },
      }),
    },
  });
  const client = hubClient(hub.url);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const device = await client.call('PUT', '/admin/devices/main', {
      kind: 'fiscal-register',
      driver: 'shtrih-m',
      path: register.hostPath,
      operatorPassword: 1,
      adminPassword: 30,
    });
    assert.equal(device.status, 201, JSON.stringify(device.body));
    const product = await client.call('PUT', '/admin/products/TEA-1', { name: 'Чай', price: 1_500_000, stock: 20 });
    assert.equal(product.status, 201, JSON.stringify(product.body));

    const saleOf = async (id: string) => (await client.get(`/pos/sales/${encodeURIComponent(id)}`)).body as unknown as Sale;
    const sell = async (key: string, overrides: Record<string, unknown>) => {
      const answer = await client.post(
        '/pos/sales',
        {
          store: 'main',
          register: 'till-1',
          cashier: 'Олена',
          currency: 'UZS',
          customer: { phone: '+998901234567' },
          items: [{ sku: 'TEA-1', name: 'Чай', qty: 2, price: 1_500_000 }],
          payment: { method: 'cash' },
          ...overrides,
        },
        { 'Idempotency-Key': key },
      );
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      return answer.body as unknown as Sale;
    };
    const payAndPrint = async (sale: Sale) => {
      const paid = await client.post(`/pos/sales/${encodeURIComponent(sale.id)}/paid`, { tendered: 3_000_000 });
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      return eventually(
        async () => {
          const now = await saleOf(sale.id);
          return now.receipt?.state === 'printed' ? now : undefined;
        },
        20_000,
        `the receipt of ${sale.id} printed`,
      );
    };

    // 1. with the discount (JOWi answers); its accrual delivered before JOWi goes down
    const applied = await sell('console-sale-1', {});
    assert.equal(applied.loyalty.status, 'applied');
    await payAndPrint(applied);
    await eventually(async () => (await saleOf(applied.id)).accrual?.status === 'delivered', 20_000, 'the accrual delivered');

    // 2. JOWi down: offline, full price, the warning
    jowi.mode('down');
    const offline = await sell('console-sale-2', {});
    assert.equal(offline.loyalty.status, 'offline');
    assert.ok(offline.loyalty.warning, 'an offline sale carries a warning');
    await payAndPrint(offline);
    // a known customer earns the bonuses later: the accrual waits in the outbox for JOWi
    const offlineDone = await eventually(
      async () => {
        const now = await saleOf(offline.id);
        return now.accrual ? now : undefined;
      },
      20_000,
      'the offline accrual queued',
    );
    assert.equal(offlineDone.accrual?.status, 'queued');

    // 3. Payme at the till, no customer, waiting for the phone; the item's name is markup (must stay text)
    const markup = '<img src=x onerror="window.__injected=1">Чай';
    const online = await sell('console-sale-3', {
      customer: null,
      payment: { method: 'payme' },
      items: [{ sku: 'TEA-1', name: markup, qty: 1, price: 1_500_000 }],
    });
    assert.equal(online.state, 'paying.online', JSON.stringify(online));

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(error.message));
    await page.goto(`${hub.url}/admin`);
    await page.fill('input[name=apiKey]', TEST_ADMIN_KEY);
    await page.click('button[type=submit]');
    await page.locator('[data-machine]').first().waitFor();
    await page.click('header nav a[href="#/sales"]');

    // the list: newest first, each with its loyalty status, total, receipt (id and state) and accrual
    const rows = page.locator('#sales tbody tr[data-sale]');
    await page.locator(`#sales tr[data-sale="${applied.id}"]`).waitFor();
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-sale'))), [online.id, offline.id, applied.id]);
    const row = (id: string) => page.locator(`#sales tr[data-sale="${id}"]`);
    const cell = async (id: string, selector: string) => ((await row(id).locator(selector).textContent()) ?? '').trim();
    await row(applied.id).locator('td.receipt', { hasText: 'printed' }).waitFor();
    await row(offline.id).locator('td.receipt', { hasText: 'printed' }).waitFor();
    const appliedCells = await row(applied.id).locator('td').allTextContents();
    assert.equal(appliedCells[4], '28 500.00 сум', 'the total after the 5 % discount');
    assert.equal(appliedCells[5], 'cash');
    assert.match(await cell(applied.id, 'td.loyalty'), /^applied$/);
    assert.equal(await row(applied.id).locator('.badge.offline').count(), 0);
    assert.match(await cell(applied.id, 'td.receipt'), new RegExp(`^R-S-${applied.id} printed · № \\d+$`));
    assert.equal(await cell(applied.id, 'td.accrual'), 'delivered');

    assert.equal((await row(offline.id).locator('td').allTextContents())[4], '30 000.00 сум', 'offline: full price');
    assert.equal(await row(offline.id).getAttribute('data-loyalty'), 'offline');
    const badge = row(offline.id).locator('.badge.offline');
    assert.equal(await badge.textContent(), 'offline');
    assert.ok(await badge.isVisible());
    assert.equal(await badge.getAttribute('title'), offline.loyalty.warning);
    assert.ok((await cell(offline.id, 'td.loyalty')).startsWith('offline'));
    assert.ok((await cell(offline.id, 'td.loyalty')).includes(offline.loyalty.warning ?? 'no warning'), 'the warning as text');
    assert.equal(await cell(offline.id, 'td.accrual'), 'queued');

    assert.equal((await row(online.id).locator('td').allTextContents())[4], '15 000.00 сум');
    assert.match(await cell(online.id, 'td.loyalty'), /^none$/);
    assert.equal(await cell(online.id, 'td.receipt'), '—');
    await shot(page, 'sales-1-list');

    // only offline
    await page.check('input[name=offline]');
    await page.locator('#sales[data-filters="loyalty=offline"]').waitFor();
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-sale'))), [offline.id]);
    await shot(page, 'sales-2-offline');

    // a state
    await page.uncheck('input[name=offline]');
    await page.locator('#sales[data-filters=""]').waitFor();
    await page.selectOption('select[name=state]', 'paying.online');
    await page.locator('#sales[data-filters="state=paying.online"]').waitFor();
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-sale'))), [online.id]);

    // the sale with the discount: items, totals, the loyalty customer, the receipt
    await page.goto(`${hub.url}/admin#/sales`);
    await page.locator('#sales[data-filters=""]').waitFor();
    await page.locator(`#sales tr[data-sale="${applied.id}"]`).click();
    await page.locator('h1', { hasText: applied.id }).waitFor();
    const total = async (name: string) => (await page.locator(`#sale-totals tr[data-total=${name}] td`).textContent()) ?? '';
    assert.equal(await total('subtotal'), '30 000.00 сум');
    assert.equal(await total('discount'), '1 500.00 сум');
    assert.equal(await total('bonusSpent'), '0.00 сум');
    assert.equal(await total('total'), '28 500.00 сум');
    assert.equal(await total('tendered'), '30 000.00 сум');
    assert.equal(await total('change'), '1 500.00 сум');
    assert.deepEqual(await page.locator('#sale-items tbody tr[data-sku=TEA-1] td').allTextContents(), [
      'TEA-1',
      'Чай',
      '2',
      '15 000.00 сум',
      '30 000.00 сум',
    ]);
    assert.match((await page.locator('#sale-customer').textContent()) ?? '', /c-1001.*silver.*5 %/);
    assert.match((await page.locator('#sale-receipt').textContent()) ?? '', /printed/);
    assert.equal(await page.locator('h1 .badge.offline').count(), 0);
    await shot(page, 'sales-3-applied');

    // the offline sale: no discount, its badge and warning; from it, the actor's journal
    await page.goto(`${hub.url}/admin#/sale/${encodeURIComponent(offline.id)}`);
    await page.locator('h1', { hasText: offline.id }).waitFor(); // the page is drawn at once: its totals are the sale's
    assert.equal(await total('discount'), '0.00 сум');
    assert.equal(await total('total'), '30 000.00 сум');
    assert.equal(await page.locator('h1 .badge.offline').textContent(), 'loyalty offline');
    assert.ok(((await page.locator('#sale-loyalty').textContent()) ?? '').includes(offline.loyalty.warning ?? 'no warning'));
    await shot(page, 'sales-4-offline');
    await page.click('#sale-actor');
    await page.locator('#statechart svg').waitFor();
    assert.equal(await page.locator('#current-state').textContent(), (await saleOf(offline.id)).state);

    // the Payme sale: the link and its QR code (fetched with the key), the markup shown as text
    await page.goto(`${hub.url}/admin#/sale/${encodeURIComponent(online.id)}`);
    await page.locator('h1', { hasText: online.id }).waitFor();
    await page.locator('#payment-qr').waitFor();
    assert.equal(await page.locator('#payment-link').getAttribute('href'), online.paymentUrl);
    const qrWidth = () => page.locator('#payment-qr').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    await eventually(async () => (await qrWidth()) > 0, 5_000, 'the QR code drawn');
    assert.equal(await page.locator('#sale-items tbody tr td').nth(1).textContent(), markup);
    assert.equal(await page.locator('#sale-items img').count(), 0, 'no element made from the name');
    assert.equal(await page.evaluate('window.__injected'), undefined);
    await shot(page, 'sales-5-payme');
    assert.deepEqual(failures, [], 'the page threw');
  } finally {
    await browser.close();
    await hub.terminate();
    await jowi.close();
    await register.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
