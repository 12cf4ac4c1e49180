import type { Logger } from 'winston';
import { MARKETPLACE_CURRENCY, type MarketplaceName } from '../../../common/marketplaces.ts';
import orderModule from '../../../machines/order.ts';
import { orderIntakeSchema, type OrderPolicy, type OrderRequest } from '../../../machines/order-rules.ts';
import { isDuplicateKeyError } from '../../../persistence/collections.ts';
import { newMarketplaceOrderDoc, type MarketplaceCollections, type MarketplaceHeldImportDoc } from '../../../persistence/marketplaces.ts';
import { PersonalDataCipher } from '../../../persistence/personal-data-key.ts';
import type { ReferenceCollections } from '../../../persistence/reference.ts';
import type { AlertSink } from '../../platform/alerts/alerts.ts';
import type { Marketplace, MarketplaceDelivery, MarketplaceOrder } from '../../platform/connectors/ports/marketplace.ts';
import type { ActorRuntime } from '../../runtime/runtime.ts';
import type { MarketplaceListings } from './listings.ts';

/**
 * Orders in: each marketplace's new orders since its durable cursor become
 * order actors with `source` = the marketplace and `externalId` = its order id
 * — once, however often the import runs, overlaps with itself or dies in the
 * middle. The actor's id is derived from the marketplace's id and created with
 * an idempotency key of it; the cursor is saved only after its page's orders
 * exist. An order that cannot be made yet (a product not mapped, a branch not
 * in the directory) is held, alerted once, and tried again on every run.
 */

export interface ImportDeps {
  runtime: ActorRuntime;
  collections: MarketplaceCollections;
  listings: MarketplaceListings;
  reference: ReferenceCollections;
  policy: () => OrderPolicy;
  alerts: AlertSink;
  logger: Logger;
  now: () => number;
}

/** Why an order waits at import instead of becoming an order actor. */
export class ImportHold extends Error {
  constructor(
    readonly code: 'unmapped_item' | 'delivery_not_in_directory' | 'invalid_order',
    message: string,
  ) {
    super(message);
  }
}

/** The order actor's id of a marketplace's order (kept to the runtime's id alphabet). */
export function marketplaceOrderId(marketplace: MarketplaceName, externalId: string): string {
  return `${marketplace}-${externalId.replace(/[^A-Za-z0-9._:-]/g, '_')}`.slice(0, 128);
}

export interface ImportRun {
  pages: number;
  seen: number;
  created: number;
  alreadyThere: number;
  held: number;
  released: number;
}

export class OrderImport {
  constructor(private readonly deps: ImportDeps) {}

  /** Pulls every page that is ready, creating each order once; then tries the held ones again. */
  async run(marketplace: Marketplace, progress: (state: Record<string, unknown>) => void = () => undefined): Promise<ImportRun> {
    const { collections } = this.deps;
    const name = marketplace.name;
    const outcome: ImportRun = { pages: 0, seen: 0, created: 0, alreadyThere: 0, held: 0, released: 0 };
    outcome.released = await this.retryHeld(marketplace);
    let cursor = (await collections.sync.findOne({ _id: name }))?.cursor ?? null;
    for (let page = 0; page < 1000; page += 1) {
      const answer = await marketplace.newOrders(cursor);
      outcome.pages += 1;
      for (const order of answer.orders) {
        outcome.seen += 1;
        const result = await this.importOne(name, order);
        if (result === 'created') outcome.created += 1;
        else if (result === 'exists') outcome.alreadyThere += 1;
        else outcome.held += 1;
      }
      // the page's orders exist (or are held): from here on a crash starts after them
      cursor = answer.cursor;
      await collections.sync.updateOne({ _id: name }, { $set: { cursor } }, { upsert: true });
      progress({ marketplace: name, ...outcome });
      if (!answer.more) break;
    }
    return outcome;
  }

  /** Creates the order actor (or finds it made before); holds the order when it cannot be made yet. */
  async importOne(marketplace: MarketplaceName, order: MarketplaceOrder): Promise<'created' | 'exists' | 'held'> {
    const orderId = marketplaceOrderId(marketplace, order.externalId);
    let request: OrderRequest;
    try {
      request = await this.orderRequest(marketplace, order);
    } catch (error) {
      if (!(error instanceof ImportHold)) throw error;
      await this.hold(marketplace, order, error);
      return 'held';
    }
    const at = new Date(this.deps.now());
    // the status outbox first: an order that exists always has one (a crash between the two is repaired by the next run)
    await this.deps.collections.orders
      .insertOne(newMarketplaceOrderDoc({ _id: orderId, marketplace, externalId: order.externalId }, at))
      .catch((error: unknown) => {
        if (!isDuplicateKeyError(error)) throw error;
      });
    const result = await this.deps.runtime
      .of(orderModule)
      .create(
        orderId,
        { ...request, orderId, acceptedAt: at.toISOString(), policy: this.deps.policy() },
        {
          idempotencyKey: `marketplace:${marketplace}:${order.externalId}`,
          origin: { kind: 'create', actorName: `marketplace:${marketplace}` },
        },
      )
      .catch((error: unknown) => {
        // made by an earlier run under another key (a repeat with changed data): it stays as it was
        if (error instanceof Error && 'code' in error && error.code === 'actor_exists') return { replayed: true };
        throw error;
      });
    await this.deps.collections.held.deleteOne({ _id: `${marketplace}:${order.externalId}` });
    if (!result.replayed) {
      await this.deps.collections.sync.updateOne({ _id: marketplace }, { $inc: { 'orders.imported': 1 } }, { upsert: true });
      return 'created';
    }
    return 'exists';
  }

  private async hold(marketplace: MarketplaceName, order: MarketplaceOrder, reason: ImportHold): Promise<void> {
    const at = new Date(this.deps.now());
    const id = `${marketplace}:${order.externalId}`;
    const before = await this.deps.collections.held.findOneAndUpdate(
      { _id: id },
      {
        // the buyer's name, phone and address are personal data: the order waits sealed whole
        $set: {
          order: this.deps.runtime.personalData.cipher.seal(order),
          reason: { code: reason.code, message: reason.message },
          lastTriedAt: at,
        },
        $setOnInsert: { marketplace, externalId: order.externalId, firstSeenAt: at },
        $inc: { attempts: 1 },
      },
      { upsert: true, returnDocument: 'before' },
    );
    if (before) return;
    await this.deps.collections.sync.updateOne({ _id: marketplace }, { $inc: { 'orders.held': 1 } }, { upsert: true });
    await this.deps.alerts
      .raise({
        kind: 'marketplace_order_held',
        subject: `${marketplace}/${order.externalId}`,
        message: `${marketplace} order ${order.externalId} is not imported yet: ${reason.message}`,
        details: { marketplace, externalId: order.externalId, code: reason.code },
      })
      .catch((error: unknown) => this.deps.logger.error('alert could not be raised', { error: String(error) }));
  }

  /** The orders of a marketplace held at import, oldest first, opened. */
  async held(
    marketplace: MarketplaceName,
    limit = 500,
  ): Promise<Array<Omit<MarketplaceHeldImportDoc, 'order'> & { order: MarketplaceOrder }>> {
    const held = await this.deps.collections.held.find({ marketplace }).sort({ firstSeenAt: 1 }).limit(limit).toArray();
    return held.map((doc) => ({ ...doc, order: this.orderOf(doc) }));
  }

  /** A held order as the marketplace gave it (held before sealing began: in clear). */
  private orderOf(doc: MarketplaceHeldImportDoc): MarketplaceOrder {
    const { order } = doc;
    return (PersonalDataCipher.isSealed(order) ? this.deps.runtime.personalData.cipher.open(order) : order) as MarketplaceOrder;
  }

  /** Held orders of this marketplace, tried again (a product mapped since, the directory synced). */
  private async retryHeld(marketplace: Marketplace): Promise<number> {
    let released = 0;
    const held = await this.deps.collections.held.find({ marketplace: marketplace.name }).sort({ lastTriedAt: 1 }).limit(500).toArray();
    for (const doc of held) {
      const result = await this.importOne(marketplace.name, this.orderOf(doc));
      if (result !== 'held') released += 1;
    }
    if (released > 0) await this.deps.collections.sync.updateOne({ _id: marketplace.name }, { $inc: { 'orders.held': -released } });
    return released;
  }

  /** The marketplace's order in our terms: our SKUs, Nova Poshta refs, the way it was paid. */
  private async orderRequest(marketplace: MarketplaceName, order: MarketplaceOrder): Promise<OrderRequest> {
    const skus = await this.deps.listings.skusOf(
      marketplace,
      order.lines.map((line) => line.itemKey),
    );
    const unmapped = order.lines.filter((line) => !skus.has(line.itemKey));
    if (unmapped.length > 0)
      throw new ImportHold(
        'unmapped_item',
        `no product is listed at ${marketplace} as ${unmapped.map((line) => `${line.itemKey} (${line.name})`).join(', ')}`,
      );
    // one line per SKU: a marketplace may split a product over lines
    const items = new Map<string, { sku: string; name: string; qty: number; unitPrice: number }>();
    for (const line of order.lines) {
      const sku = skus.get(line.itemKey) ?? '';
      const same = items.get(sku);
      if (same && same.unitPrice === line.price) same.qty += line.qty;
      else if (same) throw new ImportHold('invalid_order', `${sku} appears twice at different prices`);
      else items.set(sku, { sku, name: line.name.slice(0, 200), qty: line.qty, unitPrice: line.price });
    }
    const lines = [...items.values()];
    const request = {
      externalId: order.externalId,
      source: marketplace,
      customer: {
        ...(order.customer.name ? { name: order.customer.name.slice(0, 200) } : {}),
        ...(order.customer.phone ? { phone: order.customer.phone } : {}),
        ...(order.customer.email ? { email: order.customer.email } : {}),
      },
      items: lines,
      currency: MARKETPLACE_CURRENCY[marketplace],
      delivery: await this.delivery(order.delivery),
      payment: { method: order.paidAtMarketplace ? 'marketplace' : 'cod' },
      total: lines.reduce((sum, line) => sum + line.qty * line.unitPrice, 0),
    };
    const parsed = orderIntakeSchema.safeParse(request);
    if (!parsed.success)
      throw new ImportHold('invalid_order', parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
    return parsed.data;
  }

  /** Nova Poshta by refs when the marketplace gives them, else found in the synced directory by the names it gives. */
  private async delivery(delivery: MarketplaceDelivery): Promise<OrderRequest['delivery']> {
    if (delivery.kind === 'marketplace') return { carrier: 'marketplace', service: delivery.service, fee: 0 };
    if (delivery.cityRef && delivery.warehouseRef)
      return { carrier: 'novaposhta', cityRef: delivery.cityRef, warehouseRef: delivery.warehouseRef, fee: 0 };
    const { cities, warehouses } = this.deps.reference;
    // a branch's ref names its city too (Rozetka gives the branch's, not the city's)
    if (delivery.warehouseRef) {
      const known = await warehouses.findOne({ _id: delivery.warehouseRef });
      if (known) return { carrier: 'novaposhta', cityRef: known.cityRef, warehouseRef: known._id, fee: 0 };
    }
    const cityName = delivery.cityName?.trim() ?? '';
    const city = delivery.cityRef
      ? await cities.findOne({ _id: delivery.cityRef })
      : cityName
        ? await cities.findOne({ name: cityName })
        : null;
    if (!city)
      throw new ImportHold('delivery_not_in_directory', `Nova Poshta's directory has no city "${cityName || delivery.cityRef || '?'}"`);
    const branch = delivery.warehouseName ?? '';
    const number = /№\s*(\d+)/.exec(branch)?.[1] ?? /^\s*(\d+)\s*$/.exec(branch)?.[1];
    const warehouse = number
      ? await warehouses.findOne({ cityRef: city._id, number })
      : await warehouses.findOne({ cityRef: city._id, name: branch });
    if (!warehouse)
      throw new ImportHold('delivery_not_in_directory', `Nova Poshta's directory has no branch "${branch || '?'}" in ${city.name}`);
    return { carrier: 'novaposhta', cityRef: city._id, warehouseRef: warehouse._id, fee: 0 };
  }
}
