import { createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { deliverCallback, type CallbackDelivery } from '../kit/sandbox-callbacks.ts';
import {
  SandboxHttpError,
  startSandboxServer,
  type SandboxOptions,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxServer,
} from '../kit/sandbox.ts';
import {
  invoiceCancelSchema,
  invoiceCreateSchema,
  MONOBANK_PATHS,
  UAH,
  type InvoiceCreate,
  type InvoiceStatus,
  type InvoiceStatusName,
} from './protocol.ts';
import { verifySharedHeader } from '../../../../common/security.ts';

/**
 * The Monobank acquiring sandbox: X-Token checks, invoices with the real
 * life cycle (created → processing → success | failure, hold → finalize,
 * refunds → reversed, expiry by `validity`), a payment page at `pageUrl`
 * where a person (or a test) pays or declines, and status webhooks signed
 * with the sandbox's own P-256 key exactly as Monobank signs them.
 */

export const MONOBANK_SANDBOX_TOKEN = 'mono-sandbox-token-0000000000000000';

export interface MonobankSandbox extends SandboxServer {
  /** the PEM public key webhooks are signed with */
  publicKeyPem: string;
  /** pays (or declines) an invoice as a customer would on its page; resolves when the webhooks were delivered or given up */
  pay(invoiceId: string, outcome: 'success' | 'failure'): Promise<void>;
  invoice(invoiceId: string): InvoiceStatus | null;
  /** status webhooks sent, oldest first */
  webhooks(): CallbackDelivery[];
}

interface Invoice {
  request: InvoiceCreate;
  status: InvoiceStatus;
  expiresAt: number;
}

const WEBHOOK_ATTEMPTS = 4; // the first and up to 3 retries, as Monobank does

function monoError(status: number, errCode: string, errText: string): SandboxHttpError {
  return new SandboxHttpError(status, { errCode, errText });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function startMonobankSandbox(options: SandboxOptions = {}, token = MONOBANK_SANDBOX_TOKEN): Promise<MonobankSandbox> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const wrongKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const invoices = new Map<string, Invoice>();
  let deliveries: CallbackDelivery[] = [];
  // set once the server listens; faults (badSignature) live there
  let server: SandboxServer | null = null;

  const authorise = (request: SandboxRequest) => {
    if (!verifySharedHeader({ expected: token, sent: request.header('x-token') })) throw monoError(403, 'FORBIDDEN', 'forbidden');
  };

  const current = (invoiceId: string | null | undefined): Invoice => {
    const invoice = invoices.get(invoiceId ?? '');
    if (!invoice) throw monoError(400, 'BAD_REQUEST', "invalid 'invoiceId'");
    if (invoice.status.status === 'created' && Date.now() > invoice.expiresAt) change(invoice, { status: 'expired' });
    return invoice;
  };

  const change = (invoice: Invoice, patch: Partial<InvoiceStatus>) => {
    invoice.status = { ...invoice.status, ...patch, modifiedDate: new Date().toISOString() };
  };

  const sign = (body: string, key: KeyObject) => createSign('SHA256').update(body).sign(key).toString('base64');

  /** POSTs the invoice's status to its webHookUrl, retrying until a 200 (expired is never sent, as with Monobank). */
  const notify = async (invoice: Invoice) => {
    const url = invoice.request.webHookUrl;
    if (!url || invoice.status.status === 'expired') return;
    const body = JSON.stringify(invoice.status);
    const bad = server?.faults.takeBadSignature('/webhook') ?? false;
    const delivery = deliverCallback({
      url,
      body,
      headers: { 'content-type': 'application/json', 'x-sign': sign(body, bad ? wrongKey : privateKey) },
      attempts: WEBHOOK_ATTEMPTS,
    });
    deliveries.push(await delivery);
  };

  const pay = async (invoiceId: string, outcome: 'success' | 'failure') => {
    const invoice = current(invoiceId);
    if (invoice.status.status !== 'created') throw monoError(400, 'BAD_REQUEST', `invoice is ${invoice.status.status}`);
    change(invoice, { status: 'processing' });
    await notify(invoice);
    if (outcome === 'success') {
      const held = invoice.request.paymentType === 'hold';
      change(invoice, {
        status: held ? 'hold' : 'success',
        finalAmount: invoice.status.amount,
        paymentInfo: {
          maskedPan: '444403******1902',
          approvalCode: '662476',
          rrn: '060189181768',
          tranId: randomBytes(4).readUInt32BE().toString(),
          paymentSystem: 'visa',
          paymentMethod: 'pan',
          country: '804',
          fee: 0,
        },
      });
    } else {
      change(invoice, { status: 'failure', failureReason: 'Недостатньо коштів', errCode: '59' });
    }
    await notify(invoice);
  };

  const json = (request: SandboxRequest) => {
    try {
      return request.json();
    } catch {
      throw monoError(400, 'BAD_REQUEST', 'body is not valid JSON');
    }
  };

  const routes = [
    {
      method: 'GET' as const,
      path: MONOBANK_PATHS.pubkey,
      handle: (request: SandboxRequest): SandboxResponse => {
        authorise(request);
        return { json: { key: Buffer.from(publicKeyPem).toString('base64') } };
      },
    },
    {
      method: 'POST' as const,
      path: MONOBANK_PATHS.create,
      handle: (request: SandboxRequest): SandboxResponse => {
        authorise(request);
        const parsed = invoiceCreateSchema.safeParse(json(request));
        if (!parsed.success)
          throw monoError(400, 'BAD_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
        const invoiceId = `p2_${randomBytes(8).toString('base64url')}`;
        const now = new Date().toISOString();
        invoices.set(invoiceId, {
          request: parsed.data,
          expiresAt: Date.now() + (parsed.data.validity ?? 24 * 3600) * 1000,
          status: {
            invoiceId,
            status: 'created',
            amount: parsed.data.amount,
            ccy: parsed.data.ccy ?? UAH,
            createdDate: now,
            modifiedDate: now,
            reference: parsed.data.merchantPaymInfo?.reference,
            destination: parsed.data.merchantPaymInfo?.destination,
            cancelList: [],
          },
        });
        return { json: { invoiceId, pageUrl: `http://${request.header('host') ?? '127.0.0.1'}/pay/${invoiceId}` } };
      },
    },
    {
      method: 'GET' as const,
      path: MONOBANK_PATHS.status,
      handle: (request: SandboxRequest): SandboxResponse => {
        authorise(request);
        return { json: current(request.query.get('invoiceId')).status };
      },
    },
    {
      method: 'POST' as const,
      path: MONOBANK_PATHS.cancel,
      handle: (request: SandboxRequest): SandboxResponse => {
        authorise(request);
        const parsed = invoiceCancelSchema.safeParse(json(request));
        if (!parsed.success) throw monoError(400, 'BAD_REQUEST', 'invoiceId is required');
        const invoice = current(parsed.data.invoiceId);
        const refundable: InvoiceStatusName[] = ['success', 'hold'];
        if (!refundable.includes(invoice.status.status))
          throw monoError(400, 'BAD_REQUEST', `cannot cancel an invoice that is ${invoice.status.status}`);
        const already = (invoice.status.cancelList ?? []).reduce((sum, entry) => sum + entry.amount, 0);
        const amount = parsed.data.amount ?? invoice.status.amount - already;
        if (amount <= 0 || already + amount > invoice.status.amount)
          throw monoError(400, 'BAD_REQUEST', 'amount exceeds what can be refunded');
        const now = new Date().toISOString();
        const entry = {
          status: 'success' as const,
          amount,
          ccy: invoice.status.ccy,
          createdDate: now,
          modifiedDate: now,
          ...(parsed.data.extRef ? { extRef: parsed.data.extRef } : {}),
        };
        const whole = already + amount === invoice.status.amount;
        change(invoice, {
          cancelList: [...(invoice.status.cancelList ?? []), entry],
          ...(whole ? { status: 'reversed' } : {}),
          finalAmount: invoice.status.amount - already - amount,
        });
        void notify(invoice);
        return { json: { status: 'success', createdDate: now, modifiedDate: now } };
      },
    },
    {
      method: 'POST' as const,
      path: MONOBANK_PATHS.remove,
      handle: (request: SandboxRequest): SandboxResponse => {
        authorise(request);
        const body = json(request) as { invoiceId?: string };
        const invoice = current(body.invoiceId);
        if (invoice.status.status === 'created') change(invoice, { status: 'expired' });
        else if (invoice.status.status !== 'expired')
          throw monoError(400, 'BAD_REQUEST', `cannot remove an invoice that is ${invoice.status.status}`);
        return { status: 200 };
      },
    },
    {
      method: 'POST' as const,
      path: MONOBANK_PATHS.finalize,
      handle: (request: SandboxRequest): SandboxResponse => {
        authorise(request);
        const body = json(request) as { invoiceId?: string; amount?: number };
        const invoice = current(body.invoiceId);
        if (invoice.status.status === 'success') return { json: { status: 'success' } };
        if (invoice.status.status !== 'hold')
          throw monoError(400, 'BAD_REQUEST', `cannot finalize an invoice that is ${invoice.status.status}`);
        change(invoice, { status: 'success', finalAmount: body.amount ?? invoice.status.amount });
        void notify(invoice);
        return { json: { status: 'success' } };
      },
    },
    {
      // not Monobank's: lets a test or a demo plant a discrepancy (a refund or amount the hub never heard of)
      method: 'POST' as const,
      path: '/sandbox/invoices/:invoiceId/tamper',
      handle: (request: SandboxRequest, params: Record<string, string>): SandboxResponse => {
        const invoice = current(params.invoiceId);
        const body = json(request) as { status?: InvoiceStatusName; finalAmount?: number };
        change(invoice, {
          ...(body.status ? { status: body.status } : {}),
          ...(body.finalAmount !== undefined ? { finalAmount: body.finalAmount } : {}),
        });
        return { json: invoice.status };
      },
    },
    {
      method: 'GET' as const,
      path: '/pay/:invoiceId',
      handle: (_request: SandboxRequest, params: Record<string, string>): SandboxResponse => {
        const invoice = current(params.invoiceId);
        const { amount, status, destination } = invoice.status;
        const form =
          status === 'created'
            ? `<form method="post"><button name="outcome" value="success">Сплатити</button> <button name="outcome" value="failure">Відхилити</button></form>`
            : `<p>Статус: ${escapeHtml(status)}</p>`;
        return {
          headers: { 'content-type': 'text/html; charset=utf-8' },
          body: `<!doctype html><meta charset="utf-8"><title>monobank sandbox</title><h1>${(amount / 100).toFixed(2)} ₴</h1><p>${escapeHtml(destination ?? '')}</p>${form}`,
        };
      },
    },
    {
      method: 'POST' as const,
      path: '/pay/:invoiceId',
      handle: async (request: SandboxRequest, params: Record<string, string>): Promise<SandboxResponse> => {
        const outcome = request.form().get('outcome') === 'success' ? 'success' : 'failure';
        await pay(params.invoiceId ?? '', outcome);
        const redirect = invoices.get(params.invoiceId ?? '')?.request.redirectUrl;
        return redirect ? { status: 303, headers: { location: redirect } } : { body: `payment ${outcome}` };
      },
    },
  ];

  server = await startSandboxServer(
    {
      name: 'monobank',
      routes,
      onReset: () => {
        invoices.clear();
        deliveries = [];
      },
      describe: () => ({
        invoices: [...invoices.values()].map((i) => ({ invoiceId: i.status.invoiceId, status: i.status.status, amount: i.status.amount })),
      }),
      notFound: () => ({ status: 404, json: { errCode: 'NOT_FOUND', errText: 'not found' } }),
    },
    options,
  );
  return Object.assign(server, {
    publicKeyPem,
    pay,
    invoice: (invoiceId: string) => invoices.get(invoiceId)?.status ?? null,
    webhooks: () => [...deliveries],
  });
}
