import { randomBytes, randomUUID } from 'node:crypto';
import type { SandboxRequest, SandboxResponse, SandboxRoute } from '../../kit/sandbox.ts';
import { GOODFIN_OAUTH_CLIENT_ID, GOODFIN_PATHS } from '../protocol.ts';
import type { RegisteredService, ServiceAccount, ServiceRegistry } from './services.ts';
import { constantTimeEqual, hmac } from '../../../../../common/security.ts';

export const oauthError = (status: number, error: string, description: string): SandboxResponse => ({
  status,
  json: { error, error_description: description },
});

/** true when `authorise` answered with Goodfin's 401 instead of a service */
export const refused = (value: RegisteredService | SandboxResponse): value is SandboxResponse => 'json' in value;

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * Signing up and signing in as Goodfin does it: registration hands out a
 * service name and password; the OAuth password grant issues real HS256
 * JWTs with `exp`. Tokens outlive a reset of the sandbox (the preregistered
 * service keeps its token), not a revocation.
 */
export class SandboxTokens {
  private readonly signingKey = randomBytes(32);
  /** seconds a new token lives (as Goodfin) */
  lifetimeSeconds = 3599;
  // tokens carry the generation they were issued in; revoking starts a new one
  private generation = 0;
  private issuedCount = 0;

  constructor(private readonly services: ServiceRegistry) {}

  get issued(): number {
    return this.issuedCount;
  }

  /** makes every token issued so far invalid */
  revoke(): void {
    this.generation += 1;
  }

  issue(serviceSystemName: string): string {
    const iat = Math.floor(Date.now() / 1000);
    const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({ user_name: serviceSystemName, scope: ['read', 'write'], client_id: GOODFIN_OAUTH_CLIENT_ID, iat, exp: iat + this.lifetimeSeconds, jti: randomUUID(), gen: this.generation })}`;
    this.issuedCount += 1;
    return `${unsigned}.${this.sign(unsigned)}`;
  }

  /** the service whose valid token this request carries, or the 401 Goodfin would answer */
  authorise(request: SandboxRequest): ServiceAccount | SandboxResponse {
    const token = /^Bearer (.+)$/i.exec(request.header('authorization') ?? '')?.[1];
    const [header, payload, signature] = token?.split('.') ?? [];
    if (!header || !payload || !signature)
      return oauthError(401, 'unauthorized', 'Full authentication is required to access this resource');
    if (!constantTimeEqual(signature, this.sign(`${header}.${payload}`)))
      return oauthError(401, 'invalid_token', 'Cannot convert access token to JSON');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { user_name: string; exp: number; gen: number };
    if (claims.exp * 1000 <= Date.now()) return oauthError(401, 'invalid_token', 'Access token expired');
    if (claims.gen !== this.generation) return oauthError(401, 'invalid_token', 'Invalid access token');
    return this.services.get(claims.user_name) ?? oauthError(401, 'invalid_token', 'Invalid access token');
  }

  /** the registration and token endpoints */
  routes(): SandboxRoute[] {
    return [
      {
        method: 'POST',
        path: GOODFIN_PATHS.registerService,
        handle: () => {
          const serviceSystemName = randomBytes(8).toString('base64url').replace(/[-_]/g, 'x').slice(0, 10);
          const password = randomBytes(8).toString('base64url').replace(/[-_]/g, 'y').slice(0, 10);
          this.services.register(serviceSystemName, password);
          return { json: { serviceSystemName, password } };
        },
      },
      {
        method: 'POST',
        path: GOODFIN_PATHS.token,
        handle: (request) => {
          const form = request.form();
          if (form.get('client_id') !== GOODFIN_OAUTH_CLIENT_ID) return oauthError(401, 'invalid_client', 'Bad client credentials');
          if (form.get('grant_type') !== 'password')
            return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${form.get('grant_type') ?? ''}`);
          const service = this.services.get(form.get('username') ?? '');
          if (!service || !constantTimeEqual(form.get('password') ?? '', service.password))
            return oauthError(400, 'invalid_grant', 'Bad credentials');
          return {
            json: {
              access_token: this.issue(service.serviceSystemName),
              token_type: 'bearer',
              expires_in: this.lifetimeSeconds,
              scope: 'read write',
              userId: service.serviceSystemName,
            },
          };
        },
      },
    ];
  }

  private sign(input: string): string {
    return hmac('sha256', this.signingKey, input, 'base64url');
  }
}
