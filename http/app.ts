import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from 'winston';
import type { ActorRuntime } from '../actors/runtime/runtime.ts';
import type { ActorStore } from '../actors/runtime/store.ts';
import type { JobRegistry } from '../actors/platform/jobs/registry.ts';
import type { DurableWorker } from '../actors/runtime/worker.ts';
import type { ApiKeys } from './auth.ts';
import type { HubState } from './context.ts';
import { authenticate } from './middleware/auth.ts';
import { errorMapping } from './middleware/errors.ts';
import { jsonBody } from './middleware/json-body.ts';
import { requestLimits, type RequestLimitDependencies } from './middleware/rate-limit.ts';
import { requestContext } from './middleware/request-context.ts';
import { actorRoutes } from './routes/actors.ts';
import { adminRoutes } from './routes/admin.ts';
import { healthRoutes, type ReadinessProbe } from './routes/health.ts';
import { alertRoutes, type AlertsApi } from './routes/alerts.ts';
import { auditRoutes } from './routes/audit.ts';
import { integrationRoutes } from './routes/integrations.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { marketplaceRoutes } from './routes/marketplaces.ts';
import { asyncApiRoutes, eventAdminRoutes } from './routes/events.ts';
import type { DomainEvents } from '../actors/platform/events/domain-events.ts';
import { commerceAdminRoutes, orderRoutes, surveyRoutes, thankYouRoutes, type OrderRouteDeps } from './routes/orders.ts';
import type { Mailer } from '../actors/platform/mail/mailer.ts';
import type { ReferenceCollections } from '../persistence/reference.ts';
import { referenceRoutes } from './routes/reference.ts';
import { inspectionRoutes } from './routes/inspection.ts';
import { consoleRoutes } from './routes/console.ts';
import { documentationRoutes } from './routes/docs.ts';
import type { Collections } from '../persistence/collections.ts';
import type { ActorQueries } from '../actors/runtime/queries.ts';
import { applicationRoutes, type ApplicationRouteDeps } from './routes/applications.ts';
import { fiscalRoutes } from './routes/fiscal.ts';
import { posRoutes, type PosRouteDeps } from './routes/pos.ts';
import type { Devices } from '../actors/platform/devices/devices.ts';
import type { FiscalReports } from '../actors/domains/fiscal/reports.ts';
import type { FiscalPolicy } from '../common/fiscal-policy.ts';
import { webhookRoutes, type WebhookDependencies } from './routes/webhooks/index.ts';
import type { Connectors } from '../actors/platform/connectors/kit/connectors.ts';
import type { AuditLog } from '../actors/platform/audit/audit-log.ts';
import type { HubMetrics } from '../actors/platform/monitoring/metrics.ts';

export interface HttpDependencies {
  /** in a worker of a cluster: answered in `X-Hub-Process` on every response */
  processLabel?: string;
  logger: Logger;
  runtime: ActorRuntime;
  store: ActorStore;
  jobs: JobRegistry;
  worker: DurableWorker;
  apiKeys: ApiKeys;
  readiness: ReadinessProbe;
  bodyLimitBytes: number;
  /** how deeply a JSON request body may nest (HUB_JSON_MAX_DEPTH) */
  jsonMaxDepth: number;
  /** request rates per client address and per API key, failed authentications */
  limits: Omit<RequestLimitDependencies, 'metrics'>;
  connectors: Connectors;
  audit: AuditLog;
  alerts: AlertsApi;
  metrics: HubMetrics;
  webhooks: Omit<WebhookDependencies, 'connectors' | 'audit' | 'metrics' | 'bodyLimitBytes'>;
  orders: OrderRouteDeps & { mailer: Mailer };
  reference: ReferenceCollections;
  collections: Collections;
  queries: ActorQueries;
  applications: Omit<ApplicationRouteDeps, 'runtime' | 'store' | 'queries' | 'connectors'>;
  devices: Devices;
  fiscalReports: FiscalReports;
  fiscalPolicy: () => FiscalPolicy;
  pos: Omit<PosRouteDeps, 'runtime' | 'queries'>;
  /** null when publishing is off */
  domainEvents: DomainEvents | null;
}

export function createHttpApp(deps: HttpDependencies): Koa<HubState> {
  const app = new Koa<HubState>();
  app.proxy = false;
  app.silent = true; // errors are logged by our own middleware, with the request id

  if (deps.processLabel) {
    const label = deps.processLabel;
    // several processes share the port: which one answered (the README's "Several processes")
    app.use(async (ctx, next) => {
      ctx.set('X-Hub-Process', label);
      await next();
    });
  }
  app.use(requestContext(deps.logger));
  app.use(errorMapping());
  const limits = requestLimits({ ...deps.limits, metrics: deps.metrics });

  // Not limited: what load balancers and orchestrators probe, answered from memory or with one ping.
  const health = new Router<HubState>();
  health.use(healthRoutes(deps.readiness).routes());
  app.use(health.routes());
  app.use(health.allowedMethods());

  const open = new Router<HubState>();
  // Anyone may call these, so each client address has its own rate.
  open.use(limits.byAddress);
  // Partner callbacks authenticate by their own signatures, not by API keys.
  open.use(
    webhookRoutes({
      ...deps.webhooks,
      connectors: deps.connectors,
      audit: deps.audit,
      metrics: deps.metrics,
      bodyLimitBytes: deps.bodyLimitBytes,
    }).routes(),
  );
  open.use(consoleRoutes().routes());
  // The customer's survey link authenticates by its own token.
  open.use(surveyRoutes({ runtime: deps.runtime, commerce: deps.orders.commerce, bodyLimitBytes: deps.bodyLimitBytes }).routes());
  // Where the payment providers' pages send the customer back.
  open.use(thankYouRoutes().routes());
  open.use(asyncApiRoutes(deps.runtime.registry.list()).routes());
  app.use(open.routes());
  app.use(open.allowedMethods());

  const secured = new Router<HubState>();
  secured.use(authenticate(deps.apiKeys, limits.authentication));
  secured.use(limits.byKey);
  secured.use(jsonBody(deps.bodyLimitBytes, { maxDepth: deps.jsonMaxDepth }));
  secured.use(actorRoutes(deps.runtime, deps.store).routes());
  secured.use(adminRoutes({ jobs: deps.jobs, apiKeys: deps.apiKeys, worker: deps.worker, audit: deps.audit }).routes());
  secured.use(integrationRoutes({ connectors: deps.connectors }).routes());
  secured.use(auditRoutes({ audit: deps.audit }).routes());
  secured.use(alertRoutes({ alerts: deps.alerts }).routes());
  secured.use(metricsRoutes({ metrics: deps.metrics }).routes());
  secured.use(orderRoutes(deps.orders).routes());
  secured.use(marketplaceRoutes({ marketplaces: deps.orders.marketplaces }).routes());
  secured.use(eventAdminRoutes({ domainEvents: deps.domainEvents }).routes());
  secured.use(referenceRoutes(deps.reference).routes());
  secured.use(
    inspectionRoutes({
      runtime: deps.runtime,
      queries: deps.queries,
      store: deps.store,
      collections: deps.collections,
      audit: deps.audit,
    }).routes(),
  );
  secured.use(
    applicationRoutes({
      ...deps.applications,
      runtime: deps.runtime,
      store: deps.store,
      queries: deps.queries,
      connectors: deps.connectors,
    }).routes(),
  );
  secured.use(commerceAdminRoutes({ mailer: deps.orders.mailer, commerce: deps.orders.commerce }).routes());
  secured.use(
    fiscalRoutes({
      runtime: deps.runtime,
      queries: deps.queries,
      devices: deps.devices,
      reports: deps.fiscalReports,
      policy: deps.fiscalPolicy,
    }).routes(),
  );
  secured.use(posRoutes({ ...deps.pos, runtime: deps.runtime, queries: deps.queries }).routes());
  app.use(secured.routes());
  app.use(secured.allowedMethods());
  app.use(documentationRoutes(app).routes()); // last: it documents every router above

  return app;
}
