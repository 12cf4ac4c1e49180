import type { Alerts } from './alerts.ts';
import type { JobDefinition } from '../jobs/registry.ts';

/** Retries alert deliveries a channel failed (SMTP or the webhook was down). */
export function alertDeliveryJob(alerts: Alerts): JobDefinition {
  return {
    name: 'alert-delivery',
    description: 'sends again the alerts a channel failed to deliver',
    every: '1 minute',
    run: () => alerts.deliverPending(),
  };
}
