import type { SandboxRequest, SandboxResponse, SandboxRoute } from '../../kit/sandbox.ts';
import { endpointDeclarationSchema, errorMappingSchema, GOODFIN_PATHS, statusMappingSchema } from '../protocol.ts';
import { refused, type SandboxTokens } from './oauth.ts';
import type { RegisteredService, ServiceRegistry } from './services.ts';
import { describeIssues } from '../../../../../common/issues.ts';

/** The declarations a signed-in service makes: where Goodfin pushes to it, its statuses and its error codes. */
export function declarationRoutes(services: ServiceRegistry, tokens: SandboxTokens): SandboxRoute[] {
  return [
    declaration(tokens, GOODFIN_PATHS.integrationEndpoint, endpointDeclarationSchema, (service, value) =>
      services.declareEndpoint(service, value),
    ),
    declaration(tokens, GOODFIN_PATHS.statusMapping, statusMappingSchema, (service, value) => (service.statuses = value)),
    declaration(tokens, GOODFIN_PATHS.errorMapping, errorMappingSchema, (service, value) => (service.errors = value)),
  ];
}

function declaration<T>(
  tokens: SandboxTokens,
  path: string,
  schema: {
    safeParse(
      body: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
  },
  store: (service: RegisteredService, value: T) => void,
): SandboxRoute {
  return {
    method: 'POST',
    path,
    handle: (request: SandboxRequest): SandboxResponse => {
      const service = tokens.authorise(request);
      if (refused(service)) return service;
      const parsed = schema.safeParse(request.json());
      if (!parsed.success)
        return { status: 400, json: { error: 'validation_error', error_description: describeIssues(parsed.error, '(body)') } };
      store(service, parsed.data);
      return { json: { success: true } };
    },
  };
}
