import assert from 'node:assert/strict';
import { SANDBOX_CITIES, SANDBOX_WAREHOUSES } from '../../actors/platform/connectors/novaposhta/sandbox.ts';
import { eventually, uniqueDatabaseName } from './database.ts';
import { hubClient, startHubProcess, type HubProcess } from './hub-process.ts';
import { startMailbox, waitForMail, type Mailbox, type ReadMail } from './mailbox.ts';

/** A running hub with a product in stock and a real SMTP server: the shop the order tests drive over HTTP. */

const KYIV = SANDBOX_CITIES[0]?.Ref ?? '';
const KYIV_BRANCH = SANDBOX_WAREHOUSES[0]?.Ref ?? '';

export function orderBody(overrides: Record<string, unknown> = {}) {
  return {
    externalId: 'SHOP-1001',
    source: 'shop',
    customer: { name: 'Олена Петренко', phone: '+380501234567', email: 'olena@example.com' },
    items: [{ sku: 'CUP-1', name: 'Чашка', qty: 2, unitPrice: 25_000 }],
    currency: 'UAH',
    delivery: { carrier: 'novaposhta', cityRef: KYIV, warehouseRef: KYIV_BRANCH, fee: 0 },
    payment: { method: 'monobank' },
    total: 50_000,
    ...overrides,
  };
}

export interface Setup {
  hub: HubProcess;
  client: ReturnType<typeof hubClient>;
  mailbox: Mailbox;
  mailTo(address: string, match: RegExp): Promise<ReadMail>;
}

interface Shop extends Setup {
  close(): Promise<void>;
}

const SHOP_ENV = {
  HUB_MAIL_FROM: 'shop@example.com',
  HUB_REPORT_EMAIL_TO: 'management@example.com',
};

async function openShop(env: Record<string, string>): Promise<Shop> {
  const mailbox = await startMailbox();
  const hub = await startHubProcess({
    dbName: uniqueDatabaseName('orders'),
    env: { HUB_MAIL_SMTP_URL: `smtp://127.0.0.1:${mailbox.port}`, ...SHOP_ENV, ...env },
  }).catch(async (error: unknown) => {
    await mailbox.close();
    throw error;
  });
  return {
    hub,
    client: hubClient(hub.url),
    mailbox,
    mailTo: (address, match) => waitForMail(mailbox, address, match),
    async close() {
      await hub.terminate();
      await mailbox.close();
    },
  };
}

async function stockProduct(client: Setup['client'], sku: string): Promise<void> {
  const product = await client.call('PUT', `/admin/products/${sku}`, { name: 'Чашка', price: 25_000, stock: 10 });
  assert.ok(product.status === 201 || product.status === 200, JSON.stringify(product.body));
}

/** A hub of its own for one test: for tests that change the hub's settings or count everything in it. */
export async function withShop(run: (setup: Setup) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const shop = await openShop(env);
  try {
    await stockProduct(shop.client, 'CUP-1');
    await run(shop);
  } finally {
    await shop.close();
  }
}

export interface SharedSetup extends Setup {
  /** this test's own product: 10 in stock at 250.00 UAH */
  sku: string;
  /** this test's own customer e-mail */
  email: string;
  /** `orderBody` for this test's product and customer */
  orderBody(overrides?: Record<string, unknown>): ReturnType<typeof orderBody>;
}

/**
 * One hub for the tests of a file that do not interfere (node --test runs them one
 * after another): each test gets its own product and customer e-mail, so its stock
 * and its mail are its own. Started by the first test; `close()` it in the file's
 * `after` hook. Saves a hub start (seconds of both cores) per test.
 */
export function sharedShop(env: Record<string, string> = {}) {
  let shop: Promise<Shop> | null = null;
  let tests = 0;
  return {
    async run(test: (setup: SharedSetup) => Promise<void>): Promise<void> {
      shop ??= openShop(env);
      const setup = await shop;
      tests += 1;
      const sku = `CUP-${tests}`;
      const email = `customer-${tests}@example.com`;
      await stockProduct(setup.client, sku);
      const ownOrderBody = (overrides: Record<string, unknown> = {}) => {
        const base = orderBody();
        return orderBody({
          items: [{ ...base.items[0], sku }],
          customer: { ...base.customer, email },
          ...overrides,
        });
      };
      await test({ ...setup, sku, email, orderBody: ownOrderBody });
    },
    async close(): Promise<void> {
      if (shop) await (await shop).close();
    },
  };
}

export async function waitForOrder(
  client: Setup['client'],
  id: string,
  predicate: (order: Record<string, unknown>) => boolean,
  label: string,
) {
  return eventually(
    async () => {
      const { body } = await client.get(`/orders/${id}`);
      return predicate(body) ? body : undefined;
    },
    20_000,
    label,
  );
}

/** Pays (or declines) on the Monobank sandbox's page, as the customer would. */
export async function payOnPage(pageUrl: string, outcome: 'success' | 'failure'): Promise<void> {
  const answer = await fetch(pageUrl, { method: 'POST', body: new URLSearchParams({ outcome }), redirect: 'manual' });
  assert.ok(answer.status === 200 || answer.status === 303, `payment page answered ${answer.status}`);
}
