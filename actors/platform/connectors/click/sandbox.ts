import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { startSandboxServer, type SandboxOptions, type SandboxRequest, type SandboxResponse, type SandboxServer } from '../kit/sandbox.ts';
import {
  CLICK_ACTIONS,
  CLICK_ERRORS,
  CLICK_PAYMENT_STATUS,
  clickAnswerSchemas,
  clickDay,
  clickMerchantAuthValid,
  clickSignString,
  clickSignTime,
} from './protocol.ts';

/**
 * The Click sandbox plays Click: a payer opens our payment link (its
 * `/services/pay` page), and paying runs the SHOP API's real sequence —
 * Prepare, then Complete — against the merchant endpoints announced to it,
 * form-encoded and signed (`sign_string`, `sign_time` `YYYY-MM-DD HH:mm:ss`)
 * with the merchant's secret key. It is as strict as Click: every answer
 * must be HTTP 200 JSON with the documented fields and codes, echo the ids
 * it was sent, keep `merchant_prepare_id` stable and answer a repeat as the
 * first time; every departure is recorded as a violation (tests assert
 * none). It serves the Merchant API too (status, status by
 * merchant_trans_id, reversal) behind the `Auth` header check.
 *
 * For tests and people (`/__sandbox/*`, JSON): `POST /merchant` (where our
 * endpoints are), `POST /pay` (a payment through a link, with `fail`,
 * `timeout`, `replay`, `reorder`, `badSignature`), `POST /prepare`,
 * `POST /complete`, `POST /replay` (one step at a time),
 * `GET /violations`, `GET /state`.
 */

export const CLICK_SANDBOX_CREDENTIALS = {
  serviceId: '10101',
  merchantId: '20202',
  secretKey: 'sandbox-click-secret-key',
  merchantUserId: '30303',
};

type Credentials = typeof CLICK_SANDBOX_CREDENTIALS;
type Step = 'prepare' | 'complete';

export interface ClickMerchantEndpoints {
  prepareUrl: string;
  completeUrl: string;
  /** what the merchant entered in the cabinet: the service and its secret key (the sandbox's own by default) */
  credentials?: Credentials;
}

/** One request sent to the merchant and what came back. */
export interface ClickExchange {
  step: Step;
  /** why it was sent: the payment itself, a repeat after a lost answer, a replay, a probe the merchant must refuse */
  purpose: 'payment' | 'timeout-repeat' | 'replay' | 'reorder-probe' | 'bad-signature-probe';
  fields: Record<string, string>;
  status: number | null;
  answer: Record<string, unknown> | null;
  at: string;
}

export interface ClickSandboxPayment {
  clickTransId: string;
  clickPaydocId: string;
  serviceId: string;
  merchantTransId: string;
  /** soums, as sent to the merchant */
  amount: string;
  /** preparing → prepared → paid | failed (Click did not complete) → reversed (Merchant API) */
  status: 'preparing' | 'prepared' | 'paid' | 'failed' | 'reversed';
  merchantPrepareId: number | null;
  merchantConfirmId: number | null;
  createdAt: string;
  /** the last answer of each step, as Click kept it */
  answers: Partial<Record<Step, Record<string, unknown>>>;
  /** the request of each step as last sent (a replay sends exactly this) */
  requests: Partial<Record<Step, Record<string, string>>>;
}

export interface PayOptions {
  /** `fail`: Click could not take the money and says so in the Complete (`error` < 0) */
  outcome?: 'success' | 'fail';
  /** the Click error a failing Complete carries (default -5017, "insufficient funds") */
  clickError?: number;
  /** the amount as Click writes it (e.g. "1000", "1000.0", "1000.00"); default the link's */
  amount?: string;
  /** the answer to this step is lost: Click sends the same request again, and the two answers must agree */
  timeout?: Step;
  /** after the payment, both requests are sent again exactly: the answers must be the same */
  replay?: boolean;
  /** a Complete arrives before any Prepare (the merchant must answer -6), then the payment goes its normal way */
  reorder?: boolean;
  /** this step is first sent signed with a wrong key (the merchant must answer -1), then correctly */
  badSignature?: Step;
}

export interface PayReport {
  clickTransId: string;
  clickPaydocId: string;
  status: ClickSandboxPayment['status'];
  prepare: Record<string, unknown> | null;
  complete: Record<string, unknown> | null;
  exchanges: ClickExchange[];
  /** violations this payment recorded */
  violations: string[];
}

export interface ClickSandbox extends SandboxServer {
  /** where the merchant's Prepare and Complete URLs are (MerchantApi.announce) */
  announce(endpoints: ClickMerchantEndpoints): void;
  /** pays through a payment link, as a payer on the link's page */
  pay(link: string, options?: PayOptions): Promise<PayReport>;
  /** only the Prepare of a new payment through the link */
  prepare(link: string, options?: { amount?: string }): Promise<PayReport>;
  /** the Complete of a prepared payment (`error` < 0: it failed at Click) */
  complete(clickTransId: string, options?: { error?: number; merchantPrepareId?: string }): Promise<PayReport>;
  /** sends a step's last request again, exactly; a different answer is a violation */
  replay(clickTransId: string, step: Step): Promise<{ first: Record<string, unknown> | null; again: Record<string, unknown> | null }>;
  payment(clickTransId: string): ClickSandboxPayment | null;
  payments(): ClickSandboxPayment[];
  /** every way the merchant answered unlike Click expects, oldest first */
  violations(): string[];
}

const ANSWER_TIMEOUT_MS = 15_000;
const DEFAULT_CLICK_ERROR = -5017;

const linkSchema = z.object({
  service_id: z.string().regex(/^\d+$/),
  merchant_id: z.string().regex(/^\d+$/),
  amount: z.string().regex(/^\d+(\.\d{1,2})?$/),
  transaction_param: z.string().min(1).max(128),
  return_url: z.string().optional(),
});
type Link = z.infer<typeof linkSchema>;

const payOptionsSchema = z.object({
  outcome: z.enum(['success', 'fail']).optional(),
  clickError: z.number().int().max(-1).optional(),
  amount: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .optional(),
  timeout: z.enum(['prepare', 'complete']).optional(),
  replay: z.boolean().optional(),
  reorder: z.boolean().optional(),
  badSignature: z.enum(['prepare', 'complete']).optional(),
});

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function startClickSandbox(
  options: SandboxOptions = {},
  initial: Credentials = CLICK_SANDBOX_CREDENTIALS,
): Promise<ClickSandbox> {
  let merchant: { prepareUrl: string; completeUrl: string; credentials: Credentials } | null = null;
  let credentials = initial;
  const payments = new Map<string, ClickSandboxPayment>();
  let violations: string[] = [];
  let exchanges: Array<ClickExchange & { clickTransId: string }> = [];
  // Click's ids grow; a sandbox started later (a restarted hub on the same database) never reuses one
  let lastId = Date.now();
  const nextId = () => String((lastId += 1));

  const violation = (payment: ClickSandboxPayment | null, text: string) => {
    violations.push(payment ? `click_trans_id ${payment.clickTransId}: ${text}` : text);
  };

  const signed = (fields: Record<string, string>, secretKey: string): Record<string, string> => ({
    ...fields,
    sign_string: clickSignString(
      {
        click_trans_id: fields.click_trans_id ?? '',
        service_id: fields.service_id ?? '',
        merchant_trans_id: fields.merchant_trans_id ?? '',
        amount: fields.amount ?? '',
        action: fields.action ?? '',
        sign_time: fields.sign_time ?? '',
        ...(fields.merchant_prepare_id === undefined ? {} : { merchant_prepare_id: fields.merchant_prepare_id }),
      },
      secretKey,
    ),
  });

  const requestOf = (payment: ClickSandboxPayment, step: Step, extra: { error?: number; merchantPrepareId?: string }) => {
    const fields: Record<string, string> = {
      click_trans_id: payment.clickTransId,
      service_id: payment.serviceId,
      click_paydoc_id: payment.clickPaydocId,
      merchant_trans_id: payment.merchantTransId,
      ...(step === 'complete' ? { merchant_prepare_id: extra.merchantPrepareId ?? String(payment.merchantPrepareId ?? '') } : {}),
      amount: payment.amount,
      action: String(step === 'prepare' ? CLICK_ACTIONS.prepare : CLICK_ACTIONS.complete),
      error: String(extra.error ?? 0),
      error_note: (extra.error ?? 0) < 0 ? 'Insufficient funds' : 'Success',
      sign_time: clickSignTime(new Date()),
    };
    return fields;
  };

  /** Sends one request to the merchant, as Click does, and checks the answer's shape. */
  const send = async (
    payment: ClickSandboxPayment,
    step: Step,
    fields: Record<string, string>,
    purpose: ClickExchange['purpose'],
  ): Promise<ClickExchange> => {
    if (!merchant) throw new Error('the Click sandbox does not know the merchant endpoints yet (POST /__sandbox/merchant)');
    const url = step === 'prepare' ? merchant.prepareUrl : merchant.completeUrl;
    const exchange: ClickExchange & { clickTransId: string } = {
      clickTransId: payment.clickTransId,
      step,
      purpose,
      fields,
      status: null,
      answer: null,
      at: new Date().toISOString(),
    };
    exchanges.push(exchange);
    if (exchanges.length > 1000) exchanges = exchanges.slice(-1000);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
        signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
      });
    } catch (error) {
      violation(payment, `${step}: no answer (${error instanceof Error ? error.message : String(error)})`);
      return exchange;
    }
    exchange.status = response.status;
    const text = await response.text();
    if (response.status !== 200) violation(payment, `${step}: HTTP ${response.status} instead of 200`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      violation(payment, `${step}: the answer is not JSON`);
      return exchange;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      violation(payment, `${step}: the answer is not a JSON object`);
      return exchange;
    }
    exchange.answer = body as Record<string, unknown>;
    const parsed = clickAnswerSchemas[step].safeParse(body);
    if (!parsed.success) {
      violation(payment, `${step}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(answer)'}: ${i.message}`).join('; ')}`);
      return exchange;
    }
    const answer = parsed.data;
    if (String(answer.click_trans_id) !== fields.click_trans_id) violation(payment, `${step}: click_trans_id not echoed`);
    if (answer.merchant_trans_id !== fields.merchant_trans_id) violation(payment, `${step}: merchant_trans_id not echoed`);
    if (!Object.values(CLICK_ERRORS).some((known) => known.error === answer.error))
      violation(payment, `${step}: unknown error ${answer.error}`);
    const id = step === 'prepare' ? (answer as { merchant_prepare_id: number | null }).merchant_prepare_id : null;
    if (step === 'prepare' && answer.error === 0 && id === null) violation(payment, 'prepare: success without merchant_prepare_id');
    if (step === 'complete' && answer.error === 0 && (answer as { merchant_confirm_id: number | null }).merchant_confirm_id === null)
      violation(payment, 'complete: success without merchant_confirm_id');
    if (step === 'prepare' && answer.error === 0 && id !== null && purpose !== 'bad-signature-probe') {
      if (payment.merchantPrepareId !== null && payment.merchantPrepareId !== id)
        violation(payment, `prepare: merchant_prepare_id changed from ${payment.merchantPrepareId} to ${id}`);
      payment.merchantPrepareId ??= id;
    }
    return exchange;
  };

  /** A refusal the merchant owes (a probe): anything else is a violation. */
  const expect = (payment: ClickSandboxPayment, exchange: ClickExchange, code: number, why: string) => {
    const error = exchange.answer?.error;
    if (error !== code) violation(payment, `${exchange.step} (${why}): answered ${String(error)} instead of ${code}`);
  };

  /** The step sent again because its answer was lost or replayed: the answers must agree. */
  const again = async (payment: ClickSandboxPayment, first: ClickExchange, purpose: ClickExchange['purpose']) => {
    const repeat = await send(payment, first.step, first.fields, purpose);
    if (!isDeepStrictEqual(repeat.answer, first.answer))
      violation(
        payment,
        `${first.step} repeated (${purpose}): answered ${JSON.stringify(repeat.answer)}, first ${JSON.stringify(first.answer)}`,
      );
    return repeat;
  };

  const openLink = (link: string): Link => {
    const url = new URL(link, 'http://sandbox');
    const parsed = linkSchema.safeParse(Object.fromEntries(url.searchParams));
    if (!parsed.success) throw new LinkError(`not a Click payment link: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
    const target = merchant?.credentials ?? credentials;
    if (parsed.data.service_id !== target.serviceId || parsed.data.merchant_id !== target.merchantId)
      throw new LinkError('the link names another service or merchant');
    return parsed.data;
  };

  const newPayment = (link: Link, amount?: string): ClickSandboxPayment => {
    const clickTransId = nextId();
    const payment: ClickSandboxPayment = {
      clickTransId,
      clickPaydocId: nextId(),
      serviceId: link.service_id,
      merchantTransId: link.transaction_param,
      amount: amount ?? link.amount,
      status: 'preparing',
      merchantPrepareId: null,
      merchantConfirmId: null,
      createdAt: new Date().toISOString(),
      answers: {},
      requests: {},
    };
    payments.set(clickTransId, payment);
    return payment;
  };

  const secret = () => merchant?.credentials.secretKey ?? credentials.secretKey;

  const report = (payment: ClickSandboxPayment, since: number): PayReport => ({
    clickTransId: payment.clickTransId,
    clickPaydocId: payment.clickPaydocId,
    status: payment.status,
    prepare: payment.answers.prepare ?? null,
    complete: payment.answers.complete ?? null,
    exchanges: exchanges.filter((e) => e.clickTransId === payment.clickTransId).map(({ clickTransId: _id, ...e }) => e),
    violations: violations.slice(since).filter((v) => v.startsWith(`click_trans_id ${payment.clickTransId}:`)),
  });

  const runPrepare = async (payment: ClickSandboxPayment, options: PayOptions) => {
    const fields = signed(requestOf(payment, 'prepare', {}), secret());
    if (options.badSignature === 'prepare') {
      const probe = await send(payment, 'prepare', signed(requestOf(payment, 'prepare', {}), `${secret()}-wrong`), 'bad-signature-probe');
      expect(payment, probe, CLICK_ERRORS.signFailed.error, 'wrong signature');
    }
    payment.requests.prepare = fields;
    let exchange = await send(payment, 'prepare', fields, 'payment');
    if (options.timeout === 'prepare') exchange = await again(payment, exchange, 'timeout-repeat');
    payment.answers.prepare = exchange.answer ?? undefined;
    payment.status = exchange.answer?.error === 0 ? 'prepared' : 'failed';
    return exchange;
  };

  const runComplete = async (payment: ClickSandboxPayment, error: number, options: PayOptions & { merchantPrepareId?: string }) => {
    const extra = { error, ...(options.merchantPrepareId === undefined ? {} : { merchantPrepareId: options.merchantPrepareId }) };
    const fields = signed(requestOf(payment, 'complete', extra), secret());
    if (options.badSignature === 'complete') {
      const probe = await send(
        payment,
        'complete',
        signed(requestOf(payment, 'complete', extra), `${secret()}-wrong`),
        'bad-signature-probe',
      );
      expect(payment, probe, CLICK_ERRORS.signFailed.error, 'wrong signature');
    }
    payment.requests.complete = fields;
    let exchange = await send(payment, 'complete', fields, 'payment');
    if (options.timeout === 'complete') exchange = await again(payment, exchange, 'timeout-repeat');
    payment.answers.complete = exchange.answer ?? undefined;
    if (error < 0 && exchange.answer && exchange.answer.error !== CLICK_ERRORS.cancelled.error)
      violation(payment, `complete (error ${error} from Click): answered ${String(exchange.answer.error)} instead of -9`);
    const confirmed = error === 0 && exchange.answer?.error === 0;
    payment.status = confirmed ? 'paid' : 'failed';
    payment.merchantConfirmId = confirmed ? ((exchange.answer?.merchant_confirm_id as number | null) ?? null) : null;
    return exchange;
  };

  const pay = async (link: string, options: PayOptions = {}): Promise<PayReport> => {
    const since = violations.length;
    const opened = openLink(link);
    const payment = newPayment(opened, options.amount);
    if (options.reorder) {
      // a Complete of a transaction the merchant never prepared: it must not know it
      const probe = await send(
        payment,
        'complete',
        signed(requestOf(payment, 'complete', { merchantPrepareId: '1' }), secret()),
        'reorder-probe',
      );
      expect(payment, probe, CLICK_ERRORS.transactionNotFound.error, 'Complete before Prepare');
    }
    const prepared = await runPrepare(payment, options);
    // Click goes on only when the merchant accepted the Prepare
    if (prepared.answer?.error === 0) {
      await runComplete(payment, options.outcome === 'fail' ? (options.clickError ?? DEFAULT_CLICK_ERROR) : 0, options);
    }
    if (options.replay) {
      for (const step of ['prepare', 'complete'] as const) {
        const request = payment.requests[step];
        if (!request) continue;
        const first = exchanges.find((e) => e.clickTransId === payment.clickTransId && e.step === step && e.purpose === 'payment');
        if (first) await again(payment, first, 'replay');
      }
    }
    return report(payment, since);
  };

  const replay = async (clickTransId: string, step: Step) => {
    const payment = payments.get(clickTransId);
    if (!payment) throw new LinkError(`no payment ${clickTransId}`);
    const first = [...exchanges].reverse().find((e) => e.clickTransId === clickTransId && e.step === step && e.purpose === 'payment');
    if (!first) throw new LinkError(`payment ${clickTransId} has no ${step} to replay`);
    const repeat = await again(payment, first, 'replay');
    return { first: first.answer, again: repeat.answer };
  };

  // --- the Merchant API ---------------------------------------------------------------------------

  const authorised = (request: SandboxRequest): boolean => {
    const target = merchant?.credentials ?? credentials;
    return clickMerchantAuthValid(request.header('auth'), target, Math.floor(Date.now() / 1000));
  };
  const merchantApi =
    (handle: (params: Record<string, string>) => SandboxResponse) =>
    (request: SandboxRequest, params: Record<string, string>): SandboxResponse => {
      if (!authorised(request)) return { status: 401, json: { error_code: -401, error_note: 'Not Authorized' } };
      const target = merchant?.credentials ?? credentials;
      if (params.service_id !== target.serviceId)
        return { status: 403, json: { error_code: -403, error_note: 'Forbidden: not your service' } };
      return handle(params);
    };
  const paymentStatus = (payment: ClickSandboxPayment): number =>
    payment.status === 'paid'
      ? CLICK_PAYMENT_STATUS.paid
      : payment.status === 'prepared' || payment.status === 'preparing'
        ? CLICK_PAYMENT_STATUS.processing
        : -1;
  const byPaydoc = (paymentId: string) => [...payments.values()].find((p) => p.clickPaydocId === paymentId) ?? null;
  const notFound: SandboxResponse = { status: 404, json: { error_code: -404, error_note: 'Payment not found' } };

  // --- pages and controls -------------------------------------------------------------------------

  const page = (title: string, body: string): SandboxResponse => ({
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title>${body}`,
  });

  const payPage = (request: SandboxRequest): SandboxResponse => {
    let link: Link;
    try {
      link = openLink(`/services/pay?${request.query.toString()}`);
    } catch (error) {
      return { status: 400, ...page('Click sandbox', `<p>${escapeHtml(error instanceof Error ? error.message : String(error))}</p>`) };
    }
    const hidden = Object.entries(link)
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(String(value))}">`)
      .join('');
    return page(
      'Click sandbox',
      `<h1>${escapeHtml(link.amount)} UZS</h1><p>Заказ ${escapeHtml(link.transaction_param)}</p>` +
        `<form method="post" action="/services/pay">${hidden}<button name="outcome" value="success">Оплатить</button> ` +
        `<button name="outcome" value="fail">Отказ (ошибка Click)</button></form>`,
    );
  };

  const paid = async (request: SandboxRequest): Promise<SandboxResponse> => {
    const form = request.form();
    const query = new URLSearchParams();
    for (const name of ['service_id', 'merchant_id', 'amount', 'transaction_param', 'return_url']) {
      const value = form.get(name);
      if (value !== null) query.set(name, value);
    }
    const outcome = form.get('outcome') === 'fail' ? 'fail' : 'success';
    let result: PayReport;
    try {
      result = await pay(`/services/pay?${query.toString()}`, { outcome });
    } catch (error) {
      return { status: 400, ...page('Click sandbox', `<p>${escapeHtml(error instanceof Error ? error.message : String(error))}</p>`) };
    }
    const back = query.get('return_url');
    if (result.status === 'paid' && back) return { status: 303, headers: { location: back } };
    const note = String(result.complete?.error_note ?? result.prepare?.error_note ?? 'no answer');
    return page('Click sandbox', `<p>Платёж ${escapeHtml(result.clickTransId)}: ${escapeHtml(result.status)} (${escapeHtml(note)})</p>`);
  };

  const control =
    <T>(schema: z.ZodType<T>, run: (input: T) => Promise<unknown> | unknown) =>
    async (request: SandboxRequest): Promise<SandboxResponse> => {
      const parsed = schema.safeParse(request.json());
      if (!parsed.success)
        return {
          status: 400,
          json: { error: 'invalid control', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
        };
      try {
        return { json: await run(parsed.data) };
      } catch (error) {
        if (error instanceof LinkError || (error instanceof Error && error.message.includes('merchant endpoints')))
          return { status: 409, json: { error: error.message } };
        throw error;
      }
    };

  const server = await startSandboxServer(
    {
      name: 'click',
      onReset: () => {
        payments.clear();
        violations = [];
        exchanges = [];
      },
      describe: () => ({
        merchant: merchant && {
          prepareUrl: merchant.prepareUrl,
          completeUrl: merchant.completeUrl,
          serviceId: merchant.credentials.serviceId,
        },
        payments: [...payments.values()].map(({ requests: _requests, ...payment }) => payment),
        violations,
      }),
      routes: [
        { method: 'GET', path: '/services/pay', handle: payPage },
        { method: 'POST', path: '/services/pay', handle: paid },
        {
          method: 'GET',
          path: '/payment/status/:service_id/:payment_id',
          handle: merchantApi((params) => {
            const payment = byPaydoc(params.payment_id ?? '');
            if (!payment) return notFound;
            return {
              json: {
                error_code: 0,
                error_note: 'Success',
                payment_id: Number(payment.clickPaydocId),
                payment_status: paymentStatus(payment),
              },
            };
          }),
        },
        {
          method: 'GET',
          path: '/payment/status_by_mti/:service_id/:merchant_trans_id/:day',
          handle: merchantApi((params) => {
            const [payment] = [...payments.values()]
              .filter((p) => p.merchantTransId === params.merchant_trans_id && clickDay(new Date(p.createdAt)) === params.day)
              .sort((a, b) => paymentStatus(b) - paymentStatus(a) || b.createdAt.localeCompare(a.createdAt));
            if (!payment) return notFound;
            return {
              json: {
                error_code: 0,
                error_note: 'Success',
                payment_id: Number(payment.clickPaydocId),
                merchant_trans_id: payment.merchantTransId,
                payment_status: paymentStatus(payment),
              },
            };
          }),
        },
        {
          method: 'DELETE',
          path: '/payment/reversal/:service_id/:payment_id',
          handle: merchantApi((params) => {
            const payment = byPaydoc(params.payment_id ?? '');
            if (!payment) return notFound;
            if (payment.status !== 'paid')
              return {
                json: {
                  error_code: -1,
                  error_note: `Payment can not be reversed (${payment.status})`,
                  payment_id: Number(payment.clickPaydocId),
                },
              };
            payment.status = 'reversed';
            return { json: { error_code: 0, error_note: 'Success', payment_id: Number(payment.clickPaydocId) } };
          }),
        },
      ],
      controls: {
        'POST /merchant': control(z.object({ prepareUrl: z.url(), completeUrl: z.url() }), (input) => {
          sandbox.announce(input);
          return { merchant: { prepareUrl: input.prepareUrl, completeUrl: input.completeUrl } };
        }),
        'POST /pay': control(payOptionsSchema.extend({ link: z.string().min(1) }), ({ link, ...options }) => pay(link, options)),
        'POST /prepare': control(
          z.object({
            link: z.string().min(1),
            amount: z
              .string()
              .regex(/^\d+(\.\d+)?$/)
              .optional(),
          }),
          ({ link, amount }) => sandbox.prepare(link, amount === undefined ? {} : { amount }),
        ),
        'POST /complete': control(
          z.object({
            clickTransId: z.string().min(1),
            error: z.number().int().max(0).optional(),
            merchantPrepareId: z.string().optional(),
          }),
          ({ clickTransId, ...options }) => sandbox.complete(clickTransId, options),
        ),
        'POST /replay': control(
          z.object({ clickTransId: z.string().min(1), step: z.enum(['prepare', 'complete']) }),
          ({ clickTransId, step }) => replay(clickTransId, step),
        ),
        'GET /violations': () => ({ json: { violations } }),
      },
    },
    options,
  );

  const sandbox: ClickSandbox = Object.assign(server, {
    announce(endpoints: ClickMerchantEndpoints) {
      merchant = {
        prepareUrl: endpoints.prepareUrl,
        completeUrl: endpoints.completeUrl,
        credentials: endpoints.credentials ?? credentials,
      };
      credentials = merchant.credentials;
    },
    pay,
    async prepare(link: string, options: { amount?: string } = {}) {
      const since = violations.length;
      const payment = newPayment(openLink(link), options.amount);
      await runPrepare(payment, {});
      return report(payment, since);
    },
    async complete(clickTransId: string, options: { error?: number; merchantPrepareId?: string } = {}) {
      const since = violations.length;
      const payment = payments.get(clickTransId);
      if (!payment) throw new LinkError(`no payment ${clickTransId}`);
      await runComplete(payment, options.error ?? 0, options);
      return report(payment, since);
    },
    replay,
    payment: (clickTransId: string) => payments.get(clickTransId) ?? null,
    payments: () => [...payments.values()],
    violations: () => [...violations],
  });
  return sandbox;
}

/** A link or payment the sandbox cannot act on (answered 409 to a control). */
class LinkError extends Error {}
