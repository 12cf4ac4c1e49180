import type { Db } from 'mongodb';
import { PaymeTransactions, type PaymeTransactionDoc } from '../../../../persistence/payme.ts';
import type { Connectors } from '../kit/connectors.ts';
import { ConnectorError, partnerErrorCode } from '../kit/errors.ts';
import type { GatewayStatusReport, PaymentGateway, RefundReport } from '../ports/payment-gateway.ts';
import { paymeConnector } from './connector.ts';
import { PAYME_STATES, paymeCheckoutUrl } from './protocol.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/** The word a payment keeps for a Payme transaction's state. */
export const PAYME_PROVIDER_STATUS = {
  created: 'transaction_created',
  performed: 'transaction_performed',
  cancelled: 'transaction_cancelled',
  cancelledAfterPerform: 'transaction_cancelled_after_perform',
} as const;

/**
 * Payme as a payment gateway. Payme calls us (the Merchant API records its
 * transactions in `payme_transactions`), so nothing here calls Payme: the
 * page is the GET checkout link of the ORDER (`ac.order_id`, the payment's
 * amount in tiyin), and a payment's status, refund and reconciliation are
 * read from the recorded transactions.
 *
 * Refunds: a merchant cannot refund through Payme's Merchant API. The money
 * goes back when Payme cancels the performed transaction (CancelTransaction
 * → state -2): until then the refund is `processing`, with a reason telling
 * the operator to cancel it in the Payme cabinet; once -2, it is done.
 */
export function paymeGateway(deps: { connectors: Connectors; db: Db; now?: () => number }): PaymentGateway {
  const now = deps.now ?? Date.now;
  const store = new PaymeTransactions(deps.db);

  /** the transaction that decides the payment: performed (or cancelled after perform) first, then the newest */
  const decisive = async (paymentId: string): Promise<PaymeTransactionDoc | null> => {
    const all = await store.ofPayment(paymentId);
    return all.find((tx) => tx.state === PAYME_STATES.performed || tx.state === PAYME_STATES.cancelledAfterPerform) ?? all[0] ?? null;
  };

  const refundStanding = async (paymentId: string): Promise<RefundReport> => {
    const tx = await decisive(paymentId);
    if (tx?.state === PAYME_STATES.cancelledAfterPerform)
      return { outcome: 'success', providerStatus: PAYME_PROVIDER_STATUS.cancelledAfterPerform, reason: null };
    if (tx?.state === PAYME_STATES.performed)
      return {
        outcome: 'processing',
        providerStatus: PAYME_PROVIDER_STATUS.performed,
        reason: `Payme takes no refund from the merchant: cancel Payme transaction ${tx._id} (our ${tx.transaction}) in the Payme cabinet; the refund completes when Payme cancels it`,
      };
    return { outcome: 'failure', providerStatus: 'no_performed_transaction', reason: `no performed Payme transaction for ${paymentId}` };
  };

  return {
    provider: paymeConnector.name,

    async create(payment) {
      if (payment.currency !== 'UZS')
        throw new ConnectorError('payme', partnerErrorCode('currency_not_supported'), 'Payme takes UZS (tiyin) only', false);
      const config = deps.connectors.configOf(paymeConnector);
      const pageUrl = paymeCheckoutUrl({
        checkoutUrl: config.sandboxed ? config.baseUrl : config.settings.checkoutUrl,
        merchantId: config.credentials.merchantId,
        account: { order_id: payment.orderId },
        amount: payment.amount,
        lang: 'ru',
        ...(payment.returnUrl.includes(';') ? {} : { returnUrl: payment.returnUrl }),
      });
      return { providerId: payment.paymentId, pageUrl };
    },

    async check(payment, options) {
      const tx = await decisive(payment.paymentId);
      const at = (ms: number) => iso(ms || now());
      if (tx?.state === PAYME_STATES.performed)
        return { status: 'success', providerStatus: PAYME_PROVIDER_STATUS.performed, at: at(tx.performTime), source: 'poll', reason: null };
      if (tx?.state === PAYME_STATES.cancelledAfterPerform)
        return {
          status: 'reversed',
          providerStatus: PAYME_PROVIDER_STATUS.cancelledAfterPerform,
          at: at(tx.cancelTime),
          source: 'poll',
          reason: null,
        };
      if (tx?.state === PAYME_STATES.created)
        // Payme is between Create and Perform: the customer is paying right now
        return { status: 'processing', providerStatus: PAYME_PROVIDER_STATUS.created, at: at(tx.createTime), source: 'poll', reason: null };
      // nothing created, or cancelled before perform: nothing to withdraw at Payme
      const report: GatewayStatusReport = {
        status: options.expireIfUnpaid ? 'expired' : 'created',
        providerStatus: tx ? PAYME_PROVIDER_STATUS.cancelled : 'no_transaction',
        at: iso(now()),
        source: 'poll',
        reason: null,
      };
      return report;
    },

    async cancel() {
      return false;
    },

    refund: (refund) => refundStanding(refund.paymentId),
    checkRefund: (refund) => refundStanding(refund.paymentId),

    async record(payment) {
      const tx = await decisive(payment.paymentId);
      if (!tx) return { paid: false, amount: null, status: 'no_transaction' };
      const status = {
        [PAYME_STATES.created]: PAYME_PROVIDER_STATUS.created,
        [PAYME_STATES.performed]: PAYME_PROVIDER_STATUS.performed,
        [PAYME_STATES.cancelled]: PAYME_PROVIDER_STATUS.cancelled,
        [PAYME_STATES.cancelledAfterPerform]: PAYME_PROVIDER_STATUS.cancelledAfterPerform,
      }[tx.state];
      return { paid: tx.state === PAYME_STATES.performed, amount: tx.amount, status };
    },

    // Payme sends no status callbacks: it calls the Merchant API, which answers it itself
    webhook: {
      verify: () => false,
      deliveryId: () => null,
      statusOf: () => null,
    },
  };
}
