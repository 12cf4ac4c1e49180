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
import { z } from 'zod';
import { verifySharedHeader } from '../../../../common/security.ts';
import {
  invoiceCancelSchema,
  invoiceCreateSchema,
  MONOBANK_PATHS,
  REFUND_STATUSES,
  UAH,
  type CancelEntry,
  type FiscalItem,
  type InvoiceCancel,
  type InvoiceCreate,
  type InvoiceStatus,
  type InvoiceStatusName,
  type RefundStatusName,
} from './protocol.ts';

/**
 * The Monobank acquiring sandbox: X-Token checks, invoices with the real
 * life cycle (created → processing → success | failure, hold → finalize,
 * refunds → reversed, expiry by `validity`), a payment page at `pageUrl`
 * where a person (or a test) pays or declines, and status webhooks signed
 * with the sandbox's own P-256 key exactly as Monobank signs them.
 *
 * Refunds (invoice/cancel) answer `success` unless told otherwise: `POST /__sandbox/refund-answer`
 * `{"status": "processing"|"success"|"failure"}` sets the answer of the following cancels, and
 * `POST /__sandbox/settle-refunds` `{"invoiceId", "status": "success"|"failure"}` settles the ones left
 * `processing` (a whole refund makes the invoice `reversed`, with its webhook). `POST /__sandbox/next-invoice`
 * `{"status": "processing"}` starts the next invoice as if its customer had paid at once and the bank were
 * still authorising (its page then completes the payment): a payment that succeeds late.
 *
 * Assumed, not sourced (protocol.ts says which facts are): an invoice created with a basketOrder is treated
 * as fiscalised, so its cancel must carry `items` — goods of that basket, at most the quantity not yet
 * refunded, at the basket's unit price, adding up to `amount`; anything else is a 400 BAD_REQUEST.
 */

export const MONOBANK_SANDBOX_TOKEN = 'mono-sandbox-token-0000000000000000';

export interface MonobankSandbox extends SandboxServer {
  /** the PEM public key webhooks are signed with */
  publicKeyPem: string;
  /** how the following invoice/cancel calls are answered (`success` until told otherwise or reset) */
  answerRefunds(status: RefundStatusName): void;
  /** settles the refunds of an invoice still `processing`; resolves when their webhook was delivered or given up */
  settleRefunds(invoiceId: string, status: 'success' | 'failure'): Promise<void>;
  /** pays (or declines) an invoice as a customer would on its page; resolves when the webhooks were delivered or given up */
  pay(invoiceId: string, outcome: 'success' | 'failure'): Promise<void>;
  invoice(invoiceId: string): InvoiceStatus | null;
  /** status webhooks sent, oldest first */
  webhooks(): CallbackDelivery[];
  /** X-Sign of any body under the sandbox's key: lets a test deliver a webhook Monobank could have sent */
  sign(body: string): string;
}

interface Invoice {
  request: InvoiceCreate;
  status: InvoiceStatus;
  expiresAt: number;
  /** units refunded so far, by basket code (for the items of partial refunds) */
  refundedQty: Map<string, number>;
}

const refundAnswerSchema = z.object({ status: z.enum(REFUND_STATUSES) });
const settleSchema = z.object({ invoiceId: z.string().min(1), status: z.enum(['success', 'failure']) });
const nextInvoiceSchema = z.object({ status: z.literal('processing') });

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
  let refundAnswer: RefundStatusName = 'success';
  let nextInvoiceProcessing = false;
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

  /** the customer paid; the bank authorises (a payment started by `next-invoice` is in processing already) */
  const pay = async (invoiceId: string, outcome: 'success' | 'failure') => {
    const invoice = current(invoiceId);
    if (invoice.status.status !== 'created' && invoice.status.status !== 'processing')
      throw monoError(400, 'BAD_REQUEST', `invoice is ${invoice.status.status}`);
    if (invoice.status.status === 'created') {
      change(invoice, { status: 'processing' });
      await notify(invoice);
    }
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

  /** A refund done: the money leaves the invoice; all of it gone, the invoice is `reversed`. */
  const settle = (invoice: Invoice, entry: CancelEntry) => {
    entry.status = 'success';
    entry.modifiedDate = new Date().toISOString();
    const refunded = (invoice.status.cancelList ?? []).filter((e) => e.status === 'success').reduce((sum, e) => sum + (e.amount ?? 0), 0);
    change(invoice, {
      finalAmount: invoice.status.amount - refunded,
      ...(refunded >= invoice.status.amount ? { status: 'reversed' as const } : {}),
    });
  };

  const countRefunded = (invoice: Invoice, item: FiscalItem) =>
    invoice.refundedQty.set(item.code, (invoice.refundedQty.get(item.code) ?? 0) + item.qty);

  /** Why a cancel's items do not fit the invoice's basket (see the assumption above), or null when they do. */
  const refusedItems = (invoice: Invoice, cancel: InvoiceCancel, amount: number): string | null => {
    const basket = invoice.request.merchantPaymInfo?.basketOrder ?? [];
    if (basket.length === 0) return null;
    if (!cancel.items || cancel.items.length === 0) return "'items' are required: the invoice was fiscalised with its basketOrder";
    let total = 0;
    for (const item of cancel.items) {
      const line = basket.find((candidate) => candidate.code === item.code);
      if (!line) return `item '${item.code}' is not in the invoice's basketOrder`;
      if (item.sum !== line.sum) return `item '${item.code}': sum ${item.sum} differs from the basket's ${line.sum}`;
      if (item.qty > line.qty - (invoice.refundedQty.get(item.code) ?? 0))
        return `item '${item.code}': qty ${item.qty} exceeds what is left to refund`;
      total += Math.round(item.qty * item.sum);
    }
    return total === amount ? null : `items add up to ${total}, the refund is ${amount}`;
  };

  const settleRefunds = async (invoiceId: string, status: 'success' | 'failure') => {
    const invoice = current(invoiceId);
    const waiting = (invoice.status.cancelList ?? []).filter((entry) => entry.status === 'processing');
    if (waiting.length === 0) throw monoError(400, 'BAD_REQUEST', 'no refund of this invoice is processing');
    for (const entry of waiting) {
      if (status === 'success') settle(invoice, entry);
      else {
        entry.status = 'failure';
        entry.modifiedDate = new Date().toISOString();
        change(invoice, {});
      }
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
          refundedQty: new Map(),
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
        if (nextInvoiceProcessing) {
          nextInvoiceProcessing = false;
          const invoice = invoices.get(invoiceId);
          if (invoice) {
            change(invoice, { status: 'processing' });
            void notify(invoice);
          }
        }
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
        if (!parsed.success)
          throw monoError(400, 'BAD_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
        const invoice = current(parsed.data.invoiceId);
        const refundable: InvoiceStatusName[] = ['success', 'hold'];
        if (!refundable.includes(invoice.status.status))
          throw monoError(400, 'BAD_REQUEST', `cannot cancel an invoice that is ${invoice.status.status}`);
        const entries = invoice.status.cancelList ?? [];
        // refused refunds gave nothing back; processing ones are on their way
        const already = entries.filter((entry) => entry.status !== 'failure').reduce((sum, entry) => sum + (entry.amount ?? 0), 0);
        const amount = parsed.data.amount ?? invoice.status.amount - already;
        if (amount <= 0 || already + amount > invoice.status.amount)
          throw monoError(400, 'BAD_REQUEST', 'amount exceeds what can be refunded');
        const itemsRefused = refusedItems(invoice, parsed.data, amount);
        if (itemsRefused) throw monoError(400, 'BAD_REQUEST', itemsRefused);
        const now = new Date().toISOString();
        const entry: CancelEntry = {
          status: refundAnswer,
          amount,
          ccy: invoice.status.ccy,
          createdDate: now,
          modifiedDate: now,
          ...(parsed.data.extRef ? { extRef: parsed.data.extRef } : {}),
        };
        if (refundAnswer !== 'failure') for (const item of parsed.data.items ?? []) countRefunded(invoice, item);
        change(invoice, { cancelList: [...entries, entry] });
        if (refundAnswer === 'success') {
          settle(invoice, entry);
          void notify(invoice);
        }
        return { json: { status: refundAnswer, createdDate: now, modifiedDate: now } };
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
        refundAnswer = 'success';
        nextInvoiceProcessing = false;
      },
      // not Monobank's: how this sandbox answers refunds, and a payment the bank is slow to authorise
      controls: {
        'POST /refund-answer': (request) => {
          const parsed = refundAnswerSchema.safeParse(json(request));
          if (!parsed.success) return { status: 400, json: { error: 'status: processing | success | failure' } };
          refundAnswer = parsed.data.status;
          return { json: { refundAnswer } };
        },
        'POST /settle-refunds': async (request) => {
          const parsed = settleSchema.safeParse(json(request));
          if (!parsed.success) return { status: 400, json: { error: 'invoiceId and status: success | failure' } };
          await settleRefunds(parsed.data.invoiceId, parsed.data.status);
          return { json: invoices.get(parsed.data.invoiceId)?.status ?? null };
        },
        'POST /next-invoice': (request) => {
          if (!nextInvoiceSchema.safeParse(json(request)).success) return { status: 400, json: { error: 'status: processing' } };
          nextInvoiceProcessing = true;
          return { json: { nextInvoice: 'processing' } };
        },
      },
      describe: () => ({
        // `reference` (our payment id) lets a test count the invoices made per payment
        invoices: [...invoices.values()].map((i) => ({
          invoiceId: i.status.invoiceId,
          reference: i.status.reference ?? null,
          status: i.status.status,
          amount: i.status.amount,
        })),
      }),
      notFound: () => ({ status: 404, json: { errCode: 'NOT_FOUND', errText: 'not found' } }),
    },
    options,
  );
  return Object.assign(server, {
    publicKeyPem,
    answerRefunds: (status: RefundStatusName) => {
      refundAnswer = status;
    },
    settleRefunds,
    pay,
    invoice: (invoiceId: string) => invoices.get(invoiceId)?.status ?? null,
    webhooks: () => [...deliveries],
    sign: (body: string) => sign(body, privateKey),
  });
}
