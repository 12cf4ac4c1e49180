import { test } from 'node:test';
import assert from 'node:assert/strict';
import { novaPoshtaReferenceSyncJob } from '../../../../actors/domains/shipments/reference-sync-job.ts';
import type { NovaPoshtaClient } from '../../../../actors/platform/connectors/novaposhta/client.ts';
import { novaPoshtaConnector } from '../../../../actors/platform/connectors/novaposhta/connector.ts';
import { startNovaPoshtaSandbox } from '../../../../actors/platform/connectors/novaposhta/sandbox.ts';
import { connectDatabase } from '../../../../persistence/database.ts';
import { ensureReferenceIndexes, referenceCollections } from '../../../../persistence/reference.ts';
import { connectorHttpFor } from '../../../support/connectors.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger } from '../../../support/runtime-harness.ts';

const stale = (id: string) => ({ _id: id, name: 'Зникле', nameRu: null, area: null, type: null, search: 'зникле', syncedAt: new Date(0) });

test("the directory sync reads on through short pages to NP's own count, and deletes what NP no longer lists only after a complete pass", async () => {
  // NP may answer fewer rows than asked before the end: here never more than 120 a page
  const np = await startNovaPoshtaSandbox({ generated: { settlements: 10, branchesEach: 30 }, pageLimit: 120 });
  const database = await connectDatabase(databaseUri(), uniqueDatabaseName('np_sync'));
  const { client } = connectorHttpFor<NovaPoshtaClient>(novaPoshtaConnector, {
    baseUrl: np.url,
    policy: { retries: 0, rateLimitPerSecond: 10_000, rateLimitBurst: 10_000 },
  });
  try {
    await ensureReferenceIndexes(database.collections.db);
    const reference = referenceCollections(database.collections.db);
    const job = novaPoshtaReferenceSyncJob({ reference, client: () => client });
    const run = () => job.run({ logger: quietLogger, trigger: 'manual', progress: () => undefined });
    const expected = {
      cities: (await client.getCities({ limit: 1 })).totalCount,
      warehouses: (await client.getWarehouses({ limit: 1 })).totalCount,
    };
    assert.ok((expected.warehouses ?? 0) > 240, `${expected.warehouses} branches: more than two short pages`);

    await reference.cities.insertOne(stale('gone-1'));
    assert.deepEqual(await run(), { ...expected, removed: 1 });
    assert.equal(await reference.warehouses.countDocuments({}), expected.warehouses);
    assert.equal(await reference.cities.findOne({ _id: 'gone-1' }), null, 'a complete pass removes what NP no longer lists');

    // a pass that breaks off (NP fails a page) removes nothing
    await reference.cities.insertOne(stale('gone-2'));
    np.faults.inject({ kind: 'status', status: 500, bodyIncludes: '"calledMethod":"getWarehouses"' });
    await assert.rejects(run());
    assert.ok(await reference.cities.findOne({ _id: 'gone-2' }), 'an incomplete pass deletes nothing');
  } finally {
    await database.collections.db.dropDatabase();
    await database.close();
    await np.close();
  }
});
