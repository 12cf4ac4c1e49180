import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Db } from 'mongodb';
import { randomBytes } from 'node:crypto';
import {
  commerceCollections,
  ensureCommerceIndexes,
  issueInvoice,
  onceAtProvider,
  openInvoice,
  type InvoiceData,
} from '../../persistence/commerce.ts';
import { PersonalDataCipher } from '../../persistence/personal-data-key.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';

const data: InvoiceData = {
  customer: { name: 'Олена' },
  lines: [{ sku: 'CUP-1', name: 'Чашка', qty: 1, unitPrice: 25_000 }],
  pricing: { subtotal: 25_000, deliveryFee: 0, fees: [], total: 25_000, vatRatePercent: 20, vat: 4_167, currency: 'UAH' },
  receipt: { paymentId: null, method: 'cod', amount: 25_000, paidAt: null },
  delivery: { carrier: 'novaposhta' },
};

async function withDb(run: (db: Db) => Promise<void>): Promise<void> {
  const client = await new MongoClient(databaseUri()).connect();
  const db = client.db(uniqueDatabaseName('commerce'));
  try {
    await ensureCommerceIndexes(db);
    await run(db);
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}

test('invoices issued concurrently for 20 orders are numbered 1..20: no gap, no number twice', () =>
  withDb(async (db) => {
    const collections = commerceCollections(db);
    const issued = await Promise.all(Array.from({ length: 20 }, (_, i) => issueInvoice(collections, `order-${i}`, data)));
    assert.deepEqual(
      issued.map((i) => i.number).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  }));

test('one order issued five times at once (retried effects) gets one invoice and one number', () =>
  withDb(async (db) => {
    const collections = commerceCollections(db);
    await issueInvoice(collections, 'first', data);
    const repeats = await Promise.all(Array.from({ length: 5 }, () => issueInvoice(collections, 'same', data)));
    assert.deepEqual([...new Set(repeats.map((i) => i.number))], [2]);
    assert.equal(await collections.invoices.countDocuments({ _id: 'same' }), 1);
    assert.equal(await collections.invoiceNumbers.countDocuments({ orderId: 'same' }), 1);
  }));

test('a number claimed before a crash is the one the invoice gets afterwards', () =>
  withDb(async (db) => {
    const collections = commerceCollections(db);
    await collections.invoiceNumbers.insertOne({ _id: 1, orderId: 'crashed', at: new Date('2026-11-22T10:00:00Z') });
    const other = await issueInvoice(collections, 'other', data);
    const resumed = await issueInvoice(collections, 'crashed', data);
    assert.deepEqual([resumed.number, other.number], [1, 2]);
    assert.equal(resumed.issuedAt.toISOString(), '2026-11-22T10:00:00.000Z');
  }));

test('a provider call without idempotency is made once per key; its answer is replayed', () =>
  withDb(async (db) => {
    const collections = commerceCollections(db);
    let calls = 0;
    const call = async () => ({ invoiceId: `inv-${++calls}` });
    const first = await onceAtProvider(collections, 'effect-1', 'invoice.create', call);
    const again = await onceAtProvider(collections, 'effect-1', 'invoice.create', call);
    assert.deepEqual([first, again, calls], [{ invoiceId: 'inv-1' }, { invoiceId: 'inv-1' }, 1]);
  }));

test("an invoice's customer and address are sealed at rest, opened for rendering, and name no one once erased", async () => {
  const client = await new MongoClient(databaseUri()).connect();
  try {
    const collections = commerceCollections(client.db(uniqueDatabaseName('invoice-sealed')));
    const cipher = new PersonalDataCipher(randomBytes(32));
    const personal: InvoiceData = {
      customer: { name: 'Олена Петренко', phone: '+380501234567', email: 'olena@example.com' },
      lines: [],
      pricing: { subtotal: 0, deliveryFee: 0, fees: [], total: 0, vatRatePercent: 20, vat: 0, currency: 'UAH' },
      receipt: { paymentId: null, method: 'cod', amount: 0, paidAt: null },
      delivery: { carrier: 'novaposhta', address: { street: 'Хрещатик', house: '1' } },
    };
    const issued = await issueInvoice(collections, 'sealed-1', personal, new Date(), cipher);
    assert.deepEqual(issued.customer, personal.customer);
    const stored = await collections.invoices.findOne({ _id: 'sealed-1' });
    assert.ok(stored);
    for (const secret of ['Петренко', '501234567', 'olena', 'Хрещатик']) assert.ok(!JSON.stringify(stored).includes(secret), secret);
    const opened = openInvoice(stored, cipher);
    assert.deepEqual([opened.customer, opened.delivery.address], [personal.customer, personal.delivery.address]);
    assert.deepEqual(
      (await issueInvoice(collections, 'sealed-1', personal, new Date(), cipher)).customer,
      personal.customer,
      'a repeat answers it opened',
    );
    assert.deepEqual(openInvoice({ ...stored, personal: 'pd1.erased' }, cipher).customer, { name: '[erased]' });
  } finally {
    await client.close();
  }
});
