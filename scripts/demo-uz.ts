import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * `npm run demo:uz [-- --hub URL] [--key KEY] [--timeout SECONDS]`: with a hub
 * running (`npm start`), a soum order paid through Payme and another through
 * Click, the way a payer would: the order's payment link is opened (the
 * provider's sandbox page when the integration is sandboxed) and its form
 * submitted, and the provider then calls the hub's merchant endpoints. Waits
 * until both orders are paid and confirmed, and prints what the hub and the
 * provider saw. An integration with real credentials is not paid here: its
 * link and QR code are printed for a person to pay, and the script waits.
 *
 * The hub: `--hub`, else `HUB_URL`, else http://127.0.0.1:3000. The admin
 * key: `--key`, else `HUB_API_KEY`, else `ADMIN_API_KEY`, else the one
 * `npm start` saved in `$DATA_DIR/admin-api-key` (`./data`). Each run makes
 * new orders (`UZ-PAYME-<run>`, `UZ-CLICK-<run>`). Exit codes: 0 both paid,
 * 1 something failed or timed out (said why), 2 a wrong invocation.
 */

const PROVIDERS = ['payme', 'click'] as const;
type Provider = (typeof PROVIDERS)[number];
const TITLE: Record<Provider, string> = { payme: 'Payme', click: 'Click' };

const SKU = 'UZ-NON-1';
/** 15 000.00 soums, in tiyin */
const PRICE = 1_500_000;
// a Kyiv branch of Nova Poshta (the sandbox's directory holds it; the refs are Nova Poshta's own)
const DELIVERY = {
  carrier: 'novaposhta',
  cityRef: '8d5a980d-391c-11dd-90d9-001a92567626',
  warehouseRef: '1ec09d88-e1c2-11e3-8c4a-0050568002cf',
  fee: 0,
};
const POLL_MS = 500;

class DemoError extends Error {}

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const usage = (message: string): never => {
  process.stderr.write(`${message}\nusage: npm run demo:uz [-- --hub URL] [--key KEY] [--timeout SECONDS]\n`);
  process.exit(2);
};
const say = (line: string) => process.stdout.write(`${line}\n`);
const soums = (tiyin: number) => `${Math.trunc(tiyin / 100).toLocaleString('en-US')}.${String(tiyin % 100).padStart(2, '0')} UZS`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const [i, arg] of args.entries())
  if (arg.startsWith('--') && !['--hub', '--key', '--timeout'].includes(arg)) usage(`unknown option ${arg}`);
  else if (!arg.startsWith('--') && !args[i - 1]?.startsWith('--')) usage(`unexpected argument ${arg}`);

const hubUrl = (option('hub') ?? process.env.HUB_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
if (!/^https?:\/\/[^/]+/.test(hubUrl)) usage(`--hub must be an http(s) URL, not ${hubUrl}`);
const timeoutOption = option('timeout');
const timeoutSeconds = timeoutOption === undefined ? null : Number(timeoutOption);
if (timeoutSeconds !== null && !(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0)) usage('--timeout is a number of seconds');

async function apiKey(): Promise<string> {
  const given = option('key') ?? process.env.HUB_API_KEY ?? process.env.ADMIN_API_KEY;
  if (given) return given.trim();
  const file = path.resolve(process.env.DATA_DIR ?? 'data', 'admin-api-key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return usage(`no API key: pass --key KEY or HUB_API_KEY, or run this where \`npm start\` saved ${file}`);
  }
}

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code?: string; message?: string } };
}

function hub(key: string) {
  const call = async (method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    let response: Response;
    try {
      response = await fetch(`${hubUrl}${pathname}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.message : String(error));
      throw new DemoError(`no hub answers at ${hubUrl} (${cause}): start it with \`npm start\`, or point at it with --hub URL (HUB_URL)`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { text };
    }
    if (response.status === 401)
      throw new DemoError(
        `the hub at ${hubUrl} refused the API key (401): give the admin key it printed at its first start (data/admin-api-key) with --key or HUB_API_KEY`,
      );
    if (response.status === 403)
      throw new DemoError(
        `the API key may not ${method} ${pathname} (403): the demo stocks a product and reads integrations, so it needs an admin key`,
      );
    return { status: response.status, body: (parsed ?? {}) as Answer['body'] };
  };
  const must = async (method: string, pathname: string, expected: number[], body?: unknown, headers?: Record<string, string>) => {
    const answer = await call(method, pathname, body, headers);
    if (!expected.includes(answer.status))
      throw new DemoError(
        `${method} ${pathname} answered ${answer.status}: ${answer.body.error?.message ?? JSON.stringify(answer.body).slice(0, 300)}`,
      );
    return answer.body;
  };
  return { call, must };
}
type Hub = ReturnType<typeof hub>;

interface Integration {
  provider: Provider;
  /** the hub talks to the provider's built-in sandbox: this script pays the link itself */
  sandboxed: boolean;
  sandboxUrl: string | null;
}

async function integrationOf(api: Hub, provider: Provider): Promise<Integration> {
  const view = await api.must('GET', `/admin/integrations/${provider}`, [200]);
  if (view.enabled === false)
    throw new DemoError(`the ${provider} integration is disabled: enable it (PUT /admin/integrations/${provider} {"enabled":true})`);
  if (view.mode === 'unconfigured')
    throw new DemoError(
      `the ${provider} integration has no credentials and no sandbox (is the hub running with HUB_SANDBOXES=off?): ` +
        `set its credentials (PUT /admin/integrations/${provider}) or start the hub with HUB_SANDBOXES=auto`,
    );
  const sandboxed = view.mode === 'sandbox';
  return { provider, sandboxed, sandboxUrl: sandboxed && typeof view.baseUrl === 'string' ? view.baseUrl.replace(/\/+$/, '') : null };
}

/** Enough of the product in stock for this run's two orders, whatever earlier runs left reserved. */
async function stockProduct(api: Hub): Promise<void> {
  const existing = await api.call('GET', `/admin/products/${SKU}`);
  const reserved = existing.status === 200 ? Number(existing.body.reserved ?? 0) : 0;
  const stock = Math.max(existing.status === 200 ? Number(existing.body.stock ?? 0) : 0, reserved + 10);
  const product = await api.must('PUT', `/admin/products/${SKU}`, [200, 201], { name: 'Non (лепёшка)', price: PRICE, stock });
  say(`product ${SKU} "${String(product.name)}": ${soums(PRICE)}, ${String(product.available)} available`);
}

interface OrderView {
  id: string;
  state: string;
  paymentUrl: string | null;
  errors?: unknown[];
  payment?: {
    current?: { id?: string; state?: string; provider?: string; providerStatus?: string | null; paid?: boolean } | null;
  };
}

const isConfirmed = (state: string) => state.startsWith('fulfilment.') || ['delivered', 'completed', 'returned'].includes(state);
const DEAD_ENDS = ['rejected', 'blocked', 'cancelling', 'cancelled', 'refundingLatePayment'];

async function order(api: Hub, id: string): Promise<OrderView> {
  return (await api.must('GET', `/orders/${encodeURIComponent(id)}`, [200])) as unknown as OrderView;
}

async function createOrder(api: Hub, provider: Provider, id: string): Promise<void> {
  const body = {
    externalId: id,
    source: 'shop',
    customer: { name: 'Dilnoza Karimova', phone: '+998901234567', email: 'dilnoza@example.com' },
    items: [{ sku: SKU, name: 'Non (лепёшка)', qty: 1, unitPrice: PRICE }],
    currency: 'UZS',
    delivery: DELIVERY,
    payment: { method: provider },
    total: PRICE,
  };
  const created = await api.must('POST', '/orders', [201], body, { 'Idempotency-Key': `demo-uz-${id}` });
  say(`order ${id}: ${soums(PRICE)}, paid by ${TITLE[provider]} — ${String(created.state)}`);
}

/** Polls the orders until `done` holds for each (or one reaches a dead end, or the time is up). */
async function waitFor(
  api: Hub,
  ids: string[],
  done: (view: OrderView) => boolean,
  what: string,
  deadline: number,
): Promise<Map<string, OrderView>> {
  const seen = new Map<string, OrderView>();
  for (;;) {
    for (const id of ids) seen.set(id, await order(api, id));
    const views = [...seen.values()];
    if (views.every(done)) return seen;
    const stuck = views.find((v) => DEAD_ENDS.includes(v.state));
    if (stuck)
      throw new DemoError(
        `order ${stuck.id} is ${stuck.state}${stuck.errors?.length ? `: ${JSON.stringify(stuck.errors)}` : ''} (GET ${hubUrl}/orders/${stuck.id})`,
      );
    if (Date.now() >= deadline) {
      const lines = views
        .filter((v) => !done(v))
        .map(
          (v) =>
            `  ${v.id}: order ${v.state}, payment ${v.payment?.current?.state ?? '—'} (${v.payment?.current?.providerStatus ?? 'no provider status'})`,
        );
      throw new DemoError(`timed out waiting for ${what}; still waiting:\n${lines.join('\n')}`);
    }
    await sleep(POLL_MS);
  }
}

// --- paying as a payer: the page's form, submitted --------------------------------------------------

const decodeHtml = (text: string) =>
  text
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, code: string) => String.fromCodePoint(parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
const attribute = (tag: string, name: string) => {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return match ? decodeHtml(match[1] ?? match[2] ?? match[3] ?? '') : null;
};
const textOf = (html: string) =>
  decodeHtml(
    html
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );

/**
 * Opens the payment page and presses its pay button: the form's fields, and
 * the name/value of the button whose label says "pay" (Оплатить), posted to
 * the form's action as a browser would.
 */
async function payLikeAPayer(provider: Provider, link: string): Promise<string> {
  const page = await fetch(link, { signal: AbortSignal.timeout(15_000) }).catch((error: unknown) => {
    throw new DemoError(
      `the ${TITLE[provider]} page ${link} could not be opened: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  const html = await page.text();
  if (page.status !== 200) throw new DemoError(`the ${TITLE[provider]} page answered HTTP ${page.status}: ${textOf(html).slice(0, 200)}`);
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new DemoError(`the ${TITLE[provider]} page has no payment form: ${textOf(html).slice(0, 200)}`);
  const [, formTag = '', inner = ''] = form;
  const fields = new URLSearchParams();
  for (const [input] of inner.matchAll(/<input\b[^>]*>/gi)) {
    const name = attribute(input, 'name');
    if (name) fields.append(name, attribute(input, 'value') ?? '');
  }
  const buttons = [...inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)].map(([, tag = '', label = '']) => ({
    name: attribute(tag, 'name'),
    value: attribute(tag, 'value') ?? '',
    label: textOf(label),
  }));
  const button = buttons.find((b) => /оплатить|pay/i.test(b.label)) ?? buttons[0];
  if (!button) throw new DemoError(`the ${TITLE[provider]} page's form has no button`);
  if (button.name) fields.append(button.name, button.value);
  const action = new URL(attribute(formTag, 'action') ?? '', link);
  const method = (attribute(formTag, 'method') ?? 'get').toUpperCase();
  say(
    `  ${TITLE[provider]}: opened ${new URL(link).origin}${new URL(link).pathname.slice(0, 40)}… — "${textOf(html).slice(0, 80)}"; pressing "${button.label}"`,
  );
  if (method === 'GET') for (const [name, value] of fields) action.searchParams.append(name, value);
  const response = await fetch(action, {
    method,
    redirect: 'manual',
    ...(method === 'GET' ? {} : { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() }),
    signal: AbortSignal.timeout(60_000),
  });
  const answer = textOf(await response.text());
  if (response.status >= 300 && response.status < 400)
    return `HTTP ${response.status} → ${response.headers.get('location') ?? '(no location)'}`;
  if (response.ok && !/не прошёл|failed|cancel|ошибк/i.test(answer)) return `HTTP ${response.status}: ${answer.slice(0, 120)}`;
  throw new DemoError(`the ${TITLE[provider]} page did not take the payment (HTTP ${response.status}): ${answer.slice(0, 300)}`);
}

/** What the provider (its sandbox) holds for the order: its own transaction, and any answers of ours it would not accept. */
async function providerView(integration: Integration, orderId: string): Promise<string> {
  if (!integration.sandboxUrl) return 'not visible from here (a live integration)';
  const read = async (pathname: string) => {
    const response = await fetch(`${integration.sandboxUrl}/__sandbox${pathname}`, { signal: AbortSignal.timeout(10_000) });
    return (await response.json()) as Record<string, unknown>;
  };
  const state = ((await read('/state')).state ?? {}) as Record<string, unknown>;
  const violations = ((await read('/violations')).violations ?? []) as string[];
  const flagged = violations.length
    ? `; the sandbox lists ${violations.length} answer(s) the provider would not accept (GET …/__sandbox/violations)`
    : '';
  if (integration.provider === 'payme') {
    const all = (state.transactions ?? []) as Array<{ id: string; state: number; transaction: string; account: Record<string, string> }>;
    const mine = all.filter((tx) => tx.account.order_id === orderId);
    const tx = mine.find((t) => t.state === 2) ?? mine.at(-1);
    return tx
      ? `Payme transaction ${tx.id}, state ${tx.state}, our transaction no. ${tx.transaction}${flagged}`
      : `no Payme transaction${flagged}`;
  }
  const all = (state.payments ?? []) as Array<{
    clickTransId: string;
    clickPaydocId: string;
    merchantTransId: string;
    status: string;
    merchantPrepareId: number | null;
    merchantConfirmId: number | null;
  }>;
  const mine = all.filter((p) => p.merchantTransId === orderId);
  const payment = mine.find((p) => p.status === 'paid') ?? mine.at(-1);
  return payment
    ? `Click click_trans_id ${payment.clickTransId} (paydoc ${payment.clickPaydocId}), ${payment.status}, ` +
        `our prepare/confirm ids ${String(payment.merchantPrepareId)}/${String(payment.merchantConfirmId)}${flagged}`
    : `no Click payment${flagged}`;
}

async function main(): Promise<void> {
  const api = hub(await apiKey());
  say(`hub ${hubUrl}`);
  await api.must('GET', '/health/live', [200]);
  const integrations = new Map<Provider, Integration>();
  for (const provider of PROVIDERS) {
    const integration = await integrationOf(api, provider);
    integrations.set(provider, integration);
    say(
      integration.sandboxed
        ? `${TITLE[provider]}: sandboxed (${integration.sandboxUrl ?? '?'}) — this script pays its link as a payer would`
        : `${TITLE[provider]}: configured with real credentials — its link has to be paid by hand`,
    );
  }
  const byHand = [...integrations.values()].some((i) => !i.sandboxed);
  const deadline = Date.now() + (timeoutSeconds ?? (byHand ? 900 : 60)) * 1000;

  await stockProduct(api);
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 2)
    .toString(36)
    .padStart(2, '0')}`.toUpperCase();
  const ids: Record<Provider, string> = { payme: `UZ-PAYME-${run}`, click: `UZ-CLICK-${run}` };
  for (const provider of PROVIDERS) await createOrder(api, provider, ids[provider]);

  const waiting = await waitFor(api, Object.values(ids), (v) => typeof v.paymentUrl === 'string', 'the payment links', deadline);
  for (const provider of PROVIDERS) {
    const id = ids[provider];
    const view = waiting.get(id);
    say(`${id} waits for its ${TITLE[provider]} payment ${view?.payment?.current?.id ?? ''}`);
    say(`  link: ${String(view?.paymentUrl)}`);
    const qr = await api.call('GET', `/orders/${encodeURIComponent(id)}/payment-qr`);
    say(`  QR code: ${hubUrl}/orders/${encodeURIComponent(id)}/payment-qr (svg; ?format=png) — HTTP ${qr.status}`);
  }

  for (const provider of PROVIDERS) {
    const link = String(waiting.get(ids[provider])?.paymentUrl);
    if (integrations.get(provider)?.sandboxed) {
      say(`paying ${ids[provider]} on the ${TITLE[provider]} sandbox's page`);
      say(`  ${TITLE[provider]} answered the payer: ${await payLikeAPayer(provider, link)}`);
    } else {
      say(`pay ${ids[provider]} by hand: open ${link}`);
      say(`  or scan the QR code in the ${TITLE[provider]} app; waiting for the payment`);
    }
  }

  const timeLeft = Math.round((deadline - Date.now()) / 1000);
  say(`waiting (up to ${timeLeft} s) for both orders to be paid and confirmed`);
  const done = await waitFor(api, Object.values(ids), (v) => isConfirmed(v.state), 'the orders to be paid and confirmed', deadline);
  for (const provider of PROVIDERS) {
    const id = ids[provider];
    const view = done.get(id);
    const payment = view?.payment?.current;
    say(`${id}: ${view?.state ?? '?'}`);
    say(
      `  payment ${payment?.id ?? '?'} at ${payment?.provider ?? provider}: ${payment?.state ?? '?'}, provider status ${payment?.providerStatus ?? '—'}, paid ${String(payment?.paid ?? false)}`,
    );
    const integration = integrations.get(provider);
    if (integration) say(`  ${TITLE[provider]} saw: ${await providerView(integration, id)}`);
  }
  say('both soum orders are paid and confirmed');
}

try {
  await main();
} catch (error) {
  if (!(error instanceof DemoError)) throw error;
  process.stderr.write(`demo:uz failed: ${error.message}\n`);
  process.exitCode = 1;
}
