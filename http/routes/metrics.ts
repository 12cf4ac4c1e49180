import Router from '@koa/router';
import type { HubMetrics } from '../../actors/platform/monitoring/metrics.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';

const documented = contracts('Audit, alerts, metrics', {
  metrics: {
    summary: 'Prometheus metrics (text format)',
    auth: ['operator', 'viewer'],
    responses: { 200: { description: 'Prometheus text', mediaType: 'text/plain' } },
  },
});

/** `GET /metrics`: Prometheus text format; needs an API key (any role), as Prometheus' `authorization` setting sends. */
export function metricsRoutes(deps: { metrics: HubMetrics }): Router<HubState> {
  const router = new Router<HubState>();
  router.get('/metrics', documented.metrics, async (ctx) => {
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.text();
  });
  return router;
}
