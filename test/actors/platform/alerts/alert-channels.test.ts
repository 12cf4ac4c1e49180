import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MongoClient, type Db } from 'mongodb';
import { Alerts, type AlertChannel } from '../../../../actors/platform/alerts/alerts.ts';
import { emailChannel, webhookChannel } from '../../../../actors/platform/alerts/channels.ts';
import { alertsCollection, ensureAlertIndexes } from '../../../../persistence/alerts.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger } from '../../../support/runtime-harness.ts';
import { plain, startMailbox, type Mailbox } from '../../../support/mailbox.ts';

async function withDb(run: (db: Db) => Promise<void>): Promise<void> {
  const client = await new MongoClient(databaseUri()).connect();
  const db = client.db(uniqueDatabaseName('alerts'));
  try {
    await ensureAlertIndexes(db);
    await run(db);
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}

test('an alert arrives by SMTP in a real SMTP server, with what happened and without the secrets in its details', () =>
  withDb(async (db) => {
    const mailbox = await startMailbox({ user: 'alerts', pass: 'smtp-pass-771' });
    const email = emailChannel({
      smtpUrl: `smtp://alerts:smtp-pass-771@127.0.0.1:${mailbox.port}`,
      from: 'hub@example.com',
      to: ['ops@example.com'],
      logger: quietLogger,
    });
    const alerts = new Alerts({ collection: alertsCollection.open(db), channels: [email], logger: quietLogger });
    try {
      const alert = await alerts.raise({
        kind: 'circuit_open',
        integration: 'novaposhta',
        subject: 'novaposhta',
        message: 'Nova Poshta: 5 consecutive failures',
        details: { token: 'np-secret-token-1', lastError: 'HTTP 503' },
      });
      await alerts.idle();
      assert.equal(mailbox.messages.length, 1);
      const mail = plain(mailbox.messages[0] ?? '');
      assert.match(mail, /Subject: \[integration-hub\] CRITICAL circuit_open: novaposhta - Nova Poshta/);
      assert.match(mail, /Nova Poshta: 5 consecutive failures/);
      assert.match(mail, /HTTP 503/);
      assert.ok(!mail.includes('np-secret-token-1'), 'the secret is not mailed');
      const stored = JSON.stringify(await alertsCollection.open(db).find({}).toArray());
      assert.ok(!stored.includes('np-secret-token-1'), 'the secret is not stored');
      const view = await alerts.get(alert.id);
      assert.equal(view?.deliveries[0]?.ok, true);
    } finally {
      email.close();
      await mailbox.close();
    }
  }));

test('repeats are grouped into one alert and one mail, with one reminder after the window; acknowledged alerts stay quiet', () =>
  withDb(async (db) => {
    const mailbox = await startMailbox();
    const email = emailChannel({
      smtpUrl: `smtp://127.0.0.1:${mailbox.port}`,
      from: 'hub@example.com',
      to: ['ops@example.com'],
      logger: quietLogger,
    });
    let now = Date.parse('2026-11-22T10:00:00Z');
    const alerts = new Alerts({
      collection: alertsCollection.open(db),
      channels: [email],
      logger: quietLogger,
      now: () => now,
      renotifyAfterMs: 60_000,
    });
    try {
      const input = { kind: 'retries_exhausted', subject: 'order/SHOP-1', message: 'payment call failed 5 times' };
      const raised = await Promise.all(Array.from({ length: 10 }, () => alerts.raise(input)));
      await alerts.idle();
      assert.equal(new Set(raised.map((a) => a.id)).size, 1, 'concurrent raises make one alert');
      assert.equal((await alerts.list({})).alerts[0]?.count, 10);
      assert.equal(mailbox.messages.length, 1, 'one mail for ten occurrences');

      now += 61_000;
      await alerts.raise(input);
      await alerts.idle();
      assert.equal(mailbox.messages.length, 2);
      assert.match(plain(mailbox.messages[1] ?? ''), /repeated 11 times/);

      const id = raised[0]?.id ?? '';
      await alerts.acknowledge(id, 'ops');
      now += 120_000;
      await alerts.raise(input);
      await alerts.idle();
      assert.equal(mailbox.messages.length, 2, 'an acknowledged alert is not re-sent');
      assert.equal((await alerts.get(id))?.count, 12);

      await alerts.resolve(id, 'ops');
      const again = await alerts.raise(input);
      await alerts.idle();
      assert.notEqual(again.id, id, 'after resolving, a new occurrence is a new alert');
      assert.equal(again.count, 1);
      assert.equal(mailbox.messages.length, 3);
    } finally {
      email.close();
      await mailbox.close();
    }
  }));

test('the webhook channel signs its body; a channel that is down is recorded and delivered later by deliverPending', () =>
  withDb(async (db) => {
    const received: Array<{ body: string; signature: string | undefined }> = [];
    let failing = true;
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (failing) {
          res.writeHead(500).end();
          return;
        }
        received.push({ body, signature: req.headers['x-hub-signature-256'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
    // The mail server is down at first, too.
    const mailbox = await startMailbox();
    const mailPort = mailbox.port;
    await mailbox.close();
    const email = emailChannel({
      smtpUrl: `smtp://127.0.0.1:${mailPort}`,
      from: 'hub@example.com',
      to: ['ops@example.com'],
      logger: quietLogger,
      timeoutMs: 2_000,
    });
    const channels: AlertChannel[] = [webhookChannel({ url, secret: 'hook-secret-5', logger: quietLogger }), email];
    const alerts = new Alerts({ collection: alertsCollection.open(db), channels, logger: quietLogger });
    let restarted: Mailbox | null = null;
    try {
      const alert = await alerts.raise({
        kind: 'signature_failures',
        integration: 'monobank',
        subject: 'monobank',
        message: '5 invalid signatures',
      });
      await alerts.idle();
      const failed = await alerts.get(alert.id);
      assert.deepEqual(failed?.deliveries.map((d) => [d.channel, d.ok]).sort(), [
        ['email', false],
        ['webhook', false],
      ]);
      assert.match(failed?.deliveries.find((d) => d.channel === 'webhook')?.error ?? '', /HTTP 500/);

      failing = false;
      restarted = await startMailbox(undefined, mailPort);
      const retried = await alerts.deliverPending();
      assert.deepEqual(retried, { attempted: 2, delivered: 2, failed: 0 });
      assert.equal(restarted.messages.length, 1);
      assert.equal(received.length, 1);
      const { body, signature } = received[0] ?? { body: '', signature: undefined };
      assert.equal(signature, `sha256=${createHmac('sha256', 'hook-secret-5').update(body).digest('hex')}`);
      assert.equal((JSON.parse(body) as { alert: { kind: string } }).alert.kind, 'signature_failures');
      assert.deepEqual(await alerts.deliverPending(), { attempted: 0, delivered: 0, failed: 0 }, 'nothing is sent twice');
    } finally {
      email.close();
      await restarted?.close();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  }));

test('no occurrence is lost while deliveries are recorded on the same alert (FerretDB updates rewrite the whole document)', () =>
  withDb(async (db) => {
    let now = Date.parse('2026-11-22T10:00:00Z');
    let sent = 0;
    // A channel that answers at once, and a reminder due on every repeat: each occurrence's count
    // write meets the previous occurrence's delivery write on the same document.
    const instant: AlertChannel = { name: 'instant', send: async () => void (sent += 1) };
    const alerts = new Alerts({
      collection: alertsCollection.open(db),
      channels: [instant],
      logger: quietLogger,
      now: () => (now += 1_000),
      renotifyAfterMs: 1_000,
    });
    const input = { kind: 'retries_exhausted', subject: 'order/SHOP-2', message: 'payment call failed' };
    const first = await alerts.raise(input);
    const rest = await Promise.all(Array.from({ length: 59 }, () => alerts.raise(input)));
    await alerts.idle();
    assert.ok(
      rest.every((alert) => alert.id === first.id),
      'every repeat joins the first alert',
    );
    const stored = await alerts.get(first.id);
    assert.equal(stored?.count, 60, 'each of the 60 occurrences is counted');
    assert.equal(sent, 60, 'each was due and sent');
    assert.equal(stored?.deliveries.length, 20, 'the last 20 deliveries are kept');
  }));

test('alerts are listed newest first, filtered, and paged with a cursor', () =>
  withDb(async (db) => {
    let now = Date.parse('2026-11-22T10:00:00Z');
    const alerts = new Alerts({ collection: alertsCollection.open(db), channels: [], logger: quietLogger, now: () => now });
    for (let i = 0; i < 7; i += 1) {
      now += 1000;
      await alerts.raise({
        kind: i % 2 ? 'circuit_open' : 'retries_exhausted',
        integration: i % 2 ? 'liqpay' : undefined,
        subject: `s${i}`,
        message: `m${i}`,
      });
    }
    const first = await alerts.list({ limit: 3 });
    assert.deepEqual(
      first.alerts.map((a) => a.subject),
      ['s6', 's5', 's4'],
    );
    const second = await alerts.list({ limit: 3, cursor: first.nextCursor ?? undefined });
    assert.deepEqual(
      second.alerts.map((a) => a.subject),
      ['s3', 's2', 's1'],
    );
    const third = await alerts.list({ limit: 3, cursor: second.nextCursor ?? undefined });
    assert.deepEqual(
      third.alerts.map((a) => a.subject),
      ['s0'],
    );
    assert.equal(third.nextCursor, null);
    assert.equal((await alerts.list({ kind: 'circuit_open' })).alerts.length, 3);
    assert.equal((await alerts.list({ integration: 'liqpay' })).alerts.length, 3);
    await alerts.resolve(first.alerts[0]?.id ?? '', 'ops');
    assert.equal((await alerts.list({ status: 'open' })).alerts.length, 6);
  }));
