import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import type { JowiAccess } from '../../../../actors/domains/loyalty/access.ts';
import { LoyaltyAccruals } from '../../../../actors/domains/loyalty/accruals.ts';
import { CustomerCache } from '../../../../actors/domains/loyalty/customer-cache.ts';
import { LoyaltyLookup } from '../../../../actors/domains/loyalty/lookup.ts';
import type { JowiClient } from '../../../../actors/platform/connectors/jowi/client.ts';
import { jowiConnector, jowiSettingsSchema, type JowiSettings } from '../../../../actors/platform/connectors/jowi/connector.ts';
import { startJowiSandbox, type JowiSandbox } from '../../../../actors/platform/connectors/jowi/sandbox.ts';
import type { HttpPolicy } from '../../../../actors/platform/connectors/kit/definition.ts';
import { ensureLoyaltyIndexes, loyaltyCollections, type LoyaltyCollections } from '../../../../persistence/loyalty.ts';
import { PersonalDataCipher } from '../../../../persistence/personal-data-key.ts';
import { connectorHttpFor } from '../../../support/connectors.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger } from '../../../support/runtime-harness.ts';

export interface LoyaltySetup {
  jowi: JowiSandbox;
  db: Db;
  collections: LoyaltyCollections;
  cache: CustomerCache;
  lookup: LoyaltyLookup;
  accruals: LoyaltyAccruals;
  /** the injected clock (ms); starts at 2026-12-02T05:15:00Z */
  clock: { now: number };
  settings: JowiSettings;
}

/**
 * The loyalty module as the hub builds it, on a real database and against a real JOWi sandbox over loopback,
 * its client on the kit's real pipeline; the clock is injected.
 */
export async function withLoyalty(
  run: (setup: LoyaltySetup) => Promise<void>,
  options: { settings?: Partial<JowiSettings>; policy?: Partial<HttpPolicy>; credentials?: Record<string, string> } = {},
): Promise<void> {
  const jowi = await startJowiSandbox();
  const mongo = await new MongoClient(databaseUri()).connect();
  const db = mongo.db(uniqueDatabaseName('loyalty'));
  try {
    await ensureLoyaltyIndexes(db);
    const collections = loyaltyCollections(db);
    const settings = jowiSettingsSchema.parse(options.settings ?? {});
    const { client } = connectorHttpFor<JowiClient>(jowiConnector, {
      baseUrl: jowi.url,
      credentials: options.credentials,
      policy: { timeoutMs: 500, retries: 1, breakerFailureThreshold: 1000, ...options.policy },
    });
    const access: JowiAccess = { client: () => client, settings: () => settings };
    const clock = { now: Date.UTC(2026, 11, 2, 5, 15) };
    const now = () => clock.now;
    const cipher = new PersonalDataCipher(randomBytes(32));
    const cache = new CustomerCache(collections.customers, cipher, now);
    const lookup = new LoyaltyLookup({ access, cache, logger: quietLogger, now });
    const accruals = new LoyaltyAccruals({
      collection: collections.outbox,
      access,
      cache,
      personalData: cipher,
      logger: quietLogger,
      now,
      deliverOnEnqueue: false,
    });
    await run({ jowi, db, collections, cache, lookup, accruals, clock, settings });
  } finally {
    await jowi.close();
    await db.dropDatabase().catch(() => undefined);
    await mongo.close();
  }
}
