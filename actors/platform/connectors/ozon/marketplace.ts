import { z } from 'zod';
import { ConnectorError, isConnectorError, partnerErrorCode } from '../kit/errors.ts';
import type { CallContext } from '../kit/definition.ts';
import {
  LISTING_SCHEMAS,
  MARKETPLACE_CURRENCY,
  type CancelReason,
  type ListingOf,
  type Marketplace,
  type MarketplaceCall,
  type MarketplaceOrder,
  type MarketplaceOrderState,
  type MarketplaceProduct,
  type PushOutcome,
  type StatusPush,
} from '../ports/marketplace.ts';
import type { OzonClient } from './client.ts';
import type { OzonSettings } from './connector.ts';
import {
  kopecksToRubles,
  OZON_CANCEL_REASONS,
  OZON_ERRORS,
  OZON_LIMITS,
  PACKED_STATUSES,
  PRE_PACKAGING_STATUSES,
  rublesToKopecks,
  type Posting,
  type PriceItem,
  type StockItem,
} from './protocol.ts';

/** Postings met before they were ready to pack are checked again for this long, then forgotten. */
const PENDING_MAX_AGE_MS = 24 * 3600 * 1000;
/** Products per page of the catalogue sync (Ozon allows 1000; names cost a second call per page). */
const PRODUCTS_PAGE = 100;

/** Why we cancel → Ozon's reason id; 402 ("other, the seller's fault") carries the text. */
const CANCEL_REASON_IDS: Record<CancelReason, number> = {
  out_of_stock: OZON_CANCEL_REASONS.outOfStock,
  cannot_deliver: OZON_CANCEL_REASONS.otherSellersFault,
  seller_cancelled: OZON_CANCEL_REASONS.otherSellersFault,
  customer_cancelled: OZON_CANCEL_REASONS.otherSellersFault,
};
const CANCEL_TEXTS: Record<CancelReason, string> = {
  out_of_stock: 'Товар закончился на складе продавца',
  cannot_deliver: 'Продавец не может отгрузить заказ',
  seller_cancelled: 'Отменено продавцом',
  customer_cancelled: 'Покупатель попросил отменить заказ',
};

/**
 * The import's cursor. One "pass" pages through `/v3/posting/fbs/list` (all statuses, oldest first) from
 * `from` to now by `offset`; without a status filter a posting never leaves the list, so a page boundary
 * never skips one (a late one inserted earlier only repeats the one before it, which `seen` filters). When a
 * pass ends, the next starts `lookback` before the newest posting it saw: a posting Ozon lists late with an
 * earlier `in_process_at` is still found, and `seen` (every posting taken whose time the next pass may re-read)
 * keeps it from being taken twice. A posting not ready to pack yet (`awaiting_registration`,
 * `awaiting_approve`) waits in `pending` and is asked about one by one until it is (or a day passes).
 * Repeating a call with the same cursor answers the same postings; the hub creates each order once by its
 * posting number anyway.
 */
const cursorSchema = z.object({
  v: z.literal(1),
  from: z.string(),
  offset: z.number().int().min(0),
  top: z.string().nullable(),
  seen: z.record(z.string(), z.string()),
  pending: z.record(z.string(), z.string()),
});
type Cursor = z.infer<typeof cursorSchema>;

function readCursor(cursor: string | null, start: () => Cursor): Cursor {
  if (cursor === null) return start();
  try {
    return cursorSchema.parse(JSON.parse(cursor));
  } catch {
    throw new Error(`not an Ozon orders cursor: ${cursor.slice(0, 80)}`);
  }
}

const ozonListing = LISTING_SCHEMAS.ozon;

export function ozonMarketplace(deps: { client: () => OzonClient; settings: () => OzonSettings; now?: () => number }): Marketplace {
  const now = deps.now ?? Date.now;
  const context = (call?: MarketplaceCall): CallContext | undefined => (call?.signal ? { signal: call.signal } : undefined);
  const failure = (code: string, message: string, retryable: boolean) =>
    new ConnectorError('ozon', partnerErrorCode(code), message, retryable);

  const orderOf = (posting: Posting): MarketplaceOrder => {
    const lines = posting.products.map((product) => {
      if (product.currency_code && product.currency_code !== MARKETPLACE_CURRENCY.ozon)
        throw failure(
          'currency_mismatch',
          `posting ${posting.posting_number} is in ${product.currency_code}; the hub sells on Ozon in RUB`,
          false,
        );
      const price = rublesToKopecks(product.price);
      if (price === null)
        throw failure('bad_response', `posting ${posting.posting_number}: a price "${product.price}" is not an amount`, false);
      return { itemKey: product.offer_id, name: product.name.trim(), qty: product.quantity, price };
    });
    const buyer = posting.customer?.name || posting.addressee?.name || null;
    return {
      externalId: posting.posting_number,
      createdAt: posting.in_process_at ?? new Date(now()).toISOString(),
      currency: MARKETPLACE_CURRENCY.ozon,
      total: lines.reduce((sum, line) => sum + line.price * line.qty, 0),
      // FBS: the buyer pays Ozon, Ozon pays the seller
      paidAtMarketplace: true,
      // Ozon hides the buyer from an FBS seller (`customer` null, phones always "")
      customer: { name: buyer, phone: null, email: null },
      delivery: { kind: 'marketplace', service: 'ozon-fbs' },
      lines,
    };
  };

  const posting = async (postingNumber: string, call?: MarketplaceCall): Promise<Posting | null> => {
    try {
      return await deps.client().getPosting(postingNumber, context(call));
    } catch (error) {
      if (isConnectorError(error) && error.status === 404) return null;
      throw error;
    }
  };

  /** A refusal that means "already done" (the push took effect before) is not a failure. */
  const unlessAlready = async (run: () => Promise<unknown>, already: string): Promise<void> => {
    try {
      await run();
    } catch (error) {
      if (isConnectorError(error) && error.code === already) return;
      throw error;
    }
  };

  const confirm = async (postingNumber: string, call?: MarketplaceCall) => {
    const found = await posting(postingNumber, call);
    if (!found) throw failure(OZON_ERRORS.postingNotFound, `Ozon has no posting ${postingNumber}`, false);
    if (PACKED_STATUSES.has(found.status)) return; // packed already: the confirm took effect
    if (PRE_PACKAGING_STATUSES.has(found.status))
      throw failure(
        'posting_not_ready',
        `posting ${postingNumber} is ${found.status}; it can be packed once Ozon makes it awaiting_packaging`,
        true,
      );
    // one package with every product: Ozon's ship takes the SKU as `product_id`; a cancelled posting is refused by Ozon
    const quantities = new Map<number, number>();
    for (const product of found.products) quantities.set(product.sku, (quantities.get(product.sku) ?? 0) + product.quantity);
    const products = [...quantities].map(([sku, quantity]) => ({ product_id: sku, quantity }));
    await unlessAlready(
      () => deps.client().ship({ packages: [{ products }], posting_number: postingNumber }, context(call)),
      OZON_ERRORS.postingAlreadyShipped,
    );
  };

  const cancel = async (postingNumber: string, reason: CancelReason, comment: string | undefined, call?: MarketplaceCall) => {
    const found = await posting(postingNumber, call);
    if (!found) throw failure(OZON_ERRORS.postingNotFound, `Ozon has no posting ${postingNumber}`, false);
    if (found.status === 'cancelled') return;
    const reasonId = CANCEL_REASON_IDS[reason];
    const message = comment?.trim() || CANCEL_TEXTS[reason];
    await unlessAlready(
      () =>
        deps
          .client()
          .cancel(
            { posting_number: postingNumber, cancel_reason_id: reasonId, ...(message ? { cancel_reason_message: message } : {}) },
            context(call),
          ),
      OZON_ERRORS.postingAlreadyCancelled,
    );
  };

  /** Chunks of at most `size`, in order. */
  const chunks = <T>(items: readonly T[], size: number): T[][] => {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
  };

  /** A listing that is not an Ozon one is refused here, before any call. */
  const listingOf = (listing: unknown): ListingOf<'ozon'> | null => {
    const parsed = ozonListing.safeParse(listing);
    return parsed.success ? parsed.data : null;
  };

  let defaultWarehouse: number | null = null;
  const warehouseForProducts = async (call?: MarketplaceCall): Promise<number> => {
    const configured = deps.settings().warehouseId;
    if (configured) return configured;
    if (defaultWarehouse) return defaultWarehouse;
    const warehouses = (await deps.client().warehouses(context(call))).filter((w) => !w.is_rfbs);
    const only = warehouses.length === 1 ? warehouses[0] : undefined;
    if (!only)
      throw failure(
        'warehouse_not_configured',
        `the seller has ${warehouses.length} FBS warehouses: set the Ozon connector's warehouseId to the one the hub stocks`,
        false,
      );
    defaultWarehouse = only.warehouse_id;
    return only.warehouse_id;
  };

  return {
    name: 'ozon',
    currency: MARKETPLACE_CURRENCY.ozon,
    pricePrecision: 'minor',
    batch: { stock: OZON_LIMITS.stockBatch, prices: OZON_LIMITS.priceBatch },
    settings: () => {
      const { enabled, ordersIntervalMinutes, pushIntervalSeconds } = deps.settings();
      return { enabled, ordersIntervalMinutes, pushIntervalSeconds };
    },

    async newOrders(cursorText, call) {
      const settings = deps.settings();
      const started = now();
      const cursor = readCursor(cursorText, () => ({
        v: 1,
        from: new Date(started - settings.firstImportDays * 24 * 3600 * 1000).toISOString(),
        offset: 0,
        top: null,
        seen: {},
        pending: {},
      }));
      const orders: MarketplaceOrder[] = [];
      // times are kept normalised (Ozon writes "…38Z" and "…38.123Z"), so they compare as text
      const iso = (time: string | null | undefined) => new Date(time ? Date.parse(time) : started).toISOString();
      const take = (found: Posting) => {
        orders.push(orderOf(found));
        cursor.seen[found.posting_number] = iso(found.in_process_at);
        delete cursor.pending[found.posting_number];
      };

      // the ones that were not ready last time
      for (const [number, firstSeen] of Object.entries(cursor.pending)) {
        const found = await posting(number, call);
        if (found?.status === 'awaiting_packaging' && !(number in cursor.seen)) take(found);
        else if (!found || !PRE_PACKAGING_STATUSES.has(found.status) || started - Date.parse(firstSeen) > PENDING_MAX_AGE_MS)
          delete cursor.pending[number];
      }

      const page = await deps.client().listPostings(
        {
          dir: 'ASC',
          filter: { since: cursor.from, to: new Date(started).toISOString() },
          limit: settings.ordersPageSize,
          offset: cursor.offset,
        },
        context(call),
      );
      for (const found of page.postings) {
        const at = found.in_process_at ? iso(found.in_process_at) : null;
        if (at && (cursor.top === null || at > cursor.top)) cursor.top = at;
        if (found.posting_number in cursor.seen) continue;
        if (found.status === 'awaiting_packaging') take(found);
        else if (PRE_PACKAGING_STATUSES.has(found.status)) cursor.pending[found.posting_number] ??= new Date(started).toISOString();
        // anything else was packed, cancelled or delivered without us: nothing to import
      }

      if (page.has_next) cursor.offset += page.postings.length;
      else {
        // the pass is over: the next one re-reads the lookback before the newest posting seen
        if (cursor.top !== null) cursor.from = new Date(Date.parse(cursor.top) - settings.ordersLookbackMinutes * 60_000).toISOString();
        cursor.offset = 0;
        cursor.top = null;
        const from = cursor.from;
        cursor.seen = Object.fromEntries(Object.entries(cursor.seen).filter(([, at]) => at >= from));
      }
      return { orders, cursor: JSON.stringify(cursor), more: page.has_next };
    },

    async orderStates(externalIds, call) {
      const states: Record<string, MarketplaceOrderState> = {};
      for (const id of externalIds) {
        const found = await posting(id, call);
        // a posting Ozon does not know is left out
        if (!found) continue;
        states[id] = found.status === 'cancelled' ? 'cancelled' : found.status === 'delivered' ? 'closed' : 'open';
      }
      return states;
    },

    async pushStatus(externalId, push: StatusPush, call) {
      switch (push.status) {
        case 'confirmed':
          return confirm(externalId, call);
        case 'cancelled':
          return cancel(externalId, push.reason, push.comment, call);
        case 'shipped':
          // FBS: Ozon's courier or drop-off point scans the posting at hand-over and Ozon moves it to `delivering`;
          // there is no seller call (the sent-by-seller/delivering/delivered methods are rFBS-only), no waybill
          return;
        case 'delivered':
          // Ozon's own delivery closes it
          return;
      }
    },

    async pushStock(levels, call): Promise<PushOutcome> {
      const refused: PushOutcome['refused'] = [];
      const items: Array<{ sku: string; item: StockItem }> = [];
      for (const level of levels) {
        const listing = listingOf(level.listing);
        if (!listing) {
          refused.push({ sku: level.sku, code: 'invalid_listing', message: 'not an Ozon listing {offerId, productId, warehouseId}' });
          continue;
        }
        // Ozon takes a count of units; an oversold (negative) level is none
        const stock = Math.max(0, Math.floor(level.available));
        items.push({
          sku: level.sku,
          item: { offer_id: listing.offerId, product_id: listing.productId, stock, warehouse_id: listing.warehouseId },
        });
      }
      const batches = chunks(items, OZON_LIMITS.stockBatch);
      for (const batch of batches) {
        const result = await deps.client().updateStocks(
          batch.map((b) => b.item),
          context(call),
        );
        batch.forEach((sent, index) => {
          const answer =
            result.find((r) => r.offer_id === sent.item.offer_id && Number(r.warehouse_id) === sent.item.warehouse_id) ?? result[index];
          if (answer?.updated && answer.errors.length === 0) return;
          const error = answer?.errors[0];
          refused.push({
            sku: sent.sku,
            code: error?.code ?? 'not_updated',
            message: error?.message ?? 'Ozon did not update this stock',
            // one update per product and warehouse in 30 s: the newest value goes at the next round
            retryable: error?.code === 'TOO_MANY_REQUESTS',
          });
        });
      }
      return { refused, calls: batches.length };
    },

    async pushPrices(prices, call): Promise<PushOutcome> {
      const refused: PushOutcome['refused'] = [];
      const items: Array<{ sku: string; item: PriceItem }> = [];
      for (const level of prices) {
        const listing = listingOf(level.listing);
        if (!listing) {
          refused.push({ sku: level.sku, code: 'invalid_listing', message: 'not an Ozon listing {offerId, productId, warehouseId}' });
          continue;
        }
        if (!Number.isSafeInteger(level.price) || level.price < 0) {
          refused.push({
            sku: level.sku,
            code: 'invalid_price',
            message: `a price in kopecks is a non-negative integer, not ${level.price}`,
          });
          continue;
        }
        // offer_id only: with product_id too, Ozon would still apply it to the offer_id
        items.push({
          sku: level.sku,
          item: { offer_id: listing.offerId, price: kopecksToRubles(level.price), old_price: '0', currency_code: 'RUB' },
        });
      }
      const batches = chunks(items, OZON_LIMITS.priceBatch);
      for (const batch of batches) {
        const result = await deps.client().importPrices(
          batch.map((b) => b.item),
          context(call),
        );
        batch.forEach((sent, index) => {
          const answer = result.find((r) => r.offer_id === sent.item.offer_id) ?? result[index];
          if (answer?.updated && answer.errors.length === 0) return;
          const error = answer?.errors[0];
          refused.push({ sku: sent.sku, code: error?.code ?? 'not_updated', message: error?.message ?? 'Ozon did not update this price' });
        });
      }
      return { refused, calls: batches.length };
    },

    async listProducts(cursor, call) {
      const page = await deps
        .client()
        .listProducts({ filter: { visibility: 'ALL' }, last_id: cursor ?? '', limit: PRODUCTS_PAGE }, context(call));
      if (page.items.length === 0) return { products: [], cursor: null };
      const warehouseId = await warehouseForProducts(call);
      const info = await deps.client().productInfo(
        page.items.map((item) => item.product_id),
        context(call),
      );
      const names = new Map(info.map((item) => [item.id, item.name]));
      const products: MarketplaceProduct[] = page.items.map((item) => ({
        listing: { offerId: item.offer_id, productId: item.product_id, warehouseId },
        sku: item.offer_id,
        name: names.get(item.product_id) ?? item.offer_id,
      }));
      return { products, cursor: page.items.length < PRODUCTS_PAGE || !page.last_id ? null : page.last_id };
    },
  };
}
