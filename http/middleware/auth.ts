import type { Context, Next } from 'koa';
import { errors } from '../../common/errors.ts';
import type { ApiKeys, Role } from '../auth.ts';
import type { HubState } from '../context.ts';

/**
 * What `authenticate` reports each attempt to (the per-address limit on
 * failed attempts and their count, middleware/rate-limit.ts): `admit` runs
 * before the key is looked up and throws to refuse the request.
 */
export interface AuthenticationGuard {
  admit(ctx: Context & { state: HubState }): { succeeded(): void; failed(reason: string): Promise<void> };
}

const UNGUARDED: AuthenticationGuard = { admit: () => ({ succeeded: () => undefined, failed: async () => undefined }) };

/** `Authorization: Bearer <key>` → principal on ctx.state; 401 when missing or unknown. */
export function authenticate(apiKeys: ApiKeys, guard: AuthenticationGuard = UNGUARDED) {
  return async (ctx: Context & { state: HubState }, next: Next) => {
    const attempt = guard.admit(ctx);
    const header = ctx.get('Authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = match?.[1] ? await apiKeys.authenticate(match[1]) : null;
    if (!principal) {
      const refusal = match?.[1]
        ? errors.unauthorized('unknown API key')
        : errors.unauthorized(header ? 'Authorization must be "Bearer <API key>"' : 'missing API key (Authorization: Bearer <key>)');
      await attempt.failed(refusal.message);
      throw refusal;
    }
    attempt.succeeded();
    ctx.state.principal = principal;
    return next();
  };
}

/** 403 unless the principal holds one of the roles (admin may do everything). */
export function requireRole(...roles: Role[]) {
  return async (ctx: Context & { state: HubState }, next: Next) => {
    const role = ctx.state.principal?.role;
    if (!role) throw errors.unauthorized();
    if (role !== 'admin' && !roles.includes(role)) {
      throw errors.forbidden(`this needs the role ${roles.join(' or ')}; the key has role ${role}`);
    }
    return next();
  };
}
