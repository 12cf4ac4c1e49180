import type { Inbox } from './inbox.ts';
import type { JobDefinition } from '../jobs/registry.ts';

/** Dispatches webhook deliveries that were stored but not dispatched (a crash or a database hiccup in between). */
export function inboxRedispatchJob(inbox: Inbox): JobDefinition {
  return {
    name: 'inbox-redispatch',
    description: 'dispatches stored webhook deliveries whose dispatch did not finish',
    every: '1 minute',
    run: () => inbox.redispatchPending(30_000),
  };
}
