import { createPublicKey, verify } from 'node:crypto';
import { z } from 'zod';

/**
 * Monobank acquiring ("plata by mono"): `X-Token` on every call, money in
 * minor units, errors as `{errCode, errText}`, status webhooks signed with
 * ECDSA P-256 over SHA-256 of the raw body (`X-Sign`, base64 DER), verified
 * with the key from `GET /api/merchant/pubkey`. Shapes from
 * ../shared/protocols/payments-ua.md.
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

export const cancelEntrySchema = z.looseObject({
  status: z.enum(['processing', 'success', 'failure']),
  amount: z.number().int(),
  ccy: z.number().int().optional(),
  createdDate: z.string().optional(),
  modifiedDate: z.string().optional(),
  extRef: z.string().optional(),
});

/** The answer of invoice/status, and the body of every status webhook. */
export const invoiceStatusSchema = z.looseObject({
  invoiceId: z.string(),
  status: z.enum(INVOICE_STATUSES),
  amount: z.number().int(),
  ccy: z.number().int(),
  finalAmount: z.number().int().optional(),
  createdDate: z.string(),
  modifiedDate: z.string(),
  reference: z.string().optional(),
  destination: z.string().optional(),
  failureReason: z.string().optional(),
  errCode: z.string().optional(),
  paymentInfo: z.looseObject({ maskedPan: z.string().optional(), paymentSystem: z.string().optional() }).nullish(),
  cancelList: z.array(cancelEntrySchema).nullish(),
});
export type InvoiceStatus = z.infer<typeof invoiceStatusSchema>;

export const invoiceCancelSchema = z.object({
  invoiceId: z.string().min(1),
  /** partial refund in minor units; the whole amount when absent */
  amount: z.number().int().positive().optional(),
  extRef: z.string().optional(),
});
export type InvoiceCancel = z.infer<typeof invoiceCancelSchema>;

export const cancelAnswerSchema = z.looseObject({
  status: z.enum(['processing', 'success', 'failure']),
  createdDate: z.string().optional(),
  modifiedDate: z.string().optional(),
});

/** An invoice status (from invoice/status or a webhook) in the payment machine's words. */
export function paymentUpdateOf(
  invoice: InvoiceStatus,
  source: 'webhook' | 'poll',
): { status: InvoiceStatusName; providerStatus: string; at: string; source: 'webhook' | 'poll'; reason: string | null } {
  return {
    status: invoice.status,
    providerStatus: invoice.status,
    at: new Date(invoice.modifiedDate).toISOString(),
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
