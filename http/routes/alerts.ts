import Router from '@koa/router';
import { z } from 'zod';
import { errors } from '../../common/errors.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { parseQuery } from '../validation.ts';

/** What the routes need of the alerts module. */
export interface AlertsApi {
  list(filter: {
    status?: 'open' | 'acknowledged' | 'resolved';
    kind?: string;
    integration?: string;
    cursor?: string;
    limit?: number;
  }): Promise<{ alerts: unknown[]; nextCursor: string | null }>;
  get(id: string): Promise<unknown>;
  acknowledge(id: string, by: string): Promise<unknown>;
  resolve(id: string, by: string): Promise<unknown>;
}

const querySchema = z
  .object({
    status: z.enum(['open', 'acknowledged', 'resolved']).optional(),
    kind: z.string().max(60).optional(),
    integration: z.string().max(40).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  })
  .strict();

const documented = contracts('Audit, alerts, metrics', {
  list: { summary: 'Alerts (critical errors, repeats grouped), newest first', auth: ['operator', 'viewer'], query: querySchema },
  get: { summary: 'One alert', auth: ['operator', 'viewer'] },
  acknowledge: { summary: 'Acknowledge an alert', auth: ['operator'] },
  resolve: { summary: 'Resolve an alert', auth: ['operator'] },
});

/** `GET /admin/alerts` (grouped critical errors), acknowledge and resolve. */
export function alertRoutes(deps: { alerts: AlertsApi }): Router<HubState> {
  const router = new Router<HubState>({ prefix: '/admin/alerts' });

  router.get('/', documented.list, async (ctx) => {
    ctx.body = await deps.alerts.list(parseQuery(querySchema, ctx.query));
  });

  router.get('/:id', documented.get, async (ctx) => {
    const alert = await deps.alerts.get(ctx.params.id ?? '');
    if (!alert) throw errors.notFound(`alert ${ctx.params.id}`);
    ctx.body = alert;
  });

  for (const action of ['acknowledge', 'resolve'] as const) {
    router.post(`/:id/${action}`, documented[action], async (ctx) => {
      const alert = await deps.alerts[action](ctx.params.id ?? '', ctx.state.principal?.name ?? 'unknown');
      if (!alert) throw errors.notFound(`alert ${ctx.params.id}`);
      ctx.body = alert;
    });
  }

  return router;
}
