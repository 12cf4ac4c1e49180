import { z } from 'zod';
import type { CallContext } from '../kit/definition.ts';
import { ConnectorError, isConnectorError, KIT_ERROR_CODES, partnerErrorCode } from '../kit/errors.ts';
import {
  LISTING_SCHEMAS,
  MARKETPLACE_CURRENCY,
  type AnyListing,
  type Marketplace,
  type MarketplaceCall,
  type MarketplaceDelivery,
  type MarketplaceOrder,
  type MarketplaceOrderState,
  type MarketplaceProduct,
  type PushOutcome,
  type StatusPush,
} from '../ports/marketplace.ts';
import type { RozetkaClient } from './client.ts';
import type { RozetkaSettings } from './connector.ts';
import {
  AWAITING_CONFIRMATION,
  BEFORE_HANDOVER,
  DELIVERY_METHODS,
  isRozetkaTime,
  MASS_UPDATE_MAX_ITEMS,
  MASS_UPDATE_REASONS,
  minorUnits,
  NOVA_POSHTA,
  PAID_ONLINE_STATUSES,
  ROZETKA_ERROR_CODES,
  rozetkaTime,
  rozetkaTimeToIso,
  shiftRozetkaTime,
  STATUS_GROUP,
  type MassUpdateItem,
  type RozetkaDelivery,
  type RozetkaOrder,
} from './protocol.ts';

/**
 * Rozetka behind the hub's Marketplace port: orders from `GET /orders/search`
 * (with their lines, delivery and payment), statuses through `PUT /orders/{id}`
 * by the connector's status table, stock and prices through
 * `PUT /items/mass-update`, the catalogue from `GET /goods/all`.
 */

const INTEGRATION = 'rozetka';
/** "Очікує отримання оплати": the buyer chose to pay online and has not yet */
const AWAITING_PAYMENT_STATUS = 55;
const UNPAID_PAYMENT_STATUSES: ReadonlySet<string> = new Set(['unpaid', 'unapproved']);
/** orders awaiting online payment looked at again per sweep, at most */
const MAX_WAITING = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The orders cursor. Rozetka's search has no "after id" filter, only `created_from` (inclusive, to the second)
 * and `sort`, with fixed pages of 20. So the import reads in sweeps: one sweep is the search
 * `created_from=<from>&sort=id` read page by page (one page per call); ascending ids put every order created
 * meanwhile at the end, so the pages already read do not shift and nothing slips between them. The next sweep
 * starts `ordersOverlapMinutes` before the newest creation time seen, which re-reads the last minutes: an order
 * that showed up in the search late, or got its id out of step with its time, is still found. `seen` (ids from
 * that overlap on) keeps the re-read orders from coming out twice, so a repeated call with the next cursor
 * brings nothing new. Orders awaiting online payment wait in `waiting` and come out once paid (or once
 * Rozetka says they are cash after all); cancelled ones are dropped.
 * What is assumed: an order appears in the search, with an id in step with its time, within the overlap.
 */
const cursorSchema = z.object({
  v: z.literal(1),
  from: z.string().refine(isRozetkaTime),
  page: z.number().int().min(1),
  newest: z.string().refine(isRozetkaTime),
  seen: z.record(z.string().regex(/^\d+$/), z.string()),
  waiting: z.array(z.number().int().positive()).max(MAX_WAITING).default([]),
});
type OrdersCursor = z.infer<typeof cursorSchema>;

function decodeCursor(cursor: string): OrdersCursor {
  try {
    return cursorSchema.parse(JSON.parse(cursor));
  } catch {
    throw new ConnectorError(
      INTEGRATION,
      partnerErrorCode('invalid_cursor'),
      'rozetka: the orders cursor is not one this connector wrote',
      false,
    );
  }
}

function badAnswer(message: string): ConnectorError {
  return new ConnectorError(INTEGRATION, KIT_ERROR_CODES.badResponse, `rozetka: ${message}`, false);
}

function money(amount: string, what: string): number {
  try {
    return minorUnits(amount);
  } catch {
    throw badAnswer(`${what} is not an amount`);
  }
}

const text = (value: string | null | undefined): string | null => (value && value.trim() !== '' ? value.trim() : null);

/** paid at Rozetka: paid, or held on the buyer's card (payment_status), or Rozetka's own "paid by card" flag */
function paidOnline(order: RozetkaOrder): boolean {
  return order.is_payed === true || PAID_ONLINE_STATUSES.has(order.payment?.payment_status?.name ?? '');
}

/** the buyer chose to pay online and has not paid yet: not to be imported as cash on delivery */
function awaitingPayment(order: RozetkaOrder): boolean {
  if (paidOnline(order)) return false;
  if (order.status === AWAITING_PAYMENT_STATUS) return true;
  const type = order.payment?.payment_type;
  return type !== undefined && type !== null && type !== 'cash' && UNPAID_PAYMENT_STATUSES.has(order.payment?.payment_status?.name ?? '');
}

function novaPoshtaDelivery(delivery: RozetkaDelivery): MarketplaceDelivery {
  const cityName = text(delivery.city?.name_ua) ?? text(delivery.city?.title) ?? text(delivery.city?.name);
  let warehouseName: string | null;
  let warehouseRef: string | null = null;
  if (delivery.delivery_method_id === DELIVERY_METHODS.courier) {
    // to the door: the port has no address field, so the address travels as the "warehouse" text
    const flat = text(delivery.place_flat);
    const street = [text(delivery.place_street), text(delivery.place_house)].filter(Boolean).join(', ');
    warehouseName = text(`${street}${flat ? `, кв. ${flat}` : ''}`);
  } else {
    const number = text(delivery.place_number);
    const kind = delivery.pickup_type === 1 ? 'Міні-відділення' : 'Відділення';
    const address = [text(delivery.place_street), text(delivery.place_house)].filter(Boolean).join(', ');
    warehouseName = number ? `${kind} №${number}${address ? `: ${address}` : ''}` : text(address);
    // `ref_id`: the Nova Poshta point's ref (a UUID); Rozetka's `city.id` is its own, not an NP ref
    warehouseRef = delivery.ref_id && UUID.test(delivery.ref_id) ? delivery.ref_id : null;
  }
  return {
    kind: 'novaposhta',
    ...(cityName ? { cityName } : {}),
    ...(warehouseName ? { warehouseName } : {}),
    ...(warehouseRef ? { warehouseRef } : {}),
  };
}

function deliveryOf(order: RozetkaOrder, settings: RozetkaSettings): MarketplaceDelivery {
  // Rozetka's fulfilment: Rozetka packs and carries from its own warehouse
  if (order.is_fulfillment) return { kind: 'marketplace', service: 'rozetka-fulfillment' };
  const delivery = order.delivery;
  if (!delivery) return { kind: 'marketplace', service: 'rozetka-unknown' };
  const isNovaPoshta =
    settings.novaPoshtaServiceIds.includes(delivery.delivery_service_id ?? -1) || delivery.name_logo === NOVA_POSHTA.logo;
  if (isNovaPoshta) return novaPoshtaDelivery(delivery);
  // ROZETKA Delivery, Meest, Ukrposhta…: carriers the port has no kind for
  return { kind: 'marketplace', service: `rozetka-${text(delivery.name_logo) ?? String(delivery.delivery_service_id ?? 'unknown')}` };
}

export function toMarketplaceOrder(order: RozetkaOrder, settings: RozetkaSettings): MarketplaceOrder {
  if (!order.purchases) throw badAnswer(`order ${order.id} came without its purchases`);
  // 1 = a line of the order now (0 removed when the order was edited, 2 returned)
  const lines = order.purchases
    .filter((purchase) => purchase.status === undefined || purchase.status === 1)
    .map((purchase) => ({
      itemKey: String(purchase.item_id),
      name: purchase.item_name,
      qty: purchase.quantity,
      price: money(purchase.price_with_discount ?? purchase.price, `order ${order.id} purchase ${purchase.id} price`),
    }));
  const email = text(order.delivery?.email);
  return {
    externalId: String(order.id),
    createdAt: rozetkaTimeToIso(order.created),
    currency: MARKETPLACE_CURRENCY.rozetka,
    total: lines.reduce((sum, line) => sum + line.qty * line.price, 0),
    paidAtMarketplace: paidOnline(order),
    customer: {
      name: text(order.user_title?.full_name) ?? text(order.delivery?.recipient_title) ?? text(order.user?.contact_fio),
      phone: text(order.user_phone) ?? text(order.delivery?.recipient_phone),
      // `user.email` is masked ("true"); the recipient's address, when given, is in the delivery
      email: email && email.includes('@') ? email : null,
    },
    delivery: deliveryOf(order, settings),
    lines,
  };
}

const stateOf = (order: RozetkaOrder): MarketplaceOrderState =>
  order.status_group === STATUS_GROUP.failed ? 'cancelled' : order.status_group === STATUS_GROUP.success ? 'closed' : 'open';

/** Why Rozetka refused an item: its reason ids (MASS_UPDATE_REASONS) and texts. */
function describeRefusal(reasons: Array<{ id: string; value: string[] }>): { code: string; message: string } {
  const codes = reasons.map((reason) => MASS_UPDATE_REASONS[reason.id] ?? `reason_${reason.id}`);
  const code = codes.includes('price_held_for_approval') ? 'price_held_for_approval' : (codes[0] ?? 'refused');
  const message = reasons.flatMap((reason) => reason.value).join('; ');
  return { code, message: message || code };
}

export function rozetkaMarketplace(deps: { client: () => RozetkaClient; settings: () => RozetkaSettings }): Marketplace {
  const context = (call?: MarketplaceCall): CallContext | undefined => (call?.signal ? { signal: call.signal } : undefined);

  /** Sends items in batches of the documented maximum; the same item twice: the last value wins. */
  async function massUpdate(
    entries: ReadonlyArray<{
      sku: string;
      listing: AnyListing;
      item: (itemId: number) => MassUpdateItem | { code: string; message: string };
    }>,
    call?: MarketplaceCall,
  ): Promise<PushOutcome> {
    const refused: PushOutcome['refused'] = [];
    const byItem = new Map<number, { item: MassUpdateItem; skus: string[] }>();
    for (const entry of entries) {
      const listing = LISTING_SCHEMAS.rozetka.safeParse(entry.listing);
      if (!listing.success) {
        refused.push({ sku: entry.sku, code: 'invalid_listing', message: 'not a Rozetka listing ({ itemId })' });
        continue;
      }
      const built = entry.item(listing.data.itemId);
      if ('code' in built) {
        refused.push({ sku: entry.sku, ...built });
        continue;
      }
      const skus = byItem.get(built.item_rz_id)?.skus ?? [];
      byItem.set(built.item_rz_id, { item: built, skus: skus.includes(entry.sku) ? skus : [...skus, entry.sku] });
    }
    const items = [...byItem.values()];
    let calls = 0;
    for (let start = 0; start < items.length; start += MASS_UPDATE_MAX_ITEMS) {
      const batch = items.slice(start, start + MASS_UPDATE_MAX_ITEMS);
      const refusals = await deps.client().massUpdate(
        batch.map((entry) => entry.item),
        context(call),
      );
      calls += 1;
      for (const refusal of refusals) {
        const outcome = describeRefusal(refusal.reasons);
        for (const sku of byItem.get(refusal.itemId)?.skus ?? [String(refusal.itemId)]) refused.push({ sku, ...outcome });
      }
    }
    return { refused, calls };
  }

  return {
    name: 'rozetka',
    currency: MARKETPLACE_CURRENCY.rozetka,
    // `price` of /items/mass-update is an integer of hryvnias ([apidoc] UpdatingItem: "Ціна товару, грн", Integer)
    pricePrecision: 'whole',
    batch: { stock: MASS_UPDATE_MAX_ITEMS, prices: MASS_UPDATE_MAX_ITEMS },

    settings() {
      const { enabled, ordersIntervalMinutes, pushIntervalSeconds } = deps.settings();
      return { enabled, ordersIntervalMinutes, pushIntervalSeconds };
    },

    async newOrders(cursor, call) {
      const settings = deps.settings();
      const client = deps.client();
      const start = rozetkaTime(new Date(Date.now() - settings.ordersLookbackHours * 3600_000));
      const state: OrdersCursor = cursor ? decodeCursor(cursor) : { v: 1, from: start, page: 1, newest: start, seen: {}, waiting: [] };
      const orders: MarketplaceOrder[] = [];
      const seen = { ...state.seen };
      let waiting = [...state.waiting];

      // a new sweep first looks again at the orders that waited for their online payment
      if (state.page === 1 && waiting.length > 0) {
        const still: number[] = [];
        for (const id of waiting) {
          const order = await client.getOrder(id, context(call)).catch((error: unknown) => {
            if (isConnectorError(error) && error.code === ROZETKA_ERROR_CODES.entityNotFound) return null;
            throw error;
          });
          if (!order || order.status_group !== STATUS_GROUP.processing) continue;
          if (awaitingPayment(order)) still.push(id);
          else orders.push(toMarketplaceOrder(order, settings));
        }
        waiting = still;
      }

      const page = await client.searchOrders({ createdFrom: state.from, sort: 'id', page: state.page }, context(call));
      let newest = state.newest;
      for (const order of page.orders) {
        if (order.created > newest) newest = order.created;
        if (seen[String(order.id)] !== undefined) continue;
        seen[String(order.id)] = order.created;
        // finished (cancelled, completed) before we saw it: nothing for the hub to do
        if (order.status_group !== undefined && order.status_group !== STATUS_GROUP.processing) continue;
        if (awaitingPayment(order)) {
          if (waiting.length >= MAX_WAITING) waiting.shift();
          waiting.push(order.id);
          continue;
        }
        orders.push(toMarketplaceOrder(order, settings));
      }

      const lastPage = page._meta.currentPage >= page._meta.pageCount;
      const overlapFrom = shiftRozetkaTime(newest, -settings.ordersOverlapMinutes);
      const nextFrom = overlapFrom > state.from ? overlapFrom : state.from;
      // the next sweep reads from nextFrom on: older ids can never come back
      const keep = Object.fromEntries(Object.entries(seen).filter(([, created]) => created >= overlapFrom));
      const next: OrdersCursor = lastPage
        ? { v: 1, from: nextFrom, page: 1, newest, seen: keep, waiting }
        : { v: 1, from: state.from, page: state.page + 1, newest, seen: keep, waiting };
      return { orders, cursor: JSON.stringify(next), more: !lastPage };
    },

    async orderStates(externalIds, call) {
      const client = deps.client();
      const states: Record<string, MarketplaceOrderState> = {};
      for (const externalId of externalIds) {
        if (!/^\d+$/.test(externalId)) continue;
        try {
          states[externalId] = stateOf(await client.getOrder(Number(externalId), context(call)));
        } catch (error) {
          // an order Rozetka does not know is left out: the hub cannot learn anything of it here
          if (isConnectorError(error) && error.code === ROZETKA_ERROR_CODES.entityNotFound) continue;
          throw error;
        }
      }
      return states;
    },

    async pushStatus(externalId, push, call) {
      const codes = deps.settings().statusCodes;
      const status = push.status === 'cancelled' ? codes.cancelled[push.reason] : codes[push.status];
      // a status with no Rozetka call (delivered: tracking moves the order itself) is a no-op
      if (status === null) return;
      const id = Number(externalId);
      if (!Number.isInteger(id) || id <= 0)
        throw new ConnectorError(
          INTEGRATION,
          partnerErrorCode(ROZETKA_ERROR_CODES.entityNotFound),
          `rozetka: no order ${externalId}`,
          false,
        );
      const client = deps.client();
      const order = await client.getOrder(id, context(call));
      if (alreadyTookEffect(order, push, status)) return;
      const ttn = push.status === 'shipped' ? (push.waybill ?? text(order.ttn)) : null;
      if (push.status === 'shipped' && !ttn)
        // Rozetka's own answer to a handover without a waybill, without asking it
        throw new ConnectorError(INTEGRATION, partnerErrorCode(ROZETKA_ERROR_CODES.requiredParameter), 'required_parameter: ttn', false);
      await client.updateOrder(
        id,
        {
          status,
          ...(ttn ? { ttn } : {}),
          ...(push.status === 'cancelled' && push.comment ? { seller_comment: push.comment } : {}),
        },
        context(call),
      );
    },

    pushStock(levels, call) {
      return massUpdate(
        levels.map((level) => ({
          sku: level.sku,
          listing: level.listing,
          item: (itemId) => ({ item_rz_id: itemId, stock_quantity: Math.max(0, Math.floor(level.available)) }),
        })),
        call,
      );
    },

    pushPrices(prices, call) {
      return massUpdate(
        prices.map((level) => ({
          sku: level.sku,
          listing: level.listing,
          item: (itemId) => {
            if (!Number.isInteger(level.price) || level.price <= 0)
              return { code: 'invalid_price', message: 'a price is a positive number of kopiykas' };
            // Rozetka takes whole hryvnias: a price with kopiykas is not rounded behind the seller's back
            if (level.price % 100 !== 0)
              return { code: 'price_not_whole', message: `${level.price} kopiykas is not a whole number of hryvnias` };
            return { item_rz_id: itemId, price: level.price / 100 };
          },
        })),
        call,
      );
    },

    async listProducts(cursor, call) {
      const page = cursor === null ? 1 : Number(cursor);
      if (!Number.isInteger(page) || page < 1)
        throw new ConnectorError(INTEGRATION, partnerErrorCode('invalid_cursor'), 'rozetka: the products cursor is a page number', false);
      const goods = await deps.client().listGoods({ page, pageSize: deps.settings().goodsPageSize }, context(call));
      const products: MarketplaceProduct[] = goods.items.flatMap((item) =>
        // an item not on the site yet (no Rozetka id) cannot be listed, priced or stocked
        item.rz_item_id && item.rz_item_id > 0
          ? [
              {
                listing: { itemId: item.rz_item_id },
                sku: text(item.article) ?? text(item.price_offer_id),
                name: text(item.name_ua) ?? text(item.name) ?? `Rozetka ${item.rz_item_id}`,
              },
            ]
          : [],
      );
      return { products, cursor: page < goods._meta.pageCount ? String(page + 1) : null };
    },
  };
}

/** Has the order already reached (or passed) what this push asks for? Then repeating it must change nothing. */
function alreadyTookEffect(order: RozetkaOrder, push: StatusPush, status: number): boolean {
  if (order.status === status) return true;
  const group = order.status_group;
  switch (push.status) {
    case 'confirmed':
      return group === STATUS_GROUP.processing && !AWAITING_CONFIRMATION.has(order.status);
    case 'shipped':
      return group === STATUS_GROUP.success || (group === STATUS_GROUP.processing && !BEFORE_HANDOVER.has(order.status));
    case 'delivered':
      return group === STATUS_GROUP.success;
    case 'cancelled':
      return group === STATUS_GROUP.failed;
  }
}
