import type { Logger } from 'winston';
import type { AnyConnector, ConnectorDefinition } from './definition.ts';
import type { SandboxServer } from './sandbox.ts';

/**
 * The sandboxes the hub runs for integrations with nothing configured: each
 * started once at start-up, registered with when its partner issues
 * credentials (Goodfin), and closed when the hub stops.
 */
export class SandboxSupervisor {
  private readonly servers = new Map<string, SandboxServer>();
  /** credentials a sandbox handed out at start-up (registration), by integration */
  private readonly registered = new Map<string, Record<string, string>>();

  constructor(private readonly logger: Logger) {}

  /** Starts the definitions' sandboxes one after another; one that refuses to register us stops the start. */
  async start(definitions: AnyConnector[]): Promise<void> {
    for (const definition of definitions) {
      const server = await definition.sandbox.start();
      this.servers.set(definition.name, server);
      if (definition.sandbox.register) {
        try {
          this.registered.set(definition.name, await definition.sandbox.register(server.url));
        } catch (error) {
          await server.close();
          throw new Error(
            `the ${definition.name} sandbox refused to register us: ${error instanceof Error ? error.message : String(error)}`,
            {
              cause: error,
            },
          );
        }
      }
      this.logger.info('integration sandboxed', {
        integration: definition.name,
        url: server.url,
        ...(definition.sandbox.register ? { registered: true } : {}),
      });
    }
  }

  async stop(): Promise<void> {
    for (const server of this.servers.values()) await server.close();
    this.servers.clear();
    this.registered.clear();
  }

  serverOf(name: string): SandboxServer | null {
    return this.servers.get(name) ?? null;
  }

  /** what the hub signs in to the sandbox with: what it registered, else the sandbox's fixed credentials */
  credentialsOf<TCredentials extends Record<string, string>, TSettings, TClient>(
    definition: ConnectorDefinition<TCredentials, TSettings, TClient>,
  ): TCredentials {
    return (this.registered.get(definition.name) as TCredentials | undefined) ?? definition.sandbox.credentials;
  }
}
