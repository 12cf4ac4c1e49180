import type { Db } from 'mongodb';
import type { Logger } from 'winston';
import type { AlertSink } from '../../platform/alerts/alerts.ts';
import type { AuditLog } from '../../platform/audit/audit-log.ts';
import type { Connectors } from '../../platform/connectors/kit/connectors.ts';
import type { MerchantApi } from '../../platform/inbound/merchant-api.ts';
import { clickMerchantApi } from './click-merchant.ts';
import type { Payables } from './payables.ts';
import { paymeMerchantApi } from './payme-merchant.ts';

export interface MerchantApiDeps {
  db: Db;
  /** what the calls pay: orders (and sales), their payments, and a paid one's cancellation */
  payables: Payables;
  connectors: Connectors;
  audit: AuditLog;
  alerts: AlertSink;
  logger: Logger;
  /** the hub's clock (tests inject one to reach Payme's 12 hours) */
  now: () => number;
}

/** Every provider that calls us to take a payment. A new one is its merchant module and one line here. */
const MERCHANT_APIS: ReadonlyArray<(deps: MerchantApiDeps) => MerchantApi> = [paymeMerchantApi, clickMerchantApi];

export function merchantApis(deps: MerchantApiDeps): MerchantApi[] {
  return MERCHANT_APIS.map((make) => make(deps));
}
