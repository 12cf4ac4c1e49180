import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import winston from 'winston';
import { inboxBodyOf } from '../../actors/platform/inbound/inbox.ts';
import { loadConfig } from '../../common/config.ts';
import { createLogger } from '../../common/logger.ts';
import { startHub, type Hub } from '../../http/server.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';
import { hubClient, TEST_ADMIN_KEY, TEST_MASTER_KEY } from '../support/hub-process.ts';

/**
 * Property-based hostile input (fast-check) against a real hub and database:
 * every route of the OpenAPI document (so every route the router has) gets
 * generated malformed, oversized, wrongly typed, wrongly encoded and forged
 * requests. The hub never answers 5xx, never takes a forged partner call,
 * never changes state for a refused request, and never logs a secret.
 *
 * `FUZZ_RUNS` sets the number of cases (10 000 here by default; `npm run fuzz`
 * runs many more). A failing case is printed shrunk, with its seed; it then
 * goes into `FOUND` below so that it is tried first on every run from then on.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

interface Operation {
  method: string;
  /** `/orders/{id}/cancel` */
  template: string;
  secured: boolean;
  pathParams: Array<{ name: string; values: string[] }>;
  queryNames: string[];
  hasBody: boolean;
  /** the route takes an Idempotency-Key (its body is fingerprinted) */
  idempotent: boolean;
  /** a partner's callback or merchant endpoint: what reaches it unsigned is forged */
  partner: boolean;
}

interface FuzzRequest {
  operation: number;
  params: string[];
  query: Array<[string, string]>;
  body: BodyCase;
  auth: 'admin' | 'viewer' | 'none' | 'garbage';
  headers: Array<[string, string]>;
}

type BodyCase =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string; contentType: string }
  | { kind: 'bytes'; bytes: number[]; contentType: string }
  | { kind: 'deep'; depth: number; open: '[' | '{"a":' }
  | { kind: 'large'; size: number; contentType: string };

/** Cases a run found, shrunk: tried first, every run. */
const FOUND: FuzzRequest[] = [];

let hub: Hub;
let operations: Operation[];
let viewerKey: string;
const logLines: string[] = [];
const secrets: string[] = [];

before(async () => {
  // every line the hub logs, at the most talkative level that still runs quickly, to look for secrets in
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => logLines.push(chunk.toString()));
  const logger = createLogger({ level: 'http', json: true, transports: [new winston.transports.Stream({ stream: sink })] });
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    MONGODB_URI: databaseUri(),
    MONGODB_DB: uniqueDatabaseName('fuzz'),
    DATA_DIR: await mkdtemp(path.join(tmpdir(), 'hub-fuzz-')),
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    HUB_MASTER_KEY: TEST_MASTER_KEY,
    HUB_DEVICE_EMULATORS: 'off',
    HUB_WORKER_POLL_MS: '200',
  });
  hub = await startHub(config, { logger });
  const admin = hubClient(hub.url);
  const viewer = await admin.post('/admin/api-keys', { name: 'fuzz-viewer', role: 'viewer' });
  viewerKey = String(viewer.body.key);
  secrets.push(TEST_ADMIN_KEY, TEST_MASTER_KEY, viewerKey);
  for (const integration of hub.connectors.list()) {
    const credentials = hub.connectors.webhookConfig(integration.name)?.credentials ?? {};
    for (const value of Object.values(credentials)) if (value.length >= 12) secrets.push(value);
  }
  const document = (await (await fetch(`${hub.url}/openapi.json`)).json()) as OpenApiDocument;
  operations = operationsOf(document);
});

after(async () => {
  await hub?.stop();
});

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}
interface OpenApiOperation {
  security?: unknown[];
  tags?: string[];
  parameters?: Array<{ name: string; in: string; schema?: { enum?: unknown[] } }>;
  requestBody?: unknown;
}

function operationsOf(document: OpenApiDocument): Operation[] {
  const found: Operation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const parameters = operation.parameters ?? [];
      const secured = (operation.security ?? []).length > 0;
      found.push({
        method: method.toUpperCase(),
        template,
        secured,
        pathParams: parameters
          .filter((p) => p.in === 'path')
          .map((p) => ({ name: p.name, values: (p.schema?.enum ?? []).filter((v): v is string => typeof v === 'string') })),
        queryNames: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        hasBody: operation.requestBody !== undefined,
        idempotent: parameters.some((p) => p.in === 'header' && p.name === 'Idempotency-Key'),
        partner: !secured && method === 'post',
      });
    }
  }
  return found;
}

/** Strings a hostile client picks: control characters, traversal, prototypes, huge, unicode, percent-encoding. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    '\u0000',
    '%00',
    '..',
    '../../etc/passwd',
    'constructor',
    '__proto__',
    'prototype',
    'toString',
    '$where',
    '{"$gt":""}',
    '.*',
    '(a+)+$',
    "'; DROP TABLE x; --",
    '<script>alert(1)</script>',
    '\u202e\ufeff',
    '9'.repeat(400),
    'a'.repeat(5_000),
    '-1',
    '1e309',
    'NaN',
    'null',
  ),
);

/** JSON values of every shape, with hostile keys and strings among them. */
const hostileJson = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(hostileString, fc.constantFrom('type', 'id', 'input', '__proto__', 'constructor', '$set')), tie('value'), {
      maxKeys: 6,
    }),
  ),
})).value;

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=latin1',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  '',
  '*/*;;==',
);

const bodyCase: fc.Arbitrary<BodyCase> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 6, arbitrary: hostileJson.map((value) => ({ kind: 'json' as const, value })) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.string({ maxLength: 200 }), contentType }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('bytes' as const),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 200 }),
      contentType,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deep' as const),
      depth: fc.integer({ min: 60, max: 20_000 }),
      open: fc.constantFrom('[' as const, '{"a":' as const),
    }),
  },
  // just past the 1 MB body limit
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('large' as const), size: fc.integer({ min: 1_048_600, max: 1_100_000 }), contentType }),
  },
);

/** Headers partners sign with, forged: any value, or none. */
const forgedHeaders = fc.array(
  fc.tuple(
    fc.constantFrom(
      'X-Sign',
      'X-Signature',
      'Signature',
      'X-Jowi-Signature',
      'Authorization',
      'X-Goodfin-Token',
      'X-Forwarded-For',
      'Idempotency-Key',
    ),
    fc.oneof(fc.string({ maxLength: 60 }), fc.base64String({ maxLength: 120 }), fc.constant('Basic UGF5Y29tOmZvcmdlZA==')),
  ),
  { maxLength: 3 },
);

const requests = () =>
  fc.record<FuzzRequest>({
    operation: fc.nat({ max: operations.length - 1 }),
    params: fc.array(hostileString, { minLength: 3, maxLength: 3 }),
    query: fc.array(fc.tuple(fc.oneof(hostileString, fc.constantFrom('limit', 'q', 'state', 'cursor', 'status')), hostileString), {
      maxLength: 4,
    }),
    body: bodyCase,
    auth: fc.constantFrom('admin', 'viewer', 'none', 'garbage'),
    headers: forgedHeaders,
  });

/** The request a case stands for. */
function build(request: FuzzRequest): { url: string; init: RequestInit; operation: Operation } {
  const operation = operations[request.operation % operations.length] as Operation;
  let index = 0;
  const pathname = operation.template.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
    const declared = operation.pathParams.find((p) => p.name === name);
    const raw = request.params[index++ % request.params.length] ?? '';
    // a declared enum (an integration's name, a machine type) is used half of the time, to reach the handler
    const value =
      declared && declared.values.length > 0 && raw.length % 2 === 0 ? (declared.values[raw.length % declared.values.length] ?? raw) : raw;
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams();
  for (const [name, value] of request.query) query.append(name, value);
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    try {
      headers.set(name, value);
    } catch {
      // not a header value a client can send (e.g. a newline): fetch refuses it before it leaves
    }
  }
  if (request.auth === 'admin') headers.set('Authorization', `Bearer ${TEST_ADMIN_KEY}`);
  if (request.auth === 'viewer') headers.set('Authorization', `Bearer ${viewerKey}`);
  if (request.auth === 'garbage') headers.set('Authorization', 'Bearer hub_guessed0000000000000000000000');
  let body: string | Uint8Array | undefined;
  const bodyCase = request.body;
  switch (bodyCase.kind) {
    case 'none':
      break;
    case 'json':
      body = JSON.stringify(bodyCase.value) ?? 'null';
      headers.set('Content-Type', 'application/json');
      break;
    case 'text':
      body = bodyCase.text;
      if (bodyCase.contentType) headers.set('Content-Type', bodyCase.contentType);
      break;
    case 'bytes':
      body = Uint8Array.from(bodyCase.bytes);
      if (bodyCase.contentType) headers.set('Content-Type', bodyCase.contentType);
      break;
    case 'deep':
      body = bodyCase.open.repeat(bodyCase.depth) + '1' + (bodyCase.open === '[' ? ']' : '}').repeat(bodyCase.depth);
      headers.set('Content-Type', 'application/json');
      break;
    case 'large':
      body = JSON.stringify({ type: 'X', pad: 'x'.repeat(bodyCase.size) });
      if (bodyCase.contentType) headers.set('Content-Type', bodyCase.contentType);
      break;
  }
  const method = operation.method;
  const sendsBody = method !== 'GET' && method !== 'DELETE';
  return {
    url: `${hub.url}${pathname}${query.size > 0 ? `?${query}` : ''}`,
    init: { method, headers, ...(sendsBody && body !== undefined ? { body } : {}), signal: AbortSignal.timeout(60_000) },
    operation,
  };
}

/** What a refused request must leave as it was: every actor, journal entry, delivery and remembered answer. */
async function stateCount(): Promise<number[]> {
  const { collections } = hub.database;
  return Promise.all(
    [collections.actors, collections.journal, collections.inbox, collections.idempotency].map((c) => c.countDocuments({})),
  );
}

const described = (request: FuzzRequest) => {
  const { url, init, operation } = build(request);
  return `${operation.method} ${operation.template} → ${init.method} ${url.slice(0, 300)} body=${JSON.stringify(request.body).slice(0, 200)}`;
};

const fuzzOptions = (runs: number) => ({
  numRuns: runs,
  ...(SEED === undefined ? {} : { seed: SEED }),
  examples: FOUND.map((request): [FuzzRequest] => [request]),
  reporter: (details: fc.RunDetails<[FuzzRequest]>) => {
    if (details.failed)
      throw new Error(
        `${fc.defaultReportMessage(details)}\nfailure: ${String(details.errorInstance).slice(0, 600)}\nshrunk case: ${details.counterexample?.[0] ? described(details.counterexample[0]) : '?'}`,
      );
  },
});

const REFUSED_RUNS = Math.round(RUNS * 0.4);

// First, on a hub nothing has been accepted by yet (so no earlier work can change a count meanwhile).
test(`${REFUSED_RUNS} requests without a key, with a wrong one, with too small a role, or forged as a partner: each refused, nothing changed`, async () => {
  const writes = operations.filter((o) => o.method !== 'GET');
  assert.ok(writes.length >= 30, `${writes.length} operations that write`);
  const unentitled = requests().map((request) => ({
    ...request,
    operation: operations.indexOf(writes[request.operation % writes.length] as Operation),
    auth: request.auth === 'admin' ? ('none' as const) : request.auth,
  }));
  const before = await stateCount();
  await fc.assert(
    fc.asyncProperty(unentitled, async (request) => {
      const { url, init, operation } = build(request);
      const answer = await fetch(url, init);
      const text = await answer.text();
      assert.ok(answer.status < 500, `${answer.status} ${text.slice(0, 300)}`);
      const refused = answer.status >= 400 || (operation.partner && isProtocolRefusal(safeJson(text)));
      assert.ok(refused, `taken: ${answer.status} ${text.slice(0, 300)}`);
      assert.deepEqual(await stateCount(), before, `a refused request (${answer.status}) changed state`);
    }),
    fuzzOptions(REFUSED_RUNS),
  );
});

test(`every route, ${RUNS - REFUSED_RUNS} hostile requests with any key: never a 5xx, a forged partner call never taken`, async () => {
  assert.ok(operations.length >= 60, `the OpenAPI document lists ${operations.length} operations`);
  const partnerRoutes = operations.filter((o) => o.partner);
  assert.ok(partnerRoutes.length >= 5, `partner routes: ${partnerRoutes.map((o) => o.template).join(', ')}`);
  const statuses = new Map<number, number>();
  const sentToPartners = new Set<string>();
  await fc.assert(
    fc.asyncProperty(requests(), async (request) => {
      const { url, init, operation } = build(request);
      if (operation.partner && init.body !== undefined)
        sentToPartners.add(Buffer.from(init.body as string | Uint8Array).toString('base64'));
      const answer = await fetch(url, init);
      const text = await answer.text();
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      assert.ok(answer.status < 500, `${answer.status} ${text.slice(0, 300)}`);
      if (operation.partner && answer.status < 300) {
        // the merchant protocols (Payme, Click) answer 200 with their own error: a forged call must get one
        assert.ok(isProtocolRefusal(safeJson(text)), `a forged partner call was taken: ${answer.status} ${text.slice(0, 300)}`);
      }
    }),
    fuzzOptions(RUNS - REFUSED_RUNS),
  );
  // (the sandboxes' own deliveries, which an accepted admin request may set off, are not forged)
  const stored = await hub.database.collections.inbox.find({}, { projection: { rawBody: 1 } }).toArray();
  const forgedStored = stored.filter((delivery) =>
    sentToPartners.has(inboxBodyOf(delivery, hub.runtime.personalData.cipher).toString('base64')),
  );
  assert.deepEqual(forgedStored, [], 'no forged delivery was stored');
  // the run reached the handlers, not only the gates: refusals of every kind and some successes
  for (const status of [200, 400, 401, 403, 404])
    assert.ok((statuses.get(status) ?? 0) > 0, `no ${status} among ${JSON.stringify([...statuses])}`);
  const response = await fetch(`${hub.url}/health/live`);
  assert.equal(response.status, 200, 'the hub still answers');
});

/** Attacks on the shape of a request, each sent to every route that writes, as an admin, with an idempotency key. */
const STRUCTURAL: Array<{ name: string; body: BodyCase }> = [
  { name: 'arrays 10 000 deep', body: { kind: 'deep', depth: 10_000, open: '[' } },
  { name: 'objects 10 000 deep', body: { kind: 'deep', depth: 10_000, open: '{"a":' } },
  { name: 'just past the body limit', body: { kind: 'large', size: 1_050_000, contentType: 'application/json' } },
  {
    name: 'not UTF-8',
    body: { kind: 'bytes', bytes: [0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0xff, 0xfe, 0x7d], contentType: 'application/json' },
  },
  { name: 'a NUL in every string', body: { kind: 'json', value: { type: '\u0000', id: 'a\u0000b', input: { name: '\u0000' } } } },
  {
    name: 'prototype keys',
    body: {
      kind: 'json',
      value: JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"type":"X"}') as unknown,
    },
  },
];

test('every route that writes gets each attack on the shape of a request, as an admin with an idempotency key: never a 5xx', async () => {
  const writes = operations.filter((o) => o.method !== 'GET');
  let sent = 0;
  for (const operation of writes) {
    const index = operations.indexOf(operation);
    for (const attack of STRUCTURAL) {
      // the declared values of its path parameters (a machine type, an integration), so the handler is reached
      const params = operation.pathParams.map((p) => p.values[0] ?? 'x1');
      const request: FuzzRequest = {
        operation: index,
        params: params.length > 0 ? [...params, 'x1', 'x1'] : ['x1', 'x1', 'x1'],
        query: [],
        body: attack.body,
        auth: 'admin',
        headers: operation.idempotent ? [['Idempotency-Key', `structural-${sent}`]] : [],
      };
      const built = build(request);
      const answer = await fetch(built.url, built.init);
      const text = await answer.text();
      assert.ok(answer.status < 500, `${operation.method} ${operation.template}, ${attack.name}: ${answer.status} ${text.slice(0, 300)}`);
      sent += 1;
    }
  }
  assert.ok(sent >= 30 * STRUCTURAL.length, `${sent} requests`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
});

const QUERY_ATTACKS = [
  '\u0000',
  'a\u0000b',
  '\u001b[2J',
  '(a+)+$',
  '.*',
  '[',
  '\\',
  '{"$gt":""}',
  '__proto__',
  'a'.repeat(5_000),
  '-1',
  '1e309',
];

test('every query parameter of every route gets control characters, patterns, operators and huge values: never a 5xx', async () => {
  let sent = 0;
  for (const operation of operations.filter((o) => o.queryNames.length > 0)) {
    const index = operations.indexOf(operation);
    const params = operation.pathParams.map((p) => p.values[0] ?? 'x1');
    for (const name of operation.queryNames) {
      for (const value of QUERY_ATTACKS) {
        const built = build({
          operation: index,
          params: [...params, 'x1', 'x1', 'x1'],
          query: [[name, value]],
          body: { kind: 'none' },
          auth: 'admin',
          headers: [],
        });
        const answer = await fetch(built.url, built.init);
        const text = await answer.text();
        assert.ok(
          answer.status < 500,
          `${operation.method} ${operation.template}?${name}=${JSON.stringify(value.slice(0, 20))}: ${answer.status} ${text.slice(0, 300)}`,
        );
        sent += 1;
      }
    }
  }
  assert.ok(sent >= 100, `${sent} requests`);
});

test('no secret reached the log: the API keys, the master key and the partners’ credentials', () => {
  assert.ok(logLines.length > RUNS / 2, `only ${logLines.length} log lines for ${RUNS} requests`);
  const log = logLines.join('');
  for (const secret of secrets) assert.equal(log.includes(secret), false, `a secret (${secret.slice(0, 4)}…) is in the log`);
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Payme: a JSON-RPC `error`; Click: a negative `error`; anything else answered 2xx to a forged call is a taking. */
function isProtocolRefusal(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'number') return error < 0;
  return typeof error === 'object' && error !== null;
}
