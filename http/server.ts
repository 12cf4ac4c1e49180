import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Agenda } from 'agenda';
import type { Logger } from 'winston';
import type { Config } from '../common/config.ts';
import { describeConfig } from '../common/config.ts';
import { startEchoSandbox, type EchoSandbox } from '../actors/connectors/echo/sandbox.ts';
import { probeEffects } from '../actors/probe/effects.ts';
import { housekeepingJob } from '../actors/jobs/housekeeping.ts';
import { JobRegistry } from '../actors/jobs/registry.ts';
import { systemClock, type Clock } from '../actors/runtime/clock.ts';
import { MachineRegistry } from '../actors/runtime/registry.ts';
import { ActorRuntime } from '../actors/runtime/runtime.ts';
import { ActorStore } from '../actors/runtime/store.ts';
import { DurableWorker } from '../actors/runtime/worker.ts';
import { connectDatabase, type Database } from '../persistence/database.ts';
import { openDatabaseServer, type DatabaseServer } from '../persistence/embedded-database.ts';
import { createAgenda } from '../persistence/scheduler.ts';
import { allMachines } from '../machines/index.ts';
import { alertChannelsFromConfig } from '../actors/alerts/channels.ts';
import { Alerts } from '../actors/alerts/alerts.ts';
import { alertOnAttention } from '../actors/alerts/attention.ts';
import { ActorIndex } from '../actors/runtime/actor-index.ts';
import { AuditLog } from '../actors/audit/audit-log.ts';
import { allConnectors } from '../actors/connectors/index.ts';
import { Connectors, type AlertSink } from '../actors/connectors/kit/connectors.ts';
import { alertDeliveryJob } from '../actors/jobs/alert-delivery.ts';
import { auditRetentionJob } from '../actors/jobs/audit-retention.ts';
import { inboxRedispatchJob } from '../actors/jobs/inbox-redispatch.ts';
import { createHealthStore } from '../actors/monitoring/connector-health.ts';
import { HubMetrics } from '../actors/monitoring/metrics.ts';
import { Inbox } from '../actors/webhooks/inbox.ts';
import { SignatureFailures } from '../actors/webhooks/signature-failures.ts';
import { addressList } from '../common/ip-addresses.ts';
import { alertsCollection, ensureAlertIndexes } from '../persistence/alerts.ts';
import { IntegrationStore } from '../persistence/integrations.ts';
import { loadKeyring } from '../persistence/master-key.ts';
import { verifyMasterKey } from '../persistence/secret-box.ts';
import { webhookSpecs } from './routes/webhooks/echo.ts';
import { liqpayWebhook, monobankWebhook } from './routes/webhooks/payments.ts';
import { renderInvoicePdf } from '../actors/documents/invoice-pdf.ts';
import { mailDeliveryJob } from '../actors/jobs/mail-delivery.ts';
import { paymentStatusPollJob } from '../actors/jobs/payment-status-poll.ts';
import { Mailer } from '../actors/notifications/mailer.ts';
import { dailyReportJob } from '../actors/orders/daily-report.ts';
import { orderEffects } from '../actors/orders/effects.ts';
import { paymentEffects } from '../actors/payments/effects.ts';
import { commerceCollections, ensureCommerceIndexes } from '../persistence/commerce.ts';
import { ensureReferenceIndexes, referenceCollections } from '../persistence/reference.ts';
import { shipmentEffects } from '../actors/shipments/effects.ts';
import { novaPoshtaTrackingJob } from '../actors/jobs/novaposhta-tracking.ts';
import { novaPoshtaReferenceSyncJob } from '../actors/jobs/novaposhta-reference-sync.ts';
import { novaPoshtaConnector } from '../actors/connectors/novaposhta/connector.ts';
import { goodfinConnector } from '../actors/connectors/goodfin/connector.ts';
import { GoodfinDeclarer } from '../actors/goodfin/declarations.ts';
import { goodfinInbound } from '../actors/goodfin/inbound.ts';
import { GoodfinOutbox } from '../actors/goodfin/outbox.ts';
import { goodfinEffects } from '../actors/goodfin/effects.ts';
import { ensureGoodfinIndexes, goodfinCollections } from '../persistence/goodfin.ts';
import type { Connectors as ConnectorsType } from '../actors/connectors/kit/connectors.ts';

/** The tracking interval from the novaposhta settings (15 minutes when they cannot be read). */
function trackingIntervalMinutes(connectors: ConnectorsType): number {
  try {
    return connectors.configOf(novaPoshtaConnector).settings.trackingIntervalMinutes;
  } catch {
    return 15;
  }
}
import { createHttpApp } from './app.ts';
import { ApiKeys } from './auth.ts';

export interface Hub {
  url: string;
  port: number;
  ownerId: string;
  runtime: ActorRuntime;
  worker: DurableWorker;
  database: Database;
  connectors: Connectors;
  alerts: Alerts;
  metrics: HubMetrics;
  /** Graceful stop: no new requests, in-flight work finished, everything closed. */
  stop(): Promise<void>;
}

export interface HubOptions {
  logger: Logger;
  clock?: Clock;
  /** where the echo service lives; unset → an in-process sandbox */
  echoBaseUrl?: string;
}

/** Builds and starts the whole service: database, runtime, workers, scheduler, HTTP. */
export async function startHub(config: Config, options: HubOptions): Promise<Hub> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const ownerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  const closeAll = async () => {
    for (const closer of closers.reverse()) {
      await closer.close().catch((error: unknown) => logger.warn(`closing ${closer.name} failed`, { error: String(error) }));
    }
  };

  try {
    logger.info('starting integration hub', { config: describeConfig(config), ownerId });
    await mkdir(config.dataDir, { recursive: true });

    const dbServer: DatabaseServer = await openDatabaseServer({
      mongodbUri: config.mongodbUri,
      dataDir: config.dataDir,
      log: (level, message, meta) => logger.log(level, message, meta),
    });
    closers.push({ name: 'database server', close: () => dbServer.stop() });
    logger.info('database', { kind: dbServer.kind, database: config.mongodbDb });

    const database = await connectDatabase(dbServer.uri, config.mongodbDb);
    closers.push({ name: 'database connection', close: () => database.close() });
    const { collections } = database;

    let echo: EchoSandbox | null = null;
    let echoBaseUrl = options.echoBaseUrl;
    if (!echoBaseUrl) {
      echo = await startEchoSandbox();
      echoBaseUrl = echo.url;
      const sandbox = echo;
      closers.push({ name: 'echo sandbox', close: () => sandbox.close() });
      logger.info('integration sandboxed', { integration: 'echo', url: echo.url });
    }

    // Secrets: the master key must open what the database holds, or the start stops here.
    const keyring = await loadKeyring({
      masterKey: config.masterKey,
      previousMasterKey: config.previousMasterKey,
      dataDir: config.dataDir,
      env: config.env,
      warn: (message, meta) => logger.warn(message, meta),
    });
    const keyCheck = await verifyMasterKey(collections.hubMeta, keyring);
    logger.info('master key', { check: keyCheck, keyId: keyring.currentKeyId });

    const health = createHealthStore();
    const metrics = new HubMetrics(health, { now: () => clock.now() });
    const audit = new AuditLog(collections.audit, logger);
    closers.push({ name: 'audit log', close: () => audit.flush() });
    await ensureAlertIndexes(collections.db);
    const channels = alertChannelsFromConfig(config.alerts, logger);
    const alerts = new Alerts({ collection: alertsCollection.open(collections.db), channels, logger, now: () => clock.now() });
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
      now: () => clock.now(),
    });
    closers.push({ name: 'connectors', close: () => connectors.stop() });
    await connectors.start(config.integrationSeeds);

    // The order flow's documents and mail; webhooks and links point at the public address (known once listening when not configured).
    await ensureCommerceIndexes(collections.db);
    const commerce = commerceCollections(collections.db);
    await ensureReferenceIndexes(collections.db);
    const reference = referenceCollections(collections.db);
    await ensureGoodfinIndexes(collections.db);
    const goodfin = goodfinCollections(collections.db);
    const goodfinOutbox = new GoodfinOutbox({
      collection: goodfin.outbox,
      answers: goodfin.answers,
      client: () => connectors.client(goodfinConnector),
      logger,
      alerts: alertSink,
      now: () => clock.now(),
    });
    let publicBaseUrl = config.publicBaseUrl;
    const mailer = new Mailer({
      collection: commerce.mail,
      smtpUrl: config.mail.smtpUrl,
      from: config.mail.from,
      logger,
      now: () => clock.now(),
      renderAttachment: async (attachment) => {
        if (attachment.kind !== 'invoice') return null;
        const invoice = await commerce.invoices.findOne({ _id: attachment.id });
        return invoice
          ? { filename: attachment.filename, content: await renderInvoicePdf(invoice, config.seller), contentType: 'application/pdf' }
          : null;
      },
    });
    closers.push({ name: 'mailer', close: async () => mailer.close() });

    const registry = new MachineRegistry();
    for (const module of allMachines) registry.register(module);
    const effectDeps = { connectors, collections: commerce, publicBaseUrl: () => publicBaseUrl, logger, now: () => clock.now() };
    registry.provideEffects(
      probeEffects({ baseUrl: echoBaseUrl }),
      paymentEffects(effectDeps),
      orderEffects({ ...effectDeps, mailer, audit, reference }),
      shipmentEffects({ connectors, reference, mailer, logger, now: () => clock.now() }),
      goodfinEffects({ outbox: goodfinOutbox, collections: goodfin, connectors, now: () => clock.now() }),
    );
    registry.validate();

    const store = new ActorStore(collections, logger);
    const attention = alertOnAttention(alertSink, logger);
    const actorIndex = new ActorIndex(collections.actors, logger);
    closers.push({ name: 'actor index', close: async () => actorIndex.stop() });
    let worker: DurableWorker | null = null;
    const runtime = new ActorRuntime({
      store,
      registry,
      logger,
      clock,
      cacheSize: config.actorCacheSize,
      onCommitted: (work) => worker?.onCommitted(work),
      onTransitioned: (change) => {
        attention(change);
        actorIndex.note(change);
      },
    });
    worker = new DurableWorker({
      runtime,
      registry,
      collections,
      logger,
      clock,
      ownerId,
      pollMs: config.workerPollMs,
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
    });
    const inbox = new Inbox(collections.inbox, runtime, logger, [
      ...webhookSpecs,
      monobankWebhook(connectors, logger, () => clock.now()),
      liqpayWebhook,
      goodfinInbound({ runtime, connectors, outbox: goodfinOutbox, logger, alerts: alertSink, now: () => clock.now() }),
    ]);
    // Goodfin is told where we are once we listen (the public address may be known only then)
    const goodfinDeclarer = new GoodfinDeclarer({ connectors, publicBaseUrl: () => publicBaseUrl, logger, now: () => clock.now() });
    closers.push({ name: 'goodfin declarations', close: async () => goodfinDeclarer.stop() });
    connectors.onChange((integration) => {
      if (integration === 'goodfin') void goodfinDeclarer.check();
    });

    const jobs = new JobRegistry(collections.db, logger, (definition, run) => {
      if (!definition.syncs) return;
      metrics.syncRun(definition.name, definition.syncs, run.result === 'ok');
      health.trigger.synced({
        job: definition.name,
        integration: definition.syncs,
        ok: run.result === 'ok',
        at: new Date(clock.now()).toISOString(),
      });
    })
      .define(housekeepingJob(collections, () => clock.now()))
      .define(auditRetentionJob(audit, config.auditRetentionDays, () => clock.now()))
      .define(alertDeliveryJob(alerts))
      .define(inboxRedispatchJob(inbox))
      .define(mailDeliveryJob(mailer))
      .define(paymentStatusPollJob({ actors: collections.actors, runtime, now: () => clock.now() }))
      .define(
        novaPoshtaTrackingJob({
          actors: collections.actors,
          runtime,
          client: () => connectors.client(novaPoshtaConnector),
          every: `${trackingIntervalMinutes(connectors)} minutes`,
          logger,
        }),
      )
      .define({
        name: 'goodfin-outbox',
        description: 'delivers queued messages to Goodfin, in order per application, retrying what failed',
        every: '10 seconds',
        syncs: 'goodfin',
        run: () => goodfinOutbox.deliver(),
      })
      .define(novaPoshtaReferenceSyncJob({ reference, client: () => connectors.client(novaPoshtaConnector), now: () => clock.now() }))
      .define(
        dailyReportJob({
          actors: collections.actors,
          flushProjections: () => runtime.flushProjections(),
          commerce,
          connectors,
          mailer,
          reportTo: config.mail.reportTo,
          logger,
          now: () => clock.now(),
        }),
      );
    const agenda: Agenda = createAgenda(collections.db, ownerId);
    await jobs.schedule(agenda);
    let schedulerUp = false;
    await agenda.start();
    schedulerUp = true;
    closers.push({
      name: 'scheduler',
      close: async () => {
        schedulerUp = false;
        await agenda.stop();
        await jobs.idle();
      },
    });

    // Order validation reads Nova Poshta's directory from the hub: fetch it now when it was never synced.
    if ((await reference.cities.estimatedDocumentCount()) === 0) {
      void jobs.run('novaposhta-reference-sync', 'schedule').catch(() => undefined);
    }

    const apiKeys = new ApiKeys(collections.apiKeys);
    await bootstrapAdminKey(config, apiKeys, logger);

    // Rehydration: overdue timers fire and unfinished effects resume before we say ready.
    await worker.start();
    actorIndex.start();
    const startedWorker = worker;
    // Closed in reverse: HTTP first, then the worker, then the runtime drains every commit and projection.
    closers.push({ name: 'runtime', close: () => runtime.idle() });
    closers.push({ name: 'worker', close: () => startedWorker.stop(Math.min(5_000, config.shutdownTimeoutMs / 2)) });

    let draining = false;
    const app = createHttpApp({
      logger,
      runtime,
      store,
      jobs,
      worker,
      apiKeys,
      bodyLimitBytes: config.bodyLimitBytes,
      connectors,
      audit,
      alerts,
      metrics,
      webhooks: {
        inbox,
        trustedProxies: addressList(config.trustedProxies),
        signatureFailures: new SignatureFailures({ threshold: 5, windowMs: 5 * 60_000, alerts: alertSink, now: () => clock.now() }),
      },
      readiness: {
        database: () => database.ping(),
        scheduler: () => schedulerUp,
        worker: () => startedWorker.snapshot(),
        draining: () => draining,
      },
      reference,
      collections,
      actorIndex,
      orders: {
        runtime,
        actors: collections.actors,
        commerce,
        mailer,
        policy: () => config.orderPolicy,
        seller: config.seller,
        now: () => clock.now(),
      },
      applications: { inbox: collections.inbox, goodfin, outbox: goodfinOutbox, declarer: goodfinDeclarer },
    });
    const server: Server = createServer(app.callback());
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    if (!config.publicBaseUrlExplicit) publicBaseUrl = url;
    goodfinDeclarer.start();
    closers.push({
      name: 'http server',
      close: () =>
        new Promise<void>((resolve) => {
          draining = true;
          server.close(() => resolve());
          server.closeIdleConnections();
        }),
    });
    logger.info('integration hub ready', { url, machines: registry.list().map((m) => `${m.type}@${m.version}`) });

    let stopped: Promise<void> | null = null;
    return {
      url,
      port,
      ownerId,
      runtime,
      worker,
      database,
      connectors,
      alerts,
      metrics,
      stop: () => {
        stopped ??= closeAll().then(() => {
          logger.info('integration hub stopped');
        });
        return stopped;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * The first admin key: ADMIN_API_KEY when set; otherwise (development) one is
 * generated once, kept under DATA_DIR, and printed at the start that made it.
 */
async function bootstrapAdminKey(config: Config, apiKeys: ApiKeys, logger: Logger): Promise<void> {
  if (config.adminApiKey) {
    await apiKeys.ensure(config.adminApiKey, 'admin (ADMIN_API_KEY)', 'admin', 'environment');
    return;
  }
  const file = path.join(config.dataDir, 'admin-api-key');
  let key: string;
  try {
    key = (await readFile(file, 'utf8')).trim();
    logger.info('using the generated admin API key', { file });
  } catch {
    key = ApiKeys.generate();
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    // Printed once, on purpose, outside the (redacting) log.
    process.stdout.write(
      `\n  No ADMIN_API_KEY was set, so an admin key was generated and saved to ${file}:\n\n    ${key}\n\n  Use it as: Authorization: Bearer <key>\n\n`,
    );
  }
  await apiKeys.ensure(key, 'admin (generated)', 'admin', 'bootstrap');
}
