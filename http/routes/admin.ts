import Router from '@koa/router';
import { z } from 'zod';
import { errors } from '../../common/errors.ts';
import type { JobRegistry } from '../../actors/platform/jobs/registry.ts';
import type { DurableWorker } from '../../actors/runtime/worker.ts';
import type { AuditLog } from '../../actors/platform/audit/audit-log.ts';
import { ROLES, type ApiKeys } from '../auth.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { parseBody } from '../validation.ts';

const newKeyBody = z.object({ name: z.string().min(1).max(100), role: z.enum(ROLES as [string, ...string[]]) }).strict();

const documented = contracts('Operations', {
  jobs: { summary: 'Every scheduled job: schedule, next and last run', auth: ['operator', 'viewer'] },
  runJob: {
    summary: 'Run a job now and answer its result',
    description: 'Asked while the job runs, it waits for that run and runs once more.',
    auth: ['operator'],
    responses: { 200: 'the run: `{name, result, durationMs, output}`', 500: 'the job failed (`job_failed`)' },
  },
  runtime: { summary: 'The worker: polls, effects running, timers armed', auth: ['operator', 'viewer'] },
  keys: { summary: 'The API keys (never the keys themselves)', auth: ['admin'] },
  newKey: {
    summary: 'Create an API key (the only time it is shown)',
    auth: ['admin'],
    body: newKeyBody,
    responses: { 201: 'the key and its record' },
  },
  revokeKey: { summary: 'Revoke an API key', auth: ['admin'], responses: { 204: { description: 'revoked', empty: true } } },
});

export function adminRoutes(deps: { jobs: JobRegistry; apiKeys: ApiKeys; worker: DurableWorker; audit: AuditLog }): Router<HubState> {
  const auditChange = (by: string, operation: string, details: Record<string, unknown>) =>
    deps.audit.recordChange({ operation, principal: by, details });

  const router = new Router<HubState>({ prefix: '/admin' });

  router.get('/jobs', documented.jobs, async (ctx) => {
    ctx.body = { jobs: await deps.jobs.list() };
  });

  router.post('/jobs/:name/run', documented.runJob, async (ctx) => {
    const name = ctx.params.name ?? '';
    ctx.state.logger.info('job run requested', { job: name, by: ctx.state.principal?.name });
    const result = await deps.jobs.run(name, 'manual');
    await auditChange(ctx.state.principal?.name ?? 'unknown', 'job.run', { job: name, result: result.result });
    ctx.status = result.result === 'ok' ? 200 : 500;
    ctx.body = result.result === 'ok' ? result : { error: { code: 'job_failed', message: result.error ?? 'job failed', details: result } };
  });

  router.get('/runtime', documented.runtime, (ctx) => {
    ctx.body = { worker: deps.worker.snapshot() };
  });

  router.get('/api-keys', documented.keys, async (ctx) => {
    ctx.body = { keys: await deps.apiKeys.list() };
  });

  router.post('/api-keys', documented.newKey, async (ctx) => {
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

  router.delete('/api-keys/:id', documented.revokeKey, async (ctx) => {
    const revoked = await deps.apiKeys.revoke(ctx.params.id ?? '');
    if (!revoked) throw errors.notFound(`API key ${ctx.params.id}`);
    await auditChange(ctx.state.principal?.name ?? 'unknown', 'api-key.revoke', { id: ctx.params.id });
    ctx.status = 204;
  });

  return router;
}
