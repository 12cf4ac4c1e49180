import { AppError } from '../../../common/errors.ts';
import paymentModule from '../../../machines/payment.ts';
import type { ActorQueries } from '../../runtime/queries.ts';
import type { ActorRuntime } from '../../runtime/runtime.ts';
import type { JobDefinition } from '../../platform/jobs/registry.ts';

/**
 * The fallback for lost webhooks (and Monobank never sends `expired`): asks
 * the provider about every payment still waiting for its customer that has
 * heard nothing for a while. Each payment does the asking itself (POLL →
 * its `checkAtProvider` effect), so a poll is one more status update,
 * applied once and in order like a webhook. Refunds the provider is still
 * processing are followed the same way (POLL → `checkRefundAtProvider`), and
 * so are payments whose time ran out while the provider was still processing
 * (`lapsed`: a success found then is a late success). A
 * manual run polls them all.
 */
export function paymentStatusPollJob(deps: {
  queries: ActorQueries;
  runtime: ActorRuntime;
  quietForMs?: number;
  now?: () => number;
}): JobDefinition {
  const now = deps.now ?? Date.now;
  const payments = deps.runtime.of(paymentModule);
  return {
    name: 'payment-status-poll',
    description: 'asks Monobank and LiqPay about payments and refunds that have heard nothing for a while (lost webhooks, expiry)',
    every: '2 minutes',
    async run({ trigger }) {
      const cutoff = now() - (trigger === 'manual' ? 0 : (deps.quietForMs ?? 2 * 60_000));
      const waiting = await deps.queries.summaries(
        {
          type: paymentModule.type,
          states: ['pending.waiting', 'refundPending.waiting', 'lapsed.waiting'],
          updatedBefore: new Date(cutoff + 1),
        },
        { order: 'oldestUpdated', limit: 1_000 },
      );
      let polled = 0;
      let skipped = 0;
      for (const payment of waiting) {
        try {
          await payments.send(payment.id, { type: 'POLL' }, { origin: { kind: 'event', actorName: 'payment-status-poll' } });
          polled += 1;
        } catch (error) {
          // it moved on since the query (a webhook came): nothing to ask
          if (error instanceof AppError && error.code === 'event_not_accepted') skipped += 1;
          else throw error;
        }
      }
      return { waiting: waiting.length, polled, skipped };
    },
  };
}
