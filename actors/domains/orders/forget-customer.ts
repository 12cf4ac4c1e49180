import type { AnyBulkWriteOperation } from 'mongodb';
import { errors } from '../../../common/errors.ts';
import type { PersistedSnapshotJson } from '../../../machines/machine-module.ts';
import orderModule from '../../../machines/order.ts';
import { bulkWriteInCommands } from '../../../persistence/bulk-write.ts';
import type { Collections, JournalDoc } from '../../../persistence/collections.ts';
import type { CommerceCollections } from '../../../persistence/commerce.ts';
import { ERASED } from '../../../persistence/personal-data-key.ts';
import type { AuditLog } from '../../platform/audit/audit-log.ts';
import { erasePaths, eventPathsOf } from '../../runtime/personal-data.ts';
import type { PersonalDataBackfill } from '../../runtime/personal-data-backfill.ts';
import type { ActorRuntime } from '../../runtime/runtime.ts';
import { actorKey, type ActorStore } from '../../runtime/store.ts';

/**
 * "Forget me": a customer's personal data is overwritten, wherever the hub keeps it for their orders —
 * every journal entry and the projection of the order and of its payments and shipment, the invoice,
 * the mail, the audit's quotes of partner calls — for orders that are finished and older than the
 * retention period (the law keeps a sale's documents that long). An order still under way refuses:
 * it needs the address to deliver and the e-mail to tell. Overwriting rather than a destroyed key,
 * because one hub key seals every customer; the erased values read `[erased]`.
 *
 * Safe to repeat after a crash half-way: the projection, which is how the orders are found, is
 * erased last, so a repeat finds them again and overwrites what is left.
 */
export interface ForgetRequest {
  phone?: string;
  email?: string;
}

export interface ForgetOutcome {
  /** orders whose customer data is erased, with the actors it was erased from */
  erased: Array<{ id: string; actors: string[] }>;
  /** finished orders kept whole: still inside the retention period */
  kept: Array<{ id: string; state: string; until: string }>;
}

const DAY_MS = 24 * 3600_000;
/** how long a request waits for the backfill before it is refused (a fresh database's is done at once) */
const BACKFILL_WAIT_MS = 3_000;

/**
 * Where an order's story is over: completed (final), or cancelled or rejected and resting (a cancelled
 * order only wakes for money paid too late, which it refunds without needing the customer). Anything
 * else — paying, shipping, blocked or returned with a person to decide — still needs the customer.
 */
const FINISHED_STATES: ReadonlySet<string> = new Set(['completed', 'cancelled', 'rejected']);

/** A customer's order as its journal has it (not as its projection may lag). */
interface FoundOrder {
  id: string;
  state: string;
  status: string;
  /** epoch ms of its last transition */
  updatedAt: number;
}

export class CustomerForgetting {
  constructor(
    private readonly deps: {
      runtime: ActorRuntime;
      store: ActorStore;
      collections: Pick<Collections, 'actors' | 'journal' | 'audit'>;
      commerce: Pick<CommerceCollections, 'invoices' | 'mail'>;
      audit: AuditLog;
      /** orders stored before sealing existed are found by their index once it has run */
      backfill: Pick<PersonalDataBackfill, 'isComplete'>;
      retentionDays: number;
      now: () => number;
    },
  ) {}

  async forget(request: ForgetRequest, principal: string): Promise<ForgetOutcome> {
    const { runtime, collections } = this.deps;
    const cipher = runtime.personalData.cipher;
    const indexes = [
      ...(request.phone ? [cipher.blindIndex('phone', request.phone)] : []),
      ...(request.email ? [cipher.blindIndex('email', request.email)] : []),
    ].filter((index): index is string => index !== null);
    if (indexes.length === 0)
      throw errors.badRequest('give the phone or the e-mail of the customer', [{ path: 'phone', message: 'empty' }]);
    // an answer that missed the orders not indexed yet would say the customer is forgotten when they are not
    if (!(await this.deps.backfill.isComplete(BACKFILL_WAIT_MS)))
      throw errors.unavailable(
        'personal data stored before it was sealed is still being sealed and indexed (the log shows its progress); ' +
          "until it is done not all of a customer's orders can be found: try again later",
      );
    // what this process committed is in the projection before it is searched
    await runtime.flushProjections();
    const found = await collections.actors
      .find({ type: orderModule.type, personalIndex: { $in: indexes } }, { projection: { _id: 1, id: 1 } })
      .toArray();
    // The projection is written behind the journal, and a crash loses what was not written yet: the state that
    // decides is the journal's, which loading the order reads (rolling a lagging projection forward).
    const orders: FoundOrder[] = [];
    for (const { id } of found) {
      const view = await runtime.of(orderModule).get(id);
      orders.push({ id, state: view.state, status: view.status, updatedAt: Date.parse(view.updatedAt) });
    }
    // the audit names the customer by the look-up hashes, never in clear
    const audited = { by: request.phone ? 'phone' : 'email', index: indexes };

    const active = orders.filter((order) => order.status !== 'done' && !FINISHED_STATES.has(order.state));
    if (active.length > 0) {
      const refused = active.map((order) => ({ id: order.id, state: order.state }));
      await this.deps.audit.recordChange({
        operation: 'customer.forget',
        principal,
        status: 409,
        details: { ...audited, refused: 'orders under way', orders: refused },
      });
      throw errors.conflict(`the customer has ${active.length} order(s) under way; their data is needed until they are finished`, {
        reason: 'orders_under_way',
        orders: refused,
      });
    }

    const cutoff = this.deps.now() - this.deps.retentionDays * DAY_MS;
    const outcome: ForgetOutcome = { erased: [], kept: [] };
    for (const order of orders) {
      if (order.updatedAt >= cutoff) {
        outcome.kept.push({
          id: order.id,
          state: order.state,
          until: new Date(order.updatedAt + this.deps.retentionDays * DAY_MS).toISOString(),
        });
        continue;
      }
      outcome.erased.push({ id: order.id, actors: await this.eraseOrder(order.id) });
    }
    await this.deps.audit.recordChange({
      operation: 'customer.forget',
      principal,
      status: 200,
      details: { ...audited, erased: outcome.erased.map((o) => o.id), kept: outcome.kept.map((o) => o.id) },
    });
    return outcome;
  }

  private async eraseOrder(orderId: string): Promise<string[]> {
    const { runtime } = this.deps;
    const order = await runtime.of(orderModule).get(orderId);
    const children = orderModule.children?.(order.context) ?? [];
    const keys = [...children.map((child) => actorKey(child.type, child.id)), actorKey(orderModule.type, orderId)];
    const erased: string[] = [];
    for (const child of children) if (await this.eraseActor(child.type, child.id)) erased.push(actorKey(child.type, child.id));
    // what is kept beside the actors goes before the order's projection, by which a repeat would find it
    const { invoices, mail } = this.deps.commerce;
    await invoices.updateOne({ _id: orderId }, { $set: { customer: {}, personal: ERASED }, $unset: { 'delivery.address': '' } });
    await mail.updateMany({ orderId }, { $set: { to: ERASED, text: ERASED } });
    const { audit } = this.deps.collections;
    await audit.updateMany({ actor: { $in: keys }, request: { $ne: null } }, { $set: { request: ERASED } });
    await audit.updateMany({ actor: { $in: keys }, response: { $ne: null } }, { $set: { response: ERASED } });
    if (await this.eraseActor(orderModule.type, orderId)) erased.push(actorKey(orderModule.type, orderId));
    return erased;
  }

  /** Overwrites the declared personal values of every revision of one actor; false when there is no such actor. */
  private async eraseActor(type: string, id: string): Promise<boolean> {
    const { runtime, collections } = this.deps;
    const module = runtime.registry.get(type);
    const declared = module.personalData;
    const key = actorKey(type, id);
    let revision: number;
    try {
      revision = (await runtime.get(type, id)).revision;
    } catch {
      return false;
    }
    // a projection that lagged was rolled forward by that load: written now, not over the erased one below
    await runtime.flushProjections();
    if (!declared) return true;
    const entries = await this.deps.store.readJournal(key, 0, revision);
    const erasedSnapshot = (snapshot: string) => {
      const parsed = JSON.parse(snapshot) as PersistedSnapshotJson;
      return JSON.stringify({ ...parsed, context: erasePaths(parsed.context, declared.context) });
    };
    const erasedEvent = (entry: JournalDoc) =>
      JSON.stringify(erasePaths(JSON.parse(entry.event) as unknown, eventPathsOf(module, entry.eventType)));
    const operations: AnyBulkWriteOperation<JournalDoc>[] = entries.map((entry) => ({
      updateOne: {
        filter: { _id: entry._id },
        update: { $set: { snapshot: erasedSnapshot(entry.snapshot), event: erasedEvent(entry) }, $unset: { personalIndex: '' } },
      },
    }));
    await bulkWriteInCommands(collections.journal, operations);
    const projection = await collections.actors.findOne({ _id: key });
    if (projection)
      await collections.actors.updateOne(
        { _id: key },
        { $set: { snapshot: erasedSnapshot(projection.snapshot) }, $unset: { personalIndex: '' } },
      );
    runtime.evict(type, id);
    return true;
  }
}
