import type { Logger } from 'winston';
import { CircuitBreaker } from '../actors/platform/connectors/kit/circuit-breaker.ts';
import { DEFAULT_HTTP_POLICY, type HttpPolicy } from '../actors/platform/connectors/kit/definition.ts';
import { createConnectorHttp } from '../actors/platform/connectors/kit/http.ts';
import { TokenBucket } from '../actors/platform/connectors/kit/rate-limit.ts';
import type { NovaPoshtaClient } from '../actors/platform/connectors/novaposhta/client.ts';
import { novaPoshtaConnector } from '../actors/platform/connectors/novaposhta/connector.ts';
import { startNovaPoshtaSandbox, type NovaPoshtaSandbox } from '../actors/platform/connectors/novaposhta/sandbox.ts';
import { novaPoshtaTrackingJob } from '../actors/domains/shipments/tracking-job.ts';
import { Mailer } from '../actors/platform/mail/mailer.ts';
import type { ActorRuntime } from '../actors/runtime/runtime.ts';
import { shipmentNotices } from '../actors/domains/shipments/effects.ts';
import { bindEffects } from '../actors/runtime/effects.ts';
import { novaPoshtaCarrier } from '../actors/platform/connectors/novaposhta/carrier.ts';
import { referenceCollections } from '../persistence/reference.ts';
import { ActorQueries } from '../actors/runtime/queries.ts';
import shipment, { DEFAULT_STATUS_MAP, type ShipmentInput } from '../machines/shipment.ts';
import { commerceCollections } from '../persistence/commerce.ts';
import type { Database } from '../persistence/database.ts';
import { CREATES_IN_FLIGHT, forEachConcurrently, startInProcessRuntime, type InProcessRuntime } from './bench-support.ts';

/**
 * The tracking load scenario, shared by test/actors/domains/shipments/tracking-load.test.ts
 * (small) and `npm run bench:tracking` (full size): N parcels already in
 * transit, imported with their waybills into shipment actors (created through
 * the runtime, as the hub would), tracked by the real Nova Poshta tracking
 * job against the Nova Poshta sandbox, which counts the calls.
 */

/** What one run of the tracking job reports (its `run` result). */
export interface TrackingCycle {
  shipments: number;
  calls: number;
  changed: number;
  failedCalls: number;
}

export interface TrackingLoad {
  sandbox: NovaPoshtaSandbox;
  /** the sandbox's waybills, one per shipment `LOAD-<index>`, in that order */
  waybills: string[];
  runtime: ActorRuntime;
  database: Database;
  /** creates the shipment actors through the runtime, `concurrency` creates in flight at a time */
  seed(concurrency?: number): Promise<void>;
  /** one run of the tracking job, with the progress it reported */
  cycle(): Promise<{ result: TrackingCycle; progress: Array<Record<string, unknown>> }>;
  /** stops the runtime and the sandbox; the database is the caller's */
  close(): Promise<void>;
}

/** Shipments imported with their waybill never quote, create or delete one: those effects cannot run here. */
const neverCalled = () => Promise.reject(new Error('not reachable for imported waybills'));

/** Everything about an imported parcel except what makes it this parcel. */
const importedParcel: Omit<ShipmentInput, 'shipmentId' | 'orderId' | 'existingWaybill' | 'requestedAt'> = {
  recipient: { name: 'Покупець', phone: '380500000000', email: null },
  cityRef: 'c',
  warehouseRef: 'w',
  address: null,
  declaredValue: 10_000,
  description: 'Товар',
  collectOnDelivery: null,
  statusMap: DEFAULT_STATUS_MAP,
};

export async function startTrackingLoad(options: {
  database: Database;
  shipments: number;
  /** actors kept in memory; fewer than `shipments` makes every cycle load most of them from the database */
  cacheSize: number;
  logger: Logger;
}): Promise<TrackingLoad> {
  const { database, logger } = options;
  const sandbox = await startNovaPoshtaSandbox();
  const waybills = sandbox.seedWaybills(options.shipments);
  let hub: InProcessRuntime | null = null;
  try {
    // The real notices, which tell the order and mail the customer. These parcels have no e-mail, and no order
    // machine runs here, so a parcel that moves has its notice fail after the worker's retries, recorded on the
    // shipment (noticeError): work beside the cycle, as a notice's would be in the hub.
    const mailer = new Mailer({
      collection: commerceCollections(database.collections.db).mail,
      from: 'shop@localhost',
      logger,
      renderAttachment: async () => null,
    });
    hub = await startInProcessRuntime({
      database,
      machines: [shipment],
      effects: [
        bindEffects(shipment, {
          quoteShipment: neverCalled,
          createWaybill: neverCalled,
          deleteWaybill: neverCalled,
          ...shipmentNotices({ mailer }),
        }),
      ],
      cacheSize: options.cacheSize,
      logger,
    });
    const client = novaPoshtaClientFor(sandbox.url, logger);
    const job = novaPoshtaTrackingJob({
      queries: new ActorQueries({ runtime: hub.runtime, actors: database.collections.actors }),
      runtime: hub.runtime,
      // the real carrier over the real client; tracking needs neither settings nor the directory
      carrier: novaPoshtaCarrier({
        client: () => client,
        settings: () => {
          throw new Error('tracking reads no Nova Poshta settings');
        },
        reference: referenceCollections(database.collections.db),
        logger,
      }),
      every: '15 minutes',
      logger,
    });
    const { runtime } = hub;
    const running = hub;
    return {
      sandbox,
      waybills,
      runtime,
      database,
      async seed(concurrency = CREATES_IN_FLIGHT) {
        const requestedAt = new Date().toISOString();
        await forEachConcurrently(waybills.length, concurrency, async (index) => {
          const number = waybills[index]!;
          const id = `LOAD-${index}`;
          await runtime
            .of(shipment)
            .create(
              id,
              { ...importedParcel, requestedAt, shipmentId: id, orderId: id, existingWaybill: { number, ref: `ref-${number}` } },
              { origin: { kind: 'create' } },
            );
        });
      },
      async cycle() {
        const progress: Array<Record<string, unknown>> = [];
        const result = (await job.run({ logger, trigger: 'manual', progress: (p) => progress.push(p) })) as unknown as TrackingCycle;
        return { result, progress };
      },
      async close() {
        await running.close();
        await sandbox.close();
      },
    };
  } catch (error) {
    await hub?.close();
    await sandbox.close();
    throw error;
  }
}

/**
 * The Nova Poshta client over the connector kit's real pipeline (breaker,
 * retries, error mapping), pointed at the sandbox. The rate limit is lifted
 * (the sandbox is the bottleneck under test, not our politeness) and retries
 * pause 10–50 ms instead of 0.2–5 s.
 */
function novaPoshtaClientFor(baseUrl: string, logger: Logger): NovaPoshtaClient {
  const policy: HttpPolicy = {
    ...DEFAULT_HTTP_POLICY,
    ...novaPoshtaConnector.policy,
    retryBaseDelayMs: 10,
    retryMaxDelayMs: 50,
    rateLimitPerSecond: 10_000,
    rateLimitBurst: 10_000,
  };
  const config = {
    integration: novaPoshtaConnector.name,
    baseUrl,
    credentials: novaPoshtaConnector.credentials.parse(novaPoshtaConnector.sandbox.credentials),
    settings: novaPoshtaConnector.settings.parse({}),
    sandboxed: true,
    revision: 1,
  };
  const http = createConnectorHttp(novaPoshtaConnector, config, policy, {
    breaker: new CircuitBreaker({ failureThreshold: policy.breakerFailureThreshold, cooldownMs: policy.breakerCooldownMs }),
    limiter: new TokenBucket({ perSecond: policy.rateLimitPerSecond, burst: policy.rateLimitBurst }),
    observer: { attempt: () => undefined, finished: () => undefined },
    logger,
  });
  return novaPoshtaConnector.createClient(http, config);
}
