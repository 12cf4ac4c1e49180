import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Agenda } from 'agenda';
import type { Logger } from 'winston';
import { describeConfig, type Config } from '../common/config.ts';
import { allMachines } from '../machines/index.ts';
import { receiptEffects } from './domains/fiscal/effects.ts';
import { RegisterLocks } from './domains/fiscal/register-locks.ts';
import { FiscalReports, fiscalZReportJob } from './domains/fiscal/reports.ts';
import { printJobEffects } from './domains/fiscal/print-jobs.ts';
import { Devices } from './platform/devices/devices.ts';
import { ensurePrivateDir, tightenTree } from '../persistence/private-files.ts';
import { DeviceStore } from '../persistence/devices.ts';
import { alertsCollection, ensureAlertIndexes } from '../persistence/alerts.ts';
import type { Collections } from '../persistence/collections.ts';
import { commerceCollections, ensureCommerceIndexes, openInvoice, type CommerceCollections } from '../persistence/commerce.ts';
import { connectDatabase, type Database } from '../persistence/database.ts';
import { databasePoolSizeFor } from '../persistence/ferretdb-limits.ts';
import { openDatabaseServer } from '../persistence/embedded-database.ts';
import { ensureGoodfinIndexes, goodfinCollections, type GoodfinCollections } from '../persistence/goodfin.ts';
import { IntegrationStore } from '../persistence/integrations.ts';
import { loadKeyring } from '../persistence/master-key.ts';
import { ensureReferenceIndexes, referenceCollections, type ReferenceCollections } from '../persistence/reference.ts';
import { createAgenda } from '../persistence/scheduler.ts';
import { verifyMasterKey, type Keyring } from '../persistence/secret-box.ts';
import { Alerts } from './platform/alerts/alerts.ts';
import { alertOnAttention } from './platform/alerts/attention.ts';
import { alertChannelsFromConfig } from './platform/alerts/channels.ts';
import { AuditLog } from './platform/audit/audit-log.ts';
import { startEchoSandbox } from './platform/connectors/echo/sandbox.ts';
import { allConnectors } from './platform/connectors/index.ts';
import { Connectors, type AlertSink } from './platform/connectors/kit/connectors.ts';
import { goodfinConnector } from './platform/connectors/goodfin/connector.ts';
import { novaPoshtaConnector } from './platform/connectors/novaposhta/connector.ts';
import { renderInvoicePdf, type Seller } from './domains/orders/invoice-pdf.ts';
import { GoodfinDeclarer } from './domains/goodfin/declarations.ts';
import { goodfinEffects } from './domains/goodfin/effects.ts';
import { goodfinInbound } from './domains/goodfin/inbound.ts';
import { GoodfinOutbox, goodfinOutboxJob } from './domains/goodfin/outbox.ts';
import { createLoyalty, type Loyalty } from './domains/loyalty/loyalty.ts';
import { DomainEvents } from './platform/events/domain-events.ts';
import { posSaleEffects } from './domains/pos/effects.ts';
import { alertDeliveryJob } from './platform/alerts/delivery-job.ts';
import { auditRetentionJob } from './platform/audit/retention-job.ts';
import { housekeepingJob } from './platform/jobs/housekeeping.ts';
import { inboxRedispatchJob } from './platform/inbound/redispatch-job.ts';
import type { MerchantApi } from './platform/inbound/merchant-api.ts';
import { merchantApis } from './domains/payments/merchant-apis.ts';
import { Payables } from './domains/payments/payables.ts';
import { mailDeliveryJob } from './platform/mail/delivery-job.ts';
import { novaPoshtaReferenceSyncJob } from './domains/shipments/reference-sync-job.ts';
import { novaPoshtaTrackingJob } from './domains/shipments/tracking-job.ts';
import { paymentStatusPollJob } from './domains/payments/status-poll-job.ts';
import { JobRegistry } from './platform/jobs/registry.ts';
import { createHealthStore, type HealthStore } from './platform/monitoring/connector-health.ts';
import { HubMetrics } from './platform/monitoring/metrics.ts';
import { Mailer } from './platform/mail/mailer.ts';
import { dailyReportJob } from './domains/orders/daily-report.ts';
import { orderEffects } from './domains/orders/effects.ts';
import { paymentEffects } from './domains/payments/effects.ts';
import { paymentWebhooks } from './domains/payments/webhooks.ts';
import { PaymentGateways } from './platform/connectors/payment-gateways.ts';
import { Marketplaces } from './platform/connectors/marketplaces.ts';
import { MarketplaceSync } from './domains/marketplaces/sync.ts';
import { Carriers } from './platform/connectors/carriers.ts';
import { probeEffects } from './domains/probe/effects.ts';
import { webhookSpecs } from './domains/probe/webhook.ts';
import { ActorIndex } from './runtime/actor-index.ts';
import { systemClock, type Clock } from './runtime/clock.ts';
import type { BoundEffects } from './runtime/effects.ts';
import { ActorQueries } from './runtime/queries.ts';
import { MachineRegistry } from './runtime/registry.ts';
import { ActorRuntime, type ActorRuntimeOptions } from './runtime/runtime.ts';
import type { ActorRouter } from './runtime/actor-routing.ts';
import { ActorStore } from './runtime/store.ts';
import { PersonalDataSealer } from './runtime/personal-data.ts';
import { PersonalDataBackfill } from './runtime/personal-data-backfill.ts';
import { loadPersonalDataKey } from '../persistence/personal-data-key.ts';
import { DurableWorker, type WorkerOptions } from './runtime/worker.ts';
import { shipmentEffects } from './domains/shipments/effects.ts';
import { Inbox } from './platform/inbound/inbox.ts';
import { SignatureFailures } from './platform/inbound/signature-failures.ts';
import type { AnyMachineModule } from '../machines/machine-module.ts';

/** The durable runtime alone: machines, their effects, the store, the runtime and its worker. */
export interface DurableRuntime {
  registry: MachineRegistry;
  store: ActorStore;
  runtime: ActorRuntime;
  worker: DurableWorker;
}

/**
 * Wires the runtime for a set of machines and their effects. The service
 * (below) and the runtime's own tests build it the same way; the registry's
 * boot check refuses machines whose invocations have no handler.
 */
export function createDurableRuntime(options: {
  collections: Collections;
  logger: Logger;
  clock: Clock;
  machines: readonly AnyMachineModule[];
  effects: readonly BoundEffects[];
  cacheSize: number;
  /** an actor's projection is written once it has been quiet this long (default 2 s) */
  projectionQuietMs?: number;
  ownerId: string;
  worker: Pick<
    WorkerOptions,
    'pollMs' | 'maxAttempts' | 'leaseMs' | 'effectTimeoutMs' | 'backoff' | 'onEffectFailed' | 'projectionRepairEveryMs'
  > & {
    /** a projections_due record this old is taken for one a dead process left (ActorStore.repairProjections) */
    projectionRepairAfterMs?: number;
  };
  onTransitioned?: ActorRuntimeOptions['onTransitioned'];
  personalData: PersonalDataSealer;
  /** every commit records its domain event in the outbox and hands it here (publishing is on) */
  onDomainEvent?: ActorRuntimeOptions['onDomainEvent'];
  /** in a hub of several processes: each actor's commands go to the process that owns it */
  router?: ActorRouter;
}): DurableRuntime {
  const registry = new MachineRegistry();
  for (const module of options.machines) registry.register(module);
  registry.provideEffects(...options.effects);
  registry.validate();
  const store = new ActorStore(options.collections, options.logger, { projectionQuietMs: options.projectionQuietMs });
  const committed: Array<NonNullable<ActorRuntimeOptions['onCommitted']>> = [];
  const runtime = new ActorRuntime({
    store,
    registry,
    logger: options.logger,
    clock: options.clock,
    cacheSize: options.cacheSize,
    personalData: options.personalData,
    // the worker starts what a commit asked for without waiting for its next poll
    onCommitted: (work) => committed.forEach((listener) => listener(work)),
    ...(options.onTransitioned ? { onTransitioned: options.onTransitioned } : {}),
    ...(options.onDomainEvent ? { domainEvents: true, onDomainEvent: options.onDomainEvent } : {}),
    ...(options.router ? { router: options.router } : {}),
  });
  const worker = new DurableWorker({
    ...options.worker,
    repairProjections: (now) => store.repairProjections(now, options.worker.projectionRepairAfterMs ?? 15_000),
    runtime,
    registry,
    collections: options.collections,
    logger: options.logger,
    clock: options.clock,
    ownerId: options.ownerId,
  });
  committed.push(worker.onCommitted);
  return { registry, store, runtime, worker };
}

export interface ActorSystemOptions {
  logger: Logger;
  clock?: Clock;
  /** where the echo service lives; unset → an in-process sandbox */
  echoBaseUrl?: string;
  /** in a worker of a cluster: hands each actor's commands to the worker that owns it (actors/runtime/cluster-router.ts) */
  router?: ActorRouter;
}

/** Everything the hub is, but HTTP: what `http/` serves and what tests drive. */
export interface ActorSystem extends DurableRuntime {
  ownerId: string;
  config: Config;
  logger: Logger;
  clock: Clock;
  database: Database;
  queries: ActorQueries;
  actorIndex: ActorIndex;
  connectors: Connectors;
  health: HealthStore;
  metrics: HubMetrics;
  audit: AuditLog;
  alerts: Alerts;
  /** raises an alert and counts it */
  alertSink: AlertSink;
  mailer: Mailer;
  commerce: CommerceCollections;
  reference: ReferenceCollections;
  goodfin: { collections: GoodfinCollections; outbox: GoodfinOutbox; declarer: GoodfinDeclarer };
  /** JOWi Club: the bounded customer look-up, the accruals outbox, the customer cache its webhook keeps */
  loyalty: Loyalty;
  /** orders in from the marketplaces, statuses, stock and prices out */
  marketplaces: MarketplaceSync;
  inbox: Inbox;
  /** null when publishing is off (`HUB_EVENTS=off`) */
  domainEvents: DomainEvents | null;
  /** partners that call us and wait for our answer (Payme, Click) */
  merchantApis: MerchantApi[];
  signatureFailures: SignatureFailures;
  jobs: JobRegistry;
  seller: Seller;
  /** seals what a hub stored before personal data was sealed (run in the background from `start`) */
  personalDataBackfill: PersonalDataBackfill;
  /** fiscal registers and receipt printers on serial ports */
  devices: Devices;
  /** X- and Z-reports on the registers */
  fiscalReports: FiscalReports;
  /** true while the scheduler runs */
  schedulerRunning(): boolean;
  /** where partners call us back */
  publicBaseUrl(): string;
  /** Rehydration (overdue timers fire, unfinished effects resume), the scheduler, the actor index. */
  start(): Promise<void>;
  /** The hub is reachable at `url`: partners are told where we are (the configured public address wins). */
  reachableAt(url: string): void;
  /** Everything finished and closed, in reverse order of construction. */
  stop(): Promise<void>;
}

/**
 * The composition root: builds database, secrets, connectors, the durable
 * runtime with every machine and effect, inbound partners, jobs and
 * alerts, from the configuration. Nothing here knows HTTP.
 */
export async function createActorSystem(config: Config, options: ActorSystemOptions): Promise<ActorSystem> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const ownerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const closers: Closers = [];
  const closeAll = async () => {
    for (const closer of closers.reverse()) {
      await closer.close().catch((error: unknown) => logger.warn(`closing ${closer.name} failed`, { error: String(error) }));
    }
  };

  try {
    logger.info('starting integration hub', { config: describeConfig(config), ownerId });
    await ensurePrivateDir(config.dataDir);
    const tightened = await tightenTree(config.dataDir);
    if (tightened.changed.length > 0)
      logger.warn('DATA_DIR held files others could read; now they are for this user only', {
        dataDir: config.dataDir,
        changed: tightened.changed.length,
      });
    if (tightened.truncated) logger.warn('DATA_DIR holds too many files to check them all at start', { dataDir: config.dataDir });

    let echoBaseUrl = options.echoBaseUrl;
    if (!echoBaseUrl) {
      const echo = await startEchoSandbox();
      echoBaseUrl = echo.url;
      closers.push({ name: 'echo sandbox', close: () => echo.close() });
      logger.info('integration sandboxed', { integration: 'echo', url: echo.url });
    }

    const { database, keyring, personalData } = await openStorage(config, logger, closers);
    const { collections } = database;
    const { health, metrics, audit, alerts, alertSink, connectors } = await startPlatformServices({
      config,
      database,
      keyring,
      personalData,
      logger,
      now,
      closers,
    });

    await ensureCommerceIndexes(collections.db);
    const commerce = commerceCollections(collections.db);
    await ensureReferenceIndexes(collections.db);
    const reference = referenceCollections(collections.db);
    await ensureGoodfinIndexes(collections.db);
    // the marketplace sync needs the runtime, which needs its listener: bound once both exist
    let marketplaceSync: MarketplaceSync | null = null;
    const goodfinStore = goodfinCollections(collections.db);
    const goodfinOutbox = new GoodfinOutbox({
      collection: goodfinStore.outbox,
      answers: goodfinStore.answers,
      client: () => connectors.client(goodfinConnector),
      logger,
      alerts: alertSink,
      now,
    });
    const loyalty = await createLoyalty({
      db: collections.db,
      connectors,
      logger,
      alerts: alertSink,
      personalData: personalData.cipher,
      now,
    });
    // Webhooks and links point at the public address, known once listening when not configured.
    let publicBaseUrl = config.publicBaseUrl;
    const mailer = new Mailer({
      collection: commerce.mail,
      smtpUrl: config.mail.smtpUrl,
      from: config.mail.from,
      logger,
      now,
      personalData: personalData.cipher,
      renderAttachment: async (attachment) => {
        if (attachment.kind !== 'invoice') return null;
        const stored = await commerce.invoices.findOne({ _id: attachment.id });
        const invoice = stored && openInvoice(stored, personalData.cipher);
        return invoice
          ? { filename: attachment.filename, content: await renderInvoicePdf(invoice, config.seller), contentType: 'application/pdf' }
          : null;
      },
    });
    closers.push({ name: 'mailer', close: async () => mailer.close() });

    const devices = new Devices({ store: new DeviceStore(collections.devices, keyring), audit, logger, now: () => new Date(now()) });
    await devices.start(config.deviceEmulators === 'auto' ? { emulateIn: config.dataDir } : {});
    closers.push({ name: 'devices', close: () => devices.stop() });
    const registerLocks = new RegisterLocks(collections.registerLocks);
    const fiscalReports = new FiscalReports({ devices, locks: registerLocks, audit, logger, now: () => new Date(now()) });

    // The durable runtime with every machine and the effects their invocations run.
    const effectDeps = { connectors, collections: commerce, publicBaseUrl: () => publicBaseUrl, logger, now };
    const gateways = new PaymentGateways({
      connectors,
      db: collections.db,
      publicBaseUrl: () => publicBaseUrl,
      logger,
      alerts: alertSink,
      now,
    });
    const carriers = new Carriers({ connectors, reference, logger, now });
    const attention = alertOnAttention(alertSink, logger);
    const actorIndex = new ActorIndex(collections.actors, logger);
    closers.push({ name: 'actor index', close: async () => actorIndex.stop() });
    // Domain events: recorded with each commit, published to NATS JetStream once it is reached.
    const domainEvents = config.events.enabled
      ? new DomainEvents({ collections, logger, types: allMachines.map((module) => module.type), metrics, now })
      : null;
    const durable = createDurableRuntime({
      ...(domainEvents ? { onDomainEvent: domainEvents.committed } : {}),
      ...(options.router ? { router: options.router } : {}),
      collections,
      logger,
      clock,
      machines: allMachines,
      effects: [
        probeEffects({ baseUrl: echoBaseUrl }),
        paymentEffects({ gateways, collections: commerce, publicBaseUrl: () => publicBaseUrl, alerts: alertSink }),
        orderEffects({
          ...effectDeps,
          mailer,
          audit,
          personalData: personalData.cipher,
          reference,
          printing: {
            fiscalRegister: () => config.orderPolicy.fiscalRegister,
            packingPrinter: () => config.orderPolicy.packingPrinter,
            policy: config.fiscalPolicy,
          },
        }),
        shipmentEffects({ carriers, mailer, logger, now }),
        goodfinEffects({ outbox: goodfinOutbox, collections: goodfinStore, connectors, personalData: personalData.cipher, now }),
        receiptEffects({ registers: devices.registers, locks: registerLocks, now: () => new Date(now()) }),
        printJobEffects({ printers: devices.printers, now: () => new Date(now()) }),
        posSaleEffects({
          accruals: loyalty.accruals,
          fiscalPolicy: config.fiscalPolicy,
          accrualWaitMs: 1_000,
          storeTitle: (store) => config.posPolicy.stores[store]?.title ?? config.seller.name,
        }),
      ],
      cacheSize: config.actorCacheSize,
      projectionQuietMs: config.projections.quietMs,
      personalData,
      ownerId,
      worker: {
        pollMs: config.workerPollMs,
        projectionRepairAfterMs: config.projections.repairAfterMs,
        maxAttempts: config.effectMaxAttempts,
        leaseMs: config.effectLeaseMs,
        onEffectFailed: (effect, failure) => {
          if (!failure.retryable) return;
          void alertSink
            .raise({
              kind: 'retries_exhausted',
              subject: `${effect.type}/${effect.actorId}`,
              message: `${effect.src} failed ${failure.attempts} times (${failure.code}); the actor got the error`,
              details: { effect: effect._id, src: effect.src, code: failure.code, error: failure.message, attempts: failure.attempts },
            })
            .catch((error: unknown) => logger.error('alert could not be raised', { error: String(error) }));
        },
      },
      onTransitioned: (change) => {
        attention(change);
        actorIndex.note(change);
        marketplaceSync?.observe(change);
      },
    });
    const { runtime, worker } = durable;
    metrics.trackRuntime(runtime);
    if (domainEvents) {
      const nats = await domainEvents.start({
        ...(config.events.natsUrl ? { natsUrl: config.events.natsUrl } : {}),
        dataDir: config.dataDir,
        runtime,
      });
      closers.push({ name: 'domain events', close: () => domainEvents.stop() });
      logger.info('NATS', { kind: nats.kind });
    }
    const queries = new ActorQueries({ runtime, actors: collections.actors, index: actorIndex });
    const personalDataBackfill = new PersonalDataBackfill({
      collections,
      store: durable.store,
      registry: durable.registry,
      sealer: personalData,
      logger,
    });
    const marketplaces = new MarketplaceSync({
      db: collections.db,
      runtime,
      marketplaces: new Marketplaces({ connectors }),
      reference,
      policy: () => config.orderPolicy,
      alerts: alertSink,
      logger,
      now,
    });
    await marketplaces.start();
    marketplaceSync = marketplaces;
    closers.push({ name: 'marketplace notices', close: () => marketplaces.flush() });

    // Partners that call us: webhooks and Goodfin's inbound messages, kept in the inbox before they are answered.
    const inbox = new Inbox(collections.inbox, runtime, logger, [
      ...webhookSpecs,
      ...paymentWebhooks(gateways),
      goodfinInbound({ runtime, connectors, outbox: goodfinOutbox, logger, alerts: alertSink, now }),
      loyalty.webhook,
    ]);
    const payables = new Payables(runtime);
    const merchants = merchantApis({ db: collections.db, payables, connectors, audit, alerts: alertSink, logger, now });
    const signatureFailures = new SignatureFailures({ threshold: 5, windowMs: 5 * 60_000, alerts: alertSink, now });
    const goodfinDeclarer = new GoodfinDeclarer({ connectors, publicBaseUrl: () => publicBaseUrl, logger, now });
    closers.push({ name: 'goodfin declarations', close: async () => goodfinDeclarer.stop() });
    // a sandboxed provider that calls us is told where we are, as a merchant tells the real one in its cabinet
    let reachable = false;
    const announce = (api: MerchantApi) =>
      void api
        .announce?.(publicBaseUrl)
        .catch((error: unknown) =>
          logger.warn('a sandboxed provider could not be told where the hub is', { integration: api.integration, error: String(error) }),
        );
    const announceLoyalty = () =>
      void loyalty
        .announce(publicBaseUrl)
        .catch((error: unknown) => logger.warn('the jowi sandbox could not be told where the hub is', { error: String(error) }));
    const announceMerchants = () => {
      reachable = true;
      merchants.forEach(announce);
      announceLoyalty();
    };
    connectors.onChange((integration) => {
      if (integration === 'goodfin') void goodfinDeclarer.check();
      if (reachable) merchants.filter((api) => api.integration === integration).forEach(announce);
      if (reachable && integration === 'jowi') announceLoyalty();
    });

    const jobs = new JobRegistry(collections.db, logger, (definition, run) => {
      if (!definition.syncs) return;
      metrics.syncRun(definition.name, definition.syncs, run.result === 'ok');
      health.trigger.synced({
        job: definition.name,
        integration: definition.syncs,
        ok: run.result === 'ok',
        at: new Date(now()).toISOString(),
      });
    })
      .define(housekeepingJob(collections, now))
      .define(auditRetentionJob(audit, config.auditRetentionDays, now))
      .define(alertDeliveryJob(alerts))
      .define(inboxRedispatchJob(inbox))
      .define(mailDeliveryJob(mailer))
      .define(paymentStatusPollJob({ queries, runtime, now }))
      .defineAll(merchants.flatMap((api) => api.jobs ?? []))
      .define(
        novaPoshtaTrackingJob({
          queries,
          runtime,
          carrier: carriers.of('novaposhta'),
          every: `${trackingIntervalMinutes(connectors)} minutes`,
          logger,
        }),
      )
      .define(goodfinOutboxJob(goodfinOutbox))
      .defineAll(loyalty.jobs)
      .defineAll(marketplaces.jobs())
      .define(novaPoshtaReferenceSyncJob({ reference, client: () => connectors.client(novaPoshtaConnector), now }))
      .define(dailyReportJob({ queries, commerce, gateways, mailer, reportTo: config.mail.reportTo, logger, now }));
    const zReportJob = fiscalZReportJob({ reports: fiscalReports, policy: config.fiscalPolicy });
    if (zReportJob) jobs.define(zReportJob);

    let agenda: Agenda | null = null;
    let schedulerUp = false;
    let stopped: Promise<void> | null = null;

    return {
      ...durable,
      ownerId,
      config,
      logger,
      clock,
      database,
      queries,
      actorIndex,
      connectors,
      health,
      metrics,
      audit,
      alerts,
      alertSink,
      mailer,
      commerce,
      reference,
      goodfin: { collections: goodfinStore, outbox: goodfinOutbox, declarer: goodfinDeclarer },
      loyalty,
      marketplaces,
      inbox,
      domainEvents,
      merchantApis: merchants,
      signatureFailures,
      jobs,
      seller: config.seller,
      personalDataBackfill,
      devices,
      fiscalReports,
      schedulerRunning: () => schedulerUp,
      publicBaseUrl: () => publicBaseUrl,
      async start() {
        agenda = createAgenda(collections.db, ownerId);
        await jobs.schedule(agenda);
        await agenda.start();
        schedulerUp = true;
        const scheduler = agenda;
        closers.push({
          name: 'scheduler',
          close: async () => {
            schedulerUp = false;
            await scheduler.stop();
            await jobs.idle();
          },
        });
        // Order validation reads Nova Poshta's directory from the hub: fetch it now when it was never synced.
        if ((await reference.cities.estimatedDocumentCount()) === 0) {
          void jobs.run('novaposhta-reference-sync', 'schedule').catch(() => undefined);
        }
        // Rehydration: overdue timers fire and unfinished effects resume before the hub says it is ready.
        await worker.start();
        actorIndex.start();
        // Closed in reverse: the worker first, then the runtime drains every commit and projection.
        closers.push({ name: 'runtime', close: () => runtime.idle() });
        closers.push({ name: 'worker', close: () => worker.stop(Math.min(5_000, config.shutdownTimeoutMs / 2)) });
        // Not awaited: the hub serves while data stored before sealing is sealed (forgetting waits for it).
        personalDataBackfill.start();
        closers.push({ name: 'personal data backfill', close: () => personalDataBackfill.stop() });
      },
      reachableAt(url) {
        if (!config.publicBaseUrlExplicit) publicBaseUrl = url;
        goodfinDeclarer.start();
        announceMerchants();
      },
      stop() {
        // calls for the actors this process owns run where they arrive from now on; its own run here
        options.router?.close();
        stopped ??= closeAll();
        return stopped;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

type Closers = Array<{ name: string; close: () => Promise<void> }>;

/** The database (embedded or configured) and the keyring that must open the secrets it holds. */
async function openStorage(
  config: Config,
  logger: Logger,
  closers: Closers,
): Promise<{ database: Database; keyring: Keyring; personalData: PersonalDataSealer }> {
  const dbServer = await openDatabaseServer({
    mongodbUri: config.mongodbUri,
    embeddedDb: config.embeddedDb,
    dataDir: config.dataDir,
    log: (level, message, meta) => logger.log(level, message, meta),
  });
  closers.push({ name: 'database server', close: () => dbServer.stop() });
  const poolSize = config.databasePoolSize || databasePoolSizeFor(config.clusterSlot?.slots ?? config.processes);
  logger.info('database', { kind: dbServer.kind, storage: dbServer.storage, database: config.mongodbDb, poolSize });
  const database = await connectDatabase(dbServer.uri, config.mongodbDb, { poolSize });
  closers.push({ name: 'database connection', close: () => database.close() });

  // Secrets: the master key must open what the database holds, or the start stops here.
  const keyring = await loadKeyring({
    masterKey: config.masterKey,
    previousMasterKey: config.previousMasterKey,
    dataDir: config.dataDir,
    env: config.env,
    warn: (message, meta) => logger.warn(message, meta),
  });
  const keyCheck = await verifyMasterKey(database.collections.hubMeta, keyring);
  logger.info('master key', { check: keyCheck, keyId: keyring.currentKeyId });
  const personalData = new PersonalDataSealer(await loadPersonalDataKey(database.collections.hubMeta, keyring));

  return { database, keyring, personalData };
}

/** The services every domain uses: monitoring, audit, alerts, and the connectors with their configuration. */
async function startPlatformServices(deps: {
  config: Config;
  database: Database;
  keyring: Keyring;
  personalData: PersonalDataSealer;
  logger: Logger;
  now: () => number;
  closers: Closers;
}) {
  const { config, keyring, logger, now, closers } = deps;
  const { collections } = deps.database;
  const health = createHealthStore();
  const metrics = new HubMetrics(health, { now });
  const audit = new AuditLog(collections.audit, logger, { personalData: deps.personalData.cipher });
  closers.push({ name: 'audit log', close: () => audit.flush() });
  await ensureAlertIndexes(collections.db);
  const channels = alertChannelsFromConfig(config.alerts, logger);
  const alerts = new Alerts({ collection: alertsCollection.open(collections.db), channels, logger, now });
  closers.push({
    name: 'alerts',
    close: async () => {
      await alerts.idle();
      for (const channel of channels) channel.close?.();
    },
  });
  const alertSink: AlertSink = {
    raise: (input) => {
      metrics.alert(input.kind);
      return alerts.raise(input);
    },
  };

  const connectors = new Connectors({
    definitions: allConnectors,
    store: new IntegrationStore(collections.integrations, keyring),
    logger,
    metrics,
    health,
    audit,
    alerts: alertSink,
    sandboxes: config.sandboxes,
    dataDir: config.dataDir,
    ...(config.clusterSandboxes ? { clusterSandboxes: config.clusterSandboxes } : {}),
    now,
  });
  closers.push({ name: 'connectors', close: () => connectors.stop() });
  await connectors.start(config.integrationSeeds);

  return { health, metrics, audit, alerts, alertSink, connectors };
}

/** The tracking interval from the novaposhta settings (15 minutes when they cannot be read). */
function trackingIntervalMinutes(connectors: Connectors): number {
  try {
    return connectors.configOf(novaPoshtaConnector).settings.trackingIntervalMinutes;
  } catch {
    return 15;
  }
}
