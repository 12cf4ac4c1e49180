import type { MarketplaceName } from '../../../common/marketplaces.ts';
import type { Connectors } from './kit/connectors.ts';
import type { Marketplace } from './ports/marketplace.ts';
import { ozonConnector } from './ozon/connector.ts';
import { ozonMarketplace } from './ozon/marketplace.ts';
import { rozetkaConnector } from './rozetka/connector.ts';
import { rozetkaMarketplace } from './rozetka/marketplace.ts';
import { uzumConnector } from './uzum/connector.ts';
import { uzumMarketplace } from './uzum/marketplace.ts';
import { wildberriesConnector } from './wildberries/connector.ts';
import { wildberriesMarketplace } from './wildberries/marketplace.ts';

export interface MarketplaceDeps {
  connectors: Connectors;
}

/** Every marketplace the hub sells on. A new one is a connector folder with its `marketplace.ts` and one line here. */
const MARKETPLACES_BUILT: ReadonlyArray<(deps: MarketplaceDeps) => Marketplace> = [
  ({ connectors }) =>
    rozetkaMarketplace({
      client: () => connectors.client(rozetkaConnector),
      settings: () => connectors.configOf(rozetkaConnector).settings,
    }),
  ({ connectors }) =>
    uzumMarketplace({ client: () => connectors.client(uzumConnector), settings: () => connectors.configOf(uzumConnector).settings }),
  ({ connectors }) =>
    wildberriesMarketplace({
      client: () => connectors.client(wildberriesConnector),
      settings: () => connectors.configOf(wildberriesConnector).settings,
    }),
  ({ connectors }) =>
    ozonMarketplace({ client: () => connectors.client(ozonConnector), settings: () => connectors.configOf(ozonConnector).settings }),
];

/** The marketplaces by name; `enabled()` are those whose integration settings say `enabled: true`. */
export class Marketplaces {
  private readonly byName: ReadonlyMap<MarketplaceName, Marketplace>;

  constructor(deps: MarketplaceDeps, factories: ReadonlyArray<(deps: MarketplaceDeps) => Marketplace> = MARKETPLACES_BUILT) {
    this.byName = new Map(factories.map((make) => make(deps)).map((marketplace) => [marketplace.name, marketplace]));
  }

  of(name: MarketplaceName): Marketplace | null {
    return this.byName.get(name) ?? null;
  }

  list(): Marketplace[] {
    return [...this.byName.values()];
  }

  /** an enabled marketplace by name, or null */
  enabled(name: MarketplaceName): Marketplace | null {
    const marketplace = this.of(name);
    return marketplace && marketplace.settings().enabled ? marketplace : null;
  }
}
