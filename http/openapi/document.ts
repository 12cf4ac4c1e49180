import type Koa from 'koa';
import type Router from '@koa/router';
import { z, type ZodType } from 'zod';
import { APP_ERROR_STATUS } from '../../common/errors.ts';
import type { HubState } from '../context.ts';
import { contractOf, type ResponseContract, type TaggedContract } from './contract.ts';

export type JsonSchema = Record<string, unknown>;

/** One route as the router holds it: a method and the full path (prefixes applied), with its contract if it has one. */
export interface RouteEntry {
  method: string;
  path: string;
  contract: TaggedContract | undefined;
}

interface LayerLike {
  path: string | RegExp;
  methods: string[];
  stack: unknown[];
}

/** The routers mounted on the app (`app.use(router.routes())` leaves the router on its dispatch function). */
export function routersOf(app: Koa<HubState>): Array<Router<HubState>> {
  return app.middleware.flatMap((middleware) => {
    const router = (middleware as { router?: Router<HubState> }).router;
    return router ? [router] : [];
  });
}

/** Every method and path of the routers (HEAD is Koa's automatic twin of GET, not a route of ours). */
export function routesOf(routers: ReadonlyArray<Router<HubState>>): RouteEntry[] {
  const routes: RouteEntry[] = [];
  for (const router of routers) {
    for (const layer of router.stack as unknown as LayerLike[]) {
      if (layer.methods.length === 0 || typeof layer.path !== 'string') continue;
      const contract = layer.stack.map(contractOf).find((found) => found !== undefined);
      for (const method of layer.methods) if (method !== 'HEAD') routes.push({ method, path: layer.path, contract });
    }
  }
  return routes;
}

/** `/orders/:id/cancel` → `/orders/{id}/cancel` */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z_$][\w$]*)/g, '{$1}');
}

const errorBody = z.object({
  error: z.object({
    code: z.enum(Object.keys(APP_ERROR_STATUS) as [keyof typeof APP_ERROR_STATUS, ...Array<keyof typeof APP_ERROR_STATUS>]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

const ERROR_REF = { $ref: '#/components/schemas/Error' };
const ANY_JSON_OBJECT: JsonSchema = { type: 'object', description: 'a JSON object (no schema is declared for this answer)' };

/** zod → JSON Schema as a request is written (defaults optional, coercions their input), its `$defs` moved into components. */
class SchemaConverter {
  readonly components: Record<string, JsonSchema> = {};
  private count = 0;

  convert(schema: ZodType): JsonSchema {
    const converted = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
    delete converted.$schema;
    const defs = converted.$defs as Record<string, JsonSchema> | undefined;
    delete converted.$defs;
    if (!defs) return converted;
    // each conversion numbers its own $defs from 0: rename them so they are unique in the document
    const renamed = new Map<string, string>();
    for (const name of Object.keys(defs)) renamed.set(name, `Schema${(this.count += 1)}`);
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (value === null || typeof value !== 'object') return value;
      const entries = Object.entries(value).map(([key, inner]) => {
        if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/'))
          return [key, `#/components/schemas/${renamed.get(inner.slice('#/$defs/'.length)) ?? inner}`];
        return [key, rewrite(inner)];
      });
      return Object.fromEntries(entries);
    };
    for (const [name, def] of Object.entries(defs)) this.components[renamed.get(name) as string] = rewrite(def) as JsonSchema;
    return rewrite(converted) as JsonSchema;
  }
}

function operationId(method: string, path: string): string {
  const words = path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1));
  return method.toLowerCase() + words.join('');
}

function response(entry: string | ResponseContract, convert: SchemaConverter): Record<string, unknown> {
  const contract = typeof entry === 'string' ? { description: entry } : entry;
  if (contract.empty) return { description: contract.description };
  if (contract.mediaType) return { description: contract.description, content: { [contract.mediaType]: {} } };
  return {
    description: contract.description,
    content: { 'application/json': { schema: contract.schema ? convert.convert(contract.schema) : ANY_JSON_OBJECT } },
  };
}

/** The query schema as OpenAPI parameters, one per property. */
function queryParameters(schema: JsonSchema): Array<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({ name, in: 'query', required: required.has(name), schema: property }));
}

function operation(route: RouteEntry & { contract: TaggedContract }, convert: SchemaConverter): Record<string, unknown> {
  const { contract } = route;
  const roles = contract.auth === 'none' ? null : contract.auth;
  const secured = roles !== null;
  const parameters: Array<Record<string, unknown>> = [];

  const pathNames = [...route.path.matchAll(/:([A-Za-z_$][\w$]*)/g)].map((match) => match[1] as string);
  const declared = contract.params ? convert.convert(contract.params) : { properties: {} };
  const declaredProperties = (declared.properties ?? {}) as Record<string, JsonSchema>;
  for (const name of pathNames)
    parameters.push({ name, in: 'path', required: true, schema: declaredProperties[name] ?? { type: 'string' } });
  if (contract.query) parameters.push(...queryParameters(convert.convert(contract.query)));
  if (contract.idempotencyKey)
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: contract.idempotencyKey === 'required',
      description: 'the same key again answers the first result and changes nothing; another request under it is a 422',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
    });

  const responses: Record<string, unknown> = {};
  for (const [status, entry] of Object.entries(contract.responses ?? { 200: 'OK' })) responses[status] = response(entry, convert);
  const error = (description: string) => ({ description, content: { 'application/json': { schema: ERROR_REF } } });
  if (contract.body || contract.query) responses['400'] ??= error('the request is invalid (`details`: every failing path)');
  if (roles) {
    responses['401'] ??= error('missing or unknown API key');
    responses['403'] ??= error(`the key's role may not do this (needs ${roles.join(' or ')}, or admin)`);
  }
  if (pathNames.length > 0) responses['404'] ??= error('not found');
  responses.default = error('an error (see the error table in the README)');

  const access = roles ? `Roles: ${roles.join(', ')} (admin may do everything).` : 'No API key.';
  return {
    operationId: operationId(route.method, route.path),
    tags: [contract.tag],
    summary: contract.summary,
    description: [contract.description, access].filter(Boolean).join('\n\n'),
    security: secured ? [{ apiKey: [] }] : [],
    ...(roles ? { 'x-roles': [...roles] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(contract.body
      ? {
          requestBody: {
            required: !contract.bodyOptional,
            content: Object.fromEntries(
              (contract.bodyMediaTypes ?? ['application/json']).map((type) => [
                type,
                { schema: convert.convert(contract.body as ZodType) },
              ]),
            ),
          },
        }
      : {}),
    responses,
  };
}

export interface DocumentInfo {
  title: string;
  version: string;
  description?: string;
}

/** The OpenAPI 3.1 document of every route that declares a contract (a route without one is left out: a test finds it). */
export function buildOpenApiDocument(routers: ReadonlyArray<Router<HubState>>, info: DocumentInfo): Record<string, unknown> {
  const convert = new SchemaConverter();
  const paths: Record<string, Record<string, unknown>> = {};
  const tags: string[] = [];
  for (const route of routesOf(routers)) {
    if (!route.contract) continue;
    const item = (paths[openApiPath(route.path)] ??= {});
    const method = route.method.toLowerCase();
    // the first router to match answers: a later route with the same method and path is never reached
    if (item[method]) continue;
    item[method] = operation({ ...route, contract: route.contract }, convert);
    if (!tags.includes(route.contract.tag)) tags.push(route.contract.tag);
  }
  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: tags.map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'an API key: `Authorization: Bearer <key>`; its role decides what it may do',
        },
      },
      schemas: { Error: convert.convert(errorBody), ...convert.components },
    },
  };
}
