import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { AuditLog, type AuditEntry } from '../../../../actors/platform/audit/audit-log.ts';
import { auditRetentionJob } from '../../../../actors/platform/audit/retention-job.ts';
import { collectionsOf } from '../../../../persistence/collections.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger } from '../../../support/runtime-harness.ts';
import { PersonalDataCipher } from '../../../../persistence/personal-data-key.ts';
import { randomBytes } from 'node:crypto';

const entry = (overrides: Partial<AuditEntry>): AuditEntry => ({
  kind: 'outbound',
  integration: 'novaposhta',
  operation: 'Address.getCities',
  actor: null,
  principal: null,
  status: 200,
  outcome: 'ok',
  durationMs: 12,
  error: null,
  request: null,
  response: null,
  details: null,
  ...overrides,
});

test('the audit log filters, pages newest first with a cursor, redacts details, and retention deletes old entries', async () => {
  const client = await new MongoClient(databaseUri()).connect();
  const db = client.db(uniqueDatabaseName('audit'));
  try {
    const audit = new AuditLog(collectionsOf(db).audit, quietLogger, { flushMs: 5 });
    const base = Date.parse('2026-11-01T00:00:00Z');
    for (let i = 0; i < 25; i += 1) {
      audit.record(
        entry({
          at: new Date(base + i * 60_000),
          integration: i % 2 === 0 ? 'novaposhta' : 'monobank',
          outcome: i % 5 === 0 ? 'failed' : 'ok',
        }),
      );
    }
    await audit.recordNow(
      entry({
        kind: 'admin',
        integration: 'liqpay',
        operation: 'integration.update',
        principal: 'ops',
        at: new Date(base + 30 * 60_000),
        details: { privateKey: 'lq-private-1', changed: ['credentials.privateKey'] },
      }),
    );
    await audit.flush();

    const first = await audit.list({ limit: 10 });
    assert.equal(first.entries.length, 10);
    assert.equal(first.entries[0]?.operation, 'integration.update', 'newest first');
    assert.ok(first.nextCursor);
    const second = await audit.list({ limit: 10, cursor: first.nextCursor ?? undefined });
    const third = await audit.list({ limit: 10, cursor: second.nextCursor ?? undefined });
    assert.equal(third.entries.length, 6);
    assert.equal(third.nextCursor, null);
    const ids = [...first.entries, ...second.entries, ...third.entries].map((e) => e.id);
    assert.equal(new Set(ids).size, 26, 'pages do not overlap');

    assert.equal((await audit.list({ integration: 'monobank', limit: 100 })).entries.length, 12);
    assert.equal((await audit.list({ outcome: 'failed', limit: 100 })).entries.length, 5);
    const window = await audit.list({ from: new Date(base + 10 * 60_000), to: new Date(base + 20 * 60_000), limit: 100 });
    assert.equal(window.entries.length, 10);
    const admin = (await audit.list({ kind: 'admin' })).entries[0];
    assert.equal(admin?.principal, 'ops');
    assert.ok(!JSON.stringify(admin).includes('lq-private-1'), 'secret-named details are redacted');

    const job = auditRetentionJob(audit, 30, () => base + 30 * 24 * 3600 * 1000 + 15 * 60_000);
    const output = await job.run({ logger: quietLogger, trigger: 'manual', progress: () => undefined });
    assert.equal((output as { deleted: number }).deleted, 15);
    assert.equal((await audit.list({ limit: 100 })).entries.length, 11);
  } finally {
    await db.dropDatabase();
    await client.close();
  }
});

test('what an entry quotes is sealed in the database and opened when listed', async () => {
  const client = await new MongoClient(databaseUri()).connect();
  const db = client.db(uniqueDatabaseName('audit-sealed'));
  try {
    const audit = new AuditLog(collectionsOf(db).audit, quietLogger, { flushMs: 5, personalData: new PersonalDataCipher(randomBytes(32)) });
    const quoted = {
      request: '{"RecipientName":"Зореслава Тестовенко","RecipientsPhone":"380671239876"}',
      response: '{"to":"zoreslava@example.com"}',
      details: { recipient: 'zoreslava@example.com', reason: 'a test' },
    };
    audit.record(entry({ operation: 'InternetDocument.save', ...quoted }));
    await audit.recordChange({ operation: 'order.note', principal: 'admin', details: { customer: 'Зореслава' } });
    await audit.flush();
    const stored = JSON.stringify(await collectionsOf(db).audit.find({}).toArray());
    for (const secret of ['Зореслава', '671239876', 'zoreslava@']) assert.ok(!stored.includes(secret), `"${secret}" is sealed`);
    const { entries } = await audit.list({});
    const saved = entries.find((e) => e.operation === 'InternetDocument.save');
    assert.deepEqual({ request: saved?.request, response: saved?.response, details: saved?.details }, quoted);
    assert.deepEqual(entries.find((e) => e.operation === 'order.note')?.details, { customer: 'Зореслава' });
  } finally {
    await client.close();
  }
});
