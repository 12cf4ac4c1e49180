import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import winston from 'winston';
import { describeConfig, loadConfig } from '../../common/config.ts';
import { createLogger, redact } from '../../common/logger.ts';

/** A real logger whose final serialized lines (what a transport writes) are captured. */
function capture(json: boolean) {
  const stream = new PassThrough();
  let written = '';
  stream.on('data', (chunk: Buffer) => {
    written += chunk.toString();
  });
  const logger = createLogger({ level: 'debug', json, transports: [new winston.transports.Stream({ stream })] });
  return {
    logger,
    async lines(): Promise<string[]> {
      await new Promise((resolve) => setImmediate(resolve));
      return written.split('\n').filter(Boolean);
    },
  };
}

const SECRETS = [
  'sk_live_abcdef123456', // Bearer token in the message
  'cGFzc3dvcmQ6c2VjcmV0', // Basic credentials in an Authorization header
  'hunter2-password', // password nested in an array
  '4111 1111 1111 1111',
  '4111111111111111',
  '4111-1111-1111-1111',
  's3cr3tpass', // URL credentials
  'tok-98765-zyx', // token in an Error message and a query string
  'k-123456789', // apiKey
];
const KEPT = [
  'SHOP-1001',
  '20450000000000',
  'idem-call-1',
  'olena',
  'page=2',
  'upstream said',
  'partner.example.com',
  'https://api:***@partner.example.com',
];

/** Logs one of everything that must be hidden, next to things that must stay. */
function logSecrets(logger: winston.Logger): void {
  logger.info('calling partner with Bearer sk_live_abcdef123456', {
    headers: { Authorization: 'Basic cGFzc3dvcmQ6c2VjcmV0', 'Idempotency-Key': 'idem-call-1', 'content-type': 'application/json' },
    users: [{ name: 'olena', password: 'hunter2-password' }],
    note: 'paid with 4111 1111 1111 1111, 4111111111111111 and 4111-1111-1111-1111',
    url: 'https://api:s3cr3tpass@partner.example.com/v1/x?token=tok-98765-zyx&page=2',
    orderId: 'SHOP-1001',
    waybill: '20450000000000',
    idempotencyKey: 'idem-call-1',
    partner: { apiKey: 'k-123456789' },
  });
  logger.error('request failed', { error: new Error('upstream said: Bearer tok-98765-zyx rejected') });
  logger.error(new Error('upstream said: token=tok-98765-zyx rejected'));
  logger.warn('retrying', new Error('upstream said: Bearer tok-98765-zyx rejected'));
}

for (const json of [true, false]) {
  const format = json ? 'JSON' : 'text';

  test(`no secret reaches a ${format} log line while ordinary fields do`, async () => {
    const { logger, lines } = capture(json);
    logSecrets(logger);
    const output = (await lines()).join('\n');
    for (const secret of SECRETS) assert.ok(!output.includes(secret), `${secret} leaked:\n${output}`);
    for (const kept of KEPT) assert.ok(output.includes(kept), `${kept} missing:\n${output}`);
    assert.match(output, /Bearer \[REDACTED\]/);
    assert.ok(output.includes('[CARD]'));
  });

  test(`an Error logged in ${format} keeps its message and stack, redacted`, async () => {
    const { logger, lines } = capture(json);
    logger.error(new Error('upstream said: Bearer tok-98765-zyx rejected'));
    const [line = ''] = await lines();
    assert.ok(line.includes('upstream said: Bearer [REDACTED] rejected'), line);
    assert.ok(line.includes('logger.test.ts'), `the stack is kept: ${line}`);
    assert.ok(!line.includes('tok-98765-zyx'));
  });

  test(`a cyclic object is logged as ${format} without throwing`, async () => {
    const { logger, lines } = capture(json);
    const cyclic: Record<string, unknown> = { name: 'loop', apiKey: 'k-123456789' };
    cyclic.self = cyclic;
    cyclic.list = [cyclic];
    assert.doesNotThrow(() => logger.info('cycle', { cyclic }));
    const output = (await lines()).join('\n');
    assert.ok(output.includes('[Circular]'), output);
    assert.ok(output.includes('loop'));
    assert.ok(!output.includes('k-123456789'));
  });
}

test('JSON lines are parseable with secrets replaced in place', async () => {
  const { logger, lines } = capture(true);
  logSecrets(logger);
  const [first = '{}'] = await lines();
  const entry = JSON.parse(first) as Record<string, unknown>;
  assert.equal(entry.level, 'info');
  assert.equal(entry.message, 'calling partner with Bearer [REDACTED]');
  assert.match(String(entry.timestamp), /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(entry.headers, { Authorization: '[REDACTED]', 'Idempotency-Key': 'idem-call-1', 'content-type': 'application/json' });
  assert.deepEqual(entry.users, [{ name: 'olena', password: '[REDACTED]' }]);
  assert.equal(entry.note, 'paid with [CARD], [CARD] and [CARD]');
  assert.equal(entry.url, 'https://api:***@partner.example.com/v1/x?token=[REDACTED]&page=2');
  assert.equal(entry.waybill, '20450000000000');
  assert.deepEqual(entry.partner, { apiKey: '[REDACTED]' });
});

test('text lines read as time, level, message and key=value fields on one line', async () => {
  const { logger, lines } = capture(false);
  logger.info('order accepted', { orderId: 'SHOP-1001', amount: 12.5, note: 'two words', nested: { ok: true } });
  logger.warn('first line\nsecond line');
  logger.info('big numbers', { count: 10n });
  const [accepted = '', multiline = '', big = ''] = await lines();
  assert.match(
    accepted,
    /^\d\d:\d\d:\d\d\.\d{3} info {2}order accepted orderId=SHOP-1001 amount=12\.5 note="two words" nested=\{"ok":true\}$/,
  );
  assert.match(multiline, /^\d\d:\d\d:\d\d\.\d{3} warn {2}first line\\nsecond line$/);
  assert.match(big, / count="10"$/);
  assert.ok(!accepted.includes('\u001b['), 'no colours');
});

test('keys are matched without regard to case, dashes or underscores, and as suffixes', () => {
  const copy = redact({
    AUTHORIZATION: 'a',
    'Set-Cookie': ['sid=1'],
    cookie: 'sid=1',
    Password: 'p',
    passwd: 'p',
    client_secret: 's',
    access_token: 't',
    refreshToken: 't',
    'x-api-key': 'k',
    api_key: 'k',
    privateKey: 'k',
    master_key: 'k',
    credentials: { user: 'u', pass: 'p' },
    signature: 's',
    sign: 's',
    card: { number: '4242424242424242' },
    pan: '4242424242424242',
    cardNumber: '4242',
    cvv: 123,
    CVC: '123',
    dbPassword: 'p',
    webhookSecret: 's',
  }) as Record<string, unknown>;
  for (const [key, value] of Object.entries(copy)) assert.equal(value, '[REDACTED]', key);
});

test('idempotency keys, ids and other ordinary fields are kept', () => {
  const meta = {
    idempotencyKey: 'idem-1',
    'Idempotency-Key': 'idem-2',
    orderId: 'SHOP-1001',
    waybill: 20450000000000,
    waybillText: 'waybill 20450000000000',
    key: 'order/SHOP-1001',
    tokenCount: 3,
    hasPassword: true,
    at: 1732280000000,
    adminApiKey: '[set]',
  };
  assert.deepEqual(redact(meta), meta);
});

test('card numbers are found grouped, ungrouped and next to other numbers', () => {
  assert.equal(redact('4111 1111 1111 1111'), '[CARD]');
  assert.equal(redact('4111-1111-1111-1111'), '[CARD]');
  assert.equal(redact('pan:4111111111111111.'), 'pan:[CARD].');
  assert.equal(redact('amex 378282246310005 ok'), 'amex [CARD] ok');
  assert.equal(redact('4111 1111 1111 1111 12 items'), '[CARD] 12 items');
  assert.deepEqual(redact({ n: 4111111111111111 }), { n: '[CARD]' });
  const many = redact(Array.from({ length: 500 }, () => '4111 1111 1111 1111').join(' ')) as string;
  assert.ok(!many.includes('4111') && many.startsWith('[CARD] [CARD]'));
  assert.equal(redact('order 1234567890123 and waybill 20450000000000'), 'order 1234567890123 and waybill 20450000000000');
});

test('credentials in strings are replaced', () => {
  assert.equal(redact('Authorization: Bearer abc.def-ghi'), 'Authorization: Bearer [REDACTED]');
  assert.equal(redact('authorization=Basic dXNlcjpwYXNz'), 'authorization=Basic [REDACTED]');
  assert.equal(redact('mongodb://hub:p@ss@db:27017/hub'), 'mongodb://hub:***@db:27017/hub');
  assert.equal(
    redact('GET /cb?sign=abc123&key=k9&apiKey=x&password=y&signature=z&id=7'),
    'GET /cb?sign=[REDACTED]&key=[REDACTED]&apiKey=[REDACTED]&password=[REDACTED]&signature=[REDACTED]&id=7',
  );
  assert.equal(
    redact('partner said {"access_token":"at-1","expires_in":3600}'),
    'partner said {"access_token":"[REDACTED]","expires_in":3600}',
  );
});

test('redaction copies: the caller’s objects are unchanged', async () => {
  const meta = { password: 'p', nested: { token: 't', keep: 1, list: [{ secret: 's' }] }, error: new Error('Bearer abc') };
  const before = structuredClone({ ...meta, error: undefined });
  const copy = redact(meta) as { password: string; nested: { token: string; list: Array<{ secret: string }> }; error: { message: string } };
  assert.equal(copy.password, '[REDACTED]');
  assert.equal(copy.nested.token, '[REDACTED]');
  assert.equal(copy.nested.list[0]?.secret, '[REDACTED]');
  assert.equal(copy.error.message, 'Bearer [REDACTED]');
  assert.deepEqual({ ...meta, error: undefined }, before);
  assert.equal(meta.error.message, 'Bearer abc');

  // winston hands the caller's own object to the formats when it is the only argument.
  const { logger, lines } = capture(true);
  const entry = { message: 'direct', password: 'p', nested: { token: 't' } };
  logger.info(entry);
  logger.info('with meta', meta);
  assert.equal((await lines()).length, 2);
  assert.equal(entry.password, 'p');
  assert.deepEqual(entry.nested, { token: 't' });
  assert.equal(Object.getOwnPropertySymbols(entry).includes(Symbol.for('message')), false);
  assert.deepEqual({ ...meta, error: undefined }, before);
});

test('Errors keep their own fields and causes, redacted', () => {
  const error = Object.assign(new Error('request failed', { cause: new Error('socket said token=abc') }), {
    code: 'ECONNRESET',
    config: { url: 'https://u:pw@x.example/y', headers: { Authorization: 'Bearer abc' } },
  });
  const copy = redact(error) as Record<string, unknown>;
  assert.equal(copy.name, 'Error');
  assert.equal(copy.message, 'request failed');
  assert.match(String(copy.stack), /^Error: request failed\n/);
  assert.equal(copy.code, 'ECONNRESET');
  assert.deepEqual(copy.config, { url: 'https://u:***@x.example/y', headers: { Authorization: '[REDACTED]' } });
  assert.equal((copy.cause as Record<string, unknown>).message, 'socket said token=[REDACTED]');
});

test('a configuration summary is logged with [set] and [unset] intact', async () => {
  const { logger, lines } = capture(true);
  const config = loadConfig({ ADMIN_API_KEY: 'a'.repeat(30), MONGODB_URI: 'mongodb://hub:pw-123@db:27017' });
  logger.info('starting', { config: describeConfig(config) });
  const [line = ''] = await lines();
  const entry = JSON.parse(line) as { config: Record<string, unknown> };
  assert.equal(entry.config.adminApiKey, '[set]');
  assert.equal(entry.config.masterKey, '[unset]');
  assert.equal(entry.config.mongodbUri, 'mongodb://***@db:27017');
  assert.ok(!line.includes('a'.repeat(30)) && !line.includes('pw-123'));
});

test('a silent logger writes nothing', async () => {
  const stream = new PassThrough();
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  const logger = createLogger({ level: 'info', json: true, silent: true, transports: [new winston.transports.Stream({ stream })] });
  logger.error('nothing');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(written, '');
});
