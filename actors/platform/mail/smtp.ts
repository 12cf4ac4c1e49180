import nodemailer, { type Transporter } from 'nodemailer';
import { redactString } from '../../../common/logger.ts';

/** An SMTP transport from `smtp://user:pass@host:port` (or `smtps://`), with time-outs. */
export function smtpTransport(smtpUrl: string, timeoutMs = 10_000): Transporter {
  const url = new URL(smtpUrl);
  return nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
}

/** An SMTP failure's message without what nodemailer may quote of the URL and its password. */
export function smtpErrorMessage(error: unknown): string {
  return `SMTP: ${redactString(error instanceof Error ? error.message : String(error))}`;
}
