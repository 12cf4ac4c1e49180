import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { echoRequestSchema, type EchoResponse } from './protocol.ts';

/**
 * The echo service's sandbox: a real HTTP server that keeps one result per
 * idempotency key and counts side effects, with knobs for tests: hold
 * responses (so a call is in flight when a process is killed), fail the next
 * N requests with 5xx, or refuse with a non-retryable 4xx.
 */
export interface EchoSandbox {
  url: string;
  /** distinct side effects performed (one per idempotency key) */
  sideEffects(): number;
  /** requests received, repeats included */
  requests(): number;
  keys(): string[];
  /** hold every response until release() */
  hold(): void;
  release(): void;
  /** resolves when `count` requests have arrived */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  failNext(count: number, status?: number): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startEchoSandbox(options: { port?: number; host?: string } = {}): Promise<EchoSandbox> {
  const results = new Map<string, EchoResponse>();
  let requestCount = 0;
  let holding = false;
  let held: Array<() => void> = [];
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  let waiters: Array<{ count: number; resolve: () => void }> = [];

  const notify = () => {
    waiters = waiters.filter((w) => {
      if (requestCount >= w.count) {
        w.resolve();
        return false;
      }
      return true;
    });
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const payload = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/health') return send(res, 200, { ok: true });
    if (req.method !== 'POST' || req.url !== '/v1/echo')
      return send(res, 404, { error: { code: 'not_found', message: 'no such endpoint' } });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    requestCount += 1;
    notify();
    if (failures.count > 0) {
      failures.count -= 1;
      return send(res, failures.status, { error: { code: 'sandbox_fault', message: `injected HTTP ${failures.status}` } });
    }
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0) {
      return send(res, 400, { error: { code: 'idempotency_key_required', message: 'Idempotency-Key header is required' } });
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(res, 400, { error: { code: 'malformed_json', message: 'body is not JSON' } });
    }
    const parsed = echoRequestSchema.safeParse(body);
    if (!parsed.success) return send(res, 400, { error: { code: 'invalid_request', message: parsed.error.message } });
    let result = results.get(key);
    if (!result) {
      // The side effect happens here, once per key, before the answer is sent.
      result = { reference: `ECHO-${randomUUID()}`, echoed: parsed.data.message };
      results.set(key, result);
    }
    const answer = result;
    if (holding) {
      await new Promise<void>((resolve) => held.push(resolve));
    }
    if (!res.destroyed) send(res, 200, answer);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: { code: 'sandbox_error', message: 'sandbox failed' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  return {
    url: `http://${address.address}:${address.port}`,
    sideEffects: () => results.size,
    requests: () => requestCount,
    keys: () => [...results.keys()],
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      const pending = held;
      held = [];
      for (const resume of pending) resume();
    },
    waitForRequests: (count, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        if (requestCount >= count) return resolve();
        const timer = setTimeout(() => reject(new Error(`echo sandbox saw ${requestCount} of ${count} requests`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    failNext: (count, status = 503) => {
      failures = { count, status };
    },
    reset: () => {
      results.clear();
      requestCount = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const resume of held) resume();
        held = [];
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
