import { ClickStore, ensureClickIndexes, type ClickCompletionDoc, type StoredClickAnswer } from '../../../persistence/click.ts';
import { clickConnector } from '../../platform/connectors/click/connector.ts';
import {
  CLICK_ACTIONS,
  CLICK_ERRORS,
  clickAmountToTiyin,
  clickRequestSchema,
  clickSignatureValid,
  type ClickErrorName,
  type ClickRequest,
} from '../../platform/connectors/click/protocol.ts';
import type { WebhookConfig } from '../../platform/connectors/kit/integration-config.ts';
import type { MerchantAnswer, MerchantApi } from '../../platform/inbound/merchant-api.ts';
import type { WebhookRequest } from '../../platform/inbound/spec.ts';
import type { MerchantApiDeps } from './merchant-apis.ts';
import type { Payable, PayableAttempt } from './payables.ts';

/**
 * Click's SHOP API: Click calls `POST /webhooks/click/prepare` (action 0)
 * and `POST /webhooks/click/complete` (action 1), form-encoded and signed,
 * and reads our JSON answer `{click_trans_id, merchant_trans_id,
 * merchant_prepare_id | merchant_confirm_id, error, error_note}` (always
 * HTTP 200). `merchant_trans_id` is our order id.
 *
 * A new request is checked in Click's order, the first failing check
 * answering: -8 a field missing or malformed (or a Complete without
 * merchant_prepare_id) · -1 sign_string (md5 over the raw values, constant
 * time) · -8 a service id that is not ours · -3 the action is not this
 * endpoint's · -5 no such order, or one that does not pay by Click now (no
 * payment asked yet, another provider, not in soums) · -6 (Complete) no
 * transaction prepared under this click_trans_id and merchant_prepare_id
 * for this order · -4 the order is paid (by its payment, or another Click
 * transaction confirmed it) · -2 the amount is not the order's: soums read
 * as tiyin exactly ("1000", "1000.0", "1000.00" are 100000), more than two
 * significant decimals can equal no tiyin amount · -9 the order was
 * cancelled, its payment no longer waits for its customer, the prepared
 * transaction belongs to an earlier payment attempt, or Click itself
 * reports the payment failed (`error < 0` on a Complete: the transaction is
 * cancelled).
 *
 * Persist first, answer after: an accepted Prepare is its transaction
 * document, a decided Complete its completion document, each holding the
 * answer sent; a repeat of the same click_trans_id (Click repeats until it
 * hears an answer) is answered from there before anything else is looked
 * at, so it answers the same ids and codes (the same click_trans_id
 * for another order is -8). Then the payment is told
 * (payables.report): prepared → `processing`, confirmed → `success` at the
 * confirmation time, cancelled → `created` (waiting for its customer
 * again). A report that fails is repaired by Click's repeat (a repeat
 * re-reports) and by the payment's poll (the gateway reads this store).
 */

type Endpoint = 'prepare' | 'complete';

const PREPARE_PATH = '/webhooks/click/prepare';
const COMPLETE_PATH = '/webhooks/click/complete';

/** The fields Click sends; only these are read (and signed over). */
const FIELDS = [
  'click_trans_id',
  'service_id',
  'click_paydoc_id',
  'merchant_trans_id',
  'merchant_prepare_id',
  'amount',
  'action',
  'error',
  'error_note',
  'sign_time',
  'sign_string',
] as const;

/** Click's ids back as numbers (bigint in its docs) while JSON numbers hold them exactly. */
const idOut = (value: string | null | undefined): number | string | null => {
  if (value === null || value === undefined || !/^\d{1,20}$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
};

export function clickMerchantApi(deps: MerchantApiDeps): MerchantApi {
  const store = new ClickStore(deps.db);
  let ready: Promise<void> | null = null;
  const ensureStore = () =>
    (ready ??= ensureClickIndexes(deps.db).catch((error: unknown) => {
      ready = null;
      throw error;
    }));

  const answerOf = (
    endpoint: Endpoint,
    form: Record<string, string | undefined>,
    name: ClickErrorName,
    id: number | null = null,
  ): StoredClickAnswer => ({
    click_trans_id: idOut(form.click_trans_id),
    merchant_trans_id: form.merchant_trans_id ?? null,
    [endpoint === 'prepare' ? 'merchant_prepare_id' : 'merchant_confirm_id']: id,
    error: CLICK_ERRORS[name].error,
    error_note: CLICK_ERRORS[name].note,
  });

  const send = (endpoint: Endpoint, body: StoredClickAnswer, paymentId: string | null = null, replayed = false): MerchantAnswer => {
    const error = Number(body.error);
    return {
      status: 200,
      body,
      outcome: `${endpoint} ${error}${replayed ? ' (repeat)' : ''}`,
      actor: paymentId ? `payment/${paymentId}` : null,
      error: error === 0 ? null : { code: `click_${error}`, message: String(body.error_note) },
    };
  };

  const tell = async (
    paymentId: string,
    status: 'processing' | 'success' | 'created',
    providerStatus: string,
    at: Date,
    reason: string | null,
  ) => {
    try {
      await deps.payables.report(paymentId, { provider: 'click', status, providerStatus, at: at.toISOString(), source: 'webhook', reason });
    } catch (error) {
      // persisted already: Click's repeat re-reports, and the payment's poll reads the store
      deps.logger.warn('a Click transaction could not be reported to its payment yet', { paymentId, providerStatus, error: String(error) });
    }
  };

  /** The account as payable by Click now, or the code that refuses it. */
  const payableByClick = (payable: Payable | null): PayableAttempt | 'userNotFound' => {
    const payment = payable?.payment;
    if (!payable || !payment || payment.provider !== 'click' || payment.currency !== 'UZS') return 'userNotFound';
    return payment;
  };

  /** -4, -2, -9 for a payment about to take (or confirm) `tiyin`, in Click's order. */
  const standing = async (payable: Payable, payment: PayableAttempt, amountRaw: string): Promise<ClickErrorName | null> => {
    if (payment.paid || (await store.confirmedFor(payment.paymentId))) return 'alreadyPaid';
    if (clickAmountToTiyin(amountRaw) !== payment.amount) return 'wrongAmount';
    if (payable.state.startsWith('cancel') || !payment.awaitingCustomer) return 'cancelled';
    return null;
  };

  const prepare = async (request: ClickRequest, form: Record<string, string | undefined>): Promise<MerchantAnswer> => {
    const payable = await deps.payables.find(request.merchant_trans_id);
    const payment = payableByClick(payable);
    if (payment === 'userNotFound' || !payable) return send('prepare', answerOf('prepare', form, 'userNotFound'));
    const refused = await standing(payable, payment, request.amount);
    if (refused) return send('prepare', answerOf('prepare', form, refused), payment.paymentId);

    const at = new Date(deps.now());
    const prepareId = await store.number(request.click_trans_id, 'prepare', at);
    const recorded = await store.prepare({
      _id: request.click_trans_id,
      accountId: request.merchant_trans_id,
      paymentId: payment.paymentId,
      clickPaydocId: request.click_paydoc_id,
      serviceId: request.service_id,
      amount: payment.amount,
      amountRaw: request.amount,
      merchantPrepareId: prepareId,
      signTime: request.sign_time,
      preparedAt: at,
      answer: answerOf('prepare', form, 'success', prepareId),
    });
    if (recorded.state === 'prepared') await tell(recorded.paymentId, 'processing', 'prepared', recorded.preparedAt, null);
    return send('prepare', recorded.answer, recorded.paymentId);
  };

  const complete = async (request: ClickRequest, form: Record<string, string | undefined>): Promise<MerchantAnswer> => {
    const payable = await deps.payables.find(request.merchant_trans_id);
    const payment = payableByClick(payable);
    if (payment === 'userNotFound' || !payable) return send('complete', answerOf('complete', form, 'userNotFound'));
    const transaction = await store.transaction(request.click_trans_id);
    if (
      !transaction ||
      transaction.accountId !== request.merchant_trans_id ||
      String(transaction.merchantPrepareId) !== request.merchant_prepare_id
    )
      return send('complete', answerOf('complete', form, 'transactionNotFound'), payment.paymentId);

    // an earlier payment attempt's transaction can take no money: that attempt no longer waits for it
    const current = transaction.paymentId === payment.paymentId;
    const refused = current
      ? await standing(payable, payment, request.amount)
      : payment.paid || (await store.confirmedFor(payment.paymentId))
        ? 'alreadyPaid'
        : 'cancelled';
    if (refused === 'alreadyPaid' || refused === 'wrongAmount')
      return send('complete', answerOf('complete', form, refused), payment.paymentId);
    const clickError = Number(request.error);
    const at = new Date(deps.now());
    const cancelled = refused === 'cancelled' || clickError < 0;
    const confirmId = cancelled ? null : await store.number(request.click_trans_id, 'confirm', at);
    const completion: ClickCompletionDoc = {
      _id: request.click_trans_id,
      paymentId: transaction.paymentId,
      settles: cancelled ? `cancelled:${request.click_trans_id}` : transaction.paymentId,
      outcome: cancelled ? 'cancelled' : 'confirmed',
      merchantConfirmId: confirmId,
      clickError,
      clickErrorNote: request.error_note,
      at,
      answer: answerOf('complete', form, cancelled ? 'cancelled' : 'success', confirmId),
    };
    const decided = await store.complete(completion);
    if (decided.kind === 'settled') return send('complete', answerOf('complete', form, 'alreadyPaid'), payment.paymentId);
    await reportCompletion(decided.completion);
    return send('complete', decided.completion.answer, decided.completion.paymentId, decided.kind === 'decided');
  };

  const reportCompletion = async (completion: ClickCompletionDoc) => {
    if (completion.outcome === 'confirmed') await tell(completion.paymentId, 'success', 'confirmed', completion.at, null);
    // Click's own failure (error < 0) sends the payment back to waiting for its customer; our refusal changes nothing there
    else if (completion.clickError < 0)
      await tell(
        completion.paymentId,
        'created',
        'cancelled',
        completion.at,
        completion.clickErrorNote || `Click error ${completion.clickError}`,
      );
  };

  /** A repeat of a Prepare or Complete already answered: the same answer (and the payment told again). */
  const repeat = async (
    endpoint: Endpoint,
    request: ClickRequest,
    form: Record<string, string | undefined>,
  ): Promise<MerchantAnswer | null> => {
    const transaction = await store.transaction(request.click_trans_id);
    if (!transaction) return null;
    // one click_trans_id is one payment of one order: the same id for another order is a broken request (a Complete: -6)
    if (transaction.accountId !== request.merchant_trans_id)
      return endpoint === 'prepare' ? send('prepare', answerOf('prepare', form, 'badRequest')) : null;
    if (endpoint === 'prepare') {
      if (transaction.state === 'prepared') await tell(transaction.paymentId, 'processing', 'prepared', transaction.preparedAt, null);
      return send('prepare', transaction.answer, transaction.paymentId, true);
    }
    const completion = transaction.completion;
    if (!completion || String(transaction.merchantPrepareId) !== request.merchant_prepare_id) return null;
    await reportCompletion(completion);
    return send('complete', completion.answer, completion.paymentId, true);
  };

  const handle = async (endpoint: Endpoint, request: WebhookRequest, config: WebhookConfig): Promise<MerchantAnswer> => {
    await ensureStore();
    const fields = new URLSearchParams(request.rawBody.toString('utf8'));
    const form: Record<string, string | undefined> = {};
    for (const name of FIELDS) {
      const value = fields.get(name);
      if (value !== null) form[name] = value;
    }
    const parsed = clickRequestSchema.safeParse(form);
    const needsPrepareId = endpoint === 'complete' || form.action === String(CLICK_ACTIONS.complete);
    if (!parsed.success || (needsPrepareId && parsed.data.merchant_prepare_id === undefined))
      return send(endpoint, answerOf(endpoint, form, 'badRequest'));
    const click = parsed.data;
    const secretKey = config.credentials.secretKey ?? '';
    if (secretKey.length === 0 || !clickSignatureValid(click, secretKey)) return send(endpoint, answerOf(endpoint, form, 'signFailed'));
    if (click.service_id !== config.credentials.serviceId) return send(endpoint, answerOf(endpoint, form, 'badRequest'));
    const expected = endpoint === 'prepare' ? CLICK_ACTIONS.prepare : CLICK_ACTIONS.complete;
    if (click.action !== String(expected)) return send(endpoint, answerOf(endpoint, form, 'actionNotFound'));

    const repeated = await repeat(endpoint, click, form);
    if (repeated) return repeated;
    return endpoint === 'prepare' ? prepare(click, form) : complete(click, form);
  };

  return {
    integration: clickConnector.name,
    endpoints: [
      { path: PREPARE_PATH, handle: (request, config) => handle('prepare', request, config) },
      { path: COMPLETE_PATH, handle: (request, config) => handle('complete', request, config) },
    ],
    async announce(publicBaseUrl) {
      await ensureStore();
      let config;
      try {
        config = deps.connectors.configOf(clickConnector);
      } catch {
        return; // not configured: nobody to tell
      }
      if (!config.sandboxed) return;
      // over its control API, as Payme's: the sandbox may run in a cluster's primary, not in this process
      const response = await fetch(`${config.baseUrl}/__sandbox/merchant`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prepareUrl: `${publicBaseUrl}${PREPARE_PATH}`, completeUrl: `${publicBaseUrl}${COMPLETE_PATH}` }),
        signal: AbortSignal.timeout(5_000),
      });
      if (!response.ok) throw new Error(`the Click sandbox answered ${response.status}`);
    },
  };
}
