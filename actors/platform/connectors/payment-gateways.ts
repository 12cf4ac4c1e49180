import type { Db } from 'mongodb';
import type { Logger } from 'winston';
import type { AlertSink } from '../alerts/alerts.ts';
import type { Connectors } from './kit/connectors.ts';
import { clickGateway } from './click/gateway.ts';
import { liqpayGateway } from './liqpay/gateway.ts';
import { monobankGateway } from './monobank/gateway.ts';
import { paymeGateway } from './payme/gateway.ts';
import type { PaymentGateway } from './ports/payment-gateway.ts';

export interface GatewayDeps {
  connectors: Connectors;
  /** the providers that call us (Payme, Click) keep their transactions here, and their gateways read them */
  db: Db;
  /** where providers send their callbacks */
  publicBaseUrl: () => string;
  logger: Logger;
  /** what a gateway cannot settle by itself is raised here (a test payment reaching a live integration) */
  alerts: AlertSink;
  now?: () => number;
}

/** Every payment provider the hub speaks. A new one is a folder with its `gateway.ts` and one line here. */
const GATEWAYS: ReadonlyArray<(deps: GatewayDeps) => PaymentGateway> = [monobankGateway, liqpayGateway, paymeGateway, clickGateway];

/** The payment gateways by provider name. */
export class PaymentGateways {
  private readonly byProvider: ReadonlyMap<string, PaymentGateway>;

  constructor(deps: GatewayDeps) {
    this.byProvider = new Map(GATEWAYS.map((make) => make(deps)).map((gateway) => [gateway.provider, gateway]));
  }

  of(provider: string): PaymentGateway {
    const gateway = this.byProvider.get(provider);
    if (!gateway) throw new Error(`no payment gateway for provider "${provider}"`);
    return gateway;
  }

  list(): PaymentGateway[] {
    return [...this.byProvider.values()];
  }
}
