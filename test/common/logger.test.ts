import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import winston from 'winston';
import { createLogger, redact } from '../../common/logger.ts';

/** A real logger whose final serialized lines are captured. */
function capture(json: boolean) {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  const logger = createLogger({ level: 'debug', json, transports: [new winston.transports.Stream({ stream })] });
  return { logger, text: async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return lines.join('\n');
  } };
}

const SECRETS = ['sk_live_abcdef123456', 'hunter2-password', 'tok-98765-zyx', '4111111111111111', '4111 1111 1111 1111', 'cGFzc3dvcmQ6c2VjcmV0', 's3cr3tpass'];

for (const json of [true, false]) {
  test(`no secret reaches a ${json ? 'JSON' : 'text'} log line, ordinary fields do`, async () => {
    const { logger, text } = capture(json);
    logger.info('calling partner with Bearer sk_live_abcdef123456', {
      headers: { Authorization: 'Basic cGFzc3dvcmQ6c2VjcmV0', 'content-type': 'application/json' },
      users: [{ name: 'olena', password: 'hunter2-password' }],
      card: 'any',
      note: 'paid with 4111 1111 1111 1111 and 4111111111111111',
      url: 'https://api:s3cr3tpass@partner.example.com/v1/x?token=tok-98765-zyx&page=2',
      orderId: 'SHOP-1001',
      waybill: '20450000000000',
      idempotencyKey: 'call-1',
    });
    logger.error('request failed', { error: new Error('upstream said: Bearer tok-98765-zyx rejected') });
    const output = await text();
    for (const secret of SECRETS) assert.ok(!output.includes(secret), `${secret} leaked:\n${output}`);
    for (const kept of ['SHOP-1001', '20450000000000', 'call-1', 'olena', 'page=2', 'upstream said', 'partner.example.com']) {
      assert.ok(output.includes(kept), `${kept} missing:\n${output}`);
    }
    assert.ok(output.includes('[REDACTED]'));
    assert.ok(output.includes('[CARD]'));
  });
}

test('redaction copies: the caller’s objects are unchanged', () => {
  const meta = { password: 'p', nested: { token: 't', keep: 1 } };
  const copy = redact(meta) as typeof meta;
  assert.equal(copy.password, '[REDACTED]');
  assert.equal(copy.nested.token, '[REDACTED]');
  assert.deepEqual(meta, { password: 'p', nested: { token: 't', keep: 1 } });
});

test('a cyclic object is logged without throwing', async () => {
  const { logger, text } = capture(true);
  const cyclic: Record<string, unknown> = { name: 'loop', apiKey: 'k-123456789' };
  cyclic.self = cyclic;
  assert.doesNotThrow(() => logger.info('cycle', { cyclic }));
  const output = await text();
  assert.ok(output.includes('[Circular]'));
  assert.ok(!output.includes('k-123456789'));
});
