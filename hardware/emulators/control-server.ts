import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/**
 * The emulators' control API over HTTP on loopback, shaped like the partner
 * sandboxes' `/__sandbox/*` routes: `GET <prefix>/__sandbox/state`,
 * `POST <prefix>/__sandbox/paper {"state":"out"}`, … Every body is checked
 * with the route's zod schema (400 with the failing paths otherwise).
 */

export interface ControlRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** under `/__sandbox`, e.g. `/paper` */
  path: string;
  handle(body: unknown): Promise<unknown> | unknown;
}

/** A route whose body is parsed by `schema` before `handle` sees it. */
export function controlRoute<S extends z.ZodType>(
  method: ControlRoute['method'],
  path: string,
  schema: S,
  handle: (body: z.infer<S>) => Promise<unknown> | unknown,
): ControlRoute {
  return {
    method,
    path,
    handle: (body) => {
      const parsed = schema.safeParse(body ?? {});
      if (!parsed.success)
        throw new ControlInputError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`));
      return handle(parsed.data);
    },
  };
}

export class ControlInputError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid control request: ${problems.join('; ')}`);
  }
}

export interface MountedRoutes {
  /** e.g. `/fiscal-main`; '' for a lone emulator */
  prefix: string;
  routes: ControlRoute[];
}

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new ControlInputError(['body larger than 64 KiB']);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ControlInputError(['body is not JSON']);
  }
}

export async function startControlServer(mounts: MountedRoutes[], options: { port?: number; host?: string } = {}): Promise<ControlServer> {
  const table = new Map<string, ControlRoute>();
  for (const mount of mounts) for (const route of mount.routes) table.set(`${route.method} ${mount.prefix}/__sandbox${route.path}`, route);

  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://control').pathname;
    const route = table.get(`${request.method ?? 'GET'} ${path}`);
    const send = (status: number, body: unknown) => {
      const payload = Buffer.from(JSON.stringify(body));
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(payload.length) });
      response.end(payload);
    };
    if (!route) {
      send(404, { error: { code: 'not_found', message: `no control route ${request.method} ${path}`, routes: [...table.keys()] } });
      return;
    }
    readBody(request)
      .then((body) => route.handle(body))
      .then(
        (result) => send(200, result ?? { ok: true }),
        (error: unknown) =>
          error instanceof ControlInputError
            ? send(400, { error: { code: 'invalid_request', message: error.message, details: error.problems } })
            : send(500, { error: { code: 'internal_error', message: error instanceof Error ? error.message : String(error) } }),
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
