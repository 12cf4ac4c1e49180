import type { Logger } from 'winston';
import type { Principal } from './auth.ts';

/** What middleware puts on `ctx.state` for the handlers after it. */
export interface HubState {
  requestId: string;
  logger: Logger;
  principal?: Principal;
  body?: unknown;
}
