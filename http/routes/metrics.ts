import Router from '@koa/router';
import type { HubMetrics } from '../../actors/platform/monitoring/metrics.ts';
import type { HubState } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';

/** `GET /metrics`: Prometheus text format; needs an API key (any role), as Prometheus' `authorization` setting sends. */
export function metricsRoutes(deps: { metrics: HubMetrics }): Router<HubState> {
  const router = new Router<HubState>();
  router.get('/metrics', requireRole('operator', 'viewer'), async (ctx) => {
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.text();
  });
  return router;
}
