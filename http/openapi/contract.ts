import type { RouterMiddleware } from '@koa/router';
import type { ZodType } from 'zod';
import type { Role } from '../auth.ts';
import type { HubState } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';

/** A response a route answers: its description, and its body's schema where one exists (else a generic JSON object). */
export interface ResponseContract {
  description: string;
  schema?: ZodType;
  /** the media type when it is not JSON (a PDF, a QR code, a page, Prometheus text) */
  mediaType?: string;
  /** no body (204) */
  empty?: boolean;
}

/**
 * What a route promises, declared beside its handler with the same zod schemas that validate it: the
 * OpenAPI document (`/openapi.json`) is built from these, so it cannot say what the route does not check.
 */
export interface RouteContract {
  summary: string;
  description?: string;
  /**
   * `none`: no API key (health, partner callbacks with their own signatures, pages); otherwise the roles
   * the key must hold (admin may do everything) — enforced by this contract itself.
   */
  auth: 'none' | readonly [Role, ...Role[]];
  /** path parameters beyond plain strings (an enum of machine types, say) */
  params?: ZodType;
  query?: ZodType;
  body?: ZodType;
  /** the body's media types; default JSON */
  bodyMediaTypes?: readonly string[];
  /** the body is optional (an empty body stands for `{}`) */
  bodyOptional?: boolean;
  idempotencyKey?: 'required' | 'optional';
  /** by status; default 200 with a JSON object */
  responses?: Readonly<Record<number, string | ResponseContract>>;
}

export interface TaggedContract extends RouteContract {
  tag: string;
}

const CONTRACT = Symbol('route contract');

type ContractMiddleware = RouterMiddleware<HubState> & { [CONTRACT]: TaggedContract };

/**
 * The route's contract as middleware: it checks the role the contract names (so the document and the
 * enforcement are one declaration) and carries the contract for the document builder.
 */
function contractMiddleware(contract: TaggedContract): ContractMiddleware {
  const check = contract.auth === 'none' ? null : requireRole(...contract.auth);
  const middleware: RouterMiddleware<HubState> = (ctx, next) => (check ? check(ctx, next) : next());
  return Object.assign(middleware, { [CONTRACT]: contract });
}

/**
 * The contracts of one area of the API (one tag of the document), by name, as the middleware its routes
 * put before their handlers: `router.get('/orders', documented.list, handler)`.
 */
export function contracts<TName extends string>(tag: string, table: Record<TName, RouteContract>): Record<TName, ContractMiddleware> {
  const entries = Object.entries<RouteContract>(table).map(([name, contract]) => [name, contractMiddleware({ ...contract, tag })]);
  return Object.fromEntries(entries) as Record<TName, ContractMiddleware>;
}

/** The contract a route's middleware carries, if it has one. */
export function contractOf(middleware: unknown): TaggedContract | undefined {
  if (typeof middleware !== 'function' || !(CONTRACT in middleware)) return undefined;
  return (middleware as ContractMiddleware)[CONTRACT];
}
