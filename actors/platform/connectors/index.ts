import type { AnyConnector } from './kit/definition.ts';
import { clickConnector } from './click/connector.ts';
import { goodfinConnector } from './goodfin/connector.ts';
import { jowiConnector } from './jowi/connector.ts';
import { liqpayConnector } from './liqpay/connector.ts';
import { monobankConnector } from './monobank/connector.ts';
import { novaPoshtaConnector } from './novaposhta/connector.ts';
import { ozonConnector } from './ozon/connector.ts';
import { paymeConnector } from './payme/connector.ts';
import { rozetkaConnector } from './rozetka/connector.ts';
import { uzumConnector } from './uzum/connector.ts';
import { wildberriesConnector } from './wildberries/connector.ts';

/**
 * Every connector the hub knows. Adding one: write its folder
 * (protocol.ts, client.ts, sandbox.ts, connector.ts) and list it here.
 */
export const allConnectors: AnyConnector[] = [
  novaPoshtaConnector,
  monobankConnector,
  liqpayConnector,
  rozetkaConnector,
  goodfinConnector,
  paymeConnector,
  clickConnector,
  jowiConnector,
  uzumConnector,
  wildberriesConnector,
  ozonConnector,
];
