import { ConnectorError, KIT_ERROR_CODES, partnerErrorCode } from '../kit/errors.ts';
import {
  LISTING_SCHEMAS,
  type CancelReason,
  type Marketplace,
  type MarketplaceOrder,
  type MarketplaceOrderState,
  type MarketplaceProduct,
  type PriceLevel,
  type PushOutcome,
  type StatusPush,
  type StockLevel,
} from '../ports/marketplace.ts';
import { UZUM_CONNECTOR_CODES, type UzumClient } from './client.ts';
import type { UzumSettings } from './connector.ts';
import {
  ORDERS_PAGE_MAX,
  PRICE_BATCH_MAX,
  PRICE_MAX_SOUMS,
  PRICE_MIN_SOUMS,
  STOCK_BATCH_MAX,
  type UzumCancelReason,
  type UzumOrder,
  type UzumOrderStatus,
  type UzumStockItem,
} from './protocol.ts';

/**
 * Uzum Market as the hub's Marketplace (FBS only: we pack, Uzum carries; the buyer paid Uzum).
 *
 * - Listing `{skuId, barcode}`: orders name products by SKU id (the listing key), stock is set by barcode.
 * - Money: Uzum speaks whole soums (integer<int64>); the hub speaks tiyin (1/100 soum). Prices go out only when
 *   they are whole soums (`pricePrecision: 'whole'`); anything else is refused item by item, never rounded.
 * - Statuses: confirm = POST confirm (CREATED → PACKING); cancel = POST cancel with Uzum's reason; shipped and
 *   delivered have no call for FBS (handover goes through Uzum's invoices, delivery is Uzum's own), so they are
 *   no-ops.
 */

const NAME = 'uzum';
/** the statuses whose orders are "new" to the hub, swept in this order (see newOrders) */
const SWEPT_STATUSES: readonly UzumOrderStatus[] = ['CREATED', 'PACKING'];
/** a sweep reads at most this many pages of a status (2000 orders); past it the cursor forgets nothing */
const MAX_SWEEP_PAGES = 40;
/** orders handed to the hub per call; the rest come with `more: true` */
const ORDERS_PER_CALL = 50;
const PRODUCTS_PAGE_SIZE = 50;
const MAX_CATALOGUE_PAGES = 200;
const CURSOR_PREFIX = 'u1:';

/** Uzum's status → what the hub needs to know. */
const ORDER_STATE: Record<UzumOrderStatus, MarketplaceOrderState> = {
  CREATED: 'open',
  PACKING: 'open',
  PENDING_DELIVERY: 'open',
  DELIVERING: 'open',
  // DELIVERED is "at Uzum's", before the pick-up point and the buyer (the lifecycle order of the swagger)
  DELIVERED: 'open',
  ACCEPTED_AT_DP: 'open',
  DELIVERED_TO_CUSTOMER_DELIVERY_POINT: 'open',
  COMPLETED: 'closed',
  CANCELED: 'cancelled',
  // the cancellation is under way: the order will not be completed
  PENDING_CANCELLATION: 'cancelled',
  // not collected, or sent back: the sale did not stick and the goods come back
  RETURNED: 'cancelled',
};

/** Statuses at which a confirm has already taken effect (a repeat must not fail). */
const CONFIRMED: ReadonlySet<UzumOrderStatus> = new Set([
  'PACKING',
  'PENDING_DELIVERY',
  'DELIVERING',
  'DELIVERED',
  'ACCEPTED_AT_DP',
  'DELIVERED_TO_CUSTOMER_DELIVERY_POINT',
  'COMPLETED',
]);

/**
 * Our reasons → Uzum's. A seller may only choose OUT_OF_STOCK, OUT_OF_PACKAGE, OUT_OF_TIME and OTHER (the rest
 * are Uzum's own), so a buyer's cancellation that reaches us goes as OTHER with a comment.
 */
export const UZUM_CANCEL_REASON: Record<CancelReason, UzumCancelReason> = {
  out_of_stock: 'OUT_OF_STOCK',
  cannot_deliver: 'OUT_OF_TIME',
  seller_cancelled: 'OTHER',
  customer_cancelled: 'OTHER',
};
const DEFAULT_CANCEL_COMMENT: Partial<Record<CancelReason, string>> = { customer_cancelled: 'Buyer asked to cancel' };

function failure(code: string, message: string, retryable = false): ConnectorError {
  return new ConnectorError(NAME, partnerErrorCode(code), message, retryable, null);
}

/** whole soums → tiyin, exactly (integers only) */
function tiyinOf(soums: number): number {
  const tiyin = soums * 100;
  if (!Number.isSafeInteger(tiyin))
    throw new ConnectorError(NAME, KIT_ERROR_CODES.badResponse, `uzum: ${soums} soums is out of range`, false);
  return tiyin;
}

function orderIdOf(externalId: string): number {
  if (!/^\d{1,15}$/.test(externalId)) throw failure(UZUM_CONNECTOR_CODES.orderNotFound, `"${externalId}" is not an Uzum order id`);
  return Number(externalId);
}

/** The cursor: the ids already handed over that Uzum still lists as new (base 36, sorted). */
function encodeCursor(ids: Iterable<number>): string {
  return (
    CURSOR_PREFIX +
    [...new Set(ids)]
      .sort((a, b) => a - b)
      .map((id) => id.toString(36))
      .join('.')
  );
}
function decodeCursor(cursor: string | null): Set<number> {
  // an unreadable cursor starts again: a repeated order is harmless (its externalId is created once)
  if (!cursor?.startsWith(CURSOR_PREFIX)) return new Set();
  const body = cursor.slice(CURSOR_PREFIX.length);
  if (body === '') return new Set();
  return new Set(
    body
      .split('.')
      .map((part) => Number.parseInt(part, 36))
      .filter((id) => Number.isSafeInteger(id) && id > 0),
  );
}

function toMarketplaceOrder(order: UzumOrder): MarketplaceOrder {
  // a line Uzum cancelled inside the order is not sold
  const lines = order.orderItems
    .filter((item) => item.status !== 'CANCELED')
    .map((item) => ({
      itemKey: String(item.skuId),
      name: [item.productTitle, item.skuTitle].filter(Boolean).join(' ') || `SKU ${item.skuId}`,
      qty: item.amount,
      price: tiyinOf(item.sellerPrice),
    }));
  const total = lines.reduce((sum, line) => sum + line.price * line.qty, 0);
  if (!Number.isSafeInteger(total))
    throw new ConnectorError(NAME, KIT_ERROR_CODES.badResponse, `uzum: order ${order.id} total is out of range`, false);
  return {
    externalId: String(order.id),
    createdAt: order.dateCreated,
    currency: 'UZS',
    total,
    paidAtMarketplace: true,
    // FBS: Uzum delivers and keeps the buyer to itself
    customer: { name: null, phone: null, email: null },
    delivery: { kind: 'marketplace', service: 'uzum-fbs' },
    lines,
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const listingOf = (level: { listing: unknown }) => LISTING_SCHEMAS.uzum.safeParse(level.listing);

export function uzumMarketplace(deps: { client: () => UzumClient; settings: () => UzumSettings }): Marketplace {
  /** skuId → productId, learnt from the catalogue (sendPriceData is per product) */
  const productOfSku = new Map<number, number>();

  const learnCatalogue = async (signal: AbortSignal | undefined): Promise<number> => {
    let calls = 0;
    for (let page = 0; page < MAX_CATALOGUE_PAGES; page += 1) {
      const answer = await deps.client().listProducts(page, PRODUCTS_PAGE_SIZE, { signal });
      calls += 1;
      for (const product of answer.productList) for (const sku of product.skuList ?? []) productOfSku.set(sku.skuId, product.productId);
      if (answer.productList.length < PRODUCTS_PAGE_SIZE) break;
    }
    return calls;
  };

  return {
    name: 'uzum',
    currency: 'UZS',
    pricePrecision: 'whole',
    batch: { stock: STOCK_BATCH_MAX, prices: PRICE_BATCH_MAX },
    settings: () => deps.settings(),

    /**
     * Uzum lists orders by status, pages shift as orders move on, and there is no "changed since" filter we can
     * trust (dateFrom is seconds to some, milliseconds to others). So each call sweeps every page of CREATED and
     * then PACKING (in that order: an order confirmed mid-sweep moves forward into the part still to be read,
     * and PACKING catches orders confirmed in the seller cabinet), and the cursor is the set of ids already handed
     * over that Uzum still lists. New = listed and not in the cursor; ids Uzum no longer lists are dropped, since
     * an order never comes back to CREATED or PACKING. Nothing listed is missed; a repeated call returns nothing
     * new. (An order whose place shifts between two page reads is caught by the next call.)
     */
    async newOrders(cursor, call) {
      const client = deps.client();
      const handed = decodeCursor(cursor);
      const listed = new Map<number, UzumOrder>();
      let complete = true;
      for (const status of SWEPT_STATUSES) {
        for (let page = 0; ; page += 1) {
          if (page === MAX_SWEEP_PAGES) {
            complete = false;
            break;
          }
          const { orders } = await client.listOrders({ status, scheme: 'FBS', page, size: ORDERS_PAGE_MAX }, { signal: call?.signal });
          for (const order of orders) listed.set(order.id, order);
          if (orders.length < ORDERS_PAGE_MAX) break;
        }
      }
      const fresh = [...listed.values()]
        .filter((order) => !handed.has(order.id))
        .sort((a, b) => a.dateCreated.localeCompare(b.dateCreated) || a.id - b.id);
      const taken = fresh.slice(0, ORDERS_PER_CALL);
      const kept = complete ? [...handed].filter((id) => listed.has(id)) : [...handed];
      return {
        orders: taken.map(toMarketplaceOrder),
        cursor: encodeCursor([...kept, ...taken.map((order) => order.id)]),
        more: fresh.length > taken.length,
      };
    },

    /** One GET per order (Uzum has no batch read of orders by id). */
    async orderStates(externalIds, call) {
      const client = deps.client();
      const states: Record<string, MarketplaceOrderState> = {};
      for (const externalId of externalIds) {
        const order = await client.getOrder(orderIdOf(externalId), { signal: call?.signal });
        states[externalId] = ORDER_STATE[order.status];
      }
      return states;
    },

    async pushStatus(externalId, push: StatusPush, call) {
      const client = deps.client();
      const id = orderIdOf(externalId);
      const context = { signal: call?.signal };
      switch (push.status) {
        case 'confirmed':
          try {
            await client.confirmOrder(id, context);
          } catch (error) {
            // a repeat is refused as "wrong status": done if the order has moved on, refused if it was cancelled
            if (!(error instanceof ConnectorError) || error.code !== UZUM_CONNECTOR_CODES.wrongStatus) throw error;
            const order = await client.getOrder(id, context);
            if (!CONFIRMED.has(order.status)) throw error;
          }
          return;
        case 'shipped':
        case 'delivered':
          // FBS has no such call: the parcel goes to Uzum through an invoice and a drop-off point, Uzum delivers
          return;
        case 'cancelled': {
          const comment = push.comment ?? DEFAULT_CANCEL_COMMENT[push.reason];
          try {
            await client.cancelOrder(id, { reason: UZUM_CANCEL_REASON[push.reason], ...(comment ? { comment } : {}) }, context);
          } catch (error) {
            // already cancelled (by us before, or by the buyer): the cancellation has taken effect
            if (error instanceof ConnectorError && error.code === UZUM_CONNECTOR_CODES.alreadyCancelled) return;
            throw error;
          }
          return;
        }
      }
    },

    /** Absolute FBS levels by barcode, at most STOCK_BATCH_MAX a call; a batch Uzum refuses as invalid is refused item by item. */
    async pushStock(levels: readonly StockLevel[], call): Promise<PushOutcome> {
      const refused: PushOutcome['refused'] = [];
      // barcodes must be unique within a request: the last level given for one wins
      const rows = new Map<string, { sku: string; item: UzumStockItem }>();
      for (const level of levels) {
        const listing = listingOf(level);
        if (!listing.success) {
          refused.push({ sku: level.sku, code: 'invalid_listing', message: 'an Uzum listing is {skuId, barcode}' });
          continue;
        }
        if (!Number.isSafeInteger(level.available)) {
          refused.push({ sku: level.sku, code: 'invalid_amount', message: `${level.available} is not a whole number of units` });
          continue;
        }
        rows.set(listing.data.barcode, {
          sku: level.sku,
          item: { skuId: listing.data.skuId, barcode: listing.data.barcode, amount: Math.max(0, level.available) },
        });
      }
      let calls = 0;
      for (const batch of chunks([...rows.values()], STOCK_BATCH_MAX)) {
        calls += 1;
        try {
          await deps.client().updateStocks({ skuAmountList: batch.map((row) => row.item) }, { signal: call?.signal });
        } catch (error) {
          if (!(error instanceof ConnectorError) || error.code !== UZUM_CONNECTOR_CODES.stockValidation) throw error;
          for (const row of batch) refused.push({ sku: row.sku, code: error.code, message: error.message });
        }
      }
      return { refused, calls };
    },

    /**
     * Whole soums, one call per product (and at most PRICE_BATCH_MAX SKUs); fullPrice = sellPrice = the price, as
     * clients do, so no crossed-out price is left above it. A call Uzum refuses (a SKU in a promotion, a bad
     * price) refuses its SKUs; the other products go on. `calls` counts the catalogue reads too.
     */
    async pushPrices(prices: readonly PriceLevel[], call): Promise<PushOutcome> {
      const refused: PushOutcome['refused'] = [];
      const wanted: Array<{ sku: string; skuId: number; soums: number }> = [];
      for (const level of prices) {
        const listing = listingOf(level);
        if (!listing.success) {
          refused.push({ sku: level.sku, code: 'invalid_listing', message: 'an Uzum listing is {skuId, barcode}' });
          continue;
        }
        if (!Number.isSafeInteger(level.price) || level.price % 100 !== 0) {
          refused.push({ sku: level.sku, code: 'not_whole_soums', message: `${level.price} tiyin is not a whole number of soums` });
          continue;
        }
        const soums = level.price / 100;
        if (soums < PRICE_MIN_SOUMS || soums > PRICE_MAX_SOUMS) {
          refused.push({
            sku: level.sku,
            code: 'price_out_of_range',
            message: `${soums} soums is outside ${PRICE_MIN_SOUMS}..${PRICE_MAX_SOUMS}`,
          });
          continue;
        }
        wanted.push({ sku: level.sku, skuId: listing.data.skuId, soums });
      }
      let calls = 0;
      if (wanted.some((item) => !productOfSku.has(item.skuId))) calls += await learnCatalogue(call?.signal);
      const byProduct = new Map<number, typeof wanted>();
      for (const item of wanted) {
        const productId = productOfSku.get(item.skuId);
        if (productId === undefined) {
          refused.push({ sku: item.sku, code: 'unknown_sku', message: `SKU ${item.skuId} is not in the shop's catalogue` });
          continue;
        }
        byProduct.set(productId, [...(byProduct.get(productId) ?? []), item]);
      }
      for (const [productId, items] of byProduct) {
        for (const batch of chunks(items, PRICE_BATCH_MAX)) {
          calls += 1;
          try {
            await deps
              .client()
              .sendPrices(
                { productId, skuList: batch.map((item) => ({ skuId: item.skuId, fullPrice: item.soums, sellPrice: item.soums })) },
                { signal: call?.signal },
              );
          } catch (error) {
            // a refusal of what this call carried (400, or errors[] in a 2xx) refuses its SKUs; anything else is thrown
            const refusal =
              error instanceof ConnectorError && !error.retryable && error.status !== null && (error.status === 400 || error.status < 300);
            if (!refusal) throw error;
            // the product moved or vanished: learn again next time
            if (error.code === UZUM_CONNECTOR_CODES.badRequest) for (const item of batch) productOfSku.delete(item.skuId);
            for (const item of batch) refused.push({ sku: item.sku, code: error.code, message: error.message });
          }
        }
      }
      return { refused, calls };
    },

    /** One page of products (the cursor is the next page number); SKUs without a barcode cannot be listed and are left out. */
    async listProducts(cursor, call) {
      const page = cursor === null ? 0 : Number(cursor);
      if (!Number.isSafeInteger(page) || page < 0) throw failure('invalid_cursor', `"${cursor}" is not a products cursor`);
      const answer = await deps.client().listProducts(page, PRODUCTS_PAGE_SIZE, { signal: call?.signal });
      const products: MarketplaceProduct[] = [];
      for (const product of answer.productList) {
        for (const sku of product.skuList ?? []) {
          productOfSku.set(sku.skuId, product.productId);
          const listing = LISTING_SCHEMAS.uzum.safeParse({ skuId: sku.skuId, barcode: sku.barcode });
          if (!listing.success) continue;
          products.push({
            listing: listing.data,
            sku: sku.sellerItemCode ?? sku.article ?? null,
            name: sku.skuFullTitle ?? ([sku.productTitle ?? product.title, sku.skuTitle].filter(Boolean).join(' ') || `SKU ${sku.skuId}`),
          });
        }
      }
      const total = answer.totalProductsAmount ?? null;
      const last = answer.productList.length < PRODUCTS_PAGE_SIZE || (total !== null && (page + 1) * PRODUCTS_PAGE_SIZE >= total);
      return { products, cursor: last ? null : String(page + 1) };
    },
  };
}
