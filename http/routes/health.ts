import Router from '@koa/router';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';

const documented = contracts('Health', {
  live: { summary: 'Liveness: the process answers', auth: 'none' },
  ready: {
    summary: 'Readiness: database reachable, scheduler running, start-up rehydration done, not draining',
    auth: 'none',
    responses: { 200: 'ready', 503: 'not ready, with the failing check' },
  },
});

export interface ReadinessProbe {
  database(): Promise<boolean>;
  scheduler(): boolean;
  worker(): { started: boolean; cycles: number };
  draining(): boolean;
}

/** Liveness: the process answers. Readiness: database reachable, scheduler running, rehydration done, not shutting down. */
export function healthRoutes(probe: ReadinessProbe): Router<HubState> {
  const router = new Router<HubState>();
  router.get('/health/live', documented.live, (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/health/ready', documented.ready, async (ctx) => {
    const [database] = await Promise.all([probe.database()]);
    const worker = probe.worker();
    const checks = {
      database: database ? 'up' : 'down',
      scheduler: probe.scheduler() ? 'up' : 'down',
      worker: worker.started ? 'up' : 'starting',
      shutdown: probe.draining() ? 'draining' : 'no',
    };
    const ready = database && probe.scheduler() && worker.started && !probe.draining();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks, worker: { cycles: worker.cycles } };
  });
  return router;
}
