import type { Db } from 'mongodb';
import { ERASED, ERASED_TEXT, type PersonalDataCipher } from './personal-data-key.ts';
import { isDuplicateKeyError } from './collections.ts';
import { defineCollection, ensureCollectionIndexes, openCollections, type OpenedCollections } from './define-collection.ts';

/**
 * Documents of the order flow that are not actors: invoices and their
 * gapless numbers, outgoing mail, survey tokens, daily reports and the
 * ledger of payments marked processed.
 */

export interface InvoiceLine {
  sku: string;
  name: string;
  qty: number;
  unitPrice: number;
}

export interface InvoiceDoc {
  _id: string; // order id: one invoice per order
  number: number;
  issuedAt: Date;
  customer: { name?: string; phone?: string; email?: string };
  lines: InvoiceLine[];
  pricing: {
    subtotal: number;
    deliveryFee: number;
    fees: Array<{ name: string; amount: number }>;
    total: number;
    vatRatePercent: number;
    vat: number;
    currency: string;
  };
  /** the payment receipt: how and when it was paid (cash on delivery: not yet) */
  receipt: { paymentId: string | null; method: string; amount: number; paidAt: Date | null };
  delivery: { carrier: string; cityName?: string; warehouseName?: string; address?: { street: string; house: string; flat?: string } };
  /** the customer and the delivery address, sealed (`customer` is then empty); see `openInvoice` */
  personal?: string;
}

/** The invoice as stored: who it is for sealed with the personal data key. */
function sealInvoice(invoice: InvoiceDoc, personalData: PersonalDataCipher): InvoiceDoc {
  const { address, ...delivery } = invoice.delivery;
  return { ...invoice, customer: {}, delivery, personal: personalData.seal({ customer: invoice.customer, address: address ?? null }) };
}

/** The invoice as issued, its customer opened (invoices stored before sealing read as they are). */
export function openInvoice(invoice: InvoiceDoc, personalData: PersonalDataCipher): InvoiceDoc {
  if (!invoice.personal) return invoice;
  const { personal, ...rest } = invoice;
  // a customer forgotten: the invoice stays, naming no one
  if (personal === ERASED) return { ...rest, customer: { name: ERASED_TEXT } };
  const opened = personalData.open(personal) as { customer: InvoiceDoc['customer']; address: InvoiceDoc['delivery']['address'] | null };
  return { ...rest, customer: opened.customer, delivery: { ...rest.delivery, ...(opened.address ? { address: opened.address } : {}) } };
}

export const invoicesCollection = defineCollection<InvoiceDoc>({
  name: 'invoices',
  description: 'one invoice per order, as issued',
});

/** A claimed invoice number. Claims are unique inserts and are never deleted: numbers have no gaps. */
export interface InvoiceNumberDoc {
  _id: number;
  orderId: string;
  at: Date;
}

export const invoiceNumbersCollection = defineCollection<InvoiceNumberDoc>({
  name: 'invoice_numbers',
  description: 'claimed invoice numbers, never deleted',
  // one number per order: a repeated or racing issue finds the order's claim instead of taking a second number
  indexes: [{ key: { orderId: 1 }, unique: true }],
});

export interface MailDoc {
  _id: string; // the sender's idempotency key: one mail per key
  to: string;
  subject: string;
  text: string;
  template: string;
  orderId: string | null;
  /** documents rendered when the mail is sent */
  attachments: Array<{ kind: 'invoice' | 'report'; id: string; filename: string }>;
  /** pending: to send; sent; failed: gave up; not_configured: kept, no SMTP server configured */
  status: 'pending' | 'sent' | 'failed' | 'not_configured';
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export const mailCollection = defineCollection<MailDoc>({
  name: 'mail',
  description: 'outgoing mail, one per sender key, until sent or given up',
  // the pending queue, oldest first; an order's mail
  indexes: [{ key: { status: 1, createdAt: 1 } }, { key: { orderId: 1 } }],
});

export interface SurveyTokenDoc {
  _id: string; // order id
  token: string;
  createdAt: Date;
}

export const surveyTokensCollection = defineCollection<SurveyTokenDoc>({
  name: 'survey_tokens',
  description: "each order's survey link token",
});

export interface ReportDoc {
  _id: string; // the day, YYYY-MM-DD (UTC)
  day: string;
  generatedAt: Date;
  /** `currency` is absent from reports made before orders had other currencies (they were in UAH) */
  orders: Array<{ orderId: string; state: string; total: number; currency?: string; method: string; paymentId: string | null }>;
  totals: {
    orders: number;
    paid: number;
    /** minor units of UAH (the hryvnia orders' payments) */
    amountPaid: number;
    /** minor units, by currency: every currency's payments (absent from reports made before) */
    amountPaidByCurrency?: Record<string, number>;
    cancelled: number;
    rejected: number;
    blocked: number;
  };
  reconciliation: {
    checked: number;
    matched: number;
    mismatches: Array<{ paymentId: string; orderId: string; ours: string; provider: string; detail: string }>;
  };
  emailedTo: string[];
}

export const reportsCollection = defineCollection<ReportDoc>({
  name: 'reports',
  description: 'daily order reports with their reconciliation',
});

export interface LedgerDoc {
  _id: string; // payment id
  orderId: string;
  provider: string;
  amount: number;
  processedAt: Date;
  report: string;
}

export const ledgerCollection = defineCollection<LedgerDoc>({
  name: 'ledger',
  description: 'payments marked processed, with the report that processed them',
});

/** What a call without an idempotency key at the provider returned, kept under our key: a repeated effect reuses it. */
export interface ProviderRequestDoc {
  _id: string; // the effect's idempotency key
  operation: string;
  result: Record<string, unknown>;
  at: Date;
}

export const providerRequestsCollection = defineCollection<ProviderRequestDoc>({
  name: 'provider_requests',
  description: 'results of provider calls without idempotency keys, kept under ours',
});

/** The order flow's collections, created with their indexes at start-up. */
const commerce = {
  providerRequests: providerRequestsCollection,
  invoices: invoicesCollection,
  invoiceNumbers: invoiceNumbersCollection,
  mail: mailCollection,
  surveyTokens: surveyTokensCollection,
  reports: reportsCollection,
  ledger: ledgerCollection,
};

export type CommerceCollections = OpenedCollections<typeof commerce>;

export function commerceCollections(db: Db): CommerceCollections {
  return openCollections(db, commerce);
}

export async function ensureCommerceIndexes(db: Db): Promise<void> {
  await ensureCollectionIndexes(db, Object.values(commerce));
}

/**
 * Runs a provider call that has no idempotency key of its own once per
 * key: a repeat (a retried or resumed effect) gets the first result. A crash
 * between the call and the write can still repeat it; the caller's
 * documentation says what that costs.
 */
export async function onceAtProvider<T extends Record<string, unknown>>(
  collections: CommerceCollections,
  key: string,
  operation: string,
  call: () => Promise<T>,
): Promise<T> {
  const done = await collections.providerRequests.findOne({ _id: key });
  if (done) return done.result as T;
  const result = await call();
  try {
    await collections.providerRequests.insertOne({ _id: key, operation, result, at: new Date() });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  return result;
}

export type InvoiceData = Omit<InvoiceDoc, '_id' | 'number' | 'issuedAt'>;

/**
 * Issues the invoice of an order, numbered without gaps, exactly once:
 * the number is claimed by a unique insert that names the order (a crash
 * after the claim finds it again), then the invoice is written under the
 * order id (a second write is a duplicate, not a second invoice).
 */
export async function issueInvoice(
  collections: CommerceCollections,
  orderId: string,
  data: InvoiceData,
  now = new Date(),
  personalData?: PersonalDataCipher,
): Promise<InvoiceDoc> {
  const opened = (invoice: InvoiceDoc) => (personalData ? openInvoice(invoice, personalData) : invoice);
  const existing = await collections.invoices.findOne({ _id: orderId });
  if (existing) return opened(existing);
  let claim = await collections.invoiceNumbers.findOne({ orderId });
  while (!claim) {
    const [last] = await collections.invoiceNumbers.find({}).sort({ _id: -1 }).limit(1).toArray();
    const candidate: InvoiceNumberDoc = { _id: (last?._id ?? 0) + 1, orderId, at: now };
    try {
      await collections.invoiceNumbers.insertOne(candidate);
      claim = candidate;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // the number went to another order (try the next), or this order's claim landed meanwhile
      claim = await collections.invoiceNumbers.findOne({ orderId });
    }
  }
  const invoice: InvoiceDoc = { _id: orderId, number: claim._id, issuedAt: claim.at, ...data };
  try {
    await collections.invoices.insertOne(personalData ? sealInvoice(invoice, personalData) : invoice);
    return invoice;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const stored = await collections.invoices.findOne({ _id: orderId });
    return stored ? opened(stored) : invoice;
  }
}

export function invoiceLabel(number: number): string {
  return `№ ${String(number).padStart(6, '0')}`;
}
