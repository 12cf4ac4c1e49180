import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderPolicySchema } from '../../machines/order-rules.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, describeConfig, loadConfig } from '../../common/config.ts';

const ADMIN_KEY = 'adm1n-key-that-is-long-enough-0123456789';
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/** The ConfigError message for `env`; fails when the configuration is accepted. */
function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail(`expected ${JSON.stringify(Object.keys(env))} to be refused`);
}

test('an empty environment gives a working development configuration', () => {
  const config = loadConfig({});
  assert.deepEqual(config, {
    env: 'development',
    port: 3000,
    host: '127.0.0.1',
    mongodbUri: undefined,
    mongodbDb: 'hub',
    embeddedDb: 'sqlite',
    events: { enabled: true },
    dataDir: path.resolve('./data'),
    logLevel: 'info',
    adminApiKey: undefined,
    masterKey: undefined,
    publicBaseUrl: 'http://127.0.0.1:3000',
    actorCacheSize: 10_000,
    actorRouting: true,
    bodyLimitBytes: 1024 * 1024,
    jsonMaxDepth: 64,
    http: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 },
    shutdownTimeoutMs: 10_000,
    effectMaxAttempts: 5,
    effectLeaseMs: 30_000,
    workerPollMs: 1000,
    projections: { quietMs: 2000, repairAfterMs: 15_000 },
    previousMasterKey: undefined,
    sandboxes: 'auto',
    deviceEmulators: 'auto',
    trustedProxies: [],
    limits: {
      apiPerMinute: 6_000,
      apiBurst: 600,
      publicPerMinute: 1_200,
      publicBurst: 200,
      exempt: ['127.0.0.0/8', '::1'],
      authFailureThreshold: 20,
      authFailureWindowMs: 300_000,
    },
    auditRetentionDays: 30,
    personalDataRetentionDays: 1095,
    alerts: { smtpUrl: undefined, emailFrom: 'integration-hub@localhost', emailTo: [], webhookUrl: undefined, webhookSecret: undefined },
    mail: { smtpUrl: undefined, from: 'shop@localhost', reportTo: [] },
    orderPolicy: orderPolicySchema.parse({}),
    fiscalPolicy: {
      autoZReport: true,
      retryDelayMs: 2_000,
      maxRetryDelayMs: 60_000,
      alertAfterMs: 300_000,
      dailyZReport: '55 23 * * *',
      timeZone: 'Europe/Kyiv',
    },
    posPolicy: {
      stores: { main: { fiscalRegister: null, receiptPrinter: null } },
      paymentValiditySeconds: 900,
      paymentGraceSeconds: 60,
    },
    seller: { name: 'ТОВ «Демо-магазин»', details: 'ЄДРПОУ 00000000 · м. Київ' },
    publicBaseUrlExplicit: false,
    integrationSeeds: [],
    processes: 1,
    databasePoolSize: 0,
  });
});

test('the order policy and mail settings are read and checked', () => {
  const config = loadConfig({
    HUB_ORDER_POLICY: '{"vatRatePercent":7,"maxPaymentAttempts":5}',
    HUB_MAIL_SMTP_URL: 'smtp://shop:pw@mail.example.com:587',
    HUB_REPORT_EMAIL_TO: 'a@example.com, b@example.com',
  });
  assert.equal(config.orderPolicy.vatRatePercent, 7);
  assert.equal(config.orderPolicy.maxPaymentAttempts, 5);
  assert.equal(config.orderPolicy.deliveryDays, 3);
  assert.deepEqual(config.mail.reportTo, ['a@example.com', 'b@example.com']);
  assert.throws(() => loadConfig({ HUB_ORDER_POLICY: '{"maxPaymentAttempts":0}' }), /HUB_ORDER_POLICY.*maxPaymentAttempts/s);
  assert.throws(() => loadConfig({ HUB_ORDER_POLICY: 'not json' }), /HUB_ORDER_POLICY: must be JSON/);
  assert.throws(() => loadConfig({ HUB_REPORT_EMAIL_TO: 'nobody' }), /HUB_REPORT_EMAIL_TO/);
});

test('the fiscal policy and the device emulators are read and checked', () => {
  const config = loadConfig({
    HUB_FISCAL_POLICY: '{"autoZReport":false,"dailyZReport":null,"timeZone":"Asia/Tashkent"}',
    HUB_DEVICE_EMULATORS: 'off',
  });
  assert.deepEqual(
    [config.fiscalPolicy.autoZReport, config.fiscalPolicy.dailyZReport, config.fiscalPolicy.timeZone],
    [false, null, 'Asia/Tashkent'],
  );
  assert.equal(config.deviceEmulators, 'off');
  assert.equal(
    loadConfig({ NODE_ENV: 'production', MONGODB_URI: 'mongodb://db.example.net', ADMIN_API_KEY: ADMIN_KEY, HUB_MASTER_KEY: MASTER_KEY })
      .deviceEmulators,
    'off',
  );
  assert.throws(() => loadConfig({ HUB_FISCAL_POLICY: '{"timeZone":"Mars/Base"}' }), /HUB_FISCAL_POLICY.*timeZone: an IANA time zone/s);
  assert.throws(() => loadConfig({ HUB_FISCAL_POLICY: '{"dailyZReport":"at midnight"}' }), /HUB_FISCAL_POLICY.*cron expression/s);
  assert.throws(() => loadConfig({ HUB_FISCAL_POLICY: '{"paperSaver":true}' }), /HUB_FISCAL_POLICY/);
  assert.throws(() => loadConfig({ HUB_DEVICE_EMULATORS: 'yes' }), /HUB_DEVICE_EMULATORS: must be auto or off/);
});

test('domain events: on by default (off under test), NATS_URL checked and never shown with its password', () => {
  assert.deepEqual(loadConfig({ NODE_ENV: 'test' }).events, { enabled: false });
  assert.deepEqual(loadConfig({ NODE_ENV: 'test', HUB_EVENTS: 'on' }).events, { enabled: true });
  assert.deepEqual(loadConfig({ HUB_EVENTS: 'off' }).events, { enabled: false });
  const external = loadConfig({ NATS_URL: 'nats://hub:s3cret@nats.internal:4222' });
  assert.deepEqual(external.events, { enabled: true, natsUrl: 'nats://hub:s3cret@nats.internal:4222' });
  assert.ok(!JSON.stringify(describeConfig(external)).includes('s3cret'));
  assert.throws(() => loadConfig({ NATS_URL: 'http://nats.internal' }), /NATS_URL: must start with nats:\/\/ or tls:\/\//);
  assert.throws(() => loadConfig({ HUB_EVENTS: 'yes' }), /HUB_EVENTS: must be on or off/);
});

test('actor routing: on by default; a worker reads its slot as slot/slots, and anything else is refused', () => {
  assert.equal(loadConfig({}).actorRouting, true);
  assert.equal(loadConfig({ HUB_ACTOR_ROUTING: 'off' }).actorRouting, false);
  assert.throws(() => loadConfig({ HUB_ACTOR_ROUTING: 'maybe' }), /HUB_ACTOR_ROUTING: must be on or off/);
  assert.equal(loadConfig({}).clusterSlot, undefined);
  assert.deepEqual(loadConfig({ HUB_CLUSTER_SLOT: '2/3' }).clusterSlot, { slot: 2, slots: 3 });
  for (const bad of ['3/3', '1', '-1/2', '0/0', 'a/b']) {
    assert.throws(() => loadConfig({ HUB_CLUSTER_SLOT: bad }), /HUB_CLUSTER_SLOT: must be slot\/slots/, bad);
  }
});

test('HUB_PROCESSES: 1 to 64, default 1; the sandboxes a cluster primary hands its workers are read, never quoted', () => {
  assert.equal(loadConfig({}).processes, 1);
  assert.equal(loadConfig({ HUB_PROCESSES: '4' }).processes, 4);
  assert.match(problems({ HUB_PROCESSES: '0' }), /HUB_PROCESSES: must be a whole number from 1 to 64/);
  assert.match(problems({ HUB_PROCESSES: '65' }), /HUB_PROCESSES: must be a whole number from 1 to 64/);
  assert.equal(loadConfig({ HUB_DB_POOL_SIZE: '64' }).databasePoolSize, 64);
  assert.match(problems({ HUB_DB_POOL_SIZE: 'many' }), /HUB_DB_POOL_SIZE: must be a whole number from 0 to 1000/);
  const shared = { monobank: { url: 'http://127.0.0.1:4100', credentials: { token: 'sandbox-s3cret' } } };
  const worker = loadConfig({ HUB_CLUSTER_SANDBOXES: JSON.stringify(shared) });
  assert.deepEqual(worker.clusterSandboxes, shared);
  assert.deepEqual(describeConfig(worker).clusterSandboxes, ['monobank']);
  assert.ok(!JSON.stringify(describeConfig(worker)).includes('s3cret'));
  const refused = problems({ HUB_CLUSTER_SANDBOXES: '{"monobank":{"url":"nope","credentials":{"token":"sandbox-s3cret"}}}' });
  assert.match(refused, /HUB_CLUSTER_SANDBOXES: is set by the cluster primary for its workers only/);
  assert.ok(!refused.includes('s3cret'));
});

test('HUB_EMBEDDED_DB: sqlite (the default) or postgresql, any case; anything else is refused with the choices', () => {
  assert.equal(loadConfig({}).embeddedDb, 'sqlite');
  assert.equal(loadConfig({ HUB_EMBEDDED_DB: ' ' }).embeddedDb, 'sqlite');
  assert.equal(loadConfig({ HUB_EMBEDDED_DB: 'sqlite' }).embeddedDb, 'sqlite');
  assert.equal(loadConfig({ HUB_EMBEDDED_DB: 'postgresql' }).embeddedDb, 'postgresql');
  assert.equal(loadConfig({ HUB_EMBEDDED_DB: 'PostgreSQL' }).embeddedDb, 'postgresql');
  for (const wrong of ['postgres', 'mongodb', 'pg', 'sqlite3']) {
    assert.match(
      problems({ HUB_EMBEDDED_DB: wrong }),
      new RegExp(`^HUB_EMBEDDED_DB: must be one of sqlite, postgresql \\(got "${wrong}"\\);.*postgresql-15.*default sqlite$`),
    );
  }
  // With MONGODB_URI the setting is valid but moot: the embedded database is not started (and the start says so).
  const external = loadConfig({ MONGODB_URI: 'mongodb://db.internal:27017', HUB_EMBEDDED_DB: 'postgresql' });
  assert.equal(external.embeddedDb, 'postgresql');
  assert.equal(describeConfig(external).embeddedDb, '[ignored: MONGODB_URI is set]');
  assert.equal(describeConfig(loadConfig({ HUB_EMBEDDED_DB: 'postgresql' })).embeddedDb, 'postgresql');
});

test('blank variables mean the default and values are trimmed', () => {
  const config = loadConfig({ PORT: '  ', HOST: ' 0.0.0.0 ', LOG_LEVEL: '', MONGODB_URI: '' });
  assert.equal(config.port, 3000);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.logLevel, 'info');
  assert.equal(config.mongodbUri, undefined);
});

test('every variable is read into the camelCase shape', () => {
  const config = loadConfig({
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '0.0.0.0',
    MONGODB_URI: 'mongodb+srv://hub:pw@cluster0.example.net/?retryWrites=true',
    MONGODB_DB: 'hub_prod',
    DATA_DIR: 'var/hub',
    LOG_LEVEL: 'DEBUG',
    ADMIN_API_KEY: ADMIN_KEY,
    HUB_MASTER_KEY: MASTER_KEY,
    PUBLIC_BASE_URL: 'https://hub.example.com/',
    HUB_ACTOR_CACHE_SIZE: '50',
    HUB_BODY_LIMIT: '100kb',
    HUB_JSON_MAX_DEPTH: '16',
    HUB_HTTP_HEADERS_TIMEOUT_MS: '2000',
    HUB_HTTP_REQUEST_TIMEOUT_MS: '4000',
    HUB_HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
    HUB_SHUTDOWN_TIMEOUT_MS: '2500',
    HUB_EFFECT_MAX_ATTEMPTS: '3',
    HUB_WORKER_POLL_MS: '50',
  });
  assert.equal(config.env, 'production');
  assert.equal(config.port, 0);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.mongodbUri, 'mongodb+srv://hub:pw@cluster0.example.net/?retryWrites=true');
  assert.equal(config.mongodbDb, 'hub_prod');
  assert.equal(config.dataDir, path.resolve('var/hub'));
  assert.ok(path.isAbsolute(config.dataDir));
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.adminApiKey, ADMIN_KEY);
  assert.ok(config.masterKey?.equals(Buffer.alloc(32, 7)));
  assert.equal(config.publicBaseUrl, 'https://hub.example.com');
  assert.equal(config.actorCacheSize, 50);
  assert.equal(config.bodyLimitBytes, 100 * 1024);
  assert.equal(config.jsonMaxDepth, 16);
  assert.deepEqual(config.http, { headersTimeoutMs: 2000, requestTimeoutMs: 4000, keepAliveTimeoutMs: 65_000 });
  assert.equal(config.shutdownTimeoutMs, 2500);
  assert.equal(config.effectMaxAttempts, 3);
  assert.equal(config.workerPollMs, 50);
});

test('body limits accept bytes, kb and mb', () => {
  assert.equal(loadConfig({ HUB_BODY_LIMIT: '2048' }).bodyLimitBytes, 2048);
  assert.equal(loadConfig({ HUB_BODY_LIMIT: '100kb' }).bodyLimitBytes, 102_400);
  assert.equal(loadConfig({ HUB_BODY_LIMIT: '1mb' }).bodyLimitBytes, 1_048_576);
  assert.equal(loadConfig({ HUB_BODY_LIMIT: '2 MB' }).bodyLimitBytes, 2_097_152);
});

const INVALID: Array<[string, string]> = [
  ['NODE_ENV', 'staging'],
  ['PORT', 'eighty'],
  ['PORT', '65536'],
  ['PORT', '-1'],
  ['PORT', '80.5'],
  ['PORT', '1e3'],
  ['HOST', 'http://example.com/'],
  ['MONGODB_URI', 'postgres://db.internal/hub'],
  ['MONGODB_DB', 'my.db'],
  ['LOG_LEVEL', 'verbose'],
  ['ADMIN_API_KEY', 'too-short'],
  ['HUB_MASTER_KEY', Buffer.alloc(31, 1).toString('base64')],
  ['HUB_MASTER_KEY', 'not base64 at all, not 32 bytes'],
  ['PUBLIC_BASE_URL', 'hub.example.com'],
  ['PUBLIC_BASE_URL', 'ftp://hub.example.com'],
  ['HUB_ACTOR_CACHE_SIZE', '0'],
  ['HUB_BODY_LIMIT', 'huge'],
  ['HUB_BODY_LIMIT', '0'],
  ['HUB_JSON_MAX_DEPTH', '7'],
  ['HUB_JSON_MAX_DEPTH', '1025'],
  ['HUB_JSON_MAX_DEPTH', 'deep'],
  ['HUB_HTTP_HEADERS_TIMEOUT_MS', '50'],
  ['HUB_HTTP_REQUEST_TIMEOUT_MS', 'slow'],
  ['HUB_HTTP_KEEP_ALIVE_TIMEOUT_MS', '0'],
  ['HUB_SHUTDOWN_TIMEOUT_MS', 'soon'],
  ['HUB_EFFECT_MAX_ATTEMPTS', '0'],
  ['HUB_EFFECT_LEASE_MS', 'forever'],
  ['HUB_WORKER_POLL_MS', '10'],
  ['HUB_PROJECTION_QUIET_MS', 'later'],
  ['HUB_PROJECTION_REPAIR_AFTER_MS', '999'],
];

for (const [variable, value] of INVALID) {
  test(`${variable}=${JSON.stringify(value)} is refused with a message naming ${variable}`, () => {
    const lines = problems({ [variable]: value }).split('\n');
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0] ?? '', new RegExp(`^${variable}: \\S.{10,}`));
  });
}

test('the headers may not take longer than the whole request', () => {
  assert.match(
    problems({ HUB_HTTP_HEADERS_TIMEOUT_MS: '40000' }),
    /^HUB_HTTP_HEADERS_TIMEOUT_MS and HUB_HTTP_REQUEST_TIMEOUT_MS: .*\(40000\) may not exceed the request's \(30000\)$/,
  );
  assert.equal(loadConfig({ HUB_HTTP_HEADERS_TIMEOUT_MS: '60000', HUB_HTTP_REQUEST_TIMEOUT_MS: '60000' }).http.headersTimeoutMs, 60_000);
});

test('a projection is not repaired before its actor has been quiet long enough for its own process to write it', () => {
  assert.match(
    problems({ HUB_PROJECTION_QUIET_MS: '20000' }),
    /^HUB_PROJECTION_REPAIR_AFTER_MS and HUB_PROJECTION_QUIET_MS: .*\(15000 ≤ 20000\)$/,
  );
  assert.deepEqual(loadConfig({}).projections, { quietMs: 2000, repairAfterMs: 15_000 });
  assert.deepEqual(loadConfig({ HUB_PROJECTION_QUIET_MS: '20000', HUB_PROJECTION_REPAIR_AFTER_MS: '60000' }).projections, {
    quietMs: 20_000,
    repairAfterMs: 60_000,
  });
});

test('every problem is reported at once, one line each', () => {
  const message = problems({ PORT: 'eighty', MONGODB_URI: 'postgres://x', LOG_LEVEL: 'loud', HUB_BODY_LIMIT: 'huge', NODE_ENV: 'staging' });
  const variables = message.split('\n').map((line) => line.slice(0, line.indexOf(':')));
  assert.deepEqual(variables.sort(), ['HUB_BODY_LIMIT', 'LOG_LEVEL', 'MONGODB_URI', 'NODE_ENV', 'PORT']);
});

test('messages say what to set', () => {
  assert.match(problems({ PORT: 'eighty' }), /^PORT: must be a whole number from 0 to 65535/);
  assert.match(problems({ LOG_LEVEL: 'loud' }), /^LOG_LEVEL: must be one of error, warn, info, http, debug/);
  assert.match(
    problems({ ADMIN_API_KEY: 'short' }),
    /^ADMIN_API_KEY: must be at least 24 characters; generate one with `openssl rand -base64 32`/,
  );
  assert.match(problems({ HUB_MASTER_KEY: 'AAAA' }), /^HUB_MASTER_KEY: must be exactly 32 bytes, base64-encoded/);
});

test('production requires an admin key and a master key', () => {
  const message = problems({ NODE_ENV: 'production' });
  assert.match(message, /^ADMIN_API_KEY: required when NODE_ENV=production/m);
  assert.match(message, /^HUB_MASTER_KEY: required when NODE_ENV=production/m);
  assert.match(problems({ NODE_ENV: 'production', ADMIN_API_KEY: ADMIN_KEY }), /^HUB_MASTER_KEY: required/);
  assert.match(problems({ NODE_ENV: 'production', HUB_MASTER_KEY: MASTER_KEY }), /^ADMIN_API_KEY: required/);
  const config = loadConfig({ NODE_ENV: 'production', ADMIN_API_KEY: ADMIN_KEY, HUB_MASTER_KEY: MASTER_KEY });
  assert.equal(config.masterKey?.length, 32);
});

test('development and test do not require the keys', () => {
  assert.equal(loadConfig({ NODE_ENV: 'test' }).adminApiKey, undefined);
  assert.equal(loadConfig({ NODE_ENV: 'development' }).masterKey, undefined);
});

test('the values of secrets never appear in error messages', () => {
  const shortKey = 'short-secret-key-abc';
  const badMaster = Buffer.from('thirty-one bytes of a master k!').toString('base64');
  const message = problems({
    NODE_ENV: 'production',
    ADMIN_API_KEY: shortKey,
    HUB_MASTER_KEY: badMaster,
    MONGODB_URI: 'mysql://hub:hunter2-db-password@db.internal/hub',
    PUBLIC_BASE_URL: 'ftp://partner:pw-in-url-123@hub.example.com',
  });
  assert.equal(message.split('\n').length, 4, message);
  for (const secret of [shortKey, badMaster, 'hunter2-db-password', 'pw-in-url-123']) {
    assert.ok(!message.includes(secret), `${secret} appears in:\n${message}`);
  }
});

test('PUBLIC_BASE_URL defaults to http://HOST:PORT', () => {
  assert.equal(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).publicBaseUrl, 'http://0.0.0.0:8080');
  assert.equal(loadConfig({ HOST: 'hub.internal' }).publicBaseUrl, 'http://hub.internal:3000');
  assert.equal(loadConfig({ HOST: '::1', PORT: '9000' }).publicBaseUrl, 'http://[::1]:9000');
  assert.equal(loadConfig({ PUBLIC_BASE_URL: 'https://hub.example.com/base//' }).publicBaseUrl, 'https://hub.example.com/base');
});

test('HUB_TLS_CERT and HUB_TLS_KEY: both or neither, files that exist; with them PUBLIC_BASE_URL defaults to https', () => {
  const existing = fileURLToPath(import.meta.url); // any file that exists: its content is checked when the server loads it
  const config = loadConfig({ HUB_TLS_CERT: existing, HUB_TLS_KEY: existing, PORT: '8443' });
  assert.deepEqual(config.tls, { certFile: existing, keyFile: existing });
  assert.equal(config.publicBaseUrl, 'https://127.0.0.1:8443');
  assert.equal(
    loadConfig({ HUB_TLS_CERT: existing, HUB_TLS_KEY: existing, PUBLIC_BASE_URL: 'http://hub.lan' }).publicBaseUrl,
    'http://hub.lan',
  );
  assert.deepEqual(describeConfig(config).tls, { cert: existing, key: existing });
  assert.throws(() => loadConfig({ HUB_TLS_CERT: existing }), /HUB_TLS_CERT and HUB_TLS_KEY: set both to serve HTTPS, or neither/);
  assert.throws(
    () => loadConfig({ HUB_TLS_CERT: existing, HUB_TLS_KEY: '/nowhere/key.pem' }),
    /HUB_TLS_KEY: no file at "\/nowhere\/key\.pem"/,
  );
});

test('the logged summary says which secrets are set without their values', () => {
  const config = loadConfig({
    ADMIN_API_KEY: ADMIN_KEY,
    HUB_MASTER_KEY: MASTER_KEY,
    MONGODB_URI: 'mongodb://hub:pa55@word@db.internal:27017/hub?authSource=admin',
  });
  const summary = describeConfig(config);
  const text = JSON.stringify(summary);
  for (const secret of [ADMIN_KEY, MASTER_KEY, 'pa55', 'word@db']) assert.ok(!text.includes(secret), `${secret} appears in ${text}`);
  assert.equal(summary.adminApiKey, '[set]');
  assert.equal(summary.masterKey, '[set]');
  assert.equal(summary.mongodbUri, 'mongodb://***@db.internal:27017/hub?authSource=admin');
  const unset = describeConfig(loadConfig({}));
  assert.equal(unset.adminApiKey, '[unset]');
  assert.equal(unset.masterKey, '[unset]');
  assert.equal(unset.database, 'embedded');
});

test('integration seeds are read from HUB_INTEGRATION_<NAME> as JSON, and a bad one is named without its value', () => {
  const config = loadConfig({
    HUB_INTEGRATION_NOVAPOSHTA: '{"credentials":{"apiKey":"np-key-1"}}',
    HUB_INTEGRATION_NOVA_POSHTA2: '{"enabled":false}',
  });
  assert.deepEqual(config.integrationSeeds, [
    { name: 'novaposhta', variable: 'HUB_INTEGRATION_NOVAPOSHTA', value: { credentials: { apiKey: 'np-key-1' } } },
    { name: 'nova-poshta2', variable: 'HUB_INTEGRATION_NOVA_POSHTA2', value: { enabled: false } },
  ]);
  const message = problems({ HUB_INTEGRATION_MONOBANK: '{"credentials":{"token":"mono-secret-9"', HUB_INTEGRATION_LIQPAY: '{"creds":{}}' });
  assert.match(message, /^HUB_INTEGRATION_MONOBANK: must be a JSON object/m);
  assert.match(message, /^HUB_INTEGRATION_LIQPAY: unknown field\(s\) creds/m);
  assert.ok(!message.includes('mono-secret-9'));
  assert.ok(!JSON.stringify(describeConfig(config)).includes('np-key-1'), 'the summary names the variables only');
});

test('alert channels, trusted proxies and sandbox mode are validated', () => {
  const config = loadConfig({
    HUB_ALERT_SMTP_URL: 'smtp://ops:mail-pass-1@mail.example.com:587',
    HUB_ALERT_EMAIL_TO: 'ops@example.com, oncall@example.com',
    HUB_ALERT_WEBHOOK_URL: 'https://hooks.example.com/x?token=abc',
    HUB_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1',
    HUB_SANDBOXES: 'off',
  });
  assert.deepEqual(config.alerts.emailTo, ['ops@example.com', 'oncall@example.com']);
  assert.deepEqual(config.trustedProxies, ['10.0.0.0/8', '127.0.0.1']);
  assert.equal(config.sandboxes, 'off');
  const summary = JSON.stringify(describeConfig(config));
  assert.ok(!summary.includes('mail-pass-1') && !summary.includes('token=abc'));
  assert.equal(
    loadConfig({ NODE_ENV: 'production', ADMIN_API_KEY: ADMIN_KEY, HUB_MASTER_KEY: MASTER_KEY }).sandboxes,
    'off',
    'production never sandboxes silently',
  );
  const message = problems({
    HUB_ALERT_SMTP_URL: 'http://mail',
    HUB_TRUSTED_PROXIES: 'proxy.local',
    HUB_SANDBOXES: 'maybe',
    HUB_ALERT_EMAIL_TO: 'not-an-address',
  });
  for (const variable of ['HUB_ALERT_SMTP_URL', 'HUB_TRUSTED_PROXIES', 'HUB_SANDBOXES', 'HUB_ALERT_EMAIL_TO'])
    assert.match(message, new RegExp(`^${variable}: `, 'm'));
  assert.match(problems({ HUB_ALERT_EMAIL_TO: 'ops@example.com' }), /set both/);
});

test('request limits: rates, bursts, 0 for no limit, exempt addresses or none, the failed-authentication alert', () => {
  const config = loadConfig({
    HUB_RATE_LIMIT_API_PER_MINUTE: '0',
    HUB_RATE_LIMIT_API_BURST: '10',
    HUB_RATE_LIMIT_PUBLIC_PER_MINUTE: '30',
    HUB_RATE_LIMIT_PUBLIC_BURST: '5',
    HUB_RATE_LIMIT_EXEMPT: '10.1.2.0/24, 192.0.2.7',
    HUB_AUTH_FAILURE_ALERT_THRESHOLD: '7',
    HUB_AUTH_FAILURE_WINDOW_MS: '60000',
  });
  assert.deepEqual(config.limits, {
    apiPerMinute: 0,
    apiBurst: 10,
    publicPerMinute: 30,
    publicBurst: 5,
    exempt: ['10.1.2.0/24', '192.0.2.7'],
    authFailureThreshold: 7,
    authFailureWindowMs: 60_000,
  });
  assert.deepEqual(loadConfig({ HUB_RATE_LIMIT_EXEMPT: 'none' }).limits.exempt, []);
  const message = problems({
    HUB_RATE_LIMIT_API_PER_MINUTE: '-1',
    HUB_RATE_LIMIT_PUBLIC_BURST: '0',
    HUB_RATE_LIMIT_EXEMPT: 'localhost',
    HUB_AUTH_FAILURE_ALERT_THRESHOLD: '0',
    HUB_AUTH_FAILURE_WINDOW_MS: 'soon',
  });
  for (const variable of [
    'HUB_RATE_LIMIT_API_PER_MINUTE',
    'HUB_RATE_LIMIT_PUBLIC_BURST',
    'HUB_RATE_LIMIT_EXEMPT',
    'HUB_AUTH_FAILURE_ALERT_THRESHOLD',
    'HUB_AUTH_FAILURE_WINDOW_MS',
  ])
    assert.match(message, new RegExp(`^${variable}: `, 'm'));
});

test('HUB_POS_POLICY: stores and their devices; unknown fields and bad store names are refused', () => {
  const config = loadConfig({
    HUB_POS_POLICY: '{"stores":{"tashkent-1":{"fiscalRegister":"main","receiptPrinter":"printer"}},"paymentValiditySeconds":600}',
  });
  assert.deepEqual(config.posPolicy.stores['tashkent-1'], { fiscalRegister: 'main', receiptPrinter: 'printer' });
  assert.equal(config.posPolicy.paymentValiditySeconds, 600);
  assert.throws(() => loadConfig({ HUB_POS_POLICY: '{"loyaltyTimeoutMs":5000}' }), /HUB_POS_POLICY/);
  assert.throws(() => loadConfig({ HUB_POS_POLICY: '{"stores":{"bad store":{}}}' }), /HUB_POS_POLICY/);
  assert.throws(() => loadConfig({ HUB_POS_POLICY: '{"stores":{"main":{"till":"x"}}}' }), /HUB_POS_POLICY/);
});
