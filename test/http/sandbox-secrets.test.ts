import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { allConnectors } from '../../actors/platform/connectors/index.ts';
import { encodeData, signData } from '../../actors/platform/connectors/liqpay/protocol.ts';
import { LIQPAY_SANDBOX_KEYS } from '../../actors/platform/connectors/liqpay/sandbox.ts';
import { SANDBOX_CREDENTIALS_FILE } from '../../persistence/sandbox-credentials.ts';
import { uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess, type HubProcess } from '../support/hub-process.ts';
import { startMailbox } from '../support/mailbox.ts';
import { orderBody, waitForOrder } from '../support/shop.ts';

/**
 * The hub's own sandboxes (HUB_SANDBOXES=auto, nothing configured) run with
 * secrets generated for this installation and kept in DATA_DIR, and a
 * sandboxed integration takes calls from loopback only (its sandbox): a
 * callback signed with the sandbox key in the source, or sent from another
 * address even with the right key, pays nothing.
 */

/** somebody on the internet, as the trusted proxy on loopback reports them */
const FOREIGN = '203.0.113.7';

type Stored = Record<string, Record<string, string>>;

async function storedCredentials(dataDir: string): Promise<{ text: string; integrations: Stored }> {
  const text = await readFile(path.join(dataDir, SANDBOX_CREDENTIALS_FILE), 'utf8');
  return { text, integrations: (JSON.parse(text) as { integrations: Stored }).integrations };
}

/** A LiqPay callback for the order's payment, as a sandbox holding `keys` signs it. */
function liqpayCallback(keys: { publicKey?: string; privateKey?: string }, orderId: string) {
  const data = encodeData({
    public_key: keys.publicKey,
    version: 3,
    action: 'pay',
    status: 'success',
    order_id: orderId,
    payment_id: 4242,
    amount: 500,
    currency: 'UAH',
    end_date: Date.now(),
  });
  return { data, signature: signData(keys.privateKey ?? '', data) };
}

async function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
}

test("a sandboxed hub: its sandboxes' secrets are its own and survive a restart; a callback signed with the source's key or sent from elsewhere pays nothing", async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hub-sandbox-secrets-'));
  const dbName = uniqueDatabaseName('sandbox_secrets');
  const mailbox = await startMailbox();
  const env = {
    HUB_MAIL_SMTP_URL: `smtp://127.0.0.1:${mailbox.port}`,
    HUB_MAIL_FROM: 'shop@example.com',
    // a reverse proxy on loopback, so a caller elsewhere can be played over real HTTP
    HUB_TRUSTED_PROXIES: '127.0.0.1',
  };
  let hub: HubProcess | null = null;
  const outputs: string[] = [];
  const answers: string[] = [];
  try {
    hub = await startHubProcess({ dbName, dataDir, env });
    let client = hubClient(hub.url);

    // generated once into DATA_DIR, for this user only, and none is the source's
    assert.equal((await stat(path.join(dataDir, SANDBOX_CREDENTIALS_FILE))).mode & 0o777, 0o600);
    assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
    const before = await storedCredentials(dataDir);
    assert.deepEqual(Object.keys(before.integrations).sort(), allConnectors.map((c) => c.name).sort());
    const secrets: string[] = [];
    for (const connector of allConnectors) {
      const fixed = connector.sandbox.credentials as Record<string, string>;
      const own = before.integrations[connector.name] ?? {};
      const changed = Object.keys(own).filter((field) => own[field] !== fixed[field]);
      assert.ok(changed.length > 0, `${connector.name} runs with the credentials in the source`);
      secrets.push(...changed.map((field) => own[field] ?? ''));
    }
    const keys = before.integrations.liqpay ?? {};
    assert.notEqual(keys.privateKey, LIQPAY_SANDBOX_KEYS.privateKey);

    const product = await client.call('PUT', '/admin/products/CUP-1', { name: 'Чашка', price: 25_000, stock: 10 });
    assert.equal(product.status, 201, JSON.stringify(product.body));
    const created = await client.post('/orders', orderBody({ externalId: 'SB-1', payment: { method: 'liqpay' } }), {
      'Idempotency-Key': 'sb-1',
    });
    assert.ok(created.status >= 200 && created.status < 300, JSON.stringify(created.body));
    const paying = await waitForOrder(client, 'SB-1', (o) => typeof o.paymentUrl === 'string', 'a checkout URL');
    const checkoutUrl = new URL(String(paying.paymentUrl));
    const paymentOf = async () => (await client.get('/actors/payment/SB-1-P1')).body as { state: string; revision: number };
    const unpaid = await paymentOf();

    // the old forgery: a success callback signed with the sandbox's private key from the source
    const forged = await post(`${hub.url}/webhooks/liqpay`, liqpayCallback(LIQPAY_SANDBOX_KEYS, 'SB-1-P1'));
    answers.push(JSON.stringify(forged.body));
    assert.equal(forged.status, 401);
    assert.equal(forged.body.error?.code, 'invalid_signature');

    // the right key, but not from the sandbox: refused before the signature is looked at
    const genuine = liqpayCallback(keys, 'SB-1-P1');
    const elsewhere = await post(`${hub.url}/webhooks/liqpay`, genuine, { 'x-forwarded-for': FOREIGN });
    answers.push(JSON.stringify(elsewhere.body));
    assert.equal(elsewhere.status, 403);
    assert.equal(elsewhere.body.error?.code, 'address_not_allowed');
    // every partner that calls a sandboxed hub, webhooks and merchant APIs alike
    for (const route of ['/webhooks/monobank', '/webhooks/payme', '/webhooks/click/prepare', '/webhooks/jowi', '/goodfin/in']) {
      const refused = await post(`${hub.url}${route}`, { probe: '1' }, { 'x-forwarded-for': FOREIGN });
      answers.push(JSON.stringify(refused.body));
      assert.equal(refused.status, 403, route);
      assert.equal(refused.body.error?.code, 'address_not_allowed', route);
    }
    const still = await paymentOf();
    assert.deepEqual([still.state, still.revision], [unpaid.state, unpaid.revision], 'nothing was paid');
    assert.notEqual(still.state, 'succeeded');
    const audit = await client.get('/admin/audit?integration=liqpay&limit=50');
    const refusals = (audit.body.entries as Array<{ outcome: string; principal: string; status: number }>).filter(
      (e) => e.outcome === 'forbidden_address',
    );
    assert.deepEqual(
      refusals.map((e) => [e.principal, e.status]),
      [[FOREIGN, 403]],
    );
    assert.match(hub.output(), /webhook from an address off the allow-list refused/);

    // a restart on the same DATA_DIR keeps the secrets: the link signed before it still opens, and pays the order
    const port = new URL(hub.url).port; // the same port, where the link's server_url points
    outputs.push(hub.output());
    await hub.terminate();
    hub = null;
    hub = await startHubProcess({ dbName, dataDir, env: { ...env, PORT: port } });
    client = hubClient(hub.url);
    assert.equal((await storedCredentials(dataDir)).text, before.text, 'the same secrets after the restart');
    const sandboxUrl = String((await client.get('/admin/integrations/liqpay')).body.baseUrl);
    const link = new URL(`${checkoutUrl.pathname}${checkoutUrl.search}`, sandboxUrl);
    const page = await fetch(link);
    assert.equal(page.status, 200, 'the restarted sandbox takes the checkout signed before the restart');
    assert.match(await page.text(), /500\.00 UAH/);
    const paid = await fetch(`${sandboxUrl}/api/3/checkout/pay`, {
      method: 'POST',
      body: new URLSearchParams({ order_id: 'SB-1-P1', outcome: 'success' }),
      redirect: 'manual',
    });
    assert.ok(paid.status === 200 || paid.status === 303, `the sandbox answered ${paid.status}`);
    await waitForOrder(client, 'SB-1', (o) => o.state === 'fulfilment.awaitingShipment', 'paid through the sandbox after the restart');
    assert.equal((await paymentOf()).state, 'succeeded');

    // a configured integration keeps its own rules: no allow-list set, so a caller elsewhere reaches the signature check
    const configured = await client.call('PUT', '/admin/integrations/liqpay', {
      credentials: { publicKey: 'i000000001', privateKey: 'configured-private-key-0001' },
    });
    assert.equal(configured.status, 200, JSON.stringify(configured.body));
    assert.equal((configured.body as { mode: string }).mode, 'configured');
    const unsigned = await post(`${hub.url}/webhooks/liqpay`, liqpayCallback(keys, 'SB-1-P1'), { 'x-forwarded-for': FOREIGN });
    assert.equal(unsigned.status, 401);

    // no generated secret in a log line or an answer
    const views = await client.get('/admin/integrations');
    answers.push(JSON.stringify(views.body));
    outputs.push(hub.output());
    const everything = [...outputs, ...answers].join('\n');
    for (const secret of secrets) assert.ok(secret.length >= 16 && !everything.includes(secret), 'a sandbox secret leaked');
  } finally {
    await hub?.terminate();
    await mailbox.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
