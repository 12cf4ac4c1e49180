import Router from '@koa/router';
import { Binary, type Collection } from 'mongodb';
import { z } from 'zod';
import { errors, refusalReasonOf } from '../../common/errors.ts';
import type { ActorQueries } from '../../actors/runtime/queries.ts';
import type { ActorRuntime, ActorView } from '../../actors/runtime/runtime.ts';
import { actorKey, type ActorStore } from '../../actors/runtime/store.ts';
import type { Connectors } from '../../actors/platform/connectors/kit/connectors.ts';
import { goodfinConnector } from '../../actors/platform/connectors/goodfin/connector.ts';
import { envelopeSchema, generateDealsRequestSchema, goodfinTime } from '../../actors/platform/connectors/goodfin/protocol.ts';
import type { GoodfinDeclarer } from '../../actors/domains/goodfin/declarations.ts';
import { APPLICATION_TYPE } from '../../actors/domains/goodfin/inbound.ts';
import { policyOf, statusModel } from '../../actors/domains/goodfin/model.ts';
import type { GoodfinOutbox } from '../../actors/domains/goodfin/outbox.ts';
import applicationModule, { APPLICATION_REFUSALS, type ApplicationContext } from '../../machines/goodfin-application.ts';
import type { InboxDoc } from '../../persistence/collections.ts';
import { inboxBodyOf } from '../../actors/platform/inbound/inbox.ts';
import { documentKey, type GoodfinCollections } from '../../persistence/goodfin.ts';
import type { HubState } from '../context.ts';
import { contracts } from '../openapi/contract.ts';
import { parseBody, parseQuery } from '../validation.ts';
import { personalViewFor, readsPersonalData } from '../personal-data.ts';
import { idempotencyKeyOf } from './actors.ts';
import { requestHash } from '../../common/canonical-json.ts';

export interface ApplicationRouteDeps {
  runtime: ActorRuntime;
  store: ActorStore;
  queries: ActorQueries;
  inbox: Collection<InboxDoc>;
  goodfin: GoodfinCollections;
  outbox: GoodfinOutbox;
  connectors: Connectors;
  declarer: GoodfinDeclarer;
  now?: () => number;
}

const listQuery = z.object({
  state: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.iso.datetime({ offset: true }).optional(),
});

/** What bank staff may do to an application (a withdrawal request comes only from Goodfin). */
const staffEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('SET_STATUS'), code: z.string().min(1).max(64), comment: z.string().max(1000).optional() }),
  z.object({ type: z.literal('OFFER_ACCEPTED'), comment: z.string().max(1000).optional() }),
  z.object({ type: z.literal('OFFER_PAID'), comment: z.string().max(1000).optional() }),
  z.object({ type: z.literal('ISSUE'), comment: z.string().max(1000).optional() }),
  z.object({ type: z.literal('REJECT'), comment: z.string().min(1, 'say why the bank rejects it').max(1000) }),
  z.object({ type: z.literal('ACCEPT_WITHDRAWAL') }),
  z.object({ type: z.literal('REFUSE_WITHDRAWAL'), comment: z.string().max(1000).optional() }),
  z.object({ type: z.literal('RETRY') }),
  // back to the automatic checks from rework, as the application is, under the current settings
  z.object({ type: z.literal('RESUBMIT_FOR_CHECKS'), comment: z.string().min(1, 'say why it goes back to the checks').max(1000) }),
]);

const documented = contracts('Goodfin applications', {
  list: { summary: 'Applications, newest first', auth: ['operator', 'viewer'], query: listQuery },
  get: { summary: 'An application: statuses, history, documents, messages', auth: ['operator', 'viewer'] },
  document: {
    // a client's file is personal data whole: viewers, who see it masked elsewhere, may not fetch it
    summary: 'A downloaded document of an application',
    auth: ['operator'],
    responses: { 200: { description: 'the file', mediaType: 'application/octet-stream' } },
  },
  event: { summary: 'What bank staff do to an application', auth: ['operator'], body: staffEvent, idempotencyKey: 'optional' },
  generateDeals: {
    summary: "Ask Goodfin's sandbox to push applications (sandbox mode only)",
    auth: ['admin', 'operator'],
    body: generateDealsRequestSchema,
    bodyOptional: true,
    responses: { 202: 'the deals generated', 409: 'Goodfin does not run in sandbox mode' },
  },
  declarations: { summary: 'What was declared to Goodfin, when, and the last error', auth: ['admin', 'operator', 'viewer'] },
});

/** A stored binary as Buffer (the driver reads it back as a BSON Binary). */
function bytesOf(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Binary) return Buffer.from(value.read(0, value.length()));
  throw new Error('a stored document is not binary');
}

/** `/applications`: Goodfin applications as bank staff see and drive them. */
export function applicationRoutes(deps: ApplicationRouteDeps): Router<HubState> {
  const router = new Router<HubState>();
  const applications = deps.runtime.of(applicationModule);
  const now = deps.now ?? Date.now;

  const labels = (): Map<string, string> => {
    try {
      return new Map(statusModel(deps.connectors.configOf(goodfinConnector).settings).statuses.map((s) => [s.code, s.name]));
    } catch {
      return new Map();
    }
  };
  const status = (code: string | null, names: Map<string, string>) => (code ? { code, label: names.get(code) ?? code } : null);

  const summary = (id: string, state: string, c: ApplicationContext, names: Map<string, string>, createdAt: string, updatedAt: string) => ({
    id,
    state,
    status: status(c.status, names),
    number: c.number,
    productType: c.productType,
    amount: c.amount,
    currency: c.currency,
    client: c.client,
    withdrawal: c.withdrawal,
    createdAt,
    updatedAt,
  });

  /** `personal`: the partner's messages are shown (they hold the client's data in clear) */
  const view = async (actor: ActorView<ApplicationContext>, personal: boolean) => {
    const c = actor.context;
    const names = labels();
    const [journal, documents, outbound, inbound] = await Promise.all([
      deps.store.readJournal(actorKey(APPLICATION_TYPE, actor.id), 0, 500),
      Promise.all(
        c.documents.map(async (d) => ({
          ...d,
          doc: await deps.goodfin.documents.findOne({ _id: documentKey(actor.id, d.documentId) }, { projection: { content: 0 } }),
        })),
      ),
      deps.outbox.messagesOf(actor.id),
      deps.inbox
        .find({ integration: 'goodfin', dispatchedTo: `${APPLICATION_TYPE}/${actor.id}` })
        .sort({ receivedAt: 1 })
        .limit(500)
        .toArray(),
    ]);
    return {
      ...summary(actor.id, actor.state, c, names, actor.createdAt, actor.updatedAt),
      revision: actor.revision,
      accepts: actor.accepts,
      details: c.details ?? {},
      checkErrors: c.checkErrors,
      resubmissions: c.resubmissions,
      lastError: c.lastError,
      statuses: c.statusHistory.map((entry, index) => ({ seq: index + 1, ...status(entry.code, names), comment: entry.comment })),
      history: journal.map((entry) => ({
        revision: entry.revision,
        at: entry.at.toISOString(),
        event: entry.eventType,
        from: entry.from,
        to: entry.to,
        by:
          'actorName' in entry.origin && entry.origin.actorName
            ? entry.origin.actorName
            : entry.origin.kind === 'webhook'
              ? 'goodfin'
              : entry.origin.kind,
      })),
      documents: documents.map(({ doc, ...d }) => ({
        ...d,
        downloaded: doc !== null,
        size: doc?.size ?? null,
        downloadedAt: doc?.downloadedAt.toISOString() ?? null,
        url: doc ? `/applications/${encodeURIComponent(actor.id)}/documents/${encodeURIComponent(d.documentId)}` : null,
      })),
      messages: {
        sent: outbound.map((m) => ({
          id: m._id,
          msgId: m.msgId,
          payloadType: m.payloadType,
          payload: m.payload,
          status: m.status,
          attempts: m.attempts,
          lastError: m.lastError,
          queuedAt: m.createdAt.toISOString(),
          sentAt: m.sentAt?.toISOString() ?? null,
          answer: m.answer
            ? {
                msgId: m.answer.msgId,
                success: m.answer.success,
                errorCode: m.answer.errorCode,
                errorMessage: m.answer.errorMessage,
                at: m.answer.at.toISOString(),
              }
            : null,
        })),
        received: inbound.map((doc) => {
          const envelope = envelopeSchema.safeParse(JSON.parse(inboxBodyOf(doc, deps.runtime.personalData.cipher).toString('utf8')));
          return {
            msgId: doc.deliveryId,
            payloadType: envelope.success ? envelope.data.payloadType : null,
            payload: envelope.success && personal ? envelope.data.payload : null,
            receivedAt: doc.receivedAt.toISOString(),
            status: doc.status,
            result: doc.result,
          };
        }),
      },
    };
  };

  router.get('/applications', documented.list, async (ctx) => {
    const query = parseQuery(listQuery, ctx.query);
    // `underReview` finds `active.underReview` too
    const states = query.state ? (query.state.includes('.') ? [query.state] : [query.state, `active.${query.state}`]) : null;
    const found = await deps.queries.views(
      applicationModule,
      { ...(states ? { states } : {}), ...(query.cursor ? { createdBefore: new Date(query.cursor) } : {}) },
      { order: 'newestCreated', limit: query.limit },
    );
    const names = labels();
    ctx.body = {
      applications: found
        .map((a) => personalViewFor(ctx.state, deps.runtime.registry, a))
        .map((a) => summary(a.id, a.state, a.context, names, a.createdAt, a.updatedAt)),
      nextCursor: found.length === query.limit ? (found.at(-1)?.createdAt ?? null) : null,
    };
  });

  router.get('/applications/:id', documented.get, async (ctx) => {
    const application = await applications.get(ctx.params.id ?? '');
    ctx.body = await view(personalViewFor(ctx.state, deps.runtime.registry, application), readsPersonalData(ctx.state));
  });

  router.get('/applications/:id/documents/:documentId', documented.document, async (ctx) => {
    const id = ctx.params.id ?? '';
    const document = await deps.goodfin.documents.findOne({ _id: documentKey(id, ctx.params.documentId ?? '') });
    if (!document) throw errors.notFound(`document ${ctx.params.documentId ?? ''} of application ${id}`);
    ctx.set('Content-Type', document.fileName.toLowerCase().endsWith('.pdf') ? 'application/pdf' : 'application/octet-stream');
    ctx.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(document.fileName || document.documentId)}`);
    const stored = bytesOf(document.content);
    ctx.body = document.sealed ? deps.runtime.personalData.cipher.openBytes(stored) : stored;
  });

  router.post('/applications/:id/events', documented.event, async (ctx) => {
    const id = ctx.params.id ?? '';
    const event = parseBody(staffEvent, ctx.state.body ?? {});
    const key = idempotencyKeyOf(ctx.get('Idempotency-Key'));
    // the checks run again under today's settings (limits, required documents), at the hub's time
    const sent =
      event.type === 'RESUBMIT_FOR_CHECKS'
        ? { ...event, at: goodfinTime(now()), policy: policyOf(deps.connectors.configOf(goodfinConnector).settings) }
        : event;
    const result = await applications
      .send(id, sent, {
        idempotencyKey: key,
        requestHash: requestHash('application-event', id, event),
        origin: { kind: 'event', requestId: ctx.state.requestId, actorName: ctx.state.principal?.name ?? 'unknown' },
      })
      .catch((error: unknown) => {
        // a status the application does not have is the request's fault, whatever the state: 400, the machine's reason listing them
        const reason = refusalReasonOf(error);
        if (reason?.code === APPLICATION_REFUSALS.notAReviewStatus)
          throw errors.badRequest(reason.message, [{ path: 'code', message: reason.message }]);
        throw error;
      });
    ctx.set('Idempotent-Replayed', String(result.replayed));
    ctx.body = await view(result.actor, true);
  });

  // sandbox mode only: Goodfin's sandbox pushes a batch of applications to our endpoint
  router.post('/admin/sandbox/goodfin/generatedeals', documented.generateDeals, async (ctx) => {
    const body = parseBody(generateDealsRequestSchema, ctx.state.body ?? {});
    const mode = deps.connectors.view(goodfinConnector.name).mode;
    if (mode !== 'sandbox') throw errors.conflict(`goodfin runs in ${mode} mode; deals can be generated only by its sandbox`, { mode });
    const generated = await deps.connectors.client(goodfinConnector).generateDeals(body);
    ctx.status = 202;
    ctx.body = { deals: generated.deals.map((d) => ({ ...d, url: `/applications/${encodeURIComponent(d.dealApplicationId)}` })) };
  });

  router.get('/admin/goodfin', documented.declarations, (ctx) => {
    ctx.body = { declarations: deps.declarer.view() };
  });

  return router;
}
