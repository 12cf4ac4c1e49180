/**
 * The marketplaces the hub sells on, and the currency each sells in (shared by
 * the order rules, which know an order's source, and the marketplace port).
 */
export const MARKETPLACES = ['rozetka', 'uzum', 'wildberries', 'ozon'] as const;
export type MarketplaceName = (typeof MARKETPLACES)[number];

export const MARKETPLACE_CURRENCY = { rozetka: 'UAH', uzum: 'UZS', wildberries: 'RUB', ozon: 'RUB' } as const satisfies Record<
  MarketplaceName,
  string
>;
export type MarketplaceCurrency = (typeof MARKETPLACE_CURRENCY)[MarketplaceName];

export function isMarketplace(source: string): source is MarketplaceName {
  return (MARKETPLACES as readonly string[]).includes(source);
}
