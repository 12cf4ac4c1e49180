import type { Db } from 'mongodb';
import type { MarketplaceName } from '../common/marketplaces.ts';
import { defineCollection, ensureCollectionIndexes, openCollections, type OpenedCollections } from './define-collection.ts';

/**
 * What the marketplace sync keeps: how each product is listed at each
 * marketplace (with the stock and price still to push), each marketplace's
 * cursor and sync state, the status outbox of every order a marketplace
 * sold, and the orders held back at import (a product not mapped yet).
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
  priceDirty: boolean;
  /** the product's availability as last heard, with the product actor's revision that had it (newest wins) */
  stock: { available: number; revision: number; changedAt: Date } | null;
  stockDirty: boolean;
  pushed: { stock: { available: number; at: Date } | null; price: { price: number; at: Date } | null };
  /** the marketplace refused this item's last stock or price (it is not retried until it changes) */
  refusal: { kind: 'stock' | 'price'; code: string; message: string; at: Date } | null;
  updatedAt: Date;
}

export const marketplaceListingsCollection = defineCollection<MarketplaceListingDoc>({
  name: 'marketplace_listings',
  description: 'each product as listed at each marketplace: its ids there, its price there, and the stock and price still to push',
  indexes: [
    { key: { marketplace: 1, itemKey: 1 }, unique: true },
    { key: { sku: 1 } },
    { key: { marketplace: 1, stockDirty: 1 } },
    { key: { marketplace: 1, priceDirty: 1 } },
  ],
});

export interface MarketplaceSyncDoc {
  _id: MarketplaceName;
  /** where the next order import starts (opaque to the hub) */
  cursor: string | null;
  orders: { lastRunAt: Date | null; lastSuccessAt: Date | null; imported: number; held: number; lastError: string | null };
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
  /** the order as the marketplace gave it (mapped to the port's shape) */
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
