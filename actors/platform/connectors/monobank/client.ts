import { z } from 'zod';
import type { CallContext, ConnectorHttp } from '../kit/definition.ts';
import { parseAnswer } from '../kit/parse.ts';
import {
  cancelAnswerSchema,
  invoiceCreatedSchema,
  invoiceStatusSchema,
  MONOBANK_PATHS,
  pubkeySchema,
  type InvoiceCancel,
  type InvoiceCreate,
  type InvoiceCreated,
  type InvoiceStatus,
} from './protocol.ts';

/** Typed client of Monobank acquiring. */
export class MonobankClient {
  constructor(
    private readonly http: ConnectorHttp,
    private readonly token: string,
  ) {}

  private get headers(): Record<string, string> {
    return { 'X-Token': this.token };
  }

  /** The PEM public key that signs status webhooks (the API sends it base64-encoded). */
  async publicKey(context?: CallContext): Promise<string> {
    return this.http.call({
      operation: 'merchant.pubkey',
      method: 'GET',
      path: MONOBANK_PATHS.pubkey,
      headers: this.headers,
      context,
      parse: (response) => {
        const { key } = parseAnswer(this.http, pubkeySchema, response.data, 'pubkey', response.status);
        const pem = Buffer.from(key, 'base64').toString('utf8');
        if (!pem.includes('BEGIN PUBLIC KEY'))
          throw this.http.error('bad_response', 'monobank pubkey: not a base64 PEM public key', { status: response.status });
        return pem;
      },
    });
  }

  /**
   * Creates an invoice. Monobank takes no idempotency key, so this is never
   * retried by the pipeline; a caller recovering from a crash looks its
   * invoice up (it keeps the invoiceId) before creating another.
   */
  async createInvoice(invoice: InvoiceCreate, context?: CallContext): Promise<InvoiceCreated> {
    return this.http.call({
      operation: 'invoice.create',
      method: 'POST',
      path: MONOBANK_PATHS.create,
      headers: this.headers,
      json: invoice,
      idempotent: false,
      context: context && { ...context, idempotencyKey: undefined },
      parse: (response) => parseAnswer(this.http, invoiceCreatedSchema, response.data, 'invoice.create', response.status),
    });
  }

  async invoiceStatus(invoiceId: string, context?: CallContext): Promise<InvoiceStatus> {
    return this.http.call({
      operation: 'invoice.status',
      method: 'GET',
      path: MONOBANK_PATHS.status,
      query: { invoiceId },
      headers: this.headers,
      context,
      parse: (response) => parseAnswer(this.http, invoiceStatusSchema, response.data, 'invoice.status', response.status),
    });
  }

  /** Refunds a paid (or releases a held) invoice, wholly or in part. */
  async cancelInvoice(cancel: InvoiceCancel, context?: CallContext) {
    return this.http.call({
      operation: 'invoice.cancel',
      method: 'POST',
      path: MONOBANK_PATHS.cancel,
      headers: this.headers,
      json: cancel,
      idempotent: false,
      context: context && { ...context, idempotencyKey: undefined },
      parse: (response) => parseAnswer(this.http, cancelAnswerSchema, response.data, 'invoice.cancel', response.status),
    });
  }

  /** Invalidates an unpaid invoice; doing it twice does no harm, so it may be retried. */
  async removeInvoice(invoiceId: string, context?: CallContext): Promise<void> {
    await this.http.call({
      operation: 'invoice.remove',
      method: 'POST',
      path: MONOBANK_PATHS.remove,
      headers: this.headers,
      json: { invoiceId },
      idempotent: true,
      context,
      parse: () => undefined,
    });
  }

  /** Settles a held invoice (paymentType hold). */
  async finalizeInvoice(invoiceId: string, amount?: number, context?: CallContext): Promise<{ status: string }> {
    return this.http.call({
      operation: 'invoice.finalize',
      method: 'POST',
      path: MONOBANK_PATHS.finalize,
      headers: this.headers,
      json: amount === undefined ? { invoiceId } : { invoiceId, amount },
      idempotent: true,
      context,
      parse: (response) => parseAnswer(this.http, z.object({ status: z.string() }), response.data, 'invoice.finalize', response.status),
    });
  }
}
