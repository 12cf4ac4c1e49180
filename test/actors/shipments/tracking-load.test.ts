import { test } from 'node:test';
import assert from 'node:assert/strict';
import { novaPoshtaConnector } from '../../../actors/connectors/novaposhta/connector.ts';
import type { NovaPoshtaClient } from '../../../actors/connectors/novaposhta/client.ts';
import { startNovaPoshtaSandbox } from '../../../actors/connectors/novaposhta/sandbox.ts';
import { novaPoshtaTrackingJob } from '../../../actors/jobs/novaposhta-tracking.ts';
import shipment, { DEFAULT_STATUS_MAP, type ShipmentInput } from '../../../machines/shipment.ts';
import { shipmentNotices } from '../../../actors/shipments/effects.ts';
import { Mailer } from '../../../actors/notifications/mailer.ts';
import { bindEffects } from '../../../actors/runtime/effects.ts';
import { ActorQueries } from '../../../actors/runtime/queries.ts';
import { commerceCollections } from '../../../persistence/commerce.ts';
import { connectDatabase } from '../../../persistence/database.ts';
import { connectorHttpFor } from '../../support/connectors.ts';
import { databaseUri, uniqueDatabaseName } from '../../support/database.ts';
import { quietLogger, startRuntime } from '../../support/runtime-harness.ts';

const SHIPMENTS = Number(process.env.TRACKING_LOAD_SHIPMENTS ?? 10_000);

/** Shipments imported with their waybill never quote, create or delete one: those effects cannot run here. */
const neverCalled = () => Promise.reject(new Error('not reachable for imported waybills'));

test(`${SHIPMENTS} parcels in transit are tracked with ${SHIPMENTS / 100} getStatusDocuments calls per cycle, counted by the sandbox`, async () => {
  const np = await startNovaPoshtaSandbox();
  const numbers = np.seedWaybills(SHIPMENTS);
  const database = await connectDatabase(databaseUri(), uniqueDatabaseName('tracking_load'));
  // the real notices: no e-mail on these parcels, and their orders do not exist, which a notice takes in its stride
  const mailer = new Mailer({
    collection: commerceCollections(database.collections.db).mail,
    from: 'shop@localhost',
    logger: quietLogger,
    renderAttachment: async () => null,
  });
  const harness = await startRuntime({
    database,
    dbName: 'unused',
    machines: [shipment],
    effects: [
      bindEffects(shipment, {
        quoteShipment: neverCalled,
        createWaybill: neverCalled,
        deleteWaybill: neverCalled,
        ...shipmentNotices({ mailer }),
      }),
    ],
    cacheSize: 1_000,
  });
  try {
    const base: Omit<ShipmentInput, 'shipmentId' | 'orderId' | 'existingWaybill'> = {
      recipient: { name: 'Покупець', phone: '380500000000', email: null },
      cityRef: 'c',
      warehouseRef: 'w',
      address: null,
      declaredValue: 10_000,
      description: 'Товар',
      collectOnDelivery: null,
      statusMap: DEFAULT_STATUS_MAP,
      requestedAt: new Date().toISOString(),
    };
    for (let offset = 0; offset < SHIPMENTS; offset += 50) {
      await Promise.all(
        numbers.slice(offset, offset + 50).map((number, i) => {
          const id = `LOAD-${offset + i}`;
          return harness.runtime.create(
            'shipment',
            id,
            { ...base, shipmentId: id, orderId: id, existingWaybill: { number, ref: `ref-${number}` } },
            { origin: { kind: 'create' } },
          );
        }),
      );
    }
    const { client } = connectorHttpFor<NovaPoshtaClient>(novaPoshtaConnector, {
      baseUrl: np.url,
      policy: { rateLimitPerSecond: 10_000, rateLimitBurst: 10_000 },
    });
    const job = novaPoshtaTrackingJob({
      queries: new ActorQueries({ runtime: harness.runtime, actors: harness.database.collections.actors }),
      runtime: harness.runtime,
      client: () => client,
      every: '15 minutes',
      logger: quietLogger,
    });
    const progress: Array<Record<string, unknown>> = [];
    const cycle = async () =>
      (await job.run({ logger: quietLogger, trigger: 'manual', progress: (p) => progress.push(p) })) as {
        shipments: number;
        calls: number;
        changed: number;
        failedCalls: number;
      };

    const first = await cycle();
    assert.deepEqual(first, { shipments: SHIPMENTS, calls: SHIPMENTS / 100, failedCalls: 0, changed: SHIPMENTS });
    assert.equal(np.calls('TrackingDocument.getStatusDocuments'), SHIPMENTS / 100);
    assert.equal(progress.length, SHIPMENTS / 100);

    const quiet = await cycle();
    assert.deepEqual([quiet.calls, quiet.changed], [SHIPMENTS / 100, 0], 'nothing new: nothing sent');

    // a hundred parcels leave (status 4): only those move, at the same cost per cycle
    for (const number of numbers.slice(0, 100)) np.advance(number, 1);
    const second = await cycle();
    assert.deepEqual([second.calls, second.changed], [SHIPMENTS / 100, 100]);
    assert.equal(np.calls('TrackingDocument.getStatusDocuments'), 3 * (SHIPMENTS / 100));
    await harness.runtime.flushProjections();
    assert.equal(await harness.database.collections.actors.countDocuments({ type: 'shipment', state: 'inTransit' }), 100);

    np.faults.inject({ kind: 'status', status: 500, count: 3, bodyIncludes: 'getStatusDocuments' });
    const third = await cycle();
    assert.equal(third.calls, SHIPMENTS / 100, 'a failing call does not stop the others');
    assert.equal(third.failedCalls, 1, 'three 500s: one call failed after its retries');
    assert.equal(third.changed, 0);
  } finally {
    await harness.close();
    await database.collections.db.dropDatabase();
    await database.close();
    await np.close();
  }
});
