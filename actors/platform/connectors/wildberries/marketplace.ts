import { isConnectorError, type ConnectorError } from '../kit/errors.ts';
import {
  LISTING_SCHEMAS,
  MARKETPLACE_CURRENCY,
  type ListingOf,
  type Marketplace,
  type MarketplaceCall,
  type MarketplaceOrder,
  type MarketplaceOrderState,
  type MarketplaceProduct,
  type OrdersPage,
  type PriceLevel,
  type PushOutcome,
  type StatusPush,
  type StockLevel,
} from '../ports/marketplace.ts';
import { refusedStockItems, type WildberriesClient } from './client.ts';
import type { WildberriesSettings } from './connector.ts';
import {
  PRICES_ALREADY_SET,
  RUB_NUMERIC_CODE,
  WB_BATCH,
  WB_CANCELLED_STATUSES,
  WB_FBS_DELIVERY_TYPE,
  WB_MAX_STOCK_AMOUNT,
  WB_SOLD_STATUS,
  WB_SUPPLY_NAME_MAX,
  type WbOrder,
  type WbOrderStatus,
  type WbPriceItem,
  type WbStockItem,
} from './protocol.ts';

/** How many orders one page hands the hub (WB itself gives every new order at once). */
const ORDERS_PAGE = 100;
/** A barcode missing from the cached cards makes a full re-read at most this often. */
const CARDS_RESCAN_MS = 60_000;

type Refusal = PushOutcome['refused'][number];
type WbListing = ListingOf<'wildberries'>;

export interface WildberriesMarketplace extends Marketplace {
  /**
   * Hands the hub's open supplies to WB (`deliver`): every order in them becomes `complete`. Not part of
   * the port: WB ships a supply, not an order, so whoever knows the parcels left calls it.
   */
  deliverOpenSupplies(call?: MarketplaceCall): Promise<string[]>;
}

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** The cursor of `newOrders`: ids of orders already handed to the hub that WB still lists as new. */
function readSeen(cursor: string | null): Set<number> {
  if (!cursor) return new Set();
  const ids = cursor
    .split('.')
    .filter((part) => /^[0-9a-z]+$/.test(part))
    .map((part) => parseInt(part, 36));
  return new Set(ids.filter((id) => Number.isSafeInteger(id) && id > 0));
}
const writeSeen = (ids: Iterable<number>) => [...ids].map((id) => id.toString(36)).join('.');

/** The cards cursor listProducts hands out: WB's own `{updatedAt, nmID}`. */
function readCardsCursor(cursor: string): { updatedAt?: string; nmID?: number } | null {
  try {
    const parsed = JSON.parse(cursor) as { updatedAt?: unknown; nmID?: unknown };
    if (typeof parsed.updatedAt !== 'string' || typeof parsed.nmID !== 'number') return null;
    return { updatedAt: parsed.updatedAt, nmID: parsed.nmID };
  } catch {
    return null;
  }
}

const orderIdOf = (externalId: string): number | null => (/^\d{1,18}$/.test(externalId) ? Number(externalId) : null);

/** Minor units (kopecks) of an order: WB gives integers ×100, so nothing is converted. */
function kopecksOf(order: WbOrder, error: (message: string) => ConnectorError): number {
  if ((order.convertedCurrencyCode ?? RUB_NUMERIC_CODE) === RUB_NUMERIC_CODE && order.convertedPrice !== undefined)
    return order.convertedPrice;
  if (order.currencyCode === RUB_NUMERIC_CODE) return order.price;
  throw error(`order ${order.id} is priced in currency ${order.convertedCurrencyCode ?? order.currencyCode ?? '?'}, not roubles`);
}

/**
 * Wildberries behind the hub's marketplace port (FBS).
 *
 * - Orders: WB's assembly task is one unit of one size, so each becomes an order of one line
 *   (`itemKey` = the size's first barcode, as `listingKey` names it). Customer data: WB gives none.
 * - Confirm = add the order to the hub's open supply of its warehouse and cargo type (WB refuses
 *   mixing either in one supply), opening one when there is none. The supplies are named
 *   `<prefix> wh<warehouse> c<cargo> <date>` and found again by name after a restart.
 * - Shipped: WB moves a whole supply (`deliver`), not an order, and closes it by itself when it
 *   scans the first parcel: an order told "shipped" hands over the open supplies (`deliverOpenSupplies`).
 *   Delivered: a no-op.
 * - Cancel: WB's cancel takes no reason, so every reason is the same call.
 * - Stock goes by the size's `chrtId` (WB switched the barcode key off), read from the product
 *   cards and cached; prices go per nmID in whole roubles.
 */
export function wildberriesMarketplace(deps: {
  client: () => WildberriesClient;
  settings: () => WildberriesSettings;
  now?: () => number;
}): WildberriesMarketplace {
  const now = deps.now ?? Date.now;
  /** barcode → the size's chrtId, and nmID → the card's title, from the product cards */
  const chrtIdOf = new Map<string, number>();
  const titleOf = new Map<number, string>();
  let cardsReadAt = Number.NEGATIVE_INFINITY;
  /** where a new order goes: its warehouse and cargo type, remembered from `newOrders` */
  const placeOf = new Map<number, { warehouseId: number; cargoType: number }>();
  /** the hub's open supply per `warehouse:cargo`; null until the supplies list was read once */
  let openSupplies: Map<string, string> | null = null;
  const opening = new Map<string, Promise<string>>();
  let fbsWarehouse: number | null = null;

  /** a refusal of ours as the integration's typed error (not retryable: the same request fails the same way) */
  const error = (code: string, message: string) => deps.client().refusal(code, message);

  const rememberCards = (
    cards: Array<{ nmID: number; title?: string; vendorCode: string; sizes: Array<{ chrtID: number; skus: string[] }> }>,
  ) => {
    for (const card of cards) {
      titleOf.set(card.nmID, card.title ?? card.vendorCode);
      for (const size of card.sizes) for (const barcode of size.skus) chrtIdOf.set(barcode, size.chrtID);
    }
  };

  /** Reads every card (100 a call) into the cache; the number of calls it took. */
  async function readAllCards(call?: MarketplaceCall): Promise<number> {
    let cursor: { updatedAt?: string; nmID?: number } = {};
    let calls = 0;
    for (;;) {
      const page = await deps.client().cardsPage(cursor, { signal: call?.signal });
      calls += 1;
      rememberCards(page.cards);
      if (page.cursor.total < WB_BATCH.cards || page.cards.length === 0) break;
      cursor = { updatedAt: page.cursor.updatedAt, nmID: page.cursor.nmID };
    }
    cardsReadAt = now();
    return calls;
  }

  const supplyKey = (place: { warehouseId: number; cargoType: number }) => `${place.warehouseId}:${place.cargoType}`;
  const supplyName = (place: { warehouseId: number; cargoType: number }) =>
    `${deps.settings().supplyNamePrefix} wh${place.warehouseId} c${place.cargoType} ${new Date(now()).toISOString().slice(0, 10)}`.slice(
      0,
      WB_SUPPLY_NAME_MAX,
    );

  /** The hub's open supplies, read once from WB's list (all pages) so a restart does not open duplicates. */
  async function knownSupplies(call?: MarketplaceCall): Promise<Map<string, string>> {
    if (openSupplies) return openSupplies;
    const found = new Map<string, { id: string; createdAt: string }>();
    const pattern = new RegExp(`^${deps.settings().supplyNamePrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} wh(\\d+) c(\\d+) `);
    let next = 0;
    for (;;) {
      const page = await deps.client().suppliesPage(next, WB_BATCH.supplies, { signal: call?.signal });
      for (const supply of page.supplies) {
        const match = pattern.exec(supply.name);
        if (supply.done || !match) continue;
        const key = `${match[1]}:${match[2]}`;
        const createdAt = supply.createdAt ?? '';
        // the newest open one wins (an older one may be waiting for its hand-over in the cabinet)
        if ((found.get(key)?.createdAt ?? '') <= createdAt) found.set(key, { id: supply.id, createdAt });
      }
      if (page.supplies.length < WB_BATCH.supplies || page.next === next) break;
      next = page.next;
    }
    openSupplies = new Map([...found].map(([key, value]) => [key, value.id]));
    return openSupplies;
  }

  /** The open supply for a place, created once even when several confirms ask at the same time. */
  async function supplyFor(place: { warehouseId: number; cargoType: number }, call?: MarketplaceCall): Promise<string> {
    const supplies = await knownSupplies(call);
    const key = supplyKey(place);
    const known = supplies.get(key);
    if (known) return known;
    const pending = opening.get(key);
    if (pending) return pending;
    const creating = deps
      .client()
      .createSupply(supplyName(place), { signal: call?.signal })
      .then((id) => {
        supplies.set(key, id);
        return id;
      })
      .finally(() => opening.delete(key));
    opening.set(key, creating);
    return creating;
  }

  async function statusOf(orderId: number, call?: MarketplaceCall): Promise<WbOrderStatus | null> {
    const [status] = await deps.client().orderStatuses([orderId], { signal: call?.signal });
    return status ?? null;
  }
  const cancelled = (status: WbOrderStatus) => status.supplierStatus === 'cancel' || WB_CANCELLED_STATUSES.has(status.wbStatus);

  async function confirm(orderId: number, call?: MarketplaceCall): Promise<void> {
    let place = placeOf.get(orderId);
    if (!place) {
      const order = (await deps.client().newOrders({ signal: call?.signal })).find((o) => o.id === orderId);
      if (!order) {
        // no longer new: confirmed before (done), cancelled, or unknown
        const status = await statusOf(orderId, call);
        if (!status) throw error('order_not_found', `wildberries knows no order ${orderId}`);
        if (cancelled(status)) throw error('order_cancelled', `wildberries order ${orderId} is cancelled (${status.wbStatus})`);
        return;
      }
      place = { warehouseId: order.warehouseId, cargoType: order.cargoType ?? 1 };
    }
    const supplyId = await supplyFor(place, call);
    try {
      await deps.client().addToSupply(supplyId, [orderId], { signal: call?.signal });
    } catch (failure) {
      if (!isConnectorError(failure) || (failure.status !== 409 && failure.status !== 404)) throw failure;
      const status = await statusOf(orderId, call);
      if (!status) throw error('order_not_found', `wildberries knows no order ${orderId}`);
      if (cancelled(status)) throw error('order_cancelled', `wildberries order ${orderId} is cancelled (${status.wbStatus})`);
      if (status.supplierStatus !== 'new') return; // confirmed (or shipped) already: the push took effect
      // still new: our supply is gone or closed (handed over in the cabinet, or scanned by WB); open another once
      const supplies = await knownSupplies(call);
      if (supplies.get(supplyKey(place)) === supplyId) supplies.delete(supplyKey(place));
      const fresh = await supplyFor(place, call);
      if (fresh === supplyId) throw failure;
      await deps.client().addToSupply(fresh, [orderId], { signal: call?.signal });
    }
    placeOf.delete(orderId);
  }

  async function cancel(orderId: number, call?: MarketplaceCall): Promise<void> {
    try {
      await deps.client().cancelOrder(orderId, { signal: call?.signal });
    } catch (failure) {
      if (!isConnectorError(failure) || failure.status !== 409) throw failure;
      // a conflict: already cancelled (by us, the buyer or WB) is done; shipped or sold is a real refusal
      const status = await statusOf(orderId, call);
      if (status && cancelled(status)) return;
      throw failure;
    }
    placeOf.delete(orderId);
  }

  return {
    name: 'wildberries',
    currency: MARKETPLACE_CURRENCY.wildberries,
    pricePrecision: 'whole',
    batch: { stock: WB_BATCH.stocks, prices: WB_BATCH.prices },
    settings: () => deps.settings(),

    /**
     * WB lists every order that is still new, with no paging and no "since". The cursor holds the ids
     * already handed to the hub among those WB still lists; an id leaves it when WB stops listing the
     * order (confirmed or cancelled: it cannot become new again). So an order is handed over until the
     * hub stores a cursor naming it (never missed), and a repeated call with the same cursor hands over
     * the same orders (which the hub creates once, by externalId).
     */
    async newOrders(cursor, call) {
      const seen = readSeen(cursor);
      const listed = (await deps.client().newOrders({ signal: call?.signal })).sort(
        (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id,
      );
      const fresh = listed.filter((order) => !seen.has(order.id));
      const page = fresh.slice(0, ORDERS_PAGE);
      const stillSeen = listed.filter((order) => seen.has(order.id)).map((order) => order.id);
      const orders: MarketplaceOrder[] = page.map((order) => {
        placeOf.set(order.id, { warehouseId: order.warehouseId, cargoType: order.cargoType ?? 1 });
        const price = kopecksOf(order, (message) => error('unsupported_currency', message));
        const barcode = order.skus[0] ?? '';
        return {
          externalId: String(order.id),
          createdAt: new Date(order.createdAt).toISOString(),
          currency: MARKETPLACE_CURRENCY.wildberries,
          total: price,
          paidAtMarketplace: true,
          customer: { name: null, phone: null, email: null },
          delivery: { kind: 'marketplace', service: 'wildberries-fbs' },
          lines: [{ itemKey: barcode, name: titleOf.get(order.nmId) ?? order.article ?? `nmID ${order.nmId}`, qty: 1, price }],
        };
      });
      return { orders, cursor: writeSeen([...stillSeen, ...page.map((o) => o.id)]), more: fresh.length > page.length } satisfies OrdersPage;
    },

    /** cancelled: by the seller or any of WB's cancel statuses; closed: sold; open otherwise. Unknown ids are left out. */
    async orderStates(externalIds, call) {
      const ids = [...new Set(externalIds.map(orderIdOf).filter((id): id is number => id !== null))];
      const states: Record<string, MarketplaceOrderState> = {};
      for (const batch of chunks(ids, WB_BATCH.statuses)) {
        for (const status of await deps.client().orderStatuses(batch, { signal: call?.signal })) {
          states[String(status.id)] = cancelled(status) ? 'cancelled' : status.wbStatus === WB_SOLD_STATUS ? 'closed' : 'open';
        }
      }
      return states;
    },

    async pushStatus(externalId, push: StatusPush, call) {
      const orderId = orderIdOf(externalId);
      if (orderId === null) throw error('invalid_order_id', `not a wildberries order id: ${externalId}`);
      switch (push.status) {
        case 'confirmed':
          return confirm(orderId, call);
        case 'cancelled':
          // WB's cancel takes no reason: out_of_stock, cannot_deliver, seller_cancelled and customer_cancelled are one call
          return cancel(orderId, call);
        case 'shipped': {
          // WB ships supplies, not orders: the first order of a supply handed over hands over the open supplies
          // (what is packed goes together); an order already in a delivered supply is done
          const status = await statusOf(orderId, call);
          if (!status) throw error('order_not_found', `wildberries knows no order ${orderId}`);
          if (status.supplierStatus === 'complete') return;
          if (cancelled(status)) throw error('order_cancelled', `wildberries order ${orderId} is cancelled (${status.wbStatus})`);
          if (status.supplierStatus !== 'confirm') throw error('order_not_in_supply', `wildberries order ${orderId} is in no supply yet`);
          await this.deliverOpenSupplies(call);
          return;
        }
        case 'delivered':
          // WB tracks delivery itself
          return;
      }
    },

    async pushStock(levels: readonly StockLevel[], call) {
      const refused: Refusal[] = [];
      let calls = 0;
      const valid: Array<{ sku: string; listing: WbListing; amount: number }> = [];
      for (const level of levels) {
        const listing = LISTING_SCHEMAS.wildberries.safeParse(level.listing);
        if (!listing.success) refused.push({ sku: level.sku, code: 'invalid_listing', message: 'not a wildberries listing' });
        // more than WB's maximum is sold just the same: the maximum is sent
        else
          valid.push({
            sku: level.sku,
            listing: listing.data,
            amount: Math.min(WB_MAX_STOCK_AMOUNT, Math.max(0, Math.floor(level.available))),
          });
      }
      if (valid.some((item) => !chrtIdOf.has(item.listing.barcode)) && now() - cardsReadAt >= CARDS_RESCAN_MS) {
        calls += await readAllCards(call);
      }
      const byWarehouse = new Map<number, Array<{ sku: string; barcode: string; item: WbStockItem }>>();
      for (const entry of valid) {
        const chrtId = chrtIdOf.get(entry.listing.barcode);
        if (chrtId === undefined) {
          refused.push({
            sku: entry.sku,
            code: 'barcode_not_found',
            message: `no wildberries card has the barcode ${entry.listing.barcode}`,
          });
          continue;
        }
        const group = byWarehouse.get(entry.listing.warehouseId) ?? [];
        group.push({ sku: entry.sku, barcode: entry.listing.barcode, item: { chrtId, amount: entry.amount } });
        byWarehouse.set(entry.listing.warehouseId, group);
      }
      for (const [warehouseId, group] of byWarehouse) {
        for (const batch of chunks(group, WB_BATCH.stocks)) {
          calls += 1;
          try {
            await deps.client().setStocks(
              warehouseId,
              batch.map((entry) => entry.item),
              { signal: call?.signal },
            );
          } catch (failure) {
            if (!isConnectorError(failure) || failure.status !== 409) throw failure;
            const named = refusedStockItems(failure) ?? [];
            const isNamed = (entry: (typeof batch)[number]) =>
              named.some((item) => item.chrtId === entry.item.chrtId || (item.sku !== undefined && item.sku === entry.barcode));
            // none named: the whole batch is refused with WB's code
            const out = named.length > 0 ? batch.filter(isNamed) : batch;
            for (const entry of out)
              refused.push({ sku: entry.sku, code: failure.code, message: failure.message.split(' (items: ')[0] ?? '' });
            const rest = batch.filter((entry) => !out.includes(entry));
            if (rest.length > 0) {
              // whether WB took the rest of a refused batch is not documented: absolute levels are sent again
              calls += 1;
              await deps.client().setStocks(
                warehouseId,
                rest.map((entry) => entry.item),
                { signal: call?.signal },
              );
            }
          }
        }
      }
      return { refused, calls };
    },

    async pushPrices(prices: readonly PriceLevel[], call) {
      const refused: Refusal[] = [];
      let calls = 0;
      const discount = deps.settings().discountPercent;
      /** WB prices a card (nmID), not a size: sizes of one card must agree */
      const byNm = new Map<number, { rubles: number; skus: string[]; conflict: boolean }>();
      for (const level of prices) {
        const listing = LISTING_SCHEMAS.wildberries.safeParse(level.listing);
        if (!listing.success) {
          refused.push({ sku: level.sku, code: 'invalid_listing', message: 'not a wildberries listing' });
        } else if (!Number.isSafeInteger(level.price) || level.price <= 0) {
          refused.push({ sku: level.sku, code: 'InvalidPriceValue', message: 'the price must be a positive number of kopecks' });
        } else if (level.price % 100 !== 0) {
          refused.push({ sku: level.sku, code: 'PriceShouldBeAWholeNumber', message: 'wildberries takes whole roubles' });
        } else {
          const rubles = level.price / 100;
          const entry = byNm.get(listing.data.nmId);
          if (!entry) byNm.set(listing.data.nmId, { rubles, skus: [level.sku], conflict: false });
          else {
            entry.skus.push(level.sku);
            entry.conflict ||= entry.rubles !== rubles;
          }
        }
      }
      const items: Array<{ item: WbPriceItem; skus: string[] }> = [];
      for (const [nmID, entry] of byNm) {
        if (entry.conflict) {
          for (const sku of entry.skus) {
            refused.push({
              sku,
              code: 'conflicting_size_prices',
              message: `the sizes of nmID ${nmID} were given different prices; wildberries has one per card`,
            });
          }
        } else items.push({ item: { nmID, price: entry.rubles, ...(discount === undefined ? {} : { discount }) }, skus: entry.skus });
      }
      for (const batch of chunks(items, WB_BATCH.prices)) {
        calls += 1;
        try {
          await deps.client().uploadPrices(
            batch.map((entry) => entry.item),
            { signal: call?.signal },
          );
        } catch (failure) {
          if (!isConnectorError(failure) || failure.status !== 400) throw failure;
          // nothing to change: the prices are WB's already
          if (PRICES_ALREADY_SET.has(failure.code)) continue;
          // WB refuses an upload whole and names no item
          for (const entry of batch) for (const sku of entry.skus) refused.push({ sku, code: failure.code, message: failure.message });
        }
      }
      return { refused, calls };
    },

    /** One page of cards (100, WB's maximum): one product per size, named by its first barcode. */
    async listProducts(cursor, call) {
      const from = cursor === null ? {} : readCardsCursor(cursor);
      if (from === null) throw error('invalid_cursor', 'not a cursor listProducts gave');
      const page = await deps.client().cardsPage(from, { signal: call?.signal });
      rememberCards(page.cards);
      let warehouseId = deps.settings().warehouseId ?? fbsWarehouse;
      if (warehouseId === null || warehouseId === undefined) {
        const warehouses = await deps.client().warehouses({ signal: call?.signal });
        const fbs = warehouses.find((w) => (w.deliveryType ?? WB_FBS_DELIVERY_TYPE) === WB_FBS_DELIVERY_TYPE);
        if (!fbs) throw error('no_fbs_warehouse', 'the wildberries account has no FBS warehouse: set warehouseId');
        fbsWarehouse = fbs.id;
        warehouseId = fbs.id;
      }
      const products: MarketplaceProduct[] = page.cards.flatMap((card) =>
        card.sizes.flatMap((size) => {
          const barcode = size.skus[0];
          if (!barcode) return [];
          const name = card.title ?? card.vendorCode;
          return [
            {
              listing: { nmId: card.nmID, barcode, warehouseId },
              sku: card.vendorCode || null,
              name: card.sizes.length > 1 && size.techSize ? `${name} (${size.techSize})` : name,
            },
          ];
        }),
      );
      const done = page.cursor.total < WB_BATCH.cards || page.cards.length === 0;
      return { products, cursor: done ? null : JSON.stringify({ updatedAt: page.cursor.updatedAt, nmID: page.cursor.nmID }) };
    },

    async deliverOpenSupplies(call) {
      const supplies = await knownSupplies(call);
      const delivered: string[] = [];
      for (const [key, supplyId] of [...supplies]) {
        try {
          await deps.client().deliverSupply(supplyId, { signal: call?.signal });
          delivered.push(supplyId);
        } catch (failure) {
          // an empty supply stays open for the next orders
          if (!(isConnectorError(failure) && failure.code === 'SupplyHasZeroOrders')) throw failure;
          continue;
        }
        supplies.delete(key);
      }
      return delivered;
    },
  };
}
