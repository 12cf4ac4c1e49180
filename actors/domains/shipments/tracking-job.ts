import type { Logger } from 'winston';
import { AppError } from '../../../common/errors.ts';
import shipmentModule, { trackedNumber, type TrackedEvent } from '../../../machines/shipment.ts';
import type { Carrier } from '../../platform/connectors/ports/carrier.ts';
import type { ActorQueries } from '../../runtime/queries.ts';
import type { ActorRuntime } from '../../runtime/runtime.ts';
import type { JobDefinition } from '../../platform/jobs/registry.ts';

/**
 * One job tracks every parcel still moving: 100 waybills per
 * `getStatusDocuments` call (10 000 shipments → 100 calls), each changed
 * status sent to its shipment as an event (keyed, so a repeat or a second
 * process changes nothing). A failing call is logged and the other batches
 * go on; runs never overlap in a process.
 */
export function novaPoshtaTrackingJob(deps: {
  queries: ActorQueries;
  runtime: ActorRuntime;
  carrier: Carrier;
  every: string;
  logger: Logger;
}): JobDefinition {
  return {
    name: 'novaposhta-tracking',
    description: 'asks Nova Poshta about every parcel still moving, 100 per call, and moves the shipments on',
    every: deps.every,
    syncs: 'novaposhta',
    async run({ progress }) {
      const batchSize = deps.carrier.trackBatchSize;
      const shipments = deps.runtime.of(shipmentModule);
      const tracked = await deps.queries.contexts(shipmentModule, { tag: 'tracked' }, { order: 'oldestCreated' });
      const watched = tracked.flatMap(({ id, context }) => {
        const number = trackedNumber(context);
        return number
          ? [
              {
                id,
                number,
                phone: context.recipient.phone.replace(/^\+/, ''),
                last: context.lastStatusCode,
                returnKnown: context.returnNumber !== null,
              },
            ]
          : [];
      });
      const byNumber = new Map(watched.map((w) => [w.number, w]));
      let calls = 0;
      let failedCalls = 0;
      let changed = 0;
      for (let offset = 0; offset < watched.length; offset += batchSize) {
        const batch = watched.slice(offset, offset + batchSize);
        let results;
        try {
          calls += 1;
          results = await deps.carrier.track(batch.map((w) => ({ number: w.number, phone: w.phone })));
        } catch (error) {
          failedCalls += 1;
          deps.logger.warn('a tracking batch failed; the others go on', {
            from: offset,
            size: batch.length,
            error: error instanceof Error ? error.message : String(error),
          });
          continue;
        }
        for (const result of results) {
          const watchedOne = byNumber.get(result.number);
          if (!watchedOne) continue;
          const learnsReturn = Boolean(result.returnNumber) && !watchedOne.returnKnown;
          if (result.statusCode === watchedOne.last && !learnsReturn) continue;
          const event: TrackedEvent = { type: 'TRACKED', ...result };
          try {
            await shipments.send(watchedOne.id, event, {
              idempotencyKey: `np-track:${watchedOne.id}:${result.number}:${result.statusCode}:${event.returnNumber ?? ''}`,
              origin: { kind: 'event', actorName: 'novaposhta-tracking' },
            });
            changed += 1;
          } catch (error) {
            if (!(error instanceof AppError && error.code === 'event_not_accepted')) throw error;
          }
        }
        progress({ done: Math.min(offset + batchSize, watched.length), total: watched.length, calls });
      }
      return { shipments: watched.length, calls, failedCalls, changed };
    },
  };
}
