import Router from '@koa/router';
import { windowStats, syncSuccessRate } from '../../actors/platform/monitoring/connector-health.ts';
import { integrationUpdateSchema, type Connectors } from '../../actors/platform/connectors/kit/connectors.ts';
import type { HubState } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import { parseBody } from '../validation.ts';

/**
 * `/admin/integrations`: the registry (credentials shown only as set/unset),
 * changes validated by each connector's schemas, a live test call, and
 * health. Configuration is the admin's; health is readable by operators too.
 */
export function integrationRoutes(deps: { connectors: Connectors; now?: () => number }): Router<HubState> {
  const router = new Router<HubState>({ prefix: '/admin/integrations' });
  const now = deps.now ?? Date.now;

  router.get('/', requireRole('admin'), (ctx) => {
    ctx.body = { integrations: deps.connectors.list() };
  });

  // Before '/:name' so that "health" is not taken for an integration name.
  router.get('/health', requireRole('operator', 'viewer'), (ctx) => {
    const { integrations, syncs } = deps.connectors.healthStore().getSnapshot().context;
    ctx.body = {
      integrations: deps.connectors.list().map((view) => {
        // own properties only: a name such as `constructor` must not find Object.prototype's
        const health = Object.hasOwn(integrations, view.name) ? integrations[view.name] : undefined;
        return {
          name: view.name,
          title: view.title,
          enabled: view.enabled,
          mode: view.mode,
          circuit: health?.circuit ?? 'closed',
          consecutiveFailures: health?.consecutiveFailures ?? 0,
          lastSuccessAt: health?.lastSuccessAt ?? null,
          lastErrorAt: health?.lastErrorAt ?? null,
          lastError: health?.lastError ?? null,
          calls: health?.calls ?? 0,
          errorsByCode: health?.errorsByCode ?? {},
          window: health ? windowStats(health, now()) : null,
        };
      }),
      syncs: Object.entries(syncs).map(([job, sync]) => ({
        job,
        integration: sync.integration,
        runs: sync.runs,
        succeeded: sync.succeeded,
        successRate: syncSuccessRate(sync),
        lastRunAt: sync.lastRunAt,
        lastResult: sync.lastResult,
      })),
    };
  });

  router.get('/:name', requireRole('admin'), (ctx) => {
    ctx.body = deps.connectors.view(ctx.params.name ?? '');
  });

  router.put('/:name', requireRole('admin'), async (ctx) => {
    const update = parseBody(integrationUpdateSchema, ctx.state.body ?? {});
    ctx.body = await deps.connectors.update(ctx.params.name ?? '', update, ctx.state.principal?.name ?? 'unknown');
  });

  router.post('/:name/test', requireRole('admin'), async (ctx) => {
    ctx.body = await deps.connectors.test(ctx.params.name ?? '', ctx.state.principal?.name ?? 'unknown');
  });

  return router;
}
