/**
 * What the hub needs from a marketplace (Rozetka, Uzum, Wildberries, Ozon):
 * one implementation per marketplace, in its connector folder. Orders come
 * in from a durable cursor and become order actors once; statuses, stock and
 * prices go out. The marketplace issue implements it; nothing calls it yet.
 */

export interface MarketplaceOrderLine {
  /** the marketplace's own item id and our SKU, when the product is mapped */
  itemId: string;
  sku: string | null;
  name: string;
  qty: number;
  /** per unit, minor units */
  price: number;
}

export interface MarketplaceOrder {
  /** the marketplace's order id: the order actor's `externalId`, so an order is created once */
  externalId: string;
  createdAt: string;
  currency: string;
  /** minor units */
  total: number;
  /** paid at the marketplace: our payment step is skipped */
  paidAtMarketplace: boolean;
  customer: { name: string | null; phone: string | null; email: string | null };
  delivery: { carrier: string; cityRef?: string; warehouseRef?: string; address?: string } | null;
  lines: MarketplaceOrderLine[];
}

export interface OrdersPage {
  orders: MarketplaceOrder[];
  /** where the next call starts; stored durably after the page's orders are created */
  cursor: string;
  more: boolean;
}

export type MarketplaceOrderStatus = 'confirmed' | 'shipped' | 'delivered' | 'cancelled' | 'returned';

export interface MarketplaceCall {
  signal?: AbortSignal;
}

export interface Marketplace {
  readonly name: string;
  /** new orders after the cursor (null: from the start of the marketplace's window) */
  newOrders(cursor: string | null, call: MarketplaceCall): Promise<OrdersPage>;
  /** the seller accepts the order (the marketplaces that ask for it) */
  acknowledge(externalId: string, call: MarketplaceCall): Promise<void>;
  pushStatus(externalId: string, status: MarketplaceOrderStatus, details: { waybill?: string }, call: MarketplaceCall): Promise<void>;
  pushStock(levels: Array<{ itemId: string; available: number }>, call: MarketplaceCall): Promise<void>;
  /** minor units in the marketplace's currency */
  pushPrices(prices: Array<{ itemId: string; price: number }>, call: MarketplaceCall): Promise<void>;
  listProducts(
    cursor: string | null,
    call: MarketplaceCall,
  ): Promise<{ products: Array<{ itemId: string; name: string; sku: string | null }>; cursor: string | null }>;
}
