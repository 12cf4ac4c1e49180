import { randomInt } from 'node:crypto';
import { deliverCallback, type CallbackDelivery } from '../kit/sandbox-callbacks.ts';
import { startSandboxServer, type SandboxOptions, type SandboxResponse, type SandboxServer } from '../kit/sandbox.ts';
import {
  checkoutSchema,
  liqpayTimeMs,
  decodeData,
  encodeData,
  LIQPAY_PATHS,
  PAID_LIQPAY_STATUSES,
  signData,
  verifySignature,
  type LiqPayAnswer,
} from './protocol.ts';

/**
 * The LiqPay sandbox: checks the public key and the SHA-1 signature of
 * every request, keeps checkouts and payments, serves a checkout page where
 * a person (or a test) pays or declines, and posts signed callbacks to
 * `server_url`. Errors come back as LiqPay sends them: HTTP 200 with
 * `result: "error"` and an `err_code`.
 */

export const LIQPAY_SANDBOX_KEYS = { publicKey: 'sandbox_i00000000', privateKey: 'sandbox_0000000000000000000000000000000000000000' };

export interface LiqPaySandbox extends SandboxServer {
  /** `error`: LiqPay's own failure of the payment (status and result `error`), as its status API then reports it */
  pay(orderId: string, outcome: 'success' | 'failure' | 'error'): Promise<void>;
  payment(orderId: string): LiqPayAnswer | null;
  /** callbacks posted to server_url, oldest first */
  callbacks(): CallbackDelivery[];
}

interface Checkout {
  params: ReturnType<typeof checkoutSchema.parse>;
  payment: LiqPayAnswer | null;
}

const CALLBACK_ATTEMPTS = 3;

const failure = (err_code: string, err_description: string): SandboxResponse => ({
  json: { result: 'error', status: 'error', err_code, err_description },
});

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function startLiqPaySandbox(options: SandboxOptions = {}, keys = LIQPAY_SANDBOX_KEYS): Promise<LiqPaySandbox> {
  const checkouts = new Map<string, Checkout>();
  let deliveries: CallbackDelivery[] = [];
  let server: SandboxServer | null = null;

  /** the decoded parameters of a signed request, or the error LiqPay would answer */
  const open = (data: string | null | undefined, signature: string | null | undefined): Record<string, unknown> | SandboxResponse => {
    if (!data || !signature) return failure('invalid_signature', 'data and signature are required');
    let params: unknown;
    try {
      params = decodeData(data);
    } catch {
      return failure('invalid_data', 'data is not base64 JSON');
    }
    if (typeof params !== 'object' || params === null) return failure('invalid_data', 'data is not base64 JSON');
    const record = params as Record<string, unknown>;
    if (record.public_key !== keys.publicKey) return failure('public_key_not_found', 'public_key not found');
    if (!verifySignature(keys.privateKey, data, signature)) return failure('invalid_signature', 'Invalid signature');
    return record;
  };
  const isError = (value: Record<string, unknown> | SandboxResponse): value is SandboxResponse => 'json' in value;

  const notify = async (checkout: Checkout) => {
    const url = checkout.params.server_url;
    if (!url || !checkout.payment) return;
    const data = encodeData({ ...checkout.payment, public_key: keys.publicKey, version: 3 });
    const bad = server?.faults.takeBadSignature('/callback') ?? false;
    const signature = signData(bad ? `${keys.privateKey}-wrong` : keys.privateKey, data);
    deliveries.push(
      await deliverCallback({
        url,
        body: new URLSearchParams({ data, signature }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        attempts: CALLBACK_ATTEMPTS,
      }),
    );
  };

  const pay = async (orderId: string, outcome: 'success' | 'failure' | 'error') => {
    const checkout = checkouts.get(orderId);
    if (!checkout) throw new Error(`no checkout for order ${orderId}`);
    if (checkout.payment && PAID_LIQPAY_STATUSES.has(checkout.payment.status ?? '')) return;
    const { params } = checkout;
    const paid = outcome === 'success';
    checkout.payment = {
      result: outcome === 'error' ? 'error' : 'ok',
      action: params.action,
      payment_id: randomInt(1_000_000_000, 2_000_000_000),
      status: paid ? (params.sandbox === 1 ? 'sandbox' : 'success') : outcome,
      order_id: orderId,
      amount: params.amount,
      currency: params.currency,
      description: params.description,
      create_date: Date.now(),
      end_date: Date.now(),
      ...(paid
        ? { sender_card_mask2: '424242*42', sender_card_type: 'visa' }
        : outcome === 'error'
          ? { err_code: 'err_payment', err_description: 'Помилка платежу' }
          : { err_code: 'limit', err_description: 'Перевищено ліміт на суму або кількість платежів' }),
    };
    await notify(checkout);
  };

  const actions: Record<string, (params: Record<string, unknown>) => SandboxResponse> = {
    status: (params) => {
      const payment = checkouts.get(String(params.order_id ?? ''))?.payment;
      return payment ? { json: payment } : failure('payment_not_found', 'payment_not_found');
    },
    refund: (params) => {
      const checkout = checkouts.get(String(params.order_id ?? ''));
      if (!checkout?.payment) return failure('payment_not_found', 'payment_not_found');
      if (!PAID_LIQPAY_STATUSES.has(checkout.payment.status ?? ''))
        return failure('payment_err_status', `payment is ${checkout.payment.status ?? 'unknown'}`);
      const amount = typeof params.amount === 'number' ? params.amount : (checkout.payment.amount ?? 0);
      if (amount > (checkout.payment.amount ?? 0)) return failure('amount_limit', 'refund exceeds the payment');
      checkout.payment = { ...checkout.payment, status: 'reversed', refund_amount: amount, end_date: Date.now() };
      void notify(checkout);
      return { json: { result: 'ok', status: 'reversed', payment_id: checkout.payment.payment_id, order_id: checkout.payment.order_id } };
    },
  };

  const checkoutPage = (fields: URLSearchParams): SandboxResponse => {
    const params = open(fields.get('data'), fields.get('signature'));
    if (isError(params)) return { ...params, status: 400 };
    const parsed = checkoutSchema.safeParse(params);
    if (!parsed.success)
      return { status: 400, ...failure('invalid_data', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')) };
    const existing = checkouts.get(parsed.data.order_id);
    if (!existing) checkouts.set(parsed.data.order_id, { params: parsed.data, payment: null });
    const status = existing?.payment?.status;
    const hidden = `<input type="hidden" name="order_id" value="${escapeHtml(parsed.data.order_id)}">`;
    const buttons = status
      ? `<p>Статус: ${escapeHtml(status)}</p>`
      : `<form method="post" action="${LIQPAY_PATHS.checkout}/pay">${hidden}<button name="outcome" value="success">Сплатити</button> <button name="outcome" value="failure">Відхилити</button></form>`;
    return {
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: `<!doctype html><meta charset="utf-8"><title>LiqPay sandbox</title><h1>${parsed.data.amount.toFixed(2)} ${escapeHtml(parsed.data.currency)}</h1><p>${escapeHtml(parsed.data.description)}</p>${buttons}`,
    };
  };

  server = await startSandboxServer(
    {
      name: 'liqpay',
      onReset: () => {
        checkouts.clear();
        deliveries = [];
      },
      describe: () => ({
        checkouts: [...checkouts.values()].map((c) => ({
          orderId: c.params.order_id,
          amount: c.params.amount,
          status: c.payment?.status ?? null,
        })),
      }),
      routes: [
        {
          method: 'POST',
          path: LIQPAY_PATHS.request,
          handle: (request) => {
            const form = request.form();
            const params = open(form.get('data'), form.get('signature'));
            if (isError(params)) return params;
            const action = actions[String(params.action ?? '')];
            return action ? action(params) : failure('err_action', `action ${String(params.action)} is not supported by the sandbox`);
          },
        },
        { method: 'GET', path: LIQPAY_PATHS.checkout, handle: (request) => checkoutPage(request.query) },
        { method: 'POST', path: LIQPAY_PATHS.checkout, handle: (request) => checkoutPage(request.form()) },
        {
          method: 'POST',
          path: `${LIQPAY_PATHS.checkout}/pay`,
          handle: async (request) => {
            const form = request.form();
            const orderId = form.get('order_id') ?? '';
            const checkout = checkouts.get(orderId);
            if (!checkout) return { status: 404, body: 'no such checkout' };
            // LiqPay refuses to take money for a checkout past its expired_date
            if (checkout.params.expired_date && liqpayTimeMs(checkout.params.expired_date) < Date.now() && !checkout.payment)
              return { status: 410, body: 'the payment link has expired' };
            const outcome = form.get('outcome') === 'success' ? 'success' : 'failure';
            await pay(orderId, outcome);
            const back = checkouts.get(orderId)?.params.result_url;
            return back ? { status: 303, headers: { location: back } } : { body: `payment ${outcome}` };
          },
        },
      ],
    },
    options,
  );
  return Object.assign(server, {
    pay,
    payment: (orderId: string) => checkouts.get(orderId)?.payment ?? null,
    callbacks: () => [...deliveries],
  });
}
