import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'winston';
import type { Collections, EventOutboxDoc } from '../../../persistence/collections.ts';
import { openNatsServer, type NatsServer } from '../../../persistence/embedded-nats/server.ts';
import type { ActorRuntime } from '../../runtime/runtime.ts';
import type { HubMetrics } from '../monitoring/metrics.ts';
import { NatsCommands } from './commands.ts';
import { DomainEventPublisher } from './publisher.ts';

/**
 * Domain events on NATS JetStream, as the hub runs them: the publisher exists before the runtime (which
 * hands it each committed event), NATS is reached after (the embedded nats-server under DATA_DIR unless
 * NATS_URL names one). A NATS that is away delays publishing, never a commit: events wait in the outbox
 * and the connection is tried again until it succeeds.
 */
export class DomainEvents {
  readonly publisher: DomainEventPublisher;
  commands: NatsCommands | null = null;
  private server: NatsServer | null = null;
  private nc: NatsConnection | null = null;
  private connecting: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: {
      collections: Pick<Collections, 'eventOutbox' | 'journal'>;
      logger: Logger;
      types: readonly string[];
      metrics?: HubMetrics;
      now?: () => number;
      orphanAfterMs?: number;
    },
  ) {
    this.publisher = new DomainEventPublisher({
      collections: deps.collections,
      logger: deps.logger,
      types: deps.types,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.orphanAfterMs ? { orphanAfterMs: deps.orphanAfterMs } : {}),
      observeLatency: (seconds) => deps.metrics?.domainEventPublished(seconds),
    });
    deps.metrics?.trackDomainEvents(this.publisher);
  }

  /** The runtime's listener. */
  readonly committed = (event: EventOutboxDoc): void => this.publisher.committed(event);

  /** Starts (or finds) the NATS server, then connects in the background until it succeeds. */
  async start(options: { natsUrl?: string; dataDir: string; runtime: ActorRuntime }): Promise<{ url: string; kind: string }> {
    const { logger } = this.deps;
    this.server = await openNatsServer({
      ...(options.natsUrl ? { natsUrl: options.natsUrl } : {}),
      dataDir: options.dataDir,
      log: (level, message, meta) => logger.log(level, message, meta),
    });
    const server = this.server;
    this.connecting = this.connectUntilConnected(server.url, options.runtime);
    return { url: server.kind === 'external' ? '[NATS_URL]' : server.url, kind: server.kind };
  }

  /** Connected and publishing (tests and the admin view wait on it). */
  async ready(): Promise<void> {
    await this.connecting;
  }

  get connected(): boolean {
    return this.nc !== null && !this.nc.isClosed();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.commands?.stop().catch(() => undefined);
    await this.publisher.stop();
    await this.nc?.drain().catch(() => undefined);
    await this.server?.stop();
  }

  private async connectUntilConnected(url: string, runtime: ActorRuntime): Promise<void> {
    const { logger } = this.deps;
    let warned = false;
    while (!this.stopped) {
      try {
        const nc = await connect({ servers: url, name: 'integration-hub', maxReconnectAttempts: -1, reconnectTimeWait: 1_000 });
        this.nc = nc;
        await this.publisher.start(nc);
        this.commands = new NatsCommands({ runtime, logger });
        await this.commands.start(nc);
        void this.publisher.sweep();
        logger.info('domain events publishing to NATS JetStream', { stream: 'HUB' });
        return;
      } catch (error) {
        if (!warned) logger.warn('NATS is not reachable; domain events wait in the outbox', { error: String(error) });
        warned = true;
        await this.nc?.close().catch(() => undefined);
        this.nc = null;
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
  }
}
