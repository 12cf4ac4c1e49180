import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/**
 * The sandbox framework: a real HTTP server that speaks one external
 * protocol, keeps its own state, records what it receives, and lets tests
 * (or a person, over `/__sandbox/*`) inject faults. A connector's sandbox
 * supplies only its routes; faults, recording and control come from here.
 */

export interface SandboxRequest {
  method: string;
  /** path without the query string */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** the exact bytes received, for signature checks */
  rawBody: Buffer;
  text(): string;
  /** the body as JSON; a malformed body answers 400 through SandboxHttpError */
  json(): unknown;
  /** an application/x-www-form-urlencoded body */
  form(): URLSearchParams;
  /** a header's first value */
  header(name: string): string | undefined;
}

export interface SandboxResponse {
  status?: number;
  /** serialised as JSON */
  json?: unknown;
  /** sent as is (text/plain unless headers say otherwise) */
  body?: string | Buffer;
  headers?: Record<string, string>;
}

export type SandboxHandler = (request: SandboxRequest) => Promise<SandboxResponse | undefined> | SandboxResponse | undefined;

export interface SandboxRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** exact path, or a pattern with `:name` segments */
  path: string;
  handle: (request: SandboxRequest, params: Record<string, string>) => Promise<SandboxResponse> | SandboxResponse;
}

/** Thrown by a handler to answer with this status and body. */
export class SandboxHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`sandbox answered ${status}`);
  }
}

export const faultSchema = z
  .discriminatedUnion('kind', [
    /** answer after `ms` extra milliseconds */
    z.object({ kind: z.literal('latency'), ms: z.number().int().min(1).max(600_000) }),
    /** answer this status (and body) instead of the real answer */
    z.object({
      kind: z.literal('status'),
      status: z.number().int().min(100).max(599),
      body: z.unknown().optional(),
      retryAfterSeconds: z.number().int().min(0).optional(),
    }),
    /** never answer (until the sandbox closes or the client gives up) */
    z.object({ kind: z.literal('timeout') }),
    /** answer 200 with a body that is not valid JSON */
    z.object({ kind: z.literal('malformed') }),
    /** drop the connection without an answer */
    z.object({ kind: z.literal('disconnect') }),
    /** sign what the sandbox sends (callbacks, signed answers) with a wrong key */
    z.object({ kind: z.literal('badSignature') }),
    /** do what was asked, then never answer: the partner acted, the caller never heard (a lost answer) */
    z.object({ kind: z.literal('lost') }),
  ])
  .and(
    z.object({
      /** how many requests it applies to; unset → until cleared */
      count: z.number().int().min(1).optional(),
      /** only requests whose path starts with this */
      path: z.string().optional(),
      /** only requests whose body contains this (one endpoint, many methods: e.g. `"calledMethod":"save"`) */
      bodyIncludes: z.string().min(1).optional(),
    }),
  );
export type Fault = z.infer<typeof faultSchema>;

export interface RecordedRequest {
  at: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
  status: number | null;
  fault: Fault['kind'] | null;
}

export interface SandboxFaults {
  inject(fault: Fault): void;
  clear(): void;
  list(): Fault[];
  /** consumes one matching `badSignature` fault: the sandbox should sign wrongly this time */
  takeBadSignature(path?: string): boolean;
}

export interface SandboxServer {
  name: string;
  url: string;
  faults: SandboxFaults;
  /** requests received (control requests excluded), oldest first; at most the last 1000 */
  requests(filter?: { path?: string; method?: string }): RecordedRequest[];
  /** resolves when at least `count` requests matching the filter have arrived */
  waitForRequests(count: number, filter?: { path?: string; method?: string }, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** forgets faults, recorded requests and (through onReset) the protocol's own state */
  reset(): void;
  close(): Promise<void>;
}

export interface SandboxOptions {
  port?: number;
  host?: string;
}

export interface SandboxSpec {
  name: string;
  routes: SandboxRoute[];
  /** called on reset(): forget the protocol's own state */
  onReset?: () => void;
  /** extra state shown at GET /__sandbox/state */
  describe?: () => unknown;
  /** the body of a 404 in the protocol's own error shape */
  notFound?: (request: SandboxRequest) => SandboxResponse;
  /** the protocol's own controls under /__sandbox, keyed `'<METHOD> /<name>'` (e.g. `'POST /generatedeals'`) */
  controls?: Record<string, (request: SandboxRequest) => Promise<SandboxResponse> | SandboxResponse>;
}

const CONTROL_PREFIX = '/__sandbox';
const MAX_RECORDED = 1000;
const MAX_BODY = 10 * 1024 * 1024;

function compile(pattern: string): (path: string) => Record<string, string> | null {
  const parts = pattern.split('/');
  return (path) => {
    const segments = path.split('/');
    if (segments.length !== parts.length) return null;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i += 1) {
      const part = parts[i] ?? '';
      const segment = segments[i] ?? '';
      if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(segment);
      else if (part !== segment) return null;
    }
    return params;
  };
}

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function toRequest(req: IncomingMessage, rawBody: Buffer): SandboxRequest {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    rawBody,
    text: () => rawBody.toString('utf8'),
    json: () => {
      try {
        return JSON.parse(rawBody.toString('utf8')) as unknown;
      } catch {
        throw new SandboxHttpError(400, { error: 'malformed JSON body' });
      }
    },
    form: () => new URLSearchParams(rawBody.toString('utf8')),
    header: (name) => firstHeader(req.headers, name),
  };
}

function write(res: ServerResponse, response: SandboxResponse): number {
  const status = response.status ?? 200;
  const headers: Record<string, string> = { ...response.headers };
  let payload: Buffer;
  if (response.json !== undefined) {
    payload = Buffer.from(JSON.stringify(response.json));
    headers['content-type'] ??= 'application/json; charset=utf-8';
  } else {
    payload = typeof response.body === 'string' ? Buffer.from(response.body) : (response.body ?? Buffer.alloc(0));
    if (payload.length > 0) headers['content-type'] ??= 'text/plain; charset=utf-8';
  }
  headers['content-length'] = String(payload.length);
  res.writeHead(status, headers);
  res.end(payload);
  return status;
}

/** Starts a sandbox on 127.0.0.1 (a free port unless given). */
export async function startSandboxServer(spec: SandboxSpec, options: SandboxOptions = {}): Promise<SandboxServer> {
  const routes = spec.routes.map((route) => ({ ...route, match: compile(route.path) }));
  let faults: Array<Fault & { left: number | null }> = [];
  let recorded: RecordedRequest[] = [];
  let waiters: Array<{ check: () => RecordedRequest[] | null; resolve: (found: RecordedRequest[]) => void }> = [];
  const hanging = new Set<ServerResponse>();

  const matching = (filter?: { path?: string; method?: string }) =>
    recorded.filter((r) => (!filter?.path || r.path === filter.path) && (!filter?.method || r.method === filter.method));

  const notify = () => {
    waiters = waiters.filter((waiter) => {
      const found = waiter.check();
      if (found) waiter.resolve(found);
      return !found;
    });
  };

  /** the first active fault that applies, consumed once */
  const takeFault = (path: string, kinds: ReadonlyArray<Fault['kind']>, body = ''): Fault | null => {
    const index = faults.findIndex(
      (f) => kinds.includes(f.kind) && (!f.path || path.startsWith(f.path)) && (!f.bodyIncludes || body.includes(f.bodyIncludes)),
    );
    if (index < 0) return null;
    const fault = faults[index];
    if (!fault) return null;
    if (fault.left !== null) {
      fault.left -= 1;
      if (fault.left <= 0) faults.splice(index, 1);
    }
    return fault;
  };

  const faultControl: SandboxFaults = {
    inject: (fault) => {
      faults.push({ ...faultSchema.parse(fault), left: fault.count ?? null });
    },
    clear: () => {
      faults = [];
    },
    list: () => faults.map(({ left, ...fault }) => ({ ...fault, ...(left === null ? {} : { count: left }) })),
    takeBadSignature: (path = '') => takeFault(path, ['badSignature']) !== null,
  };

  const reset = () => {
    faults = [];
    recorded = [];
    spec.onReset?.();
  };

  const control = async (request: SandboxRequest): Promise<SandboxResponse> => {
    const what = request.path.slice(CONTROL_PREFIX.length);
    if (what === '/faults' && request.method === 'POST') {
      const parsed = faultSchema.safeParse(request.json());
      if (!parsed.success)
        return {
          status: 400,
          json: { error: 'invalid fault', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
        };
      faultControl.inject(parsed.data);
      return { status: 201, json: { faults: faultControl.list() } };
    }
    if (what === '/faults' && request.method === 'GET') return { json: { faults: faultControl.list() } };
    if (what === '/faults' && request.method === 'DELETE') {
      faultControl.clear();
      return { status: 204 };
    }
    if (what === '/requests' && request.method === 'GET') return { json: { requests: recorded } };
    if (what === '/reset' && request.method === 'POST') {
      reset();
      return { status: 204 };
    }
    if (what === '/state' && request.method === 'GET')
      return { json: { name: spec.name, faults: faultControl.list(), state: spec.describe?.() ?? null } };
    const own = spec.controls?.[`${request.method} ${what}`];
    if (own) return own(request);
    return { status: 404, json: { error: `unknown sandbox control ${request.method} ${request.path}` } };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        write(res, { status: 413, json: { error: 'body too large' } });
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const request = toRequest(req, Buffer.concat(chunks));
    if (request.path.startsWith(CONTROL_PREFIX)) {
      write(res, await control(request).catch((error: unknown) => errorResponse(error)));
      return;
    }

    const entry: RecordedRequest = {
      at: new Date().toISOString(),
      method: request.method,
      path: request.path,
      query: request.query.toString(),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])),
      body: request.rawBody.length > 64 * 1024 ? `${request.rawBody.subarray(0, 64 * 1024).toString('utf8')}…` : request.text(),
      status: null,
      fault: null,
    };
    recorded.push(entry);
    if (recorded.length > MAX_RECORDED) recorded = recorded.slice(-MAX_RECORDED);
    notify();

    const bodyText = request.rawBody.length > 64 * 1024 ? '' : request.text();
    const latency = takeFault(request.path, ['latency'], bodyText);
    if (latency?.kind === 'latency') await new Promise((resolve) => setTimeout(resolve, latency.ms));
    const fault = takeFault(request.path, ['status', 'timeout', 'malformed', 'disconnect'], bodyText);
    if (fault) {
      entry.fault = fault.kind;
      if (fault.kind === 'timeout') {
        hanging.add(res);
        res.once('close', () => hanging.delete(res));
        return;
      }
      if (fault.kind === 'disconnect') {
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'malformed') {
        entry.status = write(res, { status: 200, body: '{"truncated": ', headers: { 'content-type': 'application/json' } });
        return;
      }
      if (fault.kind === 'status') {
        const headers: Record<string, string> =
          fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
        entry.status = write(res, { status: fault.status, json: fault.body ?? { error: `injected HTTP ${fault.status}` }, headers });
        return;
      }
    }

    let response: SandboxResponse;
    try {
      const route = routes.find((r) => r.method === request.method && r.match(request.path));
      if (route) response = await route.handle(request, route.match(request.path) ?? {});
      else response = spec.notFound?.(request) ?? { status: 404, json: { error: `no such endpoint: ${request.method} ${request.path}` } };
    } catch (error) {
      response = errorResponse(error);
    }
    if (takeFault(request.path, ['lost'], bodyText)) {
      entry.fault = 'lost';
      hanging.add(res);
      res.once('close', () => hanging.delete(res));
      return;
    }
    if (!res.destroyed) entry.status = write(res, response);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) write(res, { status: 500, json: { error: 'sandbox failure' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    name: spec.name,
    url: `http://${host}:${address.port}`,
    faults: faultControl,
    requests: (filter) => matching(filter),
    waitForRequests: (count, filter, timeoutMs = 15_000) =>
      new Promise<RecordedRequest[]>((resolve, reject) => {
        const check = () => {
          const found = matching(filter);
          return found.length >= count ? found : null;
        };
        const now = check();
        if (now) return resolve(now);
        const timer = setTimeout(
          () => reject(new Error(`${spec.name} sandbox saw ${matching(filter).length} of ${count} requests`)),
          timeoutMs,
        );
        waiters.push({
          check,
          resolve: (found) => {
            clearTimeout(timer);
            resolve(found);
          },
        });
      }),
    reset,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        hanging.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function errorResponse(error: unknown): SandboxResponse {
  if (error instanceof SandboxHttpError) return { status: error.status, json: error.body };
  return { status: 500, json: { error: 'sandbox failure' } };
}
