import Router from '@koa/router';
import { z } from 'zod';
import { errors } from '../../common/errors.ts';
import type { JobRegistry } from '../../actors/platform/jobs/registry.ts';
import type { DurableWorker } from '../../actors/runtime/worker.ts';
import type { AuditLog } from '../../actors/platform/audit/audit-log.ts';
import { ROLES, type ApiKeys } from '../auth.ts';
import type { HubState } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import { parseBody } from '../validation.ts';

const newKeyBody = z.object({ name: z.string().min(1).max(100), role: z.enum(ROLES as [string, ...string[]]) }).strict();

export function adminRoutes(deps: { jobs: JobRegistry; apiKeys: ApiKeys; worker: DurableWorker; audit: AuditLog }): Router<HubState> {
  const auditChange = (by: string, operation: string, details: Record<string, unknown>) =>
    deps.audit.recordChange({ operation, principal: by, details });

  const router = new Router<HubState>({ prefix: '/admin' });

  router.get('/jobs', requireRole('operator', 'viewer'), async (ctx) => {
    ctx.body = { jobs: await deps.jobs.list() };
  });

  router.post('/jobs/:name/run', requireRole('operator'), async (ctx) => {
    const name = ctx.params.name ?? '';
    ctx.state.logger.info('job run requested', { job: name, by: ctx.state.principal?.name });
    const result = await deps.jobs.run(name, 'manual');
    await auditChange(ctx.state.principal?.name ?? 'unknown', 'job.run', { job: name, result: result.result });
    ctx.status = result.result === 'ok' ? 200 : 500;
    ctx.body = result.result === 'ok' ? result : { error: { code: 'job_failed', message: result.error ?? 'job failed', details: result } };
  });

  router.get('/runtime', requireRole('operator', 'viewer'), (ctx) => {
    ctx.body = { worker: deps.worker.snapshot() };
  });

  router.get('/api-keys', requireRole('admin'), async (ctx) => {
    ctx.body = { keys: await deps.apiKeys.list() };
  });

  router.post('/api-keys', requireRole('admin'), async (ctx) => {
    const body = parseBody(newKeyBody, ctx.state.body);
    const created = await deps.apiKeys.create(body.name, body.role as (typeof ROLES)[number], ctx.state.principal?.name ?? 'unknown');
    await auditChange(ctx.state.principal?.name ?? 'unknown', 'api-key.create', {
      name: body.name,
      role: body.role,
      id: created.record.id,
    });
    ctx.status = 201;
    // The only time the key is shown.
    ctx.body = { key: created.key, ...created.record, createdAt: created.record.createdAt.toISOString() };
  });

  router.delete('/api-keys/:id', requireRole('admin'), async (ctx) => {
    const revoked = await deps.apiKeys.revoke(ctx.params.id ?? '');
    if (!revoked) throw errors.notFound(`API key ${ctx.params.id}`);
    await auditChange(ctx.state.principal?.name ?? 'unknown', 'api-key.revoke', { id: ctx.params.id });
    ctx.status = 204;
  });

  return router;
}
