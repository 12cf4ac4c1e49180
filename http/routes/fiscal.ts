import { createHash } from 'node:crypto';
import Router from '@koa/router';
import { z } from 'zod';
import { errors } from '../../common/errors.ts';
import type { FiscalPolicy } from '../../common/fiscal-policy.ts';
import type { Devices } from '../../actors/platform/devices/devices.ts';
import { deviceConfigSchema } from '../../actors/platform/devices/device-config.ts';
import type { FiscalReports } from '../../actors/domains/fiscal/reports.ts';
import type { ActorQueries } from '../../actors/runtime/queries.ts';
import type { ActorRuntime, ActorView } from '../../actors/runtime/runtime.ts';
import receiptModule, { receiptLineSchema, type ReceiptContext } from '../../machines/receipt.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { queryText } from '../middleware/query-text.ts';
import { parseBody, parseQuery } from '../validation.ts';
import { idempotencyKeyOf } from './actors.ts';
import { requestHash } from '../../common/canonical-json.ts';

/**
 * `/fiscal/receipts`: receipts on the fiscal registers, each a durable actor
 * printed once (machines/receipt.ts); `/admin/devices`: the registers and
 * printers themselves, with their live health.
 */

const minor = z.number().int().nonnegative();
const receiptRequest = z
  .object({
    register: z.string().min(1).max(64).default('main'),
    kind: z.enum(['sale', 'return']).default('sale'),
    items: z
      .array(
        receiptLineSchema.extend({
          taxGroup: receiptLineSchema.shape.taxGroup.default(1),
          department: receiptLineSchema.shape.department.default(1),
        }),
      )
      .min(1)
      .max(200),
    payments: z.object({ cash: minor.default(0), card: minor.default(0) }).strict(),
    cashier: z.string().trim().min(1).max(64),
    source: z
      .object({ type: z.enum(['order', 'pos-sale', 'manual']), id: z.string().min(1).max(128) })
      .nullable()
      .default(null),
    returnOf: z.string().min(1).max(128).nullable().default(null),
  })
  .strict();

const listQuery = z.object({
  state: queryText(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const documented = contracts('Devices and fiscal receipts', {
  createReceipt: {
    summary: 'Print a fiscal receipt (once, whatever crashes)',
    auth: ['operator'],
    body: receiptRequest,
    idempotencyKey: 'required',
    responses: { 202: 'the receipt (`Location`: its address)' },
  },
  receipts: { summary: 'Receipts, newest first', auth: ['operator', 'viewer'], query: listQuery },
  receipt: { summary: 'A receipt', auth: ['operator', 'viewer'] },
  xReport: {
    summary: 'Take an X-report on a register',
    auth: ['operator'],
    responses: { 200: 'the report', 409: 'the register is held or refuses' },
  },
  zReport: {
    summary: 'Take a Z-report (close the shift)',
    auth: ['operator'],
    responses: { 200: 'the report', 409: 'the register is held or refuses' },
  },
  devices: { summary: 'Every device with its live health', auth: ['operator', 'viewer'] },
  device: { summary: 'A device with its live health', auth: ['operator', 'viewer'] },
  putDevice: {
    summary: 'Create or change a device (passwords sealed, shown as "set"); audited',
    description: 'The body is checked by the schema of its `kind`.',
    auth: ['admin'],
    body: deviceConfigSchema,
    responses: { 200: 'changed', 201: 'created' },
  },
  deleteDevice: { summary: 'Remove a device; audited', auth: ['admin'], responses: { 204: { description: 'removed', empty: true } } },
  testDevice: { summary: 'A status request (register) or a test page (printer); audited', auth: ['admin'] },
});

/** A receipt as the API shows it. */
export function receiptView(actor: ActorView<ReceiptContext>) {
  const c = actor.context;
  return {
    id: actor.id,
    state: actor.state,
    register: c.register,
    kind: c.kind,
    total: c.total,
    payments: c.payments,
    cashier: c.cashier,
    source: c.source,
    returnOf: c.returnOf,
    documentNumber: c.documentNumber,
    shiftNumber: c.shiftNumber,
    change: c.change,
    recovered: c.recovered,
    printedAt: c.printedAt,
    fault: c.fault && { code: c.fault.code, message: c.fault.message },
    shiftEvents: c.shiftEvents,
    voidedBy: c.voidedBy,
    accepts: actor.accepts,
    revision: actor.revision,
    createdAt: actor.createdAt,
    updatedAt: actor.updatedAt,
  };
}

export function fiscalRoutes(deps: {
  runtime: ActorRuntime;
  queries: ActorQueries;
  devices: Devices;
  reports: FiscalReports;
  policy: () => FiscalPolicy;
}): Router<HubState> {
  const router = new Router<HubState>();
  const receipts = deps.runtime.of(receiptModule);

  router.post('/fiscal/receipts', documented.createReceipt, async (ctx) => {
    const idempotencyKey = idempotencyKeyOf(ctx.get('Idempotency-Key'));
    if (!idempotencyKey)
      throw errors.badRequest('a receipt needs an Idempotency-Key header', [{ path: 'header:Idempotency-Key', message: 'required' }]);
    const request = parseBody(receiptRequest, ctx.state.body ?? {});
    const register = deps.devices.view(request.register);
    if (register.kind !== 'fiscal-register') throw errors.badRequest(`"${request.register}" is a ${register.kind}, not a fiscal register`);
    if (request.returnOf) {
      const original = await receipts.get(request.returnOf).catch(() => null);
      if (!original)
        throw errors.badRequest(`no receipt "${request.returnOf}" to return`, [{ path: 'returnOf', message: 'unknown receipt' }]);
      if (original.state !== 'printed')
        throw errors.badRequest(`receipt "${request.returnOf}" was not printed (it is ${original.state})`, [
          { path: 'returnOf', message: 'not printed' },
        ]);
    }
    const receiptId = `R-${createHash('sha256').update(`receipt\n${idempotencyKey}`).digest('hex').slice(0, 20)}`;
    const policy = deps.policy();
    const result = await receipts.create(
      receiptId,
      { receiptId, ...request, ...policy },
      {
        idempotencyKey,
        requestHash: requestHash('create', 'receipt', request),
        origin: { kind: 'create', requestId: ctx.state.requestId, actorName: ctx.state.principal?.name },
      },
    );
    ctx.status = 202;
    ctx.set('Idempotent-Replayed', String(result.replayed));
    ctx.set('Location', `/fiscal/receipts/${receiptId}`);
    ctx.body = receiptView(result.actor);
  });

  router.get('/fiscal/receipts', documented.receipts, async (ctx) => {
    const query = parseQuery(listQuery, ctx.query);
    const found = await deps.queries.views(receiptModule, query.state ? { states: [query.state] } : {}, {
      order: 'newestCreated',
      limit: query.limit,
    });
    ctx.body = { receipts: found.map(receiptView) };
  });

  router.get('/fiscal/receipts/:id', documented.receipt, async (ctx) => {
    ctx.body = receiptView(await receipts.get(ctx.params.id ?? ''));
  });

  router.post('/fiscal/registers/:name/x-report', documented.xReport, async (ctx) => {
    ctx.body = await deps.reports.take(ctx.params.name ?? '', 'x', ctx.state.principal?.name ?? 'unknown');
  });

  router.post('/fiscal/registers/:name/z-report', documented.zReport, async (ctx) => {
    ctx.body = await deps.reports.take(ctx.params.name ?? '', 'z', ctx.state.principal?.name ?? 'unknown');
  });

  router.get('/admin/devices', documented.devices, (ctx) => {
    ctx.body = { devices: deps.devices.list() };
  });

  router.get('/admin/devices/:name', documented.device, (ctx) => {
    ctx.body = deps.devices.view(ctx.params.name ?? '');
  });

  router.put('/admin/devices/:name', documented.putDevice, async (ctx) => {
    const { device, created } = await deps.devices.put(ctx.params.name ?? '', ctx.state.body ?? {}, ctx.state.principal?.name ?? 'unknown');
    ctx.status = created ? 201 : 200;
    ctx.body = device;
  });

  router.delete('/admin/devices/:name', documented.deleteDevice, async (ctx) => {
    await deps.devices.remove(ctx.params.name ?? '', ctx.state.principal?.name ?? 'unknown');
    ctx.status = 204;
  });

  router.post('/admin/devices/:name/test', documented.testDevice, async (ctx) => {
    ctx.body = await deps.devices.test(ctx.params.name ?? '', ctx.state.principal?.name ?? 'unknown');
  });

  return router;
}
