import { z } from 'zod';

/**
 * What the hub needs from a marketplace (Rozetka, Uzum, Wildberries, Ozon):
 * one implementation per marketplace, in its connector folder
 * (`<name>/marketplace.ts`), listed in `connectors/marketplaces.ts`. Orders
 * come in from a durable cursor and become order actors once; statuses,
 * stock and prices go out. The hub decides when (jobs, outboxes, debounce);
 * an implementation only speaks its marketplace's API: its paths, auth,
 * paging, batch sizes and codes.
 */

import { type MarketplaceCurrency, type MarketplaceName } from '../../../../common/marketplaces.ts';
export { MARKETPLACES, MARKETPLACE_CURRENCY, type MarketplaceCurrency, type MarketplaceName } from '../../../../common/marketplaces.ts';

const positiveId = z.number().int().positive();
const barcode = z.string().trim().min(1).max(64);

/**
 * How one of our products is known at each marketplace (`PUT /admin/products/:sku`
 * `"marketplaces": {...}`). The fields are the marketplace's own ids.
 */
export const LISTING_SCHEMAS = {
  rozetka: z.object({ itemId: positiveId }).strict(),
  uzum: z.object({ skuId: positiveId, barcode }).strict(),
  wildberries: z.object({ nmId: positiveId, barcode, warehouseId: positiveId }).strict(),
  ozon: z.object({ offerId: z.string().trim().min(1).max(64), productId: positiveId, warehouseId: positiveId }).strict(),
} as const satisfies Record<MarketplaceName, z.ZodType>;

export type ListingOf<M extends MarketplaceName> = z.infer<(typeof LISTING_SCHEMAS)[M]>;
export type AnyListing = ListingOf<MarketplaceName>;

/**
 * The key an order line names the product by, so the hub finds our SKU:
 * Rozetka's item id, Uzum's SKU id, Wildberries' barcode, Ozon's offer id.
 */
export function listingKey(marketplace: MarketplaceName, listing: AnyListing): string {
  switch (marketplace) {
    case 'rozetka':
      return String((listing as ListingOf<'rozetka'>).itemId);
    case 'uzum':
      return String((listing as ListingOf<'uzum'>).skuId);
    case 'wildberries':
      return (listing as ListingOf<'wildberries'>).barcode;
    case 'ozon':
      return (listing as ListingOf<'ozon'>).offerId;
  }
}

/**
 * Settings every marketplace connector takes besides its own (spread into its
 * settings schema). All optional: `{}` is valid and means "not enabled".
 */
export const marketplaceSettingsShape = {
  /** the hub imports orders and pushes statuses, stock and prices only for an enabled marketplace */
  enabled: z.boolean().default(false),
  /** how often new orders are pulled */
  ordersIntervalMinutes: z
    .number()
    .min(0.05)
    .max(24 * 60)
    .default(5),
  /** stock and price changes are collected this long and pushed together (the debounce) */
  pushIntervalSeconds: z.number().min(1).max(3600).default(60),
};

export interface MarketplaceOrderLine {
  /** `listingKey` of the product as the marketplace names it in the order */
  itemKey: string;
  name: string;
  qty: number;
  /** per unit, minor units of the marketplace's currency, after the marketplace's discounts */
  price: number;
}

export type MarketplaceDelivery =
  /** a Nova Poshta parcel we send (Rozetka): refs when the marketplace gives them, names otherwise */
  | { kind: 'novaposhta'; cityRef?: string; warehouseRef?: string; cityName?: string; warehouseName?: string }
  /** the marketplace's own logistics (FBS): we pack, the marketplace carries */
  | { kind: 'marketplace'; service: string };

export interface MarketplaceOrder {
  /** the marketplace's order (posting) id: the order actor's `externalId`, so an order is created once */
  externalId: string;
  /** ISO time */
  createdAt: string;
  currency: MarketplaceCurrency;
  /** minor units: the sum of the lines */
  total: number;
  /** paid at the marketplace: our payment step is skipped; otherwise cash on delivery */
  paidAtMarketplace: boolean;
  customer: { name: string | null; phone: string | null; email: string | null };
  delivery: MarketplaceDelivery;
  lines: MarketplaceOrderLine[];
}

export interface OrdersPage {
  orders: MarketplaceOrder[];
  /** where the next call starts; stored durably after the page's orders are created */
  cursor: string;
  /** another page is ready now (the hub asks again at once) */
  more: boolean;
}

/** Why we cancel an order at the marketplace; each implementation maps these to its own codes. */
export const CANCEL_REASONS = ['out_of_stock', 'cannot_deliver', 'seller_cancelled', 'customer_cancelled'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

export type StatusPush =
  /** we accept the order and will pack it (Uzum confirm, a Wildberries supply, Ozon packaging, Rozetka "being packed") */
  | { status: 'confirmed' }
  /** handed to the carrier; the waybill (Nova Poshta TTN) where the marketplace wants one */
  | { status: 'shipped'; waybill: string | null }
  | { status: 'delivered' }
  | { status: 'cancelled'; reason: CancelReason; comment?: string };

/** What the marketplace says of an order now. */
export type MarketplaceOrderState = 'open' | 'cancelled' | 'closed';

export interface StockLevel {
  sku: string;
  listing: AnyListing;
  /** units the marketplace may sell */
  available: number;
}

export interface PriceLevel {
  sku: string;
  listing: AnyListing;
  /** minor units of the marketplace's currency */
  price: number;
}

/** Items the marketplace refused inside an accepted call (the rest were taken). */
export interface PushOutcome {
  /** `retryable`: refused for now (a per-item rate limit), to send again at the next round; otherwise kept until it changes */
  refused: Array<{ sku: string; code: string; message: string; retryable?: boolean }>;
  /** API calls it took (batches) */
  calls: number;
}

export interface MarketplaceProduct {
  listing: AnyListing;
  /** the seller's article (our SKU when the seller used it) */
  sku: string | null;
  name: string;
}

export interface MarketplaceCall {
  signal?: AbortSignal;
}

/** A refusal that retrying cannot cure is thrown as a ConnectorError with `retryable: false`. */
export interface Marketplace {
  readonly name: MarketplaceName;
  readonly currency: MarketplaceCurrency;
  /** 'whole': the API takes whole currency units, so a price must be a multiple of 100 minor units */
  readonly pricePrecision: 'whole' | 'minor';
  /** the documented batch maxima: pushStock/pushPrices split what they are given into calls of at most this many */
  readonly batch: { stock: number; prices: number };
  /** the connector's current settings (enabled, intervals) */
  settings(): z.infer<z.ZodObject<typeof marketplaceSettingsShape>>;
  /** new orders after the cursor (null: from the start of the marketplace's window) */
  newOrders(cursor: string | null, call?: MarketplaceCall): Promise<OrdersPage>;
  /** what the marketplace says of these orders now (cancelled by the buyer or the marketplace?) */
  orderStates(externalIds: readonly string[], call?: MarketplaceCall): Promise<Record<string, MarketplaceOrderState>>;
  /** moves the order at the marketplace; repeating a push that already took effect changes nothing and does not fail */
  pushStatus(externalId: string, push: StatusPush, call?: MarketplaceCall): Promise<void>;
  pushStock(levels: readonly StockLevel[], call?: MarketplaceCall): Promise<PushOutcome>;
  pushPrices(prices: readonly PriceLevel[], call?: MarketplaceCall): Promise<PushOutcome>;
  /** one page of the seller's products at the marketplace (catalogue sync) */
  listProducts(cursor: string | null, call?: MarketplaceCall): Promise<{ products: MarketplaceProduct[]; cursor: string | null }>;
}
