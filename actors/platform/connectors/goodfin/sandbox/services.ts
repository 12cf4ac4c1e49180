import { z } from 'zod';
import { SandboxHttpError } from '../../kit/sandbox.ts';
import { GOODFIN_PATHS, type EndpointDeclaration, type ErrorMapping, type GoodfinEnvelope, type StatusMapping } from '../protocol.ts';

export interface RegisteredService {
  serviceSystemName: string;
  endpoint: EndpointDeclaration | null;
  statuses: StatusMapping | null;
  errors: ErrorMapping | null;
  /** messages received from this service, oldest first, one per msgId */
  received: GoodfinEnvelope[];
  /** messages received again under a msgId already received */
  duplicates: number;
}

/** A registered service with the password it signs in with, which no view shows. */
export interface ServiceAccount extends RegisteredService {
  password: string;
}

/** The service a control acts for; absent, the one the controls act for by default. */
export const serviceNameField = { serviceSystemName: z.string().min(1).optional() };

/**
 * The services registered with the sandbox and what each declared: the
 * preregistered one (again after every reset) and those registered over HTTP.
 */
export class ServiceRegistry {
  private readonly accounts = new Map<string, ServiceAccount>();
  /** the service that declared an endpoint last: the hub under test */
  private lastDeclared: string | null = null;

  constructor(private readonly preregistered: { serviceSystemName: string; password: string }) {}

  /** back to the preregistered service alone, with nothing declared */
  reset(): void {
    this.accounts.clear();
    this.lastDeclared = null;
    this.register(this.preregistered.serviceSystemName, this.preregistered.password);
  }

  register(serviceSystemName: string, password: string): void {
    this.accounts.set(serviceSystemName, {
      serviceSystemName,
      password,
      endpoint: null,
      statuses: null,
      errors: null,
      received: [],
      duplicates: 0,
    });
  }

  get(serviceSystemName: string): ServiceAccount | undefined {
    return this.accounts.get(serviceSystemName);
  }

  all(): ServiceAccount[] {
    return [...this.accounts.values()];
  }

  /** what a test sees of a service: everything but its password */
  view(serviceSystemName: string): RegisteredService | null {
    const found = this.accounts.get(serviceSystemName);
    if (!found) return null;
    const { password: _password, ...service } = found;
    return service;
  }

  declareEndpoint(service: RegisteredService, endpoint: EndpointDeclaration): void {
    service.endpoint = endpoint;
    this.lastDeclared = service.serviceSystemName;
  }

  /** the controls act for the service that declared an endpoint last (the hub under test), else the preregistered one */
  get controlsActFor(): string {
    return this.lastDeclared ?? this.preregistered.serviceSystemName;
  }

  /** the service a control names, else the one the controls act for; 404 when there is none */
  named(serviceSystemName = this.controlsActFor): ServiceAccount {
    const service = this.accounts.get(serviceSystemName);
    if (!service) throw new SandboxHttpError(404, { error: 'not_found', error_description: `no service ${serviceSystemName}` });
    return service;
  }

  /** where Goodfin pushes to the service; 400 while it has declared none */
  endpointOf(service: RegisteredService): EndpointDeclaration {
    if (!service.endpoint)
      throw new SandboxHttpError(400, {
        error: 'endpoint_not_declared',
        error_description: `service ${service.serviceSystemName} has declared no integration endpoint (${GOODFIN_PATHS.integrationEndpoint})`,
      });
    return service.endpoint;
  }
}
