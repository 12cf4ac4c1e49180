import type { Context, Next } from 'koa';
import { errors } from '../../common/errors.ts';
import type { ApiKeys, Role } from '../auth.ts';
import type { HubState } from '../context.ts';

/** `Authorization: Bearer <key>` → principal on ctx.state; 401 when missing or unknown. */
export function authenticate(apiKeys: ApiKeys) {
  return async (ctx: Context & { state: HubState }, next: Next) => {
    const header = ctx.get('Authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1])
      throw errors.unauthorized(header ? 'Authorization must be "Bearer <API key>"' : 'missing API key (Authorization: Bearer <key>)');
    const principal = await apiKeys.authenticate(match[1]);
    if (!principal) throw errors.unauthorized('unknown API key');
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
