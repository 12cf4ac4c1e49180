import { cancelledSlot, ensurePaymeIndexes, PaymeTransactions, type PaymeTransactionDoc } from '../../../persistence/payme.ts';
import { paymeConnector } from '../../platform/connectors/payme/connector.ts';
import { PAYME_PROVIDER_STATUS } from '../../platform/connectors/payme/gateway.ts';
import {
  idOf,
  PAYME_CANCEL_REASONS,
  PAYME_STATES,
  PAYME_TIMEOUT_MS,
  paymeAuthorized,
  PaymeError,
  paymeErrorBody,
  paymeResultBody,
  parsePaymeCall,
  type PaymeCall,
  type PaymeParams,
  type PaymeStatementEntry,
} from '../../platform/connectors/payme/protocol.ts';
import type { WebhookConfig } from '../../platform/connectors/kit/integration-config.ts';
import type { MerchantAnswer, MerchantApi } from '../../platform/inbound/merchant-api.ts';
import type { WebhookRequest } from '../../platform/inbound/spec.ts';
import type { MerchantApiDeps } from './merchant-apis.ts';
import type { PayableAttempt } from './payables.ts';

export const PAYME_ENDPOINT = '/webhooks/payme';

/** The account field our links carry (`ac.order_id`): the order id (a sale id for the point of sale). */
const ACCOUNT_FIELD = 'order_id';

const iso = (ms: number) => new Date(ms).toISOString();

type Answer = Record<string, unknown>;

/**
 * Payme's Merchant API: Payme calls `POST /webhooks/payme` with JSON-RPC
 * methods, signed in as `Paycom:<key>`, and we always answer HTTP 200 with
 * `{id, result}` or `{id, error}`. Each call is decided from the order (via
 * Payables) and our record of Payme's transactions (`payme_transactions`):
 * the change is persisted first, answered after, and the payment told
 * (`payables.report`); a repeat of a call answers what the first did (the
 * answers are stored) and tells the payment again — which repairs a crash
 * between persisting and telling.
 *
 * The checks, in the order they are made (the first that fails answers):
 * - every call: JSON that does not parse → -32700; a wrong login or key →
 *   -32504 (before the method is looked at, so a stranger learns nothing of
 *   it); an envelope or params of the wrong shape → -32600; an unknown
 *   method → -32601 (`data` = the method); a failure of ours → -32400.
 * - CheckPerformTransaction, and CreateTransaction of a new transaction:
 *   `account.order_id` missing or no such order → -31050 (`data:
 *   "order_id"`); an order that does not pay by Payme in soums now (another
 *   method or currency, no payment asked yet) → -31052; an amount other than
 *   the payment's → -31001; another transaction of Payme already active
 *   (created or performed) for the payment → -31051; the payment no longer
 *   waiting for its customer (paid, expired, failed) → -31052. Create also
 *   refuses a `time` already 12 hours old → -31008.
 * - Perform, Cancel, CheckTransaction of an id we never created → -31003.
 *   Any call that touches a created transaction past its 12 hours cancels it
 *   first (-1, reason 4); Create and Perform of a transaction not in state 1
 *   (or Perform while the payment no longer waits for its customer) → -31008.
 * - Cancel of a performed transaction cancels the order (which refunds the
 *   payment); once the order has shipped → -31007 and nothing changes.
 */
export function paymeMerchantApi(deps: MerchantApiDeps): MerchantApi {
  const { payables, logger, now } = deps;
  const store = new PaymeTransactions(deps.db);
  let indexes: Promise<void> | null = null;
  const ready = () =>
    (indexes ??= ensurePaymeIndexes(deps.db).catch((error: unknown) => {
      indexes = null;
      throw error;
    }));
  void ready().catch((error: unknown) => logger.warn('payme_transactions indexes not created yet', { error: String(error) }));

  const report = (
    tx: PaymeTransactionDoc,
    status: 'processing' | 'success' | 'created' | 'reversed',
    providerStatus: string,
    at: number,
    reason: string | null = null,
  ) => payables.report(tx.paymentId, { provider: paymeConnector.name, status, providerStatus, at: iso(at), source: 'webhook', reason });

  const reportState = async (tx: PaymeTransactionDoc): Promise<void> => {
    if (tx.state === PAYME_STATES.created) await report(tx, 'processing', PAYME_PROVIDER_STATUS.created, tx.createTime);
    else if (tx.state === PAYME_STATES.performed) await report(tx, 'success', PAYME_PROVIDER_STATUS.performed, tx.performTime);
    else if (tx.state === PAYME_STATES.cancelled)
      // back to waiting for the customer: the payment's own validity decides when it expires
      await report(
        tx,
        'created',
        PAYME_PROVIDER_STATUS.cancelled,
        tx.cancelTime,
        `Payme transaction ${tx._id} cancelled (reason ${tx.reason ?? '-'})`,
      );
    else await settleRefund(tx);
  };

  /**
   * A performed transaction Payme cancelled (-2): the money went back. The order's refund reads it from our
   * record (success); a refund that asked before we recorded it (processing) is told now.
   */
  const settleRefund = async (tx: PaymeTransactionDoc): Promise<void> => {
    const payment = (await payables.find(tx.accountId))?.payment;
    if (payment?.paymentId === tx.paymentId && payment.state.startsWith('refund'))
      await report(tx, 'reversed', PAYME_PROVIDER_STATUS.cancelledAfterPerform, tx.cancelTime);
  };

  /** Cancels a created transaction (state 1 → -1) and tells the payment; a transaction that moved on is read again. */
  const cancelCreated = async (tx: PaymeTransactionDoc, reason: number): Promise<PaymeTransactionDoc> => {
    const at = now();
    const answer = { transaction: tx.transaction, cancel_time: at, state: PAYME_STATES.cancelled };
    const done = await store.transition(tx._id, PAYME_STATES.created, {
      state: PAYME_STATES.cancelled,
      activeSlot: cancelledSlot(tx._id),
      cancelTime: at,
      reason,
      answers: { ...tx.answers, cancel: answer },
    });
    const current = done ?? (await store.get(tx._id)) ?? tx;
    if (done) await reportState(done);
    return current;
  };

  const expired = (tx: PaymeTransactionDoc) => tx.state === PAYME_STATES.created && now() - tx.time >= PAYME_TIMEOUT_MS;

  /** A created transaction past its 12 hours is cancelled (reason 4) before anything else is done with it. */
  const touch = async (tx: PaymeTransactionDoc): Promise<PaymeTransactionDoc> =>
    expired(tx) ? cancelCreated(tx, PAYME_CANCEL_REASONS.timeout) : tx;

  const expireDue = async (): Promise<number> => {
    let cancelled = 0;
    for (;;) {
      const due = await store.createdSince(now() - PAYME_TIMEOUT_MS);
      for (const tx of due) if ((await cancelCreated(tx, PAYME_CANCEL_REASONS.timeout)).state === PAYME_STATES.cancelled) cancelled += 1;
      if (due.length < 500) return cancelled;
    }
  };

  const transactionOf = async (id: string): Promise<PaymeTransactionDoc> => {
    const tx = await store.get(id);
    if (!tx) throw new PaymeError('transactionNotFound');
    return touch(tx);
  };

  /** The payment an account's call would pay, checked as the class comment lists (account, method, amount, busy, waiting). */
  const payableAttempt = async (
    account: Record<string, string>,
    amount: number,
    seen: { actor: string | null },
  ): Promise<PayableAttempt> => {
    const accountId = account[ACCOUNT_FIELD]?.trim();
    if (!accountId) throw new PaymeError('orderNotFound', ACCOUNT_FIELD);
    const payable = await payables.find(accountId);
    if (!payable) throw new PaymeError('orderNotFound', ACCOUNT_FIELD);
    const attempt = payable.payment;
    if (!attempt || attempt.provider !== paymeConnector.name || attempt.currency !== 'UZS')
      throw new PaymeError('orderNotPayable', ACCOUNT_FIELD);
    seen.actor = `payment/${attempt.paymentId}`;
    if (attempt.amount !== amount) throw new PaymeError('wrongAmount');
    const active = await store.active(attempt.paymentId);
    // -31051: the order is someone else's transaction's now. An account error (the -31050…-31099 range, as the
    // issue asks) rather than -31008: there is no transaction of this call whose state could forbid anything.
    if (active && (await touch(active)).state > 0) throw new PaymeError('orderBusy', ACCOUNT_FIELD);
    if (!attempt.awaitingCustomer) throw new PaymeError('orderNotPayable', ACCOUNT_FIELD);
    return attempt;
  };

  const createTransaction = async (params: PaymeParams<'CreateTransaction'>, seen: { actor: string | null }): Promise<Answer> => {
    const existing = await store.get(params.id);
    const again = async (found: PaymeTransactionDoc): Promise<Answer> => {
      seen.actor = `payment/${found.paymentId}`;
      const tx = await touch(found);
      if (tx.state !== PAYME_STATES.created) throw new PaymeError('cannotPerform');
      await reportState(tx);
      return tx.answers.create;
    };
    if (existing) return again(existing);
    const attempt = await payableAttempt(params.account, params.amount, seen);
    if (now() - params.time >= PAYME_TIMEOUT_MS) throw new PaymeError('cannotPerform');
    const createTime = now();
    const outcome = await store.create({
      _id: params.id,
      time: params.time,
      amount: params.amount,
      accountJson: JSON.stringify(params.account),
      accountId: params.account[ACCOUNT_FIELD] ?? '',
      paymentId: attempt.paymentId,
      createTime,
      performTime: 0,
      cancelTime: 0,
      reason: null,
      answer: (transaction) => ({ create_time: createTime, transaction, state: PAYME_STATES.created, receivers: null }),
    });
    if (outcome.outcome === 'exists') return again(outcome.doc);
    // lost the race for the payment to another transaction created at the same moment (the unique insert decided)
    if (outcome.outcome === 'busy') throw new PaymeError('orderBusy', ACCOUNT_FIELD);
    await reportState(outcome.doc);
    return outcome.doc.answers.create;
  };

  const performTransaction = async (params: PaymeParams<'PerformTransaction'>, seen: { actor: string | null }): Promise<Answer> => {
    const tx = await transactionOf(params.id);
    seen.actor = `payment/${tx.paymentId}`;
    if (tx.state === PAYME_STATES.performed && tx.answers.perform) {
      await reportState(tx);
      return tx.answers.perform;
    }
    if (tx.state !== PAYME_STATES.created) throw new PaymeError('cannotPerform');
    // money moves only while the payment waits for its customer
    const attempt = (await payables.find(tx.accountId))?.payment;
    if (!attempt || attempt.paymentId !== tx.paymentId || !attempt.awaitingCustomer) throw new PaymeError('cannotPerform');
    const performTime = now();
    const answer = { transaction: tx.transaction, perform_time: performTime, state: PAYME_STATES.performed };
    const done = await store.transition(tx._id, PAYME_STATES.created, {
      state: PAYME_STATES.performed,
      performTime,
      answers: { ...tx.answers, perform: answer },
    });
    if (!done) {
      // a racing call moved it first: answer as that one did
      const current = await store.get(tx._id);
      if (current?.state === PAYME_STATES.performed && current.answers.perform) return current.answers.perform;
      throw new PaymeError('cannotPerform');
    }
    await reportState(done);
    return answer;
  };

  const cancelTransaction = async (params: PaymeParams<'CancelTransaction'>, seen: { actor: string | null }): Promise<Answer> => {
    let tx = await transactionOf(params.id);
    seen.actor = `payment/${tx.paymentId}`;
    if (tx.state === PAYME_STATES.created) tx = await cancelCreated(tx, params.reason);
    if ((tx.state === PAYME_STATES.cancelled || tx.state === PAYME_STATES.cancelledAfterPerform) && tx.answers.cancel) {
      await reportState(tx);
      return tx.answers.cancel;
    }
    if (tx.state !== PAYME_STATES.performed) throw new PaymeError('systemError');
    // the order is cancelled first (its refund reads our record); shipped → -31007 and nothing is recorded
    const outcome = await payables.cancelPaid(
      tx.accountId,
      paymeConnector.name,
      `Payme cancelled paid transaction ${tx._id} (reason ${params.reason})`,
    );
    if (outcome === 'not_cancellable') throw new PaymeError('cannotCancel');
    const cancelTime = now();
    const answer = { transaction: tx.transaction, cancel_time: cancelTime, state: PAYME_STATES.cancelledAfterPerform };
    const done = await store.transition(tx._id, PAYME_STATES.performed, {
      state: PAYME_STATES.cancelledAfterPerform,
      activeSlot: cancelledSlot(tx._id),
      cancelTime,
      reason: params.reason,
      answers: { ...tx.answers, cancel: answer },
    });
    const current = done ?? (await store.get(tx._id));
    if (current?.state !== PAYME_STATES.cancelledAfterPerform || !current.answers.cancel) throw new PaymeError('systemError');
    await reportState(current);
    return current.answers.cancel;
  };

  /** A transaction's times, number, state and reason, as CheckTransaction and GetStatement both answer them. */
  const standingOf = (tx: Pick<PaymeTransactionDoc, 'createTime' | 'performTime' | 'cancelTime' | 'transaction' | 'state' | 'reason'>) => ({
    create_time: tx.createTime,
    perform_time: tx.performTime,
    cancel_time: tx.cancelTime,
    transaction: tx.transaction,
    state: tx.state,
    reason: tx.reason,
  });

  const checkTransaction = async (params: PaymeParams<'CheckTransaction'>, seen: { actor: string | null }): Promise<Answer> => {
    const tx = await transactionOf(params.id);
    seen.actor = `payment/${tx.paymentId}`;
    return standingOf(tx);
  };

  const getStatement = async (params: PaymeParams<'GetStatement'>): Promise<Answer> => {
    await expireDue();
    const transactions: PaymeStatementEntry[] = (await store.statement(params.from, params.to)).map((tx) => ({
      id: tx._id,
      time: tx.time,
      amount: tx.amount,
      account: JSON.parse(tx.accountJson) as Record<string, unknown>,
      ...standingOf(tx),
      receivers: null,
    }));
    return { transactions };
  };

  /** Payme's new key for us: stored encrypted like every credential, the change audited (never the key). */
  const changePassword = async (params: PaymeParams<'ChangePassword'>): Promise<Answer> => {
    const config = deps.connectors.configOf(paymeConnector);
    // a sandboxed integration has no stored credentials yet: the sandbox's merchant id is kept with the new key
    const credentials: Record<string, string> = config.sandboxed
      ? { merchantId: config.credentials.merchantId, key: params.password }
      : { key: params.password };
    await deps.connectors.update(paymeConnector.name, { credentials }, 'payme (ChangePassword)');
    return { success: true };
  };

  const dispatch = (call: PaymeCall, seen: { actor: string | null }): Promise<Answer> => {
    switch (call.method) {
      case 'CheckPerformTransaction':
        return payableAttempt(call.params.account, call.params.amount, seen).then(() => ({ allow: true }));
      case 'CreateTransaction':
        return createTransaction(call.params, seen);
      case 'PerformTransaction':
        return performTransaction(call.params, seen);
      case 'CancelTransaction':
        return cancelTransaction(call.params, seen);
      case 'CheckTransaction':
        return checkTransaction(call.params, seen);
      case 'GetStatement':
        return getStatement(call.params);
      case 'ChangePassword':
        return changePassword(call.params);
    }
  };

  const handle = async (request: WebhookRequest, config: WebhookConfig): Promise<MerchantAnswer> => {
    const raw = request.rawBody.toString('utf8');
    const rpcId = idOf(raw);
    const seen: { actor: string | null } = { actor: null };
    let method = 'unknown';
    try {
      try {
        JSON.parse(raw);
      } catch {
        throw new PaymeError('parseError');
      }
      if (!paymeAuthorized(request.headers.authorization, config.credentials.key ?? '')) throw new PaymeError('insufficientPrivilege');
      const call = parsePaymeCall(raw);
      method = call.method;
      await ready();
      const result = await dispatch(call, seen);
      return { status: 200, body: paymeResultBody(call.id, result), outcome: call.method, actor: seen.actor };
    } catch (error) {
      const refusal = error instanceof PaymeError ? error : new PaymeError('systemError');
      if (!(error instanceof PaymeError))
        logger.error('a Payme call failed', { method, error: error instanceof Error ? error.message : String(error) });
      return {
        status: 200,
        body: paymeErrorBody(rpcId, refusal),
        outcome: `${method} error ${refusal.code}`,
        actor: seen.actor,
        error: { code: `payme_${refusal.code}`, message: refusal.message },
      };
    }
  };

  return {
    integration: paymeConnector.name,
    endpoints: [{ path: PAYME_ENDPOINT, handle }],
    jobs: [
      {
        name: 'payme-timeout',
        description: "cancels Payme transactions created and not performed within 12 hours of Payme's time (state -1, reason 4)",
        every: '1 minute',
        async run() {
          await ready();
          return { cancelled: await expireDue() };
        },
      },
    ],
    async announce(publicBaseUrl) {
      let config;
      try {
        config = deps.connectors.configOf(paymeConnector);
      } catch {
        return; // not configured (or disabled): nobody to tell
      }
      if (!config.sandboxed) return;
      const response = await fetch(`${config.baseUrl}/__sandbox/merchant`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ endpoint: `${publicBaseUrl}${PAYME_ENDPOINT}`, key: config.credentials.key }),
        signal: AbortSignal.timeout(5_000),
      });
      if (!response.ok) throw new Error(`the Payme sandbox answered ${response.status}`);
    },
  };
}
