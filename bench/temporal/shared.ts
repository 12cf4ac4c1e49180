/**
 * What the order workflow, its activities and the HTTP facade share: plain types only, so that the workflow
 * bundle (built by the worker, run in Temporal's deterministic sandbox) pulls in nothing with I/O.
 */

export const TASK_QUEUE = 'hub-bench-orders';

export interface OrderLine {
  sku: string;
  name: string;
  qty: number;
  unitPrice: number;
}

export interface OrderInput {
  orderId: string;
  items: OrderLine[];
  /** minor units (kopiykas) */
  total: number;
  currency: 'UAH';
  customer: { name: string; phone: string; email: string | null };
  delivery: { cityRef: string; warehouseRef: string };
  /** the facade's address the Monobank sandbox posts its webhooks to */
  webhookUrl: string;
  /** how long the workflow waits for a webhook before it asks Monobank itself (the hub's status poll runs every 2 minutes) */
  paymentPollSeconds: number;
}

export type OrderState =
  | 'reservingStock'
  | 'checkingDelivery'
  | 'paying'
  | 'issuingDocuments'
  | 'creatingWaybill'
  | 'awaitingPickup'
  | 'delivered'
  | 'rejected'
  | 'blocked';

export interface OrderView {
  id: string;
  state: OrderState;
  paymentUrl: string | null;
  invoiceId: string | null;
  invoice: { number: number; issuedAt: string } | null;
  waybill: { number: string; ref: string } | null;
  errors: string[];
}

export type StockAnswer = { ok: true } | { ok: false; reason: string };

/** A Monobank invoice status as the workflow needs it (from a webhook or a status call). */
export interface PaymentReport {
  invoiceId: string;
  status: 'created' | 'processing' | 'hold' | 'success' | 'failure' | 'reversed' | 'expired';
}

/** A carrier's tracking report, its status code already read through the hub's status → stage table. */
export interface TrackingReport {
  number: string;
  statusCode: string;
  status: string;
  stage: string;
}

export interface PaymentCreated {
  invoiceId: string;
  pageUrl: string;
}

export interface Quote {
  cost: number;
  estimatedDelivery: string | null;
}

export interface Waybill {
  number: string;
  ref: string;
  /** found by our code at Nova Poshta rather than created (an earlier attempt's answer was lost) */
  recovered: boolean;
}
