import type { PaymentStatus } from '../../../../common/payment-statuses.ts';
import type { WebhookRequest } from '../../inbound/spec.ts';

/**
 * What the payment machine needs from any payment provider, in the
 * provider's absence of our vocabulary: one implementation per provider,
 * in its connector folder (`monobank/gateway.ts`, `liqpay/gateway.ts`),
 * listed in `payment-gateways.ts`. The machine and its effects never ask
 * which provider it is.
 */

/** A provider's status, normalised (each gateway maps its own words to these). */
export type GatewayStatus = PaymentStatus;

export interface GatewayStatusReport {
  status: GatewayStatus;
  /** the provider's own word, e.g. "sandbox", "wait_accept" */
  providerStatus: string;
  /** the provider's time of this status (ISO): orders the reports, which webhooks deliver in any order */
  at: string;
  source: 'webhook' | 'poll';
  reason?: string | null;
}

export interface NewPayment {
  /** ours, and the reference the provider keeps */
  paymentId: string;
  /** what the payer pays: the order's id (or the sale's) — the account Payme and Click name in their calls */
  orderId: string;
  /** minor units */
  amount: number;
  currency: string;
  description: string;
  customerEmail: string | null;
  basket: Array<{ name: string; qty: number; price: number; sku: string }>;
  validitySeconds: number;
  /**
   * Where the provider's page sends the customer back after paying (the hub's thank-you page). The
   * same for every provider; an integration's own setting (Monobank `redirectUrl`, LiqPay `resultUrl`)
   * overrides it.
   */
  returnUrl: string;
}

/** A refund's standing at the provider: `processing` is to be asked again (`checkRefund`) until final. */
export type RefundOutcome = 'processing' | 'success' | 'failure';

// a type, not an interface: it is stored as is by `GatewayCall.once`
export type RefundReport = {
  outcome: RefundOutcome;
  /** the provider's own word */
  providerStatus: string;
  reason?: string | null;
};

export interface RefundRequest extends KnownPayment {
  /** minor units */
  amount: number;
  /** ours, unique per attempt: the provider keeps it with the refund (Monobank `extRef`), so a later check finds it */
  refundReference: string;
  /** the goods the payment carried: a provider that fiscalises puts them on the return receipt */
  basket: NewPayment['basket'];
}

export interface KnownPayment {
  paymentId: string;
  /** the provider's id, as `create` answered it */
  providerId: string;
}

export interface GatewayCall {
  actor: { type: string; id: string };
  signal?: AbortSignal;
  /**
   * Runs a call that creates or moves money once per effect (for providers
   * that take no idempotency key): a rerun after a crash gets the first answer.
   */
  once<T extends Record<string, unknown>>(operation: string, call: () => Promise<T>): Promise<T>;
}

/** The provider's own record of a payment, for the daily reconciliation. */
export interface ProviderRecord {
  paid: boolean;
  /** minor units, when the provider says */
  amount: number | null;
  status: string;
}

/** A provider's status callbacks: its signature, its delivery ids, the status each carries. */
export interface GatewayWebhook {
  verify(request: WebhookRequest, config: { credentials: Record<string, string> }): Promise<boolean> | boolean;
  deliveryId(request: WebhookRequest): string | null;
  /** the payment and status a callback reports; null when it concerns no payment of ours; throws WebhookBodyError when malformed */
  statusOf(request: WebhookRequest): { paymentId: string; report: GatewayStatusReport } | null;
}

export interface PaymentGateway {
  /** the integration's name, also the payment's `provider` */
  readonly provider: string;
  /** the payment at the provider and the page the customer pays on */
  create(payment: NewPayment, call: GatewayCall): Promise<{ providerId: string; pageUrl: string }>;
  /**
   * Where the payment stands. `expireIfUnpaid`: the customer's time is over, so
   * a payment nobody paid is withdrawn (`cancel`) and reported expired.
   */
  check(payment: KnownPayment, options: { expireIfUnpaid: boolean }, call: GatewayCall): Promise<GatewayStatusReport>;
  /** The compensation of `create` while unpaid: nobody can pay it any more. False when the provider keeps nothing to withdraw. */
  cancel(payment: KnownPayment, call: GatewayCall): Promise<boolean>;
  /** The compensation of a paid payment: the money goes back (minor units), now, later (`processing`) or not. */
  refund(refund: RefundRequest, call: GatewayCall): Promise<RefundReport>;
  /** Where a refund answered `processing` stands now. */
  checkRefund(refund: RefundRequest, call: GatewayCall): Promise<RefundReport>;
  /** What the provider records, for reconciliation. */
  record(payment: KnownPayment): Promise<ProviderRecord>;
  readonly webhook: GatewayWebhook;
}
