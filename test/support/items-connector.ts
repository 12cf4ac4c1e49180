import { z } from 'zod';
import { defineConnector, type ConnectorHttp } from '../../actors/platform/connectors/kit/definition.ts';
import { ConnectorError, partnerErrorCode } from '../../actors/platform/connectors/kit/errors.ts';
import { randomAlphanumeric } from '../../actors/platform/connectors/kit/sandbox-secrets.ts';
import { startSandboxServer, type SandboxOptions, type SandboxServer } from '../../actors/platform/connectors/kit/sandbox.ts';

export const ITEMS_SANDBOX_CREDENTIALS = { apiKey: 'good-key-123' };

/** A minimal protocol to exercise the kit: GET /items (a read) and POST /items (a write), X-Api-Key auth. */
const itemSchema = z.object({ id: z.string(), name: z.string() });

export function startItemsSandbox(options: SandboxOptions = {}, credentials = ITEMS_SANDBOX_CREDENTIALS): Promise<SandboxServer> {
  const items = new Map<string, { id: string; name: string }>();
  return startSandboxServer(
    {
      name: 'items',
      onReset: () => items.clear(),
      routes: [
        {
          method: 'GET',
          path: '/items/:id',
          handle: (request, params) => {
            if (request.header('x-api-key') !== credentials.apiKey)
              return { status: 401, json: { code: 'AUTH', text: `bad key ${credentials.apiKey}?` } };
            const found = items.get(params.id ?? '');
            return found ? { json: found } : { status: 404, json: { code: 'NOT_FOUND', text: 'no such item' } };
          },
        },
        {
          method: 'POST',
          path: '/items',
          handle: (request) => {
            const body = request.json() as { name?: string };
            if (body.name === 'refuse') return { json: { ok: false, code: 'REFUSED', text: 'business rule' } };
            const item = { id: String(items.size + 1), name: body.name ?? '' };
            items.set(item.id, item);
            return { status: 201, json: item };
          },
        },
      ],
    },
    options,
  );
}

export class ItemsClient {
  constructor(private readonly http: ConnectorHttp) {}
  get(id: string) {
    return this.http.call({
      operation: 'items.get',
      method: 'GET',
      path: `/items/${id}`,
      headers: { 'X-Api-Key': this.key },
      parse: (response) => {
        const parsed = itemSchema.safeParse(response.data);
        if (!parsed.success) throw this.http.error('bad_response', 'not an item', { status: response.status });
        return parsed.data;
      },
    });
  }
  create(name: string, idempotencyKey?: string) {
    return this.http.call({
      operation: 'items.create',
      method: 'POST',
      path: '/items',
      json: { name },
      context: idempotencyKey ? { idempotencyKey } : undefined,
      parse: (response) => {
        const data = response.data as { ok?: boolean; code?: string; text?: string };
        if (data.ok === false)
          throw this.http.error(partnerErrorCode(data.code ?? 'refused'), data.text ?? 'refused', { status: response.status });
        return itemSchema.parse(response.data);
      },
    });
  }
  key = 'good-key-123';
}

export const itemsConnector = defineConnector({
  name: 'items',
  title: 'Items',
  description: 'a test protocol',
  defaultBaseUrl: 'https://items.invalid',
  credentials: z.object({ apiKey: z.string().min(1) }),
  settings: z.object({}),
  createClient: (http, config) => {
    const client = new ItemsClient(http);
    client.key = config.credentials.apiKey;
    return client;
  },
  test: async (client) => {
    await client.get('1').catch((error: unknown) => {
      if (error instanceof ConnectorError && error.code === 'NOT_FOUND') return;
      throw error;
    });
    return 'authenticated';
  },
  sandbox: {
    start: startItemsSandbox,
    credentials: ITEMS_SANDBOX_CREDENTIALS,
    generateCredentials: () => ({ apiKey: randomAlphanumeric(24) }),
  },
  describeError: (_status, body) => {
    const parsed = z.object({ code: z.string(), text: z.string() }).safeParse(body);
    return parsed.success ? { code: parsed.data.code, message: parsed.data.text } : null;
  },
});
