import Router from '@koa/router';
import { windowStats, syncSuccessRate } from '../../actors/platform/monitoring/connector-health.ts';
import { integrationUpdateSchema, type Connectors } from '../../actors/platform/connectors/kit/connectors.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { parseBody } from '../validation.ts';

const documented = contracts('Integrations', {
  list: { summary: 'Every integration: mode, base URL, which credentials are set, settings', auth: ['admin'] },
  health: { summary: "Each integration's circuit, failures, availability; each sync job's success rate", auth: ['operator', 'viewer'] },
  get: { summary: 'One integration', auth: ['admin'] },
  update: {
    summary: "Change an integration (merged; `null` removes a field); checked by its connector's schemas, audited",
    auth: ['admin'],
    body: integrationUpdateSchema,
  },
  test: { summary: "Call the service's cheapest authenticated endpoint now", auth: ['admin'] },
});

/**
 * `/admin/integrations`: the registry (credentials shown only as set/unset),
 * changes validated by each connector's schemas, a live test call, and
 * health. Configuration is the admin's; health is readable by operators too.
 */
export function integrationRoutes(deps: { connectors: Connectors; now?: () => number }): Router<HubState> {
  const router = new Router<HubState>({ prefix: '/admin/integrations' });
  const now = deps.now ?? Date.now;

  router.get('/', documented.list, (ctx) => {
    ctx.body = { integrations: deps.connectors.list() };
  });

  // Before '/:name' so that "health" is not taken for an integration name.
  router.get('/health', documented.health, (ctx) => {
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

  router.get('/:name', documented.get, (ctx) => {
    ctx.body = deps.connectors.view(ctx.params.name ?? '');
  });

  router.put('/:name', documented.update, async (ctx) => {
    const update = parseBody(integrationUpdateSchema, ctx.state.body ?? {});
    ctx.body = await deps.connectors.update(ctx.params.name ?? '', update, ctx.state.principal?.name ?? 'unknown');
  });

  router.post('/:name/test', documented.test, async (ctx) => {
    ctx.body = await deps.connectors.test(ctx.params.name ?? '', ctx.state.principal?.name ?? 'unknown');
  });

  return router;
}
