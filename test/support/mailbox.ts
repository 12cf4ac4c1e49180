import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

export interface Mailbox {
  port: number;
  messages: string[];
  close(): Promise<void>;
}

/** A real SMTP server on loopback; with `auth`, only that user and password may send. */
export async function startMailbox(auth?: { user: string; pass: string }, port = 0): Promise<Mailbox> {
  const messages: string[] = [];
  const server = new SMTPServer({
    authOptional: !auth,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(credentials, _session, callback) {
      if (auth && credentials.username === auth.user && credentials.password === auth.pass)
        return callback(null, { user: credentials.username });
      return callback(new Error('invalid credentials'));
    },
    onData(stream, _session, callback) {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      stream.on('end', () => {
        messages.push(text);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.server.address() as AddressInfo;
  return { port: address.port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Decodes quoted-printable soft breaks so the mail's text can be searched. */
export const plain = (mail: string) =>
  mail
    .replace(/\r?\n[ \t]+/g, ' ')
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

export interface ReadMail {
  to: string;
  subject: string;
  text: string;
  attachments: Array<{ filename: string; contentType: string; content: Buffer }>;
}

/** A received message decoded (headers, base64 and quoted-printable bodies, attachments). */
export async function readMail(raw: string): Promise<ReadMail> {
  const parsed = await simpleParser(raw);
  const to = Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : (parsed.to?.text ?? '');
  return {
    to,
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? '', contentType: a.contentType, content: a.content })),
  };
}

/** Waits for a message to `to` whose subject or text matches. */
export async function waitForMail(mailbox: Mailbox, to: string, match: RegExp, timeoutMs = 15_000): Promise<ReadMail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const raw of mailbox.messages) {
      const mail = await readMail(raw);
      if (mail.to.includes(to) && (match.test(mail.subject) || match.test(mail.text))) return mail;
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${match} (got ${mailbox.messages.length})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
