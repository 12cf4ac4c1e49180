import type { Db } from 'mongodb';
import { ClickStore, type ClickTransaction } from '../../../../persistence/click.ts';
import type { Connectors } from '../kit/connectors.ts';
import { ConnectorError, partnerErrorCode } from '../kit/errors.ts';
import type { GatewayCall, GatewayStatusReport, PaymentGateway, RefundReport } from '../ports/payment-gateway.ts';
import { clickConnector } from './connector.ts';
import { CLICK_PAY_URL, CLICK_PAYMENT_STATUS, clickPaymentUrl } from './protocol.ts';

/**
 * Click as a payment gateway. Click calls us (Prepare, Complete: the
 * merchant module records its transactions), so nothing is created at
 * Click: the payment's page is Click's payment link for the order (amount in
 * soums, the order id as `transaction_param`), and where the payment stands
 * is what our store recorded. A refund is the Merchant API's reversal of the
 * confirmed transaction (once per effect); the daily reconciliation asks the
 * Merchant API for Click's own view of it.
 */
export function clickGateway(deps: { connectors: Connectors; db: Db; now?: () => number }): PaymentGateway {
  const now = deps.now ?? Date.now;
  const store = new ClickStore(deps.db);
  const client = () => deps.connectors.client(clickConnector);
  const context = (call: GatewayCall) => ({ actor: call.actor, ...(call.signal ? { signal: call.signal } : {}) });
  const confirmedOf = (transactions: ClickTransaction[]) => transactions.find((t) => t.state === 'confirmed') ?? null;

  const refundState = async (paymentId: string): Promise<{ paydocId: string } | RefundReport> => {
    const confirmed = confirmedOf(await store.ofPayment(paymentId));
    if (!confirmed)
      return { outcome: 'failure', providerStatus: 'not_confirmed', reason: 'Click never confirmed a transaction of this payment' };
    return { paydocId: confirmed.clickPaydocId };
  };

  return {
    provider: clickConnector.name,

    async create(payment) {
      if (payment.currency !== 'UZS')
        throw new ConnectorError('click', partnerErrorCode('currency_not_supported'), 'Click takes UZS only', false);
      const config = deps.connectors.configOf(clickConnector);
      const payUrl = config.sandboxed ? `${config.baseUrl}/services/pay` : (config.settings.paymentUrl ?? CLICK_PAY_URL);
      const pageUrl = clickPaymentUrl({
        payUrl,
        serviceId: config.credentials.serviceId,
        merchantId: config.credentials.merchantId,
        amountTiyin: payment.amount,
        transactionParam: payment.orderId,
        returnUrl: config.settings.returnUrl ?? payment.returnUrl,
      });
      return { providerId: payment.paymentId, pageUrl };
    },

    // what Click told our endpoints: a confirmed transaction is the payment's success
    async check(payment, options) {
      const transactions = await store.ofPayment(payment.paymentId);
      const at = (date: Date) => date.toISOString();
      const confirmed = confirmedOf(transactions);
      if (confirmed?.completion)
        return { status: 'success', providerStatus: 'confirmed', at: at(confirmed.completion.at), source: 'poll', reason: null };
      const latest = transactions.at(-1);
      // the customer's time is over: a prepared transaction can no longer be completed (Complete answers -9)
      if (options.expireIfUnpaid)
        return {
          status: 'expired',
          providerStatus: latest ? latest.state : 'no_transaction',
          at: at(new Date(now())),
          source: 'poll',
          reason: null,
        };
      const prepared = transactions.filter((t) => t.state === 'prepared').at(-1);
      if (prepared) return { status: 'processing', providerStatus: 'prepared', at: at(prepared.preparedAt), source: 'poll', reason: null };
      const report: GatewayStatusReport = {
        status: 'created',
        providerStatus: latest ? 'cancelled' : 'no_transaction',
        at: at(latest?.completion?.at ?? new Date(now())),
        source: 'poll',
        reason: latest?.completion?.clickErrorNote ?? null,
      };
      return report;
    },

    async cancel() {
      return false;
    },

    refund: (refund, call) =>
      call.once('refund', async (): Promise<RefundReport> => {
        const state = await refundState(refund.paymentId);
        if (!('paydocId' in state)) return state;
        const answer = await client().reversal(state.paydocId, context(call));
        return answer.error_code === 0
          ? { outcome: 'success', providerStatus: 'reversed', reason: null }
          : { outcome: 'failure', providerStatus: `error_code ${answer.error_code}`, reason: answer.error_note || null };
      }),

    // a reversal answers at once; asked again (after a `processing` that never comes), Click's status says
    async checkRefund(refund, call) {
      const state = await refundState(refund.paymentId);
      if (!('paydocId' in state)) return state;
      const answer = await client().paymentStatus(state.paydocId, context(call));
      const status = answer.payment_status ?? null;
      return status !== null && status < 0
        ? { outcome: 'success', providerStatus: `payment_status ${status}`, reason: null }
        : { outcome: 'processing', providerStatus: `payment_status ${String(status)}`, reason: answer.error_note || null };
    },

    async record(payment) {
      const transactions = await store.ofPayment(payment.paymentId);
      const asked = confirmedOf(transactions) ?? transactions.at(-1);
      if (!asked) return { paid: false, amount: null, status: 'no_transaction' };
      const answer = await client().paymentStatus(asked.clickPaydocId);
      if (answer.error_code !== 0) return { paid: false, amount: null, status: `error_code ${answer.error_code}` };
      const paid = answer.payment_status === CLICK_PAYMENT_STATUS.paid;
      // Click's status names no amount: the amount is the one Click sent for the transaction it reports paid
      return { paid, amount: paid ? asked.amount : null, status: `payment_status ${String(answer.payment_status)}` };
    },

    // Click sends no status callbacks: everything it says comes through the Prepare and Complete endpoints
    webhook: {
      verify: () => false,
      deliveryId: () => null,
      statusOf: () => null,
    },
  };
}
