import type { Collection } from 'mongodb';
import type { Logger } from 'winston';
import { isAppError } from '../../../common/errors.ts';
import { redact } from '../../../common/logger.ts';
import { isDuplicateKeyError, type InboxDoc } from '../../../persistence/collections.ts';
import type { PersonalDataCipher } from '../../../persistence/personal-data-key.ts';
import type { ActorRuntime } from '../../runtime/runtime.ts';
import type { WebhookRequest, WebhookSpec } from './spec.ts';

/** The exact bytes of a stored delivery (sealed since personal data is; a delivery stored before, in clear). */
export function inboxBodyOf(doc: Pick<InboxDoc, 'rawBody'>, cipher: PersonalDataCipher): Buffer {
  return Buffer.from(cipher.openText(doc.rawBody), 'base64');
}

export interface InboxOutcome {
  id: string;
  duplicate: boolean;
  status: InboxDoc['status'];
  dispatchedTo: string | null;
  result: string | null;
}

/**
 * Inbound deliveries: each is stored (raw bytes included) under
 * `integration:deliveryId` before it is answered — the unique `_id` makes a
 * partner's retry or a replayed capture a duplicate — then dispatched to its
 * actor with the delivery as idempotency key, so even a delivery stored but
 * not yet dispatched when the process died is applied exactly once later.
 */
export class Inbox {
  private readonly specs = new Map<string, WebhookSpec>();

  constructor(
    private readonly collection: Collection<InboxDoc>,
    private readonly runtime: ActorRuntime,
    private readonly logger: Logger,
    specs: WebhookSpec[],
  ) {
    for (const spec of specs) this.specs.set(spec.integration, spec);
  }

  spec(integration: string): WebhookSpec | null {
    return this.specs.get(integration) ?? null;
  }

  integrations(): string[] {
    return [...this.specs.keys()].sort();
  }

  /** Persists the delivery (or finds its earlier copy) and dispatches it unless that was done. */
  async accept(request: WebhookRequest, deliveryId: string): Promise<InboxOutcome> {
    const id = `${request.integration}:${deliveryId}`;
    const now = new Date();
    const doc: InboxDoc = {
      _id: id,
      integration: request.integration,
      deliveryId,
      receivedAt: now,
      remoteAddress: request.remoteAddress,
      headers: redact(request.headers) as Record<string, string>,
      // partners' bodies name people (Goodfin's clients, JOWi's customers): kept sealed like an actor's personal data
      rawBody: this.runtime.personalData.cipher.seal(request.rawBody.toString('base64')),
      contentType: request.contentType,
      status: 'received',
      dispatchedTo: null,
      result: null,
      error: null,
      attempts: 0,
      updatedAt: now,
    };
    let stored = doc;
    let duplicate = false;
    try {
      await this.collection.insertOne(doc);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      duplicate = true;
      stored = (await this.collection.findOne({ _id: id })) ?? doc;
    }
    if (stored.status === 'dispatched' || stored.status === 'ignored') {
      if (duplicate) await this.specs.get(request.integration)?.repeated?.(request, deliveryId);
      return { id, duplicate, status: stored.status, dispatchedTo: stored.dispatchedTo, result: stored.result };
    }
    const dispatched = await this.dispatch(stored);
    return { ...dispatched, duplicate };
  }

  /** Dispatches deliveries stored but not dispatched (a crash, or the database failing mid-way). */
  async redispatchPending(olderThanMs: number): Promise<{ dispatched: number; failed: number }> {
    const cutoff = new Date(Date.now() - olderThanMs);
    const pending = await this.collection
      .find({ status: { $in: ['received', 'failed'] }, updatedAt: { $lte: cutoff } })
      .limit(500)
      .toArray();
    let dispatched = 0;
    let failed = 0;
    for (const doc of pending) {
      try {
        await this.dispatch(doc);
        dispatched += 1;
      } catch {
        failed += 1;
      }
    }
    return { dispatched, failed };
  }

  private async dispatch(doc: InboxDoc): Promise<Omit<InboxOutcome, 'duplicate'>> {
    const spec = this.specs.get(doc.integration);
    const request: WebhookRequest = {
      integration: doc.integration,
      rawBody: inboxBodyOf(doc, this.runtime.personalData.cipher),
      headers: doc.headers,
      remoteAddress: doc.remoteAddress,
      contentType: doc.contentType,
    };
    let status: InboxDoc['status'] = 'ignored';
    let dispatchedTo: string | null = null;
    let result: string | null = null;
    let failure: string | null = null;
    try {
      const route = spec?.dispatch ? null : (spec?.route(request) ?? null);
      if (spec?.dispatch) {
        const handled = await spec.dispatch(request, doc.deliveryId);
        status = 'dispatched';
        dispatchedTo = handled.dispatchedTo;
        result = handled.result;
      } else if (route) {
        dispatchedTo = `${route.type}/${route.id}`;
        const outcome = await this.runtime.send(route.type, route.id, route.event, {
          idempotencyKey: `webhook:${doc._id}`,
          origin: { kind: 'webhook', integration: doc.integration, deliveryId: doc.deliveryId },
        });
        status = 'dispatched';
        result = `${outcome.actor.state}@${outcome.actor.revision}`;
      } else {
        result = 'nothing to do';
      }
    } catch (error) {
      if (isAppError(error) && error.status < 500) {
        // The actor is unknown or refuses the event: retrying will not change that. Kept, visible, answered 2xx.
        result = `${error.code}: ${error.message}`;
      } else {
        status = 'failed';
        failure = error instanceof Error ? error.message : String(error);
      }
    }
    await this.collection.updateOne(
      { _id: doc._id },
      { $set: { status, dispatchedTo, result, error: failure, updatedAt: new Date() }, $inc: { attempts: 1 } },
    );
    if (status === 'failed') {
      this.logger.error('webhook dispatch failed; it stays in the inbox', { delivery: doc._id, error: failure });
      throw new Error(`dispatch of ${doc._id} failed`);
    }
    return { id: doc._id, status, dispatchedTo, result };
  }
}
