import axios from 'axios';
import type { Logger } from 'winston';
import { redactString } from '../../../common/logger.ts';
import { hmac } from '../../../common/security.ts';
import type { AlertChannelsConfig } from '../../../common/config.ts';
import type { AlertChannel, AlertView } from './alerts.ts';
import { smtpErrorMessage, smtpTransport } from '../mail/smtp.ts';

function subjectLine(alert: AlertView, summary: { repeated: boolean; newOccurrences: number }): string {
  const about = alert.integration ?? alert.subject;
  const repeat = summary.repeated ? ` (repeated ${alert.count} times)` : '';
  return `[integration-hub] ${alert.severity.toUpperCase()} ${alert.kind}: ${about} - ${alert.message}${repeat}`.slice(0, 250);
}

function textBody(alert: AlertView, summary: { repeated: boolean; newOccurrences: number }): string {
  return [
    summary.repeated ? `This alert happened ${summary.newOccurrences} more time(s) since the last message.` : 'A new alert was raised.',
    '',
    `kind:        ${alert.kind}`,
    `severity:    ${alert.severity}`,
    `integration: ${alert.integration ?? '-'}`,
    `subject:     ${alert.subject}`,
    `message:     ${alert.message}`,
    `first seen:  ${alert.firstAt}`,
    `last seen:   ${alert.lastAt}`,
    `count:       ${alert.count}`,
    `alert id:    ${alert.id}`,
    '',
    'details:',
    JSON.stringify(alert.details, null, 2),
    '',
    `See GET /admin/alerts/${encodeURIComponent(alert.id)}; acknowledge it to stop reminders.`,
  ].join('\n');
}

/** Alerts by e-mail over SMTP. Errors are scrubbed: nodemailer may quote the connection URL. */
export function emailChannel(options: {
  smtpUrl: string;
  from: string;
  to: string[];
  logger: Logger;
  timeoutMs?: number;
}): AlertChannel & { close(): void } {
  const timeout = options.timeoutMs ?? 10_000;
  const transport = smtpTransport(options.smtpUrl, timeout);
  return {
    name: 'email',
    async send(alert, summary) {
      try {
        await transport.sendMail({
          from: options.from,
          to: options.to,
          subject: subjectLine(alert, summary),
          text: textBody(alert, summary),
        });
      } catch (error) {
        // eslint-disable-next-line preserve-caught-error -- the original may quote the SMTP URL with its password
        throw new Error(smtpErrorMessage(error));
      }
    },
    close: () => transport.close(),
  };
}

/** Alerts POSTed as JSON; signed `X-Hub-Signature-256: sha256=<hex HMAC of the body>` when a secret is set. */
export function webhookChannel(options: { url: string; secret?: string; logger: Logger; timeoutMs?: number }): AlertChannel {
  const http = axios.create({ timeout: options.timeoutMs ?? 10_000, validateStatus: () => true, maxRedirects: 0 });
  return {
    name: 'webhook',
    async send(alert, summary) {
      const body = JSON.stringify({ alert, repeated: summary.repeated, newOccurrences: summary.newOccurrences });
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'integration-hub' };
      if (options.secret) headers['x-hub-signature-256'] = `sha256=${hmac('sha256', options.secret, body, 'hex')}`;
      let status: number;
      try {
        status = (await http.post(options.url, body, { headers, transformRequest: [(data: unknown) => data] })).status;
      } catch (error) {
        // eslint-disable-next-line preserve-caught-error -- the original may quote the URL with its token
        throw new Error(`webhook unreachable: ${redactString(error instanceof Error ? error.message : String(error))}`);
      }
      if (status < 200 || status >= 300) throw new Error(`webhook answered HTTP ${status}`);
    },
  };
}

export function alertChannelsFromConfig(config: AlertChannelsConfig, logger: Logger): AlertChannel[] {
  const channels: AlertChannel[] = [];
  if (config.smtpUrl && config.emailTo.length > 0)
    channels.push(emailChannel({ smtpUrl: config.smtpUrl, from: config.emailFrom, to: config.emailTo, logger }));
  if (config.webhookUrl) channels.push(webhookChannel({ url: config.webhookUrl, secret: config.webhookSecret, logger }));
  return channels;
}
