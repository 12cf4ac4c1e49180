import { readFile } from 'node:fs/promises';
import type Koa from 'koa';
import { createServer, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'winston';
import type { Alerts } from '../actors/platform/alerts/alerts.ts';
import type { Connectors } from '../actors/platform/connectors/kit/connectors.ts';
import type { HubMetrics } from '../actors/platform/monitoring/metrics.ts';
import type { ActorRuntime } from '../actors/runtime/runtime.ts';
import type { DurableWorker } from '../actors/runtime/worker.ts';
import { createActorSystem, type ActorSystem, type ActorSystemOptions } from '../actors/system.ts';
import { CustomerForgetting } from '../actors/domains/orders/forget-customer.ts';
import type { Config } from '../common/config.ts';
import { addressList } from '../common/ip-addresses.ts';
import type { Database } from '../persistence/database.ts';
import { writePrivateFile } from '../persistence/private-files.ts';
import { createHttpApp } from './app.ts';
import { ApiKeys } from './auth.ts';
import type { HubState } from './context.ts';
import { httpsOptions, loadCertificate, TlsFilesError, type LoadedCertificate } from './tls.ts';

export interface Hub {
  url: string;
  /** the Koa app (its routers are what `/openapi.json` documents) */
  app: Koa<HubState>;
  port: number;
  ownerId: string;
  /** everything but HTTP */
  system: ActorSystem;
  runtime: ActorRuntime;
  worker: DurableWorker;
  database: Database;
  connectors: Connectors;
  alerts: Alerts;
  metrics: HubMetrics;
  /** Graceful stop: no new requests, in-flight work finished, everything closed. */
  stop(): Promise<void>;
  /**
   * Reads HUB_TLS_CERT and HUB_TLS_KEY again (SIGHUP): new connections get the
   * new certificate, open ones keep theirs; files that do not load change nothing.
   */
  reloadTls(): Promise<TlsReload>;
}

export type TlsReload = { reloaded: true; certificate: Omit<LoadedCertificate, 'options'> } | { reloaded: false; reason: string };

const describeCertificate = ({ subject, validTo, fingerprint256 }: LoadedCertificate) => ({ subject, validTo, fingerprint256 });

export interface HubOptions extends ActorSystemOptions {
  /** in a worker of a cluster: which process this is, answered in `X-Hub-Process` on every response */
  processLabel?: string;
}

/** Starts the whole service: the actor system (see actors/system.ts), then HTTP in front of it. */
export async function startHub(config: Config, options: HubOptions): Promise<Hub> {
  const { logger } = options;
  // bad TLS files stop the start before anything else is started
  const certificate = config.tls ? await loadCertificate(config.tls) : null;
  const system = await createActorSystem(config, options);
  let server: Server | null = null;
  let draining = false;
  try {
    const apiKeys = new ApiKeys(system.database.collections.apiKeys);
    await bootstrapAdminKey(config, apiKeys, logger);
    await system.start();

    const trustedProxies = addressList(config.trustedProxies);
    const app = createHttpApp({
      ...(options.processLabel ? { processLabel: options.processLabel } : {}),
      domainEvents: system.domainEvents,
      logger,
      runtime: system.runtime,
      store: system.store,
      jobs: system.jobs,
      worker: system.worker,
      apiKeys,
      bodyLimitBytes: config.bodyLimitBytes,
      jsonMaxDepth: config.jsonMaxDepth,
      limits: { config: config.limits, trustedProxies, alerts: system.alertSink, now: () => system.clock.now() },
      connectors: system.connectors,
      audit: system.audit,
      alerts: system.alerts,
      metrics: system.metrics,
      webhooks: {
        inbox: system.inbox,
        merchantApis: system.merchantApis,
        trustedProxies,
        signatureFailures: system.signatureFailures,
      },
      readiness: {
        database: () => system.database.ping(),
        scheduler: () => system.schedulerRunning(),
        worker: () => system.worker.snapshot(),
        draining: () => draining,
      },
      reference: system.reference,
      devices: system.devices,
      fiscalReports: system.fiscalReports,
      fiscalPolicy: () => config.fiscalPolicy,
      pos: {
        lookup: system.loyalty.lookup,
        maxBonusSharePercent: () => system.loyalty.access.settings().maxBonusSharePercent,
        policy: () => config.posPolicy,
        now: () => system.clock.now(),
      },
      collections: system.database.collections,
      queries: system.queries,
      orders: {
        runtime: system.runtime,
        queries: system.queries,
        commerce: system.commerce,
        mailer: system.mailer,
        policy: () => config.orderPolicy,
        seller: config.seller,
        marketplaces: system.marketplaces,
        forgetting: new CustomerForgetting({
          runtime: system.runtime,
          store: system.store,
          collections: system.database.collections,
          commerce: system.commerce,
          audit: system.audit,
          backfill: system.personalDataBackfill,
          retentionDays: config.personalDataRetentionDays,
          now: () => system.clock.now(),
        }),
        now: () => system.clock.now(),
      },
      applications: {
        inbox: system.database.collections.inbox,
        goodfin: system.goodfin.collections,
        outbox: system.goodfin.outbox,
        declarer: system.goodfin.declarer,
      },
    });
    const listening: Server | HttpsServer = certificate
      ? createHttpsServer({ ...serverOptions(config.http), ...httpsOptions(certificate) }, app.callback())
      : createServer(serverOptions(config.http), app.callback());
    listening.keepAliveTimeout = config.http.keepAliveTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(config.port, config.host, () => resolve());
    });
    server = listening;
    const port = (listening.address() as AddressInfo).port;
    const url = `${certificate ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    system.reachableAt(url);
    logger.info('integration hub ready', {
      url,
      machines: system.registry.list().map((m) => `${m.type}@${m.version}`),
      ...(certificate ? { certificate: describeCertificate(certificate) } : {}),
    });

    const reloadTls = async (): Promise<TlsReload> => {
      if (!config.tls || !('setSecureContext' in listening))
        return { reloaded: false, reason: 'the hub serves plain HTTP (HUB_TLS_CERT unset)' };
      try {
        const loaded = await loadCertificate(config.tls);
        listening.setSecureContext(httpsOptions(loaded));
        logger.info('TLS certificate reloaded', { certificate: describeCertificate(loaded) });
        return { reloaded: true, certificate: describeCertificate(loaded) };
      } catch (error) {
        const reason = error instanceof TlsFilesError ? error.message : 'the TLS files could not be loaded';
        logger.error('TLS certificate not reloaded; the one in use stays', { reason });
        return { reloaded: false, reason };
      }
    };

    let stopped: Promise<void> | null = null;
    return {
      url,
      app,
      port,
      ownerId: system.ownerId,
      system,
      runtime: system.runtime,
      worker: system.worker,
      database: system.database,
      connectors: system.connectors,
      alerts: system.alerts,
      metrics: system.metrics,
      reloadTls,
      stop: () => {
        stopped ??= closeServer(listening, () => {
          draining = true;
        })
          .then(() => system.stop())
          .then(() => {
            logger.info('integration hub stopped');
          });
        return stopped;
      },
    };
  } catch (error) {
    if (server) await closeServer(server, () => undefined);
    await system.stop();
    throw error;
  }
}

/**
 * What a connection may cost us. Node's defaults let a client take 60 s over
 * its headers and 300 s over a request, checked every 30 s, so a hundred
 * clients sending a byte a second hold a hundred connections for minutes.
 * Ours: HUB_HTTP_HEADERS_TIMEOUT_MS and HUB_HTTP_REQUEST_TIMEOUT_MS (the
 * request until its last byte arrived, not the time we take to answer),
 * checked every second; a client cut off is answered 408 and closed.
 */
export function serverOptions(http: Config['http']): ServerOptions {
  return {
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, http.headersTimeoutMs),
  };
}

/** No new requests; open ones finish (HTTP closes first, so the system behind it drains last). */
function closeServer(server: Server | HttpsServer, onDraining: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    onDraining();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
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
  await apiKeys.ensure(await developmentAdminKey(config.dataDir, logger), 'admin (generated)', 'admin', 'bootstrap');
}

/**
 * The admin key kept under DATA_DIR when ADMIN_API_KEY is unset: read, or
 * generated, saved and printed by the start that made it. A cluster primary
 * calls it before forking, so its workers all read the one it made.
 */
export async function developmentAdminKey(dataDir: string, logger: Logger): Promise<string> {
  const file = path.join(dataDir, 'admin-api-key');
  try {
    const key = (await readFile(file, 'utf8')).trim();
    logger.info('using the generated admin API key', { file });
    return key;
  } catch {
    const key = ApiKeys.generate();
    await writePrivateFile(file, `${key}\n`);
    // Printed once, on purpose, outside the (redacting) log.
    process.stdout.write(
      `\n  No ADMIN_API_KEY was set, so an admin key was generated and saved to ${file}:\n\n    ${key}\n\n  Use it as: Authorization: Bearer <key>\n\n`,
    );
    return key;
  }
}
