import { createRequire } from 'node:module';
import Router from '@koa/router';
import type { DomainEvents } from '../../actors/platform/events/domain-events.ts';
import type { AnyMachineModule } from '../../machines/machine-module.ts';
import { buildAsyncApiDocument } from '../asyncapi/document.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const documented = contracts('Domain events', {
  state: {
    summary: "Domain events: the JetStream stream, the outbox's lag, the consumers, this process's publisher",
    auth: ['operator', 'viewer'],
  },
  asyncapi: { summary: 'The AsyncAPI 3.0 document of the NATS subjects: domain events out, commands in', auth: 'none' },
});

/** `GET /admin/events`: whether events flow, and how far behind they are. */
export function eventAdminRoutes(deps: { domainEvents: DomainEvents | null }): Router<HubState> {
  const router = new Router<HubState>();
  router.get('/admin/events', documented.state, async (ctx) => {
    const events = deps.domainEvents;
    if (!events) {
      ctx.body = { enabled: false, connected: false, stream: null, outbox: null, publisher: null, commands: null };
      return;
    }
    const [stream, outbox] = await Promise.all([events.publisher.streamInfo().catch(() => null), events.publisher.lag()]);
    ctx.body = {
      enabled: true,
      connected: events.connected,
      stream,
      outbox,
      publisher: events.publisher.statsNow(),
      commands: events.commands ? { handled: events.commands.handled } : null,
    };
  });
  return router;
}

/** `GET /asyncapi.json`, built once from the machine modules. No API key: it describes, it opens nothing. */
export function asyncApiRoutes(modules: readonly AnyMachineModule[]): Router<HubState> {
  const router = new Router<HubState>();
  const text = JSON.stringify(buildAsyncApiDocument(modules, { version }));
  router.get('/asyncapi.json', documented.asyncapi, (ctx) => {
    ctx.type = 'application/json; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = text;
  });
  return router;
}
