import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { SandboxHttpError, startSandboxServer, type SandboxOptions, type SandboxResponse, type SandboxServer } from '../kit/sandbox.ts';
import {
  isAccountError,
  PAYME_CANCEL_REASONS,
  PAYME_LOGIN,
  PAYME_TIMEOUT_MS,
  paymeAnswerSchema,
  paymeResultSchemas,
  parsePaymeCheckout,
  type PaymeCheckoutParams,
  type PaymeMethod,
  type PaymeState,
  type RpcId,
} from './protocol.ts';

/**
 * The Payme sandbox plays Payme Business: a payer opens our GET checkout
 * link (`<sandbox>/<base64 params>`), sees the order and pays, and the
 * sandbox runs Payme's calls against the merchant endpoint it was told of —
 * CheckPerformTransaction → CreateTransaction → PerformTransaction (and
 * CancelTransaction with reason 3 when Perform fails, as Payme does) — with
 * `Authorization: Basic base64("Paycom:<key>")`.
 *
 * It is as strict as Payme: every answer must be HTTP 200, carry the call's
 * `id`, a result or an error (never both), the result in its method's exact
 * shape, the same `transaction` and times as before for the same transaction,
 * a state that follows from what happened, and the documented error where
 * one is due (-31003 for a transaction the merchant never created, -31008
 * for Perform of a cancelled one, -32504 for a wrong key, `data` naming the
 * account field for -31050…-31099). Anything else is a violation, kept in a
 * list (tests assert it stays empty).
 *
 * Controls for tests (methods) and a person (`/__sandbox/*`): the merchant's
 * endpoint and key (`POST /merchant`, what a merchant enters in Payme's
 * cabinet), pay, create without performing, perform, cancel with a reason,
 * check, GetStatement, ChangePassword, replay a recorded call, time out (the
 * answer of a call is dropped and the call repeated), the calls, transactions
 * and violations.
 */

export const PAYME_SANDBOX_CREDENTIALS = { merchantId: '5e730e8e0b852a417aa49ceb', key: 'payme-sandbox-key-0000000000000000' };

/** One call Payme made, and what the merchant answered. */
export interface PaymeSandboxCall {
  seq: number;
  method: PaymeMethod;
  params: Record<string, unknown>;
  rpcId: number;
  /** the HTTP status; null when the call did not get an answer (network) */
  status: number | null;
  /** the parsed answer body; null when none could be read */
  answer: { result?: unknown; error?: { code: number; data?: string | null } | null } | null;
  /** the answer was read and thrown away, as if it had been lost on the way (a timeout) */
  dropped: boolean;
  at: string;
}

/** Payme's view of one transaction: what the merchant answered for it. */
export interface PaymeSandboxTransaction {
  id: string;
  time: number;
  amount: number;
  account: Record<string, string>;
  state: PaymeState;
  /** the merchant's transaction id */
  transaction: string;
  createTime: number;
  performTime: number;
  cancelTime: number;
  reason: number | null;
  /** the last call that changed it */
  changedBy: number;
}

export interface PaymeRpcAnswer {
  ok: boolean;
  result: Record<string, unknown> | null;
  error: { code: number; data: string | null } | null;
  call: PaymeSandboxCall;
}

export interface PaymeSandboxPayment {
  /** paid: Check, Create and Perform answered as they should */
  ok: boolean;
  /** the call that refused, when one did */
  step: 'check' | 'create' | 'perform' | null;
  error: { code: number; data: string | null } | null;
  transaction: PaymeSandboxTransaction | null;
  /** the checkout's return URL (`c`), when there was one */
  returnUrl: string | null;
}

export interface PaymeSandbox extends SandboxServer {
  readonly merchantId: string;
  /** what a merchant enters in the cabinet: the endpoint Payme calls and the key it signs in with */
  setMerchant(endpoint: string, key: string): void;
  merchant(): { merchantId: string; endpoint: string | null };
  /** pays a checkout link (or its base64 parameters): Check → Create → Perform */
  pay(link: string | PaymeCheckoutParams): Promise<PaymeSandboxPayment>;
  /** Check → Create, and no Perform: the payer left (for the 12-hour timeout) */
  createOnly(link: string | PaymeCheckoutParams, options?: { time?: number }): Promise<PaymeSandboxPayment>;
  perform(id: string): Promise<PaymeRpcAnswer>;
  cancel(id: string, reason: number): Promise<PaymeRpcAnswer>;
  checkTransaction(id: string): Promise<PaymeRpcAnswer>;
  statement(from: number, to: number): Promise<PaymeRpcAnswer>;
  /** Payme tells the merchant its new key; once answered `success` the sandbox signs in with it */
  changePassword(password: string): Promise<PaymeRpcAnswer>;
  /** any call, checked like the others; `key` signs in with another key, `body` sends these bytes instead */
  call(
    method: PaymeMethod,
    params: Record<string, unknown>,
    options?: { key?: string; body?: string; id?: number },
  ): Promise<PaymeRpcAnswer>;
  /** sends a recorded call again (same id and params); when nothing changed its transaction since, the answer must be the same */
  replay(seq: number): Promise<{ first: PaymeSandboxCall; again: PaymeRpcAnswer; identical: boolean }>;
  /** makes a call, drops its answer as if it timed out, and makes it again: the repeat must answer the same */
  timeOut(
    method: PaymeMethod,
    params: Record<string, unknown>,
  ): Promise<{ dropped: PaymeSandboxCall; again: PaymeRpcAnswer; identical: boolean }>;
  calls(): PaymeSandboxCall[];
  transactions(): PaymeSandboxTransaction[];
  transaction(id: string): PaymeSandboxTransaction | null;
  violations(): string[];
}

const newPaymeId = () => randomBytes(12).toString('hex');

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const soums = (tiyin: number) => `${Math.trunc(tiyin / 100).toLocaleString('ru-RU')}.${String(tiyin % 100).padStart(2, '0')}`;

const controlBody = {
  merchant: z.object({ endpoint: z.url(), key: z.string().min(1) }),
  link: z.object({ link: z.string().min(1), time: z.number().int().optional() }),
  id: z.object({ id: z.string().min(1) }),
  cancel: z.object({ id: z.string().min(1), reason: z.number().int() }),
  statement: z.object({ from: z.number().int(), to: z.number().int() }),
  password: z.object({ password: z.string().min(1) }),
  replay: z.object({ seq: z.number().int() }),
  timeout: z.object({ method: z.string(), params: z.record(z.string(), z.unknown()) }),
};

export async function startPaymeSandbox(
  options: SandboxOptions & { now?: () => number } = {},
  credentials = PAYME_SANDBOX_CREDENTIALS,
): Promise<PaymeSandbox> {
  const now = options.now ?? Date.now;
  let endpoint: string | null = null;
  let key = credentials.key;
  let seq = 0;
  let calls: PaymeSandboxCall[] = [];
  let violations: string[] = [];
  const known = new Map<string, PaymeSandboxTransaction>();

  const violation = (call: PaymeSandboxCall, message: string) => {
    violations.push(`#${call.seq} ${call.method}: ${message}`);
  };

  /** sends one call and reads its answer; nothing is checked here */
  const send = async (
    method: PaymeMethod,
    params: Record<string, unknown>,
    options: { key?: string; body?: string; id?: number } = {},
  ): Promise<PaymeSandboxCall> => {
    if (!endpoint) throw new SandboxHttpError(409, { error: 'the merchant endpoint is not set (POST /__sandbox/merchant)' });
    seq += 1;
    const rpcId = options.id ?? seq;
    const call: PaymeSandboxCall = { seq, method, params, rpcId, status: null, answer: null, dropped: false, at: new Date().toISOString() };
    calls.push(call);
    if (calls.length > 1000) calls = calls.slice(-1000);
    const authorization = `Basic ${Buffer.from(`${PAYME_LOGIN}:${options.key ?? key}`).toString('base64')}`;
    let text: string;
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'text/json; charset=UTF-8', authorization },
        body: options.body ?? JSON.stringify({ method, params, id: rpcId }),
        signal: AbortSignal.timeout(15_000),
      });
      call.status = response.status;
      text = await response.text();
    } catch (error) {
      violation(call, `no answer: ${error instanceof Error ? error.message : String(error)}`);
      return call;
    }
    if (call.status !== 200) violation(call, `answered HTTP ${call.status} (Payme takes only 200)`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      violation(call, `the answer is not JSON: ${text.slice(0, 100)}`);
      return call;
    }
    const envelope = paymeAnswerSchema.safeParse(body);
    if (!envelope.success) {
      violation(
        call,
        `the answer's envelope is wrong: ${envelope.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
      return call;
    }
    const answer = envelope.data;
    const hasResult = answer.result !== undefined && answer.result !== null;
    const hasError = answer.error !== undefined && answer.error !== null;
    if (hasResult === hasError) violation(call, 'an answer carries a result or an error, exactly one');
    if (options.body === undefined && answer.id !== rpcId) violation(call, `answered id ${String(answer.id)} to the call ${rpcId}`);
    if (answer.error && isAccountError(answer.error.code) && !answer.error.data)
      violation(call, `error ${answer.error.code} must name the account field in data`);
    call.answer = {
      ...(hasResult ? { result: answer.result } : {}),
      ...(answer.error ? { error: { code: answer.error.code, data: answer.error.data ?? null } } : {}),
    };
    return call;
  };

  /** what the call says of the transaction, checked against what Payme knows of it */
  const check = (call: PaymeSandboxCall, expectedKey: boolean): PaymeRpcAnswer => {
    const answer = call.answer;
    const error = answer?.error ?? null;
    const verdict = (result: Record<string, unknown> | null): PaymeRpcAnswer => ({
      ok: result !== null,
      result,
      error: error ? { code: error.code, data: error.data ?? null } : null,
      call,
    });
    if (!answer) return verdict(null);
    if (!expectedKey) {
      if (error?.code !== -32504) violation(call, `a wrong key must be answered -32504, got ${error ? error.code : 'a result'}`);
      return verdict(null);
    }
    if (error?.code === -32504) violation(call, 'the right key was refused (-32504)');
    const id = typeof call.params.id === 'string' ? call.params.id : null;
    const tx = id ? (known.get(id) ?? null) : null;
    const unknownTx = ['PerformTransaction', 'CancelTransaction', 'CheckTransaction'].includes(call.method) && !tx;
    if (error) {
      if (unknownTx && error.code !== -31003) violation(call, `a transaction never created must be answered -31003, got ${error.code}`);
      if (call.method === 'PerformTransaction' && tx && (tx.state === -1 || tx.state === -2) && error.code !== -31008)
        violation(call, `Perform of a cancelled transaction must be answered -31008, got ${error.code}`);
      if (call.method === 'CancelTransaction' && tx && tx.state < 0)
        violation(call, `Cancel of a cancelled transaction must answer it again, got error ${error.code}`);
      if (call.method === 'CheckTransaction' && tx) violation(call, `CheckTransaction of a known transaction answered error ${error.code}`);
      // Payme's own time-out: a created transaction the merchant cancelled (reason 4) is refused from then on
      if (tx && tx.state === 1 && error.code === -31008 && now() - tx.time >= PAYME_TIMEOUT_MS) {
        tx.state = -1;
        tx.reason = PAYME_CANCEL_REASONS.timeout;
        tx.changedBy = call.seq;
      }
      return verdict(null);
    }
    const parsed = paymeResultSchemas[call.method].safeParse(answer.result);
    if (!parsed.success) {
      violation(call, `the result's shape is wrong: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return verdict(null);
    }
    const result = parsed.data as Record<string, unknown>;
    if (unknownTx) violation(call, 'a transaction never created was answered with a result (-31003 is due)');
    switch (call.method) {
      case 'CreateTransaction': {
        const time = Number(call.params.time);
        if (tx) {
          if (tx.state !== 1) violation(call, `Create of a transaction in state ${tx.state} must be refused -31008`);
          if (tx.transaction !== result.transaction || tx.createTime !== result.create_time)
            violation(call, 'a repeated Create answered another transaction or create_time');
        } else if (id) {
          known.set(id, {
            id,
            time,
            amount: Number(call.params.amount),
            account: call.params.account as Record<string, string>,
            state: 1,
            transaction: String(result.transaction),
            createTime: Number(result.create_time),
            performTime: 0,
            cancelTime: 0,
            reason: null,
            changedBy: call.seq,
          });
        }
        break;
      }
      case 'PerformTransaction': {
        if (!tx) break;
        if (tx.transaction !== result.transaction)
          violation(call, `Perform answered transaction ${String(result.transaction)}, not ${tx.transaction}`);
        if (tx.state === 2 && tx.performTime !== result.perform_time) violation(call, 'a repeated Perform answered another perform_time');
        if (tx.state < 0) violation(call, `Perform of a transaction in state ${tx.state} must be refused -31008`);
        if (Number(result.perform_time) < tx.createTime) violation(call, 'perform_time is before create_time');
        if (tx.state === 1) Object.assign(tx, { state: 2, performTime: Number(result.perform_time), changedBy: call.seq });
        break;
      }
      case 'CancelTransaction': {
        if (!tx) break;
        if (tx.transaction !== result.transaction)
          violation(call, `Cancel answered transaction ${String(result.transaction)}, not ${tx.transaction}`);
        const expected = tx.state === 1 || tx.state === -1 ? -1 : -2;
        if (result.state !== expected)
          violation(call, `Cancel of a transaction in state ${tx.state} must answer state ${expected}, got ${String(result.state)}`);
        if (tx.state < 0 && tx.cancelTime !== result.cancel_time) violation(call, 'a repeated Cancel answered another cancel_time');
        if (tx.state > 0)
          Object.assign(tx, {
            state: expected,
            cancelTime: Number(result.cancel_time),
            reason: Number(call.params.reason),
            changedBy: call.seq,
          });
        break;
      }
      case 'CheckTransaction': {
        if (!tx) break;
        // the merchant's 12-hour cancel (reason 4) may come before Payme's own cancel of the transaction, whose reason it keeps
        const timedOut = (tx.state === 1 || tx.state === -1) && result.state === -1 && result.reason === PAYME_CANCEL_REASONS.timeout;
        if (timedOut && tx.state === 1) Object.assign(tx, { state: -1, cancelTime: Number(result.cancel_time), changedBy: call.seq });
        if (timedOut) tx.reason = PAYME_CANCEL_REASONS.timeout;
        const expected = {
          create_time: tx.createTime,
          perform_time: tx.performTime,
          cancel_time: tx.cancelTime,
          transaction: tx.transaction,
          state: tx.state,
          reason: tx.reason,
        };
        if (!isDeepStrictEqual(result, expected))
          violation(call, `CheckTransaction answered ${JSON.stringify(result)}, Payme knows ${JSON.stringify(expected)}`);
        break;
      }
      case 'GetStatement': {
        const from = Number(call.params.from);
        const to = Number(call.params.to);
        const listed = (result.transactions as Array<Record<string, unknown>>) ?? [];
        for (let i = 1; i < listed.length; i += 1)
          if (Number(listed[i - 1]?.time) > Number(listed[i]?.time)) violation(call, 'GetStatement is not sorted by time');
        for (const entry of listed)
          if (Number(entry.time) < from || Number(entry.time) > to)
            violation(call, `GetStatement listed ${String(entry.id)} outside [from, to]`);
        for (const mine of known.values()) {
          if (mine.time < from || mine.time > to) continue;
          const entry = listed.find((e) => e.id === mine.id);
          if (!entry) {
            violation(call, `GetStatement left out transaction ${mine.id}`);
            continue;
          }
          const timedOut = (mine.state === 1 || mine.state === -1) && entry.state === -1 && entry.reason === PAYME_CANCEL_REASONS.timeout;
          if (timedOut && mine.state === 1) Object.assign(mine, { state: -1, cancelTime: Number(entry.cancel_time) });
          if (timedOut) mine.reason = PAYME_CANCEL_REASONS.timeout;
          if (entry.state !== mine.state || entry.transaction !== mine.transaction || entry.amount !== mine.amount)
            violation(call, `GetStatement shows ${mine.id} as ${JSON.stringify(entry)}, Payme knows state ${mine.state}`);
        }
        break;
      }
      case 'ChangePassword':
        if (typeof call.params.password === 'string') key = call.params.password;
        break;
      case 'CheckPerformTransaction':
        break;
    }
    return verdict(result);
  };

  const call: PaymeSandbox['call'] = async (method, params, options = {}) => {
    const made = await send(method, params, options);
    return check(made, options.key === undefined || options.key === key);
  };

  const paramsOf = (link: string | PaymeCheckoutParams): PaymeCheckoutParams => {
    const params = typeof link === 'string' ? parsePaymeCheckout(link) : link;
    if (params.merchantId !== credentials.merchantId) throw new SandboxHttpError(404, { error: `merchant ${params.merchantId} not found` });
    return params;
  };

  const start = async (link: string | PaymeCheckoutParams, time?: number): Promise<PaymeSandboxPayment> => {
    const params = paramsOf(link);
    const payment = (step: PaymeSandboxPayment['step'], answer: PaymeRpcAnswer | null, transaction: PaymeSandboxTransaction | null) => ({
      ok: step === null,
      step,
      error: answer?.error ?? null,
      transaction,
      returnUrl: params.returnUrl,
    });
    const allowed = await call('CheckPerformTransaction', { amount: params.amount, account: params.account });
    if (!allowed.ok) return payment('check', allowed, null);
    const id = newPaymeId();
    const created = await call('CreateTransaction', { id, time: time ?? now(), amount: params.amount, account: params.account });
    if (!created.ok) return payment('create', created, null);
    return payment(null, null, known.get(id) ?? null);
  };

  const pay = async (link: string | PaymeCheckoutParams): Promise<PaymeSandboxPayment> => {
    const created = await start(link);
    if (!created.ok || !created.transaction) return created;
    const id = created.transaction.id;
    const performed = await call('PerformTransaction', { id });
    if (!performed.ok) {
      // Payme takes the money back when the merchant does not perform: the transaction is cancelled (reason 3)
      await call('CancelTransaction', { id, reason: PAYME_CANCEL_REASONS.executionError });
      return { ...created, ok: false, step: 'perform', error: performed.error, transaction: known.get(id) ?? null };
    }
    return { ...created, transaction: known.get(id) ?? null };
  };

  const lastAnswer = (made: PaymeSandboxCall) => made.answer;

  const sandbox = {
    merchantId: credentials.merchantId,
    setMerchant(url: string, merchantKey: string) {
      endpoint = url;
      key = merchantKey;
    },
    merchant: () => ({ merchantId: credentials.merchantId, endpoint }),
    pay,
    createOnly: (link: string | PaymeCheckoutParams, options: { time?: number } = {}) => start(link, options.time),
    perform: (id: string) => call('PerformTransaction', { id }),
    cancel: (id: string, reason: number) => call('CancelTransaction', { id, reason }),
    checkTransaction: (id: string) => call('CheckTransaction', { id }),
    statement: (from: number, to: number) => call('GetStatement', { from, to }),
    changePassword: (password: string) => call('ChangePassword', { password }),
    call,
    async replay(number: number) {
      const first = calls.find((c) => c.seq === number);
      if (!first) throw new SandboxHttpError(404, { error: `no call #${number}` });
      const id = typeof first.params.id === 'string' ? first.params.id : null;
      const unchangedSince = !id || (known.get(id)?.changedBy ?? 0) <= first.seq;
      const again = await call(first.method, first.params, { id: first.rpcId });
      const identical = isDeepStrictEqual(lastAnswer(again.call), first.answer);
      if (unchangedSince && first.method !== 'GetStatement' && !identical)
        violation(
          again.call,
          `the repeat of call #${first.seq} answered differently: ${JSON.stringify(again.call.answer)} after ${JSON.stringify(first.answer)}`,
        );
      return { first, again, identical };
    },
    async timeOut(method: PaymeMethod, params: Record<string, unknown>) {
      const dropped = await send(method, params);
      dropped.dropped = true;
      // Payme never saw the answer, so it knows nothing new; the repeat is checked as the first one would have been
      const again = await call(method, params);
      const identical = isDeepStrictEqual(again.call.answer, dropped.answer);
      if (!identical)
        violation(
          again.call,
          `the repeat of a timed-out call answered differently: ${JSON.stringify(again.call.answer)} after ${JSON.stringify(dropped.answer)}`,
        );
      return { dropped, again, identical };
    },
    calls: () => [...calls],
    transactions: () => [...known.values()].map((tx) => ({ ...tx })),
    transaction: (id: string) => {
      const tx = known.get(id);
      return tx ? { ...tx } : null;
    },
    violations: () => [...violations],
  };

  const checkoutPage = (encoded: string): SandboxResponse => {
    let params: PaymeCheckoutParams;
    try {
      params = paramsOf(encoded);
    } catch (error) {
      if (error instanceof SandboxHttpError) throw error;
      return {
        status: 400,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: `<!doctype html><p>${escapeHtml(String(error instanceof Error ? error.message : error))}</p>`,
      };
    }
    const account = Object.entries(params.account)
      .map(([field, value]) => `${escapeHtml(field)}: ${escapeHtml(value)}`)
      .join(', ');
    return {
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body:
        `<!doctype html><meta charset="utf-8"><title>Payme sandbox</title><h1>${soums(params.amount)} ${escapeHtml(params.currency ?? 'UZS')}</h1>` +
        `<p>${account}</p><form method="post" action="/pay"><input type="hidden" name="params" value="${escapeHtml(encoded)}"><button>Оплатить</button></form>`,
    };
  };

  const json = async <T>(request: { json(): unknown }, schema: z.ZodType<T>): Promise<T> => {
    const parsed = schema.safeParse(request.json());
    if (!parsed.success)
      throw new SandboxHttpError(400, { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    return parsed.data;
  };

  const server = await startSandboxServer(
    {
      name: 'payme',
      onReset: () => {
        calls = [];
        violations = [];
        known.clear();
      },
      // the checkout page: `GET /<base64 params>` (the parameters' base64 may itself hold "/")
      notFound: (request) =>
        request.method === 'GET' && request.path.length > 1
          ? checkoutPage(request.path.slice(1))
          : { status: 404, json: { error: `no such endpoint: ${request.method} ${request.path}` } },
      describe: () => ({
        merchantId: credentials.merchantId,
        endpoint,
        transactions: [...known.values()],
        violations: violations.length,
      }),
      routes: [
        {
          method: 'GET',
          path: '/',
          handle: () => ({
            headers: { 'content-type': 'text/html; charset=utf-8' },
            body: '<!doctype html><title>Payme sandbox</title><p>Payme checkout (sandbox)</p>',
          }),
        },
        {
          method: 'POST',
          path: '/pay',
          handle: async (request): Promise<SandboxResponse> => {
            const outcome = await pay(request.form().get('params') ?? '');
            if (outcome.ok && outcome.returnUrl) return { status: 303, headers: { location: outcome.returnUrl } };
            return {
              status: outcome.ok ? 200 : 402,
              headers: { 'content-type': 'text/html; charset=utf-8' },
              body: outcome.ok
                ? '<!doctype html><meta charset="utf-8"><p>Оплачено</p>'
                : `<!doctype html><meta charset="utf-8"><p>Платёж не прошёл: ${escapeHtml(outcome.step ?? '')} ${outcome.error?.code ?? ''}</p>`,
            };
          },
        },
      ],
      controls: {
        'POST /merchant': async (request) => {
          const body = await json(request, controlBody.merchant);
          sandbox.setMerchant(body.endpoint, body.key);
          return { json: sandbox.merchant() };
        },
        'GET /merchant': () => ({ json: sandbox.merchant() }),
        'POST /pay': async (request) => ({ json: await pay((await json(request, controlBody.link)).link) }),
        'POST /create': async (request) => {
          const body = await json(request, controlBody.link);
          return { json: await start(body.link, body.time) };
        },
        'POST /perform': async (request) => ({ json: await sandbox.perform((await json(request, controlBody.id)).id) }),
        'POST /cancel': async (request) => {
          const body = await json(request, controlBody.cancel);
          return { json: await sandbox.cancel(body.id, body.reason) };
        },
        'POST /check-transaction': async (request) => ({ json: await sandbox.checkTransaction((await json(request, controlBody.id)).id) }),
        'POST /statement': async (request) => {
          const body = await json(request, controlBody.statement);
          return { json: await sandbox.statement(body.from, body.to) };
        },
        'POST /change-password': async (request) => ({
          json: await sandbox.changePassword((await json(request, controlBody.password)).password),
        }),
        'POST /replay': async (request) => ({ json: await sandbox.replay((await json(request, controlBody.replay)).seq) }),
        'POST /timeout': async (request) => {
          const body = await json(request, controlBody.timeout);
          const method = body.method as PaymeMethod;
          if (!(method in paymeResultSchemas)) throw new SandboxHttpError(400, { error: `unknown method ${body.method}` });
          return { json: await sandbox.timeOut(method, body.params) };
        },
        'GET /calls': () => ({ json: { calls } }),
        'GET /transactions': () => ({ json: { transactions: [...known.values()] } }),
        'GET /violations': () => ({ json: { violations } }),
      },
    },
    options,
  );
  return Object.assign(server, sandbox);
}

export type { RpcId };
