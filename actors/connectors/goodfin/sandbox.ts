import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { startSandboxServer, type SandboxOptions, type SandboxRequest, type SandboxResponse, type SandboxServer } from '../kit/sandbox.ts';
import {
  endpointDeclarationSchema,
  envelopeSchema,
  errorMappingSchema,
  GOODFIN_OAUTH_CLIENT_ID,
  GOODFIN_PATHS,
  statusMappingSchema,
  type EndpointDeclaration,
  type ErrorMapping,
  type GoodfinEnvelope,
  type StatusMapping,
} from './protocol.ts';

/**
 * The Goodfin sandbox (the service side of it): services registered with a
 * login and password, OAuth password-grant tokens that are real HS256 JWTs
 * with `exp`, the declarations a service makes (endpoint, statuses,
 * errors), attached documents to download, and the inbound message
 * endpoint, which records what it receives.
 */

export const GOODFIN_SANDBOX_CREDENTIALS = { serviceSystemName: 'hubSandbx1', password: 'sandbox-goodfin-pass' };

export interface RegisteredService {
  serviceSystemName: string;
  endpoint: EndpointDeclaration | null;
  statuses: StatusMapping | null;
  errors: ErrorMapping | null;
  /** messages received from this service, oldest first */
  received: GoodfinEnvelope[];
}

export interface GoodfinSandbox extends SandboxServer {
  service(serviceSystemName: string): RegisteredService | null;
  /** seconds a new token lives (3599 by default, as Goodfin) */
  setTokenLifetime(seconds: number): void;
  /** makes every token issued so far invalid (the next call answers 401) */
  revokeTokens(): void;
  addDocument(documentId: string, content: Buffer): void;
  tokensIssued(): number;
}

const oauthError = (status: number, error: string, description: string): SandboxResponse => ({ status, json: { error, error_description: description } });

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A one-page PDF, so that a downloaded document is a real file. */
export function samplePdf(title: string): Buffer {
  const content = `BT /F1 18 Tf 72 770 Td (${title.replace(/[()\\]/g, '')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body);
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

export async function startGoodfinSandbox(options: SandboxOptions = {}, preregistered = GOODFIN_SANDBOX_CREDENTIALS): Promise<GoodfinSandbox> {
  const signingKey = randomBytes(32);
  const services = new Map<string, RegisteredService & { password: string }>();
  const documents = new Map<string, Buffer>();
  let tokenLifetime = 3599;
  // tokens carry the generation they were issued in; revoking starts a new one
  let generation = 0;
  let issued = 0;

  const register = (serviceSystemName: string, password: string) => {
    services.set(serviceSystemName, { serviceSystemName, password, endpoint: null, statuses: null, errors: null, received: [] });
  };
  const seed = () => {
    services.clear();
    documents.clear();
    register(preregistered.serviceSystemName, preregistered.password);
    documents.set('doc-sample-0001', samplePdf('Goodfin sandbox document'));
  };
  seed();

  const sign = (input: string) => createHmac('sha256', signingKey).update(input).digest('base64url');

  const issueToken = (serviceSystemName: string) => {
    const iat = Math.floor(Date.now() / 1000);
    const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({ user_name: serviceSystemName, scope: ['read', 'write'], client_id: GOODFIN_OAUTH_CLIENT_ID, iat, exp: iat + tokenLifetime, jti: randomUUID(), gen: generation })}`;
    issued += 1;
    return `${unsigned}.${sign(unsigned)}`;
  };

  /** the service whose valid token this request carries, or the 401 Goodfin would answer */
  const authorise = (request: SandboxRequest): (RegisteredService & { password: string }) | SandboxResponse => {
    const token = /^Bearer (.+)$/i.exec(request.header('authorization') ?? '')?.[1];
    const [header, payload, signature] = token?.split('.') ?? [];
    if (!header || !payload || !signature) return oauthError(401, 'unauthorized', 'Full authentication is required to access this resource');
    const expected = Buffer.from(sign(`${header}.${payload}`));
    const sent = Buffer.from(signature);
    if (expected.length !== sent.length || !timingSafeEqual(expected, sent)) return oauthError(401, 'invalid_token', 'Cannot convert access token to JSON');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { user_name: string; exp: number; gen: number };
    if (claims.exp * 1000 <= Date.now()) return oauthError(401, 'invalid_token', 'Access token expired');
    if (claims.gen !== generation) return oauthError(401, 'invalid_token', 'Invalid access token');
    return services.get(claims.user_name) ?? oauthError(401, 'invalid_token', 'Invalid access token');
  };
  const refused = (value: RegisteredService | SandboxResponse): value is SandboxResponse => 'json' in value;

  const declaration = <T>(path: string, schema: { safeParse(body: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, store: (service: RegisteredService, value: T) => void) => ({
    method: 'POST' as const,
    path,
    handle: (request: SandboxRequest): SandboxResponse => {
      const service = authorise(request);
      if (refused(service)) return service;
      const parsed = schema.safeParse(request.json());
      if (!parsed.success) return { status: 400, json: { error: 'validation_error', error_description: parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ') } };
      store(service, parsed.data);
      return { json: { success: true } };
    },
  });

  const download = (request: SandboxRequest): SandboxResponse => {
    const service = authorise(request);
    if (refused(service)) return service;
    const content = documents.get(request.query.get('documentId') ?? '');
    if (!content) return { status: 404, json: { error: 'not_found', error_description: 'document not found' } };
    return { headers: { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="document.pdf"' }, body: content };
  };

  const server = await startSandboxServer(
    {
      name: 'goodfin',
      onReset: seed,
      describe: () => ({ services: [...services.values()].map((s) => ({ serviceSystemName: s.serviceSystemName, endpoint: s.endpoint?.url ?? null, received: s.received.length })) }),
      routes: [
        {
          method: 'POST',
          path: GOODFIN_PATHS.registerService,
          handle: () => {
            const serviceSystemName = randomBytes(8).toString('base64url').replace(/[-_]/g, 'x').slice(0, 10);
            const password = randomBytes(8).toString('base64url').replace(/[-_]/g, 'y').slice(0, 10);
            register(serviceSystemName, password);
            return { json: { serviceSystemName, password } };
          },
        },
        {
          method: 'POST',
          path: GOODFIN_PATHS.token,
          handle: (request) => {
            const form = request.form();
            if (form.get('client_id') !== GOODFIN_OAUTH_CLIENT_ID) return oauthError(401, 'invalid_client', 'Bad client credentials');
            if (form.get('grant_type') !== 'password') return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${form.get('grant_type') ?? ''}`);
            const service = services.get(form.get('username') ?? '');
            const password = Buffer.from(form.get('password') ?? '');
            const expected = Buffer.from(service?.password ?? '');
            if (!service || password.length !== expected.length || !timingSafeEqual(password, expected)) return oauthError(400, 'invalid_grant', 'Bad credentials');
            return { json: { access_token: issueToken(service.serviceSystemName), token_type: 'bearer', expires_in: tokenLifetime, scope: 'read write', userId: service.serviceSystemName } };
          },
        },
        declaration(GOODFIN_PATHS.integrationEndpoint, endpointDeclarationSchema, (service, value) => (service.endpoint = value)),
        declaration(GOODFIN_PATHS.statusMapping, statusMappingSchema, (service, value) => (service.statuses = value)),
        declaration(GOODFIN_PATHS.errorMapping, errorMappingSchema, (service, value) => (service.errors = value)),
        declaration(GOODFIN_PATHS.inbound, envelopeSchema, (service, value) => service.received.push(value)),
        { method: 'GET', path: GOODFIN_PATHS.downloadDocument, handle: download },
        { method: 'GET', path: GOODFIN_PATHS.getDocumentFile, handle: download },
      ],
    },
    options,
  );
  return Object.assign(server, {
    service: (name: string) => {
      const found = services.get(name);
      if (!found) return null;
      const { password: _password, ...service } = found;
      return service;
    },
    setTokenLifetime: (seconds: number) => {
      tokenLifetime = seconds;
    },
    revokeTokens: () => {
      generation += 1;
    },
    addDocument: (documentId: string, content: Buffer) => {
      documents.set(documentId, content);
    },
    tokensIssued: () => issued,
  });
}
