import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { MongoClient } from 'mongodb';
import order from '../../machines/order.ts';
import payment from '../../machines/payment.ts';
import product from '../../machines/product.ts';
import shipment from '../../machines/shipment.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, startHubProcess } from '../support/hub-process.ts';
import { readMail, startMailbox } from '../support/mailbox.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';
import { orderBody, payOnPage, waitForOrder } from '../support/shop.ts';

/** An SMTP server that accepts connections and never says a word: a mail sent to it hangs. */
async function startSilentSmtp(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

test('killed between "payment succeeded" and the end of issuing documents, the restarted hub issues exactly one invoice, numbers stay gapless', async () => {
  const dbName = uniqueDatabaseName('order_crash');
  const mongo = await new MongoClient(databaseUri()).connect();
  const db = mongo.db(dbName);
  const silent = await startSilentSmtp();
  const mailbox = await startMailbox();
  const env = { HUB_EFFECT_LEASE_MS: '1500', HUB_MAIL_FROM: 'shop@example.com' };
  let first = await startHubProcess({ dbName, env: { ...env, HUB_MAIL_SMTP_URL: `smtp://127.0.0.1:${silent.port}` } });
  try {
    const client = hubClient(first.url);
    await client.call('PUT', '/admin/products/CUP-1', { name: 'Чашка', price: 25_000, stock: 10 });
    await client.post('/orders', orderBody({ externalId: 'CRASH-1' }), { 'Idempotency-Key': 'crash-1' });
    const paying = await waitForOrder(client, 'CRASH-1', (o) => typeof o.paymentUrl === 'string', 'a payment page');
    await payOnPage(String(paying.paymentUrl), 'success');

    // The invoice is written, then the receipt mail hangs on the silent SMTP server: the effect is in flight.
    const issued = await eventually(
      async () => (await db.collection<{ _id: string; number: number }>('invoices').findOne({ _id: 'CRASH-1' })) ?? undefined,
      15_000,
      'the invoice written',
    );
    const during = await client.get('/orders/CRASH-1');
    assert.equal(during.body.state, 'issuingDocuments', 'the crash must land while documents are being issued');
    await first.crash();

    const second = await startHubProcess({ dbName, env: { ...env, HUB_MAIL_SMTP_URL: `smtp://127.0.0.1:${mailbox.port}` } });
    first = second;
    const again = hubClient(second.url);
    const confirmed = await waitForOrder(
      again,
      'CRASH-1',
      (o) => o.state === 'fulfilment.awaitingShipment',
      'documents finished after the restart',
    );
    assert.equal((confirmed.invoice as { number: number }).number, issued.number, 'the invoice of before the crash, not a new one');
    assert.equal(await db.collection<{ _id: string }>('invoices').countDocuments({ _id: 'CRASH-1' }), 1);
    assert.equal(await db.collection('invoice_numbers').countDocuments({ orderId: 'CRASH-1' }), 1);

    const receipts = await eventually(
      async () => {
        const mails = await Promise.all(mailbox.messages.map(readMail));
        const found = mails.filter((m) => /Оплату замовлення CRASH-1 отримано/.test(m.subject));
        return found.length > 0 ? found : undefined;
      },
      15_000,
      'the receipt mail',
    );
    assert.equal(receipts.length, 1, 'one receipt, not one per attempt');

    // The next order's invoice follows without a gap.
    await again.post('/orders', orderBody({ externalId: 'CRASH-2', payment: { method: 'cod' } }), { 'Idempotency-Key': 'crash-2' });
    const next = await waitForOrder(again, 'CRASH-2', (o) => o.invoice !== null, 'the next invoice');
    assert.equal((next.invoice as { number: number }).number, issued.number + 1);

    // The database is dropped below: its journals are replayed here, once the hub has stopped writing.
    await first.terminate();
    await assertHubJournalsReplay([dbName], [order, payment, product, shipment]);
  } finally {
    await first.crash().catch(() => undefined);
    await silent.close();
    await mailbox.close();
    await db.dropDatabase();
    await mongo.close();
  }
});
