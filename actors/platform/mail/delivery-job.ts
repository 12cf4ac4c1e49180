import type { Mailer } from './mailer.ts';
import type { JobDefinition } from '../jobs/registry.ts';

/** Sends again the mail the SMTP server did not take (customer notices, reports). */
export function mailDeliveryJob(mailer: Mailer): JobDefinition {
  return {
    name: 'mail-delivery',
    description: 'sends again the mail the SMTP server did not take',
    every: '1 minute',
    run: () => mailer.deliverPending(),
  };
}
