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

export async function withShop(run: (setup: Setup) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const mailbox = await startMailbox();
  const hub = await startHubProcess({
    dbName: uniqueDatabaseName('orders'),
    env: {
      HUB_MAIL_SMTP_URL: `smtp://127.0.0.1:${mailbox.port}`,
      HUB_MAIL_FROM: 'shop@example.com',
      HUB_REPORT_EMAIL_TO: 'management@example.com',
      ...env,
    },
  });
  const client = hubClient(hub.url);
  const mailTo = (address: string, match: RegExp) => waitForMail(mailbox, address, match);
  try {
    const product = await client.call('PUT', '/admin/products/CUP-1', { name: 'Чашка', price: 25_000, stock: 10 });
    assert.ok(product.status === 201 || product.status === 200, JSON.stringify(product.body));
    await run({ hub, client, mailbox, mailTo });
  } finally {
    await hub.terminate();
    await mailbox.close();
  }
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
