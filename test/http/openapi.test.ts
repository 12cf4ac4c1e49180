import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import { loadConfig } from '../../common/config.ts';
import { startHub, type Hub } from '../../http/server.ts';
import type { HubState } from '../../http/context.ts';
import { contracts } from '../../http/openapi/contract.ts';
import { buildOpenApiDocument } from '../../http/openapi/document.ts';
import { databaseUri, uniqueDatabaseName } from '../support/database.ts';
import { TEST_ADMIN_KEY } from '../support/hub-process.ts';
import { readmeExamples, type ReadmeExample } from '../support/readme-examples.ts';
import { quietLogger } from '../support/runtime-harness.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  security: unknown[];
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Json }>;
  requestBody?: { required: boolean; content: Record<string, { schema: Json }> };
  responses: Record<string, unknown>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

let hub: Hub;
let document: Document;

before(async () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    MONGODB_URI: databaseUri(),
    MONGODB_DB: uniqueDatabaseName('openapi'),
    DATA_DIR: await mkdtemp(path.join(tmpdir(), 'hub-openapi-')),
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    HUB_DEVICE_EMULATORS: 'off',
  });
  hub = await startHub(config, { logger: quietLogger });
  // no API key: the document opens nothing
  const response = await fetch(`${hub.url}/openapi.json`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  document = (await response.json()) as Document;
});

after(async () => {
  await hub.stop();
});

const operations = () =>
  Object.entries(document.paths).flatMap(([template, item]) => Object.entries(item).map(([method, op]) => ({ template, method, op })));

/** The routes as Koa's routers hold them, walked here on their own (not through the document builder). */
function appRoutes(): Array<{ method: string; path: string }> {
  const routes: Array<{ method: string; path: string }> = [];
  for (const middleware of hub.app.middleware) {
    const router = (middleware as { router?: Router<HubState> }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      if (layer.methods.length === 0 || typeof layer.path !== 'string') continue;
      for (const method of layer.methods) if (method !== 'HEAD') routes.push({ method, path: layer.path });
    }
  }
  return routes;
}

test('every route of the routers is in the document, with its method', () => {
  const routes = appRoutes();
  assert.ok(routes.length >= 80, `the routers hold ${routes.length} routes`);
  const missing = routes.filter(({ method, path: route }) => {
    const template = route.replace(/:([A-Za-z_$][\w$]*)/g, '{$1}');
    return !document.paths[template]?.[method.toLowerCase()];
  });
  assert.deepEqual(
    missing.map(({ method, path: route }) => `${method} ${route}`),
    [],
    'routes without a contract (declare one beside the handler)',
  );
  // and nothing the routers do not have
  assert.equal(operations().length, new Set(routes.map(({ method, path: route }) => `${method} ${route}`)).size);
});

test('a route without a contract is left out of the document (so the test above finds it)', () => {
  const router = new Router<HubState>();
  const documented = contracts('Probe', { declared: { summary: 'declared', auth: ['viewer'], query: z.object({ n: z.coerce.number() }) } });
  router.get('/declared/:id', documented.declared, (ctx) => {
    ctx.body = {};
  });
  router.get('/undeclared', (ctx) => {
    ctx.body = {};
  });
  const built = buildOpenApiDocument([router], { title: 't', version: '0' }) as unknown as Document;
  assert.deepEqual(Object.keys(built.paths), ['/declared/{id}']);
  const op = built.paths['/declared/{id}']?.get;
  assert.deepEqual(op?.security, [{ apiKey: [] }]);
  assert.deepEqual(
    op?.parameters?.map((p) => `${p.in}:${p.name}`),
    ['path:id', 'query:n'],
  );
});

/** JSON pointer (`#/a/b~1c`) in the document. */
function resolvePointer(ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `only local references: ${ref}`);
  let at: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    at = at !== null && typeof at === 'object' && Object.hasOwn(at, key) ? (at as Json)[key] : undefined;
  }
  return at;
}

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (value !== null && typeof value === 'object')
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') found.push(inner);
      else refsIn(inner, found);
    }
  return found;
}

function schemaValidator(options: { coerceTypes?: boolean } = {}) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, ...options });
  addFormats.default(ajv);
  // operations' schemas point into the components: the validator holds them under the same pointers
  ajv.addSchema({ $id: 'https://hub.invalid/openapi.json', components: document.components });
  return (schema: Json) => ajv.compile(withBase(schema));
}

/** `#/components/…` → the components registered above. */
function withBase(schema: Json): Json {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"https://hub.invalid/openapi.json#/components/')) as Json;
}

test('the document is OpenAPI 3.1: references resolve, path parameters are declared, schemas compile', () => {
  assert.equal(document.openapi, '3.1.0');
  assert.ok(document.components.securitySchemes.apiKey, 'the bearer API key scheme');

  const refs = refsIn(document);
  assert.ok(refs.length > 0);
  for (const ref of new Set(refs)) assert.notEqual(resolvePointer(ref), undefined, `${ref} resolves`);

  const ids = new Set<string>();
  const compile = schemaValidator();
  for (const { template, method, op } of operations()) {
    const where = `${method.toUpperCase()} ${template}`;
    assert.ok(!ids.has(op.operationId), `${where}: operationId ${op.operationId} is unique`);
    ids.add(op.operationId);
    assert.ok(Object.keys(op.responses).length > 0, `${where} has responses`);
    const inPath = [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
    const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
    assert.deepEqual(
      declared.map((p) => p.name),
      inPath,
      `${where}: every path parameter declared, in order`,
    );
    for (const p of declared) assert.equal(p.required, true, `${where}: path parameter ${p.name} is required`);
    for (const security of op.security)
      for (const scheme of Object.keys(security as Json)) assert.ok(document.components.securitySchemes[scheme], `${where}: ${scheme}`);
    for (const p of op.parameters ?? []) compile(p.schema);
    for (const content of Object.values(op.requestBody?.content ?? {})) compile(content.schema);
  }
  // the areas of the API as tags, and the machines' events on the actor route
  const send = document.paths['/actors/{type}/{id}/events']?.post;
  const eventSchema = send?.requestBody?.content['application/json']?.schema as { anyOf?: unknown[] };
  assert.ok((eventSchema.anyOf?.length ?? 0) >= 5, 'one alternative per machine with an event schema');
  assert.deepEqual(document.paths['/orders']?.post?.security, [{ apiKey: [] }]);
  assert.deepEqual(document.paths['/health/live']?.get?.security, []);
});

/** The document's path template a README path (`/orders/<id>/cancel`, `/actors/receipt/:id/events`) is an instance of. */
function templateOf(example: ReadmeExample): string | undefined {
  const segments = example.path.split('/');
  const candidates = Object.keys(document.paths).filter((template) => {
    const parts = template.split('/');
    return (
      parts.length === segments.length &&
      parts.every((part, index) => part === segments[index] || (/^\{.+\}$/.test(part) && (segments[index] ?? '') !== ''))
    );
  });
  // the most literal template wins (`/admin/integrations/health` over `/admin/integrations/{name}`)
  const literal = (template: string) => template.split('/').filter((part) => !part.startsWith('{')).length;
  return candidates.sort((a, b) => literal(b) - literal(a)).find((template) => document.paths[template]?.[example.method.toLowerCase()]);
}

const SANDBOX = /^\/(?:__sandbox|sandbox)\//;

test("every request example in the README validates against the document's schema for its route", async () => {
  const examples = readmeExamples(await readFile(path.join(repoRoot, 'README.md'), 'utf8')).filter(
    (example) => !SANDBOX.test(example.path), // the sandboxes' own controls, not the hub's API
  );
  const withBody = examples.filter((example) => example.body !== undefined);
  assert.ok(examples.length >= 20, `${examples.length} examples found`);
  assert.ok(withBody.length >= 12, `${withBody.length} examples with a body found`);
  for (const form of ['curl', 'block', 'inline'] as const)
    assert.ok(
      withBody.some((example) => example.form === form),
      `a ${form} example`,
    );

  const compileBody = schemaValidator();
  const compileQuery = schemaValidator({ coerceTypes: true });
  const failures: string[] = [];
  for (const example of examples) {
    const where = `README line ${example.line}: ${example.method} ${example.path}`;
    const template = templateOf(example);
    if (!template) {
      failures.push(`${where}: no such route in the document`);
      continue;
    }
    const op = document.paths[template]?.[example.method.toLowerCase()] as Operation;
    for (const [name, value] of Object.entries(example.query)) {
      const parameter = op.parameters?.find((p) => p.in === 'query' && p.name === name);
      if (!parameter) failures.push(`${where}: query parameter ${name} is not declared`);
      else if (value !== '' && !compileQuery(parameter.schema)(value)) failures.push(`${where}: query ${name}=${value} is invalid`);
    }
    if (example.body === undefined) continue;
    const schema = op.requestBody?.content['application/json']?.schema;
    if (!schema) {
      failures.push(`${where}: the route takes no JSON body`);
      continue;
    }
    const validate = compileBody(schema);
    if (!validate(example.body)) failures.push(`${where}: ${JSON.stringify(validate.errors)}`);
  }
  assert.deepEqual(failures, []);
});

test('/docs is Swagger UI served by the hub itself: every asset it loads answers 200, no other host is named', async () => {
  const page = await fetch(`${hub.url}/docs`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const html = await page.text();
  assert.doesNotMatch(html, /(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i, 'no address of another host');
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
  assert.ok(assets.some((asset) => asset.endsWith('.js')) && assets.some((asset) => asset.endsWith('.css')), assets.join(', '));
  for (const asset of assets) {
    assert.match(asset, /^\/[^/]/, `${asset} is a path on the hub`);
    const response = await fetch(`${hub.url}${asset}`);
    assert.equal(response.status, 200, asset);
    const body = await response.text();
    assert.ok(body.length > 0, asset);
    if (asset.endsWith('.css')) assert.doesNotMatch(body, /url\(\s*["']?(?:https?:)?\/\//, `${asset} loads nothing from elsewhere`);
    if (asset.endsWith('/docs.js')) {
      assert.match(body, /url: '\/openapi\.json'/, 'the page reads the hub’s own document');
      assert.match(body, /validatorUrl: null/, 'and sends it to no validator');
    }
  }
  assert.equal((await fetch(`${hub.url}/docs/assets/constructor`)).status, 404);
});
