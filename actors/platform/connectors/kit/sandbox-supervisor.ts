import type { Logger } from 'winston';
import type { ClusterSandboxes } from '../../../../common/config.ts';
import type { SandboxCredentialsFile, StoredSandboxCredentials } from '../../../../persistence/sandbox-credentials.ts';
import type { AnyConnector, ConnectorDefinition } from './definition.ts';
import type { SandboxServer } from './sandbox.ts';

/**
 * The sandboxes the hub runs for integrations with nothing configured: each
 * started once at start-up with credentials of this installation (generated
 * once, kept in DATA_DIR: the fixed ones in the source would let anyone sign
 * a callback the hub accepts), registered with when its partner issues
 * credentials (Goodfin), and closed when the hub stops.
 *
 * In a worker of a cluster (`shared`), the primary runs the sandboxes for
 * every process: a payment created through one worker must be known to the
 * sandbox another worker asks. The worker then starts none and uses the
 * primary's addresses and credentials.
 */
export class SandboxSupervisor {
  /** the sandboxes running in this process */
  private readonly servers = new Map<string, SandboxServer>();
  /** where each sandbox in use listens, here or at the cluster primary */
  private readonly urls = new Map<string, string>();
  /** what each running sandbox was started with, by integration */
  private readonly started = new Map<string, Record<string, string>>();
  /** credentials a sandbox handed out at start-up (registration), by integration */
  private readonly registered = new Map<string, Record<string, string>>();

  constructor(
    private readonly logger: Logger,
    private readonly credentialsFile: SandboxCredentialsFile,
    private readonly shared?: ClusterSandboxes,
  ) {}

  /** Starts the definitions' sandboxes one after another; one that refuses to register us stops the start. */
  async start(definitions: AnyConnector[]): Promise<void> {
    if (definitions.length === 0) return;
    if (this.shared) return this.useShared(definitions, this.shared);
    const credentials = await this.credentialsFor(definitions);
    for (const definition of definitions) {
      const own = credentials[definition.name] as Record<string, string>;
      const server = await definition.sandbox.start(undefined, own);
      this.servers.set(definition.name, server);
      this.urls.set(definition.name, server.url);
      this.started.set(definition.name, own);
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

  private useShared(definitions: AnyConnector[], shared: ClusterSandboxes): void {
    for (const definition of definitions) {
      const sandbox = shared[definition.name];
      if (!sandbox) {
        this.logger.warn('the cluster primary runs no sandbox for this integration', { integration: definition.name });
        continue;
      }
      this.urls.set(definition.name, sandbox.url);
      this.started.set(definition.name, sandbox.credentials);
      this.logger.info('integration sandboxed', { integration: definition.name, url: sandbox.url, runBy: 'cluster primary' });
    }
  }

  /** What the cluster primary hands its workers: each running sandbox's address and the credentials to use it with. */
  forWorkers(): ClusterSandboxes {
    const shared: ClusterSandboxes = {};
    for (const [name, server] of this.servers) {
      const credentials = this.registered.get(name) ?? this.started.get(name);
      if (credentials) shared[name] = { url: server.url, credentials };
    }
    return shared;
  }

  /**
   * This installation's credentials for each definition's sandbox: what the
   * file holds, with fresh ones generated (and kept) for an integration it
   * has none for, or none its connector still accepts.
   */
  async credentialsFor(definitions: AnyConnector[]): Promise<StoredSandboxCredentials> {
    for (let attempt = 1; ; attempt += 1) {
      const stored = await this.credentialsFile.read();
      const kept: StoredSandboxCredentials = { ...stored };
      const generated: string[] = [];
      for (const definition of definitions) {
        if (definition.credentials.safeParse(kept[definition.name]).success) continue;
        kept[definition.name] = definition.credentials.parse(definition.sandbox.generateCredentials()) as Record<string, string>;
        generated.push(definition.name);
      }
      if (generated.length === 0) return kept;
      if (stored !== null) await this.credentialsFile.replace(kept);
      else if (!(await this.credentialsFile.create(kept))) {
        // another process sharing DATA_DIR created the file first: its credentials are the installation's
        if (attempt < 2) continue;
        throw new Error(`${this.credentialsFile.file} could be neither created nor read`);
      }
      this.logger.info('generated credentials for the sandboxes', { file: this.credentialsFile.file, integrations: generated });
      return kept;
    }
  }

  async stop(): Promise<void> {
    for (const server of this.servers.values()) await server.close();
    this.servers.clear();
    this.urls.clear();
    this.started.clear();
    this.registered.clear();
  }

  /** the sandbox running in this process (its faults and recordings); null when none runs here */
  serverOf(name: string): SandboxServer | null {
    return this.servers.get(name) ?? null;
  }

  /** where the integration's sandbox listens, in this process or at the cluster primary; null when none is in use */
  urlOf(name: string): string | null {
    return this.urls.get(name) ?? null;
  }

  /** what the hub signs in to its sandbox with: what it registered, else what the sandbox was started with; null when none runs */
  credentialsOf<TCredentials extends Record<string, string>, TSettings, TClient>(
    definition: ConnectorDefinition<TCredentials, TSettings, TClient>,
  ): TCredentials | null {
    return ((this.registered.get(definition.name) ?? this.started.get(definition.name)) as TCredentials | undefined) ?? null;
  }
}
