import type { Transporter } from 'nodemailer';
import type { Collection } from 'mongodb';
import type { Logger } from 'winston';
import { isDuplicateKeyError } from '../../../persistence/collections.ts';
import type { MailDoc } from '../../../persistence/commerce.ts';
import { PersonalDataCipher } from '../../../persistence/personal-data-key.ts';
import { smtpErrorMessage, smtpTransport } from './smtp.ts';

/**
 * Mail to customers and management, kept before it is sent: one document
 * per sender's idempotency key (a repeated effect sends nothing twice),
 * delivered by SMTP at once when possible, retried by the `mail-delivery`
 * job, given up after a few attempts. Without an SMTP server configured,
 * mail is kept (status `not_configured`) and readable at `GET /admin/mail`.
 */

export interface OutgoingMail {
  /** the idempotency key of whoever sends it */
  id: string;
  to: string;
  subject: string;
  text: string;
  template: string;
  orderId: string | null;
  attachments?: MailDoc['attachments'];
}

export type AttachmentRenderer = (
  attachment: MailDoc['attachments'][number],
) => Promise<{ filename: string; content: Buffer; contentType: string } | null>;

const MAX_ATTEMPTS = 5;

export class Mailer {
  private readonly transport: Transporter | null;

  constructor(
    private readonly options: {
      collection: Collection<MailDoc>;
      smtpUrl?: string;
      from: string;
      logger: Logger;
      renderAttachment: AttachmentRenderer;
      now?: () => number;
      /** seals the address and the text (a customer's name, their order) while the mail is kept */
      personalData?: PersonalDataCipher;
    },
  ) {
    this.transport = options.smtpUrl ? smtpTransport(options.smtpUrl) : null;
  }

  private now(): Date {
    return new Date((this.options.now ?? Date.now)());
  }

  private seal(text: string): string {
    return this.options.personalData ? this.options.personalData.seal(text) : text;
  }

  /** A kept mail as it is sent and shown: address and text opened (mail kept before sealing reads as it is). */
  private opened(doc: MailDoc): MailDoc {
    const cipher = this.options.personalData;
    if (!cipher) return doc;
    const open = (value: string) => (PersonalDataCipher.isSealed(value) ? String(cipher.open(value)) : value);
    return { ...doc, to: open(doc.to), text: open(doc.text) };
  }

  /** Keeps the mail (once per id) and tries to send it now; a failed send stays pending for the job. */
  async send(mail: OutgoingMail): Promise<MailDoc> {
    const doc: MailDoc = {
      _id: mail.id,
      to: this.seal(mail.to),
      subject: mail.subject,
      text: this.seal(mail.text),
      template: mail.template,
      orderId: mail.orderId,
      attachments: mail.attachments ?? [],
      status: this.transport ? 'pending' : 'not_configured',
      attempts: 0,
      lastError: null,
      createdAt: this.now(),
      sentAt: null,
    };
    try {
      await this.options.collection.insertOne(doc);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.options.collection.findOne({ _id: mail.id });
      if (!existing || existing.status !== 'pending') return this.opened(existing ?? doc);
      return this.deliver(this.opened(existing));
    }
    if (doc.status === 'not_configured')
      this.options.logger.info('mail kept (no SMTP server configured)', { template: doc.template, orderId: doc.orderId });
    return doc.status === 'pending' ? this.deliver(this.opened(doc)) : this.opened(doc);
  }

  /** `doc` opened: what the sender wrote. */
  private async deliver(doc: MailDoc): Promise<MailDoc> {
    if (!this.transport) return doc;
    const attempts = doc.attempts + 1;
    try {
      const attachments = [];
      for (const attachment of doc.attachments) {
        const rendered = await this.options.renderAttachment(attachment);
        if (rendered) attachments.push(rendered);
      }
      await this.transport.sendMail({
        from: this.options.from,
        to: doc.to,
        subject: doc.subject,
        text: doc.text,
        attachments,
        messageId: `<${doc._id.replace(/[^A-Za-z0-9.-]/g, '-')}@integration-hub>`,
      });
      const sent = { ...doc, status: 'sent' as const, attempts, sentAt: this.now(), lastError: null };
      await this.options.collection.updateOne(
        { _id: doc._id },
        { $set: { status: 'sent', attempts, sentAt: sent.sentAt, lastError: null } },
      );
      return sent;
    } catch (error) {
      const message = smtpErrorMessage(error);
      const status = attempts >= MAX_ATTEMPTS ? ('failed' as const) : ('pending' as const);
      await this.options.collection.updateOne({ _id: doc._id }, { $set: { status, attempts, lastError: message } });
      this.options.logger.warn('mail not sent', { template: doc.template, orderId: doc.orderId, attempts, error: message });
      return { ...doc, status, attempts, lastError: message };
    }
  }

  /** Sends what is still pending (the `mail-delivery` job). */
  async deliverPending(limit = 50): Promise<{ sent: number; pending: number }> {
    const pending = await this.options.collection.find({ status: 'pending' }).sort({ createdAt: 1 }).limit(limit).toArray();
    let sent = 0;
    for (const doc of pending) if ((await this.deliver(this.opened(doc))).status === 'sent') sent += 1;
    return { sent, pending: pending.length - sent };
  }

  async list(filter: { orderId?: string; status?: MailDoc['status']; limit?: number }): Promise<MailDoc[]> {
    const query: Record<string, unknown> = {};
    if (filter.orderId) query.orderId = filter.orderId;
    if (filter.status) query.status = filter.status;
    const docs = await this.options.collection
      .find(query)
      .sort({ createdAt: -1 })
      .limit(Math.min(filter.limit ?? 50, 200))
      .toArray();
    return docs.map((doc) => this.opened(doc));
  }

  close(): void {
    this.transport?.close();
  }
}
