import type { Db } from 'mongodb';
import type { Logger } from 'winston';
import { ensureLoyaltyIndexes, loyaltyCollections, type LoyaltyCollections } from '../../../persistence/loyalty.ts';
import type { AlertSink } from '../../platform/alerts/alerts.ts';
import type { Connectors } from '../../platform/connectors/kit/connectors.ts';
import type { WebhookSpec } from '../../platform/inbound/spec.ts';
import type { JobDefinition } from '../../platform/jobs/registry.ts';
import type { PersonalDataCipher } from '../../../persistence/personal-data-key.ts';
import { jowiAccess, type JowiAccess } from './access.ts';
import { LoyaltyAccruals, loyaltyAccrualsJob } from './accruals.ts';
import { CustomerCache } from './customer-cache.ts';
import { LoyaltyLookup } from './lookup.ts';
import { jowiWebhook } from './webhook.ts';

/**
 * The loyalty program (JOWi Club) as a sale uses it: `lookup` (bounded, never blocks a sale), `accruals`
 * (the durable outbox of accruals and refunds), the customer `cache` the webhook keeps, the webhook itself,
 * the delivery job, and `announce` (a sandboxed JOWi is told where our webhook is).
 */
export interface Loyalty {
  lookup: LoyaltyLookup;
  accruals: LoyaltyAccruals;
  cache: CustomerCache;
  collections: LoyaltyCollections;
  access: JowiAccess;
  webhook: WebhookSpec;
  jobs: JobDefinition[];
  /** when JOWi is sandboxed: tells the sandbox to send its webhooks to `<publicBaseUrl>/webhooks/jowi` */
  announce(publicBaseUrl: string): Promise<void>;
}

export async function createLoyalty(deps: {
  db: Db;
  connectors: Connectors;
  logger: Logger;
  alerts?: AlertSink;
  personalData: PersonalDataCipher;
  now: () => number;
}): Promise<Loyalty> {
  await ensureLoyaltyIndexes(deps.db);
  const collections = loyaltyCollections(deps.db);
  const access = jowiAccess(deps.connectors);
  const cache = new CustomerCache(collections.customers, deps.personalData, deps.now);
  const sealed = await cache.sealStoredInClear();
  if (sealed > 0) deps.logger.info('loyalty customers cached in clear are sealed', { customers: sealed });
  const lookup = new LoyaltyLookup({ access, cache, logger: deps.logger, now: deps.now });
  const accruals = new LoyaltyAccruals({
    collection: collections.outbox,
    access,
    cache,
    personalData: deps.personalData,
    logger: deps.logger,
    alerts: deps.alerts,
    now: deps.now,
  });
  return {
    lookup,
    accruals,
    cache,
    collections,
    access,
    webhook: jowiWebhook({ cache, now: deps.now }),
    jobs: [loyaltyAccrualsJob(accruals)],
    async announce(publicBaseUrl) {
      if (deps.connectors.modeOf('jowi') !== 'sandbox') return;
      const sandboxUrl = deps.connectors.sandboxUrlOf('jowi');
      if (!sandboxUrl) return;
      const response = await fetch(`${sandboxUrl}/__sandbox/webhook-url`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${publicBaseUrl.replace(/\/$/, '')}/webhooks/jowi` }),
        signal: AbortSignal.timeout(5_000),
      });
      if (!response.ok) throw new Error(`the jowi sandbox answered ${response.status}`);
    },
  };
}
