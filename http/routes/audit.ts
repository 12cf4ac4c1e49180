import Router from '@koa/router';
import { z } from 'zod';
import type { AuditLog } from '../../actors/platform/audit/audit-log.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { parseQuery } from '../validation.ts';
import { readsPersonalData } from '../personal-data.ts';

const HIDDEN = '(hidden: may hold personal data)';

const isoDate = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO date-time')
  .transform((value) => new Date(value));

const querySchema = z
  .object({
    kind: z.enum(['outbound', 'inbound', 'admin', 'business']).optional(),
    integration: z.string().max(40).optional(),
    operation: z.string().max(100).optional(),
    actor: z.string().max(300).optional(),
    outcome: z.string().max(40).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    cursor: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

const documented = contracts('Audit, alerts, metrics', {
  list: {
    summary: 'The audit log: external calls, inbound webhooks, admin changes; newest first, cursor-paged',
    auth: ['operator', 'viewer'],
    query: querySchema,
  },
});

/** `GET /admin/audit`: every external interaction and admin change, newest first, cursor-paged. */
export function auditRoutes(deps: { audit: AuditLog }): Router<HubState> {
  const router = new Router<HubState>({ prefix: '/admin/audit' });
  router.get('/', documented.list, async (ctx) => {
    const filter = parseQuery(querySchema, ctx.query);
    await deps.audit.flush();
    const page = await deps.audit.list(filter);
    // what a partner call sent and got back may name a customer (a waybill's recipient, a mail's address)
    ctx.body = readsPersonalData(ctx.state)
      ? page
      : {
          ...page,
          entries: page.entries.map((entry) => ({ ...entry, request: entry.request && HIDDEN, response: entry.response && HIDDEN })),
        };
  });
  return router;
}
