import type { Db } from 'mongodb';
import type { MarketplaceName } from '../common/marketplaces.ts';
import { defineCollection, ensureCollectionIndexes, openCollections, type OpenedCollections } from './define-collection.ts';

/**
 * What the marketplace sync keeps: how each product is listed at each
 * marketplace, which product each marketplace item is, the stock and prices
 * still to push, each marketplace's cursor and sync state, the status outbox
 * of every order a marketplace sold, and the orders held back at import (a
 * product not mapped yet).
 */

export interface MarketplaceListingDoc {
  _id: string; // `${marketplace}:${sku}`
  marketplace: MarketplaceName;
  sku: string;
  /** the marketplace's own ids of the product (see LISTING_SCHEMAS) */
  listing: Record<string, string | number>;
  /** how the marketplace's orders name it (listingKey) */
  itemKey: string;
  /** minor units of the marketplace's currency; null: the marketplace keeps its own price */
  price: number | null;
  /** the product's availability as last heard, with the product actor's revision that had it (newest wins) */
  stock: { available: number; revision: number; changedAt: Date } | null;
  /** what the marketplace was last told (the stock with the revision it came from) */
  pushed: { stock: { available: number; revision?: number; at: Date } | null; price: { price: number; at: Date } | null };
  /** the marketplace refused this item's last stock or price (it is not retried until it changes) */
  refusal: { kind: 'stock' | 'price'; code: string; message: string; at: Date } | null;
  updatedAt: Date;
}

// Every read on a hot path below is by `_id`: FerretDB's SQLite backend serves no other filter from an
// index (a filter on `sku` or `itemKey` reads every listing). What a job must find by another field lives
// in a collection of its own, keyed so that the lookup is an `_id` (items), or small enough to read whole
// (pending: only what is still to be pushed, the way `effects` and `timers` hold only what is in flight).
export const marketplaceListingsCollection = defineCollection<MarketplaceListingDoc>({
  name: 'marketplace_listings',
  description: 'each product as listed at each marketplace: its ids there, its price there, the stock last heard and what was pushed',
  indexes: [],
});

/** Which of our products a marketplace's item is: how an order line and a catalogue entry find their SKU. */
export interface MarketplaceItemDoc {
  _id: string; // `${marketplace}:${itemKey}`; its uniqueness is what keeps an item listed as one product only
  marketplace: MarketplaceName;
  sku: string;
  /** a claim whose listing is missing is another process's listing under way for a while, then a crash's leftover */
  claimedAt?: Date;
}

export const marketplaceItemsCollection = defineCollection<MarketplaceItemDoc>({
  name: 'marketplace_items',
  description: "each marketplace item's SKU here (a unique `_id` per item: an item is listed as one product only)",
  indexes: [],
});

/** A listing whose stock or price the marketplace has still to be told (the newest value wins). */
export interface MarketplacePendingDoc {
  _id: string; // `${kind}:${marketplace}:${sku}`
  kind: 'stock' | 'price';
  marketplace: MarketplaceName;
  sku: string;
  /** stock: the product's revision whose availability is due; a push clears only the revision it sent */
  revision: number | null;
  /** price: the price due (minor units) */
  price: number | null;
  at: Date;
}

export const marketplacePendingCollection = defineCollection<MarketplacePendingDoc>({
  name: 'marketplace_pending',
  description: 'the stock and prices still to push to each marketplace (removed once pushed)',
  indexes: [{ key: { marketplace: 1, kind: 1 } }],
});

export const pendingId = (kind: 'stock' | 'price', marketplace: MarketplaceName, sku: string): string => `${kind}:${marketplace}:${sku}`;

export interface MarketplaceSyncDoc {
  _id: MarketplaceName;
  /** where the next order import starts (opaque to the hub) */
  cursor: string | null;
  orders: { lastRunAt: Date | null; lastSuccessAt: Date | null; imported: number; held: number; lastError: string | null };
  /** how many products are listed there (counted as they are listed; recounted by the reconciliation) */
  listings?: number;
  push: {
    lastRunAt: Date | null;
    lastSuccessAt: Date | null;
    /** API calls made by stock and price pushes, and items pushed */
    calls: number;
    items: number;
    /** after a failed push, the next is not tried before this (back-off) */
    retryAt: Date | null;
    failures: number;
    lastError: string | null;
  };
}

export const marketplaceSyncCollection = defineCollection<MarketplaceSyncDoc>({
  name: 'marketplace_sync',
  description: "each marketplace's order cursor and the state of its imports and pushes (the console's sync view)",
  indexes: [],
});

/** The statuses an order is told to its marketplace in, in their order. */
export const TOLD_STATUSES = ['confirmed', 'shipped', 'delivered', 'cancelled'] as const;
export type ToldStatus = (typeof TOLD_STATUSES)[number];

export interface MarketplaceOrderDoc {
  _id: string; // the order actor's id
  marketplace: MarketplaceName;
  externalId: string;
  importedAt: Date;
  /** what the marketplace has been told of the order so far */
  told: ToldStatus[];
  /** the marketplace (or its buyer) cancelled it: the cancel is not told back */
  cancelledThere: boolean;
  /** nothing more to tell or to ask about */
  settled: boolean;
  attempts: number;
  nextAttemptAt: Date;
  /**
   * bumped by each wake (the order moved): a run that read the record before a wake does not put it back
   * to sleep (its write is conditional on the count it read)
   */
  wakeups?: number;
  lastError: string | null;
  /** a push the marketplace refused: the order's incident, shown with it, raised as an alert */
  incident: { status: ToldStatus; code: string; message: string; at: Date } | null;
  updatedAt: Date;
}

/** The status record of an order just imported: nothing told yet, due at once. */
export function newMarketplaceOrderDoc(
  order: { _id: string; marketplace: MarketplaceName; externalId: string },
  at: Date,
): MarketplaceOrderDoc {
  return {
    ...order,
    importedAt: at,
    told: [],
    cancelledThere: false,
    settled: false,
    attempts: 0,
    nextAttemptAt: at,
    wakeups: 0,
    lastError: null,
    incident: null,
    updatedAt: at,
  };
}

export const marketplaceOrdersCollection = defineCollection<MarketplaceOrderDoc>({
  name: 'marketplace_orders',
  description: 'the status outbox of each order a marketplace sold: what it has been told, what is due, and any refusal',
  indexes: [{ key: { settled: 1, nextAttemptAt: 1 } }, { key: { marketplace: 1, settled: 1 } }, { key: { marketplace: 1, externalId: 1 } }],
});

export interface MarketplaceHeldImportDoc {
  _id: string; // `${marketplace}:${externalId}`
  marketplace: MarketplaceName;
  externalId: string;
  /** the order as the marketplace gave it (mapped to the port's shape), sealed whole (`pd1.…`): it names the buyer */
  order: unknown;
  reason: { code: string; message: string };
  firstSeenAt: Date;
  lastTriedAt: Date;
  attempts: number;
}

export const marketplaceHeldImportsCollection = defineCollection<MarketplaceHeldImportDoc>({
  name: 'marketplace_held_imports',
  description: 'marketplace orders not imported yet (a product not mapped, a branch not in the directory): tried again on every import',
  indexes: [{ key: { marketplace: 1, lastTriedAt: 1 } }],
});

const marketplaces = {
  listings: marketplaceListingsCollection,
  items: marketplaceItemsCollection,
  pending: marketplacePendingCollection,
  sync: marketplaceSyncCollection,
  orders: marketplaceOrdersCollection,
  held: marketplaceHeldImportsCollection,
};

export type MarketplaceCollections = OpenedCollections<typeof marketplaces>;

export function marketplaceCollections(db: Db): MarketplaceCollections {
  return openCollections(db, marketplaces);
}

export async function ensureMarketplaceIndexes(db: Db): Promise<void> {
  await ensureCollectionIndexes(db, Object.values(marketplaces));
}
