import { createPublicKey, verify } from 'node:crypto';
import { z } from 'zod';

/**
 * Monobank acquiring ("plata by mono"): `X-Token` on every call, money in
 * minor units, errors as `{errCode, errText}`, status webhooks signed with
 * ECDSA P-256 over SHA-256 of the raw body (`X-Sign`, base64 DER), verified
 * with the key from `GET /api/merchant/pubkey`. Shapes from
 * ../shared/protocols/payments-ua.md §2.
 *
 * Where each fact comes from — [confirmed]: published by Monobank, in its API documentation
 * (https://monobank.ua/api-docs/acquiring, whose field tables with their required/optional column are
 * also published as the "monobank-acquiring" reference, invoice.md and SKILL.md, that the doc pages point
 * to); [assumed]: ours, not found in a published source, to check against the live API.
 * - [confirmed] paths, X-Token, minor units, the error body and codes (SKILL.md "Common Error Responses").
 * - [confirmed] invoice/status and the webhook body share one schema; required: invoiceId, status, amount,
 *   ccy; optional: finalAmount, createdDate, modifiedDate, reference, destination, errCode, failureReason,
 *   paymentInfo, cancelList, tipsInfo, walletData (invoice.md "GET /api/merchant/invoice/status").
 * - [confirmed] cancelList items: status, createdDate, modifiedDate required; amount, ccy, approvalCode,
 *   rrn, extRef optional (SKILL.md "CancelListItem").
 * - [confirmed] invoice/cancel takes invoiceId, amount?, extRef?, items? (FiscalizationItem: name, qty,
 *   sum, code required) and answers status processing | success | failure (invoice.md).
 * - [confirmed] redirectUrl on invoice/create: where the payment page sends the customer (GET) afterwards.
 * - [confirmed] X-Sign: the documentation's own example (public key, body, X-Sign) verifies with
 *   `verifyPublicKeySignature` (test/actors/platform/connectors/monobank.test.ts).
 * - [assumed] a cancel's `items` must name goods of the invoice's basketOrder, at most their quantity, and
 *   add up to `amount` (the documentation only says items are required when fiscalisation is active).
 * - [assumed] a refund answered `processing` is settled later in the invoice's cancelList (by its extRef),
 *   and a whole refund makes the invoice `reversed`; each change is a webhook like any status change.
 */

export const MONOBANK_PATHS = {
  pubkey: '/api/merchant/pubkey',
  create: '/api/merchant/invoice/create',
  status: '/api/merchant/invoice/status',
  cancel: '/api/merchant/invoice/cancel',
  remove: '/api/merchant/invoice/remove',
  finalize: '/api/merchant/invoice/finalize',
} as const;

export const UAH = 980;

export const monoErrorSchema = z.object({ errCode: z.string(), errText: z.string() });

export const pubkeySchema = z.object({ key: z.string().min(1) });

export const basketItemSchema = z.object({
  name: z.string().min(1),
  qty: z.number().positive(),
  /** per unit, minor units */
  sum: z.number().int().nonnegative(),
  code: z.string().optional(),
  unit: z.string().optional(),
  total: z.number().int().nonnegative().optional(),
});
export type BasketItem = z.infer<typeof basketItemSchema>;

/** A line of a refund's (or finalisation's) receipt: SKILL.md "FiscalizationItem". */
export const fiscalItemSchema = z.object({
  name: z.string().min(1),
  qty: z.number().positive(),
  /** per unit, minor units */
  sum: z.number().int().nonnegative(),
  code: z.string().min(1),
});
export type FiscalItem = z.infer<typeof fiscalItemSchema>;

export const invoiceCreateSchema = z.object({
  amount: z.number().int().positive(),
  ccy: z.number().int().optional(),
  merchantPaymInfo: z
    .object({
      reference: z.string().max(255).optional(),
      destination: z.string().max(280).optional(),
      comment: z.string().optional(),
      customerEmails: z.array(z.string()).optional(),
      basketOrder: z.array(basketItemSchema).optional(),
    })
    .optional(),
  redirectUrl: z.string().optional(),
  webHookUrl: z.string().optional(),
  /** seconds */
  validity: z.number().int().positive().optional(),
  paymentType: z.enum(['debit', 'hold']).optional(),
});
export type InvoiceCreate = z.infer<typeof invoiceCreateSchema>;

export const invoiceCreatedSchema = z.object({ invoiceId: z.string().min(1), pageUrl: z.string().min(1) });
export type InvoiceCreated = z.infer<typeof invoiceCreatedSchema>;

export const INVOICE_STATUSES = ['created', 'processing', 'hold', 'success', 'failure', 'reversed', 'expired'] as const;
export type InvoiceStatusName = (typeof INVOICE_STATUSES)[number];
export const FINAL_INVOICE_STATUSES: ReadonlySet<InvoiceStatusName> = new Set(['success', 'failure', 'reversed', 'expired']);

export const REFUND_STATUSES = ['processing', 'success', 'failure'] as const;
export type RefundStatusName = (typeof REFUND_STATUSES)[number];

/**
 * A date Monobank sends: kept when it reads as a time, dropped otherwise. Every date of the status
 * schema is optional in the documentation, so one we cannot read must not cost the whole webhook.
 */
const optionalDate = z
  .unknown()
  .transform((value) => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : undefined))
  .optional();
/** An optional field we only display: a wrong type is dropped rather than refusing the message. */
const optionalString = z
  .unknown()
  .transform((value) => (typeof value === 'string' ? value : undefined))
  .optional();
const optionalInt = z
  .unknown()
  .transform((value) => (typeof value === 'number' && Number.isInteger(value) ? value : undefined))
  .optional();

/** One refund of an invoice (SKILL.md "CancelListItem"): only its status is needed to follow a refund. */
export const cancelEntrySchema = z.looseObject({
  status: z.enum(REFUND_STATUSES),
  amount: optionalInt,
  ccy: optionalInt,
  createdDate: optionalDate,
  modifiedDate: optionalDate,
  extRef: optionalString,
});
export type CancelEntry = z.infer<typeof cancelEntrySchema>;

/**
 * The answer of invoice/status, and the body of every status webhook. Strict about what the hub needs
 * (invoiceId, status, amount — required by the documentation —, and a `reference` that names the
 * payment when present); every optional field is tolerated missing, null or unreadable.
 */
export const invoiceStatusSchema = z.looseObject({
  invoiceId: z.string().min(1),
  status: z.enum(INVOICE_STATUSES),
  amount: z.number().int(),
  ccy: optionalInt,
  finalAmount: optionalInt,
  createdDate: optionalDate,
  modifiedDate: optionalDate,
  reference: z.string().nullish(),
  destination: optionalString,
  failureReason: optionalString,
  errCode: optionalString,
  // shown to a person only: a shape we cannot read is dropped, not a refused webhook
  paymentInfo: z
    .looseObject({ maskedPan: optionalString, paymentSystem: optionalString })
    .nullish()
    .catch(() => undefined),
  cancelList: z
    .unknown()
    .transform((value) => (Array.isArray(value) ? value.flatMap((entry) => cancelEntryOrNothing(entry)) : undefined))
    .optional(),
});
export type InvoiceStatus = z.infer<typeof invoiceStatusSchema>;
function cancelEntryOrNothing(entry: unknown): CancelEntry[] {
  const parsed = cancelEntrySchema.safeParse(entry);
  return parsed.success ? [parsed.data] : [];
}

export const invoiceCancelSchema = z.object({
  invoiceId: z.string().min(1),
  /** partial refund in minor units; the whole amount when absent */
  amount: z.number().int().positive().optional(),
  extRef: z.string().optional(),
  /** the return receipt's lines; required by Monobank when fiscalisation is active */
  items: z.array(fiscalItemSchema).optional(),
});
export type InvoiceCancel = z.infer<typeof invoiceCancelSchema>;

/** The answer of invoice/cancel: all three fields required by the documentation; we need the status. */
export const cancelAnswerSchema = z.looseObject({
  status: z.enum(REFUND_STATUSES),
  createdDate: optionalDate,
  modifiedDate: optionalDate,
});
export type CancelAnswer = z.infer<typeof cancelAnswerSchema>;

/**
 * Where the refund named by `extRef` stands in an invoice: `reversed` is a whole refund done; else its
 * cancelList entry says; an entry not (yet) listed is still being processed.
 */
export function refundStatusOf(invoice: InvoiceStatus, extRef: string): RefundStatusName {
  if (invoice.status === 'reversed') return 'success';
  const entry = (invoice.cancelList ?? []).findLast((candidate) => candidate.extRef === extRef);
  return entry?.status ?? 'processing';
}

/** The time of an invoice's last change: `modifiedDate`, else `createdDate`, else when we heard it (both optional). */
export function invoiceTime(invoice: InvoiceStatus, heardAt: number): string {
  return new Date(invoice.modifiedDate ?? invoice.createdDate ?? heardAt).toISOString();
}

/** An invoice status (from invoice/status or a webhook) in the payment machine's words. */
export function paymentUpdateOf(
  invoice: InvoiceStatus,
  source: 'webhook' | 'poll',
  heardAt = Date.now(),
): { status: InvoiceStatusName; providerStatus: string; at: string; source: 'webhook' | 'poll'; reason: string | null } {
  return {
    status: invoice.status,
    providerStatus: invoice.status,
    at: invoiceTime(invoice, heardAt),
    source,
    reason: invoice.failureReason ?? null,
  };
}

/**
 * Whether `X-Sign` (base64 of a DER signature, ECDSA P-256 in Monobank's
 * case) signs SHA-256 of the exact raw body under this public key. A
 * malformed key or signature answers false rather than throwing.
 */
export function verifyPublicKeySignature(options: { publicKeyPem: string; payload: Buffer; signatureBase64: string | undefined }): boolean {
  if (!options.signatureBase64) return false;
  try {
    const key = createPublicKey(options.publicKeyPem);
    return verify('sha256', options.payload, key, Buffer.from(options.signatureBase64, 'base64'));
  } catch {
    return false;
  }
}
