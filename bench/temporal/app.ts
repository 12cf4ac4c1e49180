import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { z } from 'zod';
import {
  invoiceStatusSchema,
  MONOBANK_PATHS,
  pubkeySchema,
  verifyPublicKeySignature,
} from '../../actors/platform/connectors/monobank/protocol.ts';
import { DEFAULT_STATUS_MAP } from '../../common/shipment-stages.ts';
import { createActivities, INVOICE_NUMBERS_WORKFLOW_ID, loadDirectory, productWorkflowId } from './activities.ts';
import { TASK_QUEUE, type OrderInput, type OrderView } from './shared.ts';
import { invoiceNumbersWorkflow, orderWorkflow, paymentUpdate, productWorkflow, trackedUpdate, viewQuery } from './workflows.ts';

/**
 * The Temporal side's application process: a worker (the order workflow and its activities) and a thin HTTP
 * facade that answers the requests the load generator sends the hub, with the hub's paths and bodies, so one
 * load generator drives both. It holds no state of its own: every answer comes from Temporal (a start, an
 * Update answered once it is in the history, a query), and a request it cannot put through answers 503, as the
 * hub does while it is down, so the load generator tries it again with the same key.
 */

const env = z
  .object({
    TEMPORAL_ADDRESS: z.string().min(1),
    PORT: z.coerce.number().int().min(0).max(65535).default(0),
    MONOBANK_URL: z.url(),
    MONOBANK_TOKEN: z.string().min(1),
    NOVAPOSHTA_URL: z.url(),
    NOVAPOSHTA_API_KEY: z.string().min(1),
    NOVAPOSHTA_SENDER: z.string().min(1),
    PAYMENT_POLL_SECONDS: z.coerce.number().int().min(1).default(120),
  })
  .parse(process.env);

const senderSchema = z.object({ cityRef: z.string(), ref: z.string(), addressRef: z.string(), contactRef: z.string(), phone: z.string() });
const novaposhta = {
  baseUrl: env.NOVAPOSHTA_URL,
  apiKey: env.NOVAPOSHTA_API_KEY,
  sender: senderSchema.parse(JSON.parse(env.NOVAPOSHTA_SENDER)),
};
const monobank = { baseUrl: env.MONOBANK_URL, token: env.MONOBANK_TOKEN };

/** The hub's order intake, as far as the workflow uses it (the load generator sends the hub's whole body). */
const orderBody = z.looseObject({
  externalId: z.string().min(1).max(128),
  customer: z.object({ name: z.string().min(1), phone: z.string().min(5), email: z.string().nullish() }),
  items: z
    .array(
      z.object({
        sku: z.string().min(1),
        name: z.string().min(1),
        qty: z.number().int().positive(),
        unitPrice: z.number().int().nonnegative(),
      }),
    )
    .min(1),
  currency: z.literal('UAH'),
  delivery: z.looseObject({ cityRef: z.string().min(1), warehouseRef: z.string().min(1) }),
  total: z.number().int().positive(),
});
const trackedBody = z.object({
  type: z.literal('TRACKED'),
  number: z.string().min(1),
  statusCode: z.string().regex(/^\d{1,4}$/),
  status: z.string().max(500),
});
const productBody = z.object({ name: z.string().min(1), price: z.number().int().nonnegative(), stock: z.number().int().nonnegative() });

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function connectClient(): Promise<Client> {
  // the server may still be starting (or restarting after a kill): wait for it
  for (let attempt = 0; ; attempt += 1) {
    try {
      return new Client({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }) });
    } catch (error) {
      if (attempt > 600) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const client = await connectClient();
const directory = await loadDirectory(novaposhta);
const pubkey = pubkeySchema.parse(
  await (await fetch(`${monobank.baseUrl}${MONOBANK_PATHS.pubkey}`, { headers: { 'x-token': monobank.token } })).json(),
);
const monobankKeyPem = Buffer.from(pubkey.key, 'base64').toString();

const worker = await Worker.create({
  connection: await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS }),
  taskQueue: TASK_QUEUE,
  workflowsPath: path.join(path.dirname(fileURLToPath(import.meta.url)), 'workflows.ts'),
  activities: createActivities({ client, monobank, novaposhta, directory }),
});
const running = worker.run();

let baseUrl = '';
const orders = (id: string) => client.workflow.getHandle(`order-${id}`);

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseJson<T>(schema: z.ZodType<T>, raw: Buffer): T {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

async function view(id: string): Promise<OrderView> {
  return orders(id).query(viewQuery);
}

type Route = (request: IncomingMessage, params: string[]) => Promise<{ status: number; body: unknown }>;

const routes: Array<{ method: string; pattern: RegExp; handle: Route }> = [
  {
    method: 'POST',
    pattern: /^\/orders$/,
    handle: async (request) => {
      if (!request.headers['idempotency-key']) throw new HttpError(400, 'Idempotency-Key is required');
      const body = parseJson(orderBody, await readBody(request));
      const input: OrderInput = {
        orderId: body.externalId,
        items: body.items,
        total: body.total,
        currency: body.currency,
        customer: { name: body.customer.name, phone: body.customer.phone, email: body.customer.email ?? null },
        delivery: { cityRef: body.delivery.cityRef, warehouseRef: body.delivery.warehouseRef },
        webhookUrl: `${baseUrl}/webhooks/monobank`,
        paymentPollSeconds: env.PAYMENT_POLL_SECONDS,
      };
      // the order id is the workflow id: a repeated request finds the running order (the hub: its Idempotency-Key)
      await client.workflow.start(orderWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: `order-${input.orderId}`,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return { status: 201, body: { id: input.orderId, state: 'reservingStock' } };
    },
  },
  { method: 'GET', pattern: /^\/orders\/([^/]+)$/, handle: async (_request, [id]) => ({ status: 200, body: await view(id ?? '') }) },
  {
    method: 'GET',
    pattern: /^\/actors\/shipment\/([^/]+)$/,
    handle: async (_request, [id]) => {
      const order = await view(id ?? '');
      if (!order.waybill) throw new HttpError(404, `no shipment ${id ?? ''} yet`);
      return { status: 200, body: { type: 'shipment', id, state: order.state, context: { waybill: order.waybill } } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/actors\/shipment\/([^/]+)\/events$/,
    handle: async (request, [id]) => {
      const event = parseJson(trackedBody, await readBody(request));
      const key = request.headers['idempotency-key'];
      const answer = await orders(id ?? '').executeUpdate(trackedUpdate, {
        args: [
          {
            number: event.number,
            statusCode: event.statusCode,
            status: event.status,
            stage: DEFAULT_STATUS_MAP[event.statusCode] ?? 'unknown',
          },
        ],
        ...(typeof key === 'string' ? { updateId: key } : {}),
      });
      return { status: 200, body: { type: 'shipment', id, state: answer.state } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/webhooks\/monobank$/,
    handle: async (request) => {
      const raw = await readBody(request);
      const sign = request.headers['x-sign'];
      if (
        !verifyPublicKeySignature({
          publicKeyPem: monobankKeyPem,
          payload: raw,
          signatureBase64: typeof sign === 'string' ? sign : undefined,
        })
      )
        throw new HttpError(401, 'bad X-Sign');
      const status = parseJson(invoiceStatusSchema, raw);
      if (!status.reference) throw new HttpError(400, 'the invoice names no order');
      // Monobank repeats a webhook it thinks was lost: one per invoice and status
      await orders(status.reference).executeUpdate(paymentUpdate, {
        args: [{ invoiceId: status.invoiceId, status: status.status }],
        updateId: `${status.invoiceId}:${status.status}`,
      });
      return { status: 200, body: { ok: true } };
    },
  },
  {
    method: 'PUT',
    pattern: /^\/admin\/products\/([^/]+)$/,
    handle: async (request, [sku]) => {
      const product = parseJson(productBody, await readBody(request));
      await client.workflow.start(productWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: productWorkflowId(sku ?? ''),
        args: [{ sku: sku ?? '', stock: product.stock, sold: 0, reserved: {} }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return { status: 201, body: { sku, stock: product.stock } };
    },
  },
];

async function handle(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', 'http://facade');
  let status = 404;
  let body: unknown = { error: { code: 'not_found', message: `${request.method ?? ''} ${url.pathname}` } };
  try {
    for (const route of routes) {
      const match = request.method === route.method ? route.pattern.exec(url.pathname) : null;
      if (!match) continue;
      ({ status, body } = await route.handle(request, match.slice(1).map(decodeURIComponent)));
      break;
    }
  } catch (error) {
    if (error instanceof HttpError) [status, body] = [error.status, { error: { code: 'refused', message: error.message } }];
    else if (error instanceof WorkflowNotFoundError) [status, body] = [404, { error: { code: 'not_found', message: error.message } }];
    // an Update the workflow's validator refused: the hub answers such an event 409
    else if (error instanceof WorkflowUpdateFailedError)
      [status, body] = [409, { error: { code: 'event_not_accepted', message: error.message } }];
    else [status, body] = [503, { error: { code: 'unavailable', message: error instanceof Error ? error.message : String(error) } }];
  }
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

const server = createServer((request, response) => void handle(request, response));
server.keepAliveTimeout = 5000;
await new Promise<void>((resolve) => server.listen(env.PORT, '127.0.0.1', resolve));
baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// the counter of invoice numbers exists once, before the first order
await client.workflow.start(invoiceNumbersWorkflow, {
  taskQueue: TASK_QUEUE,
  workflowId: INVOICE_NUMBERS_WORKFLOW_ID,
  args: [{ next: 1, issued: {} }],
  workflowIdConflictPolicy: 'USE_EXISTING',
});
process.stdout.write(`temporal facade listening on ${baseUrl}\n`);

const stop = () => {
  server.close();
  worker.shutdown();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await running;
process.exit(0);
