import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { marketplaceSettingsShape } from '../ports/marketplace.ts';
import { describeWildberriesError, resolveHosts, WildberriesClient } from './client.ts';
import { WB_HOSTS, WB_RATE_LIMITS } from './protocol.ts';
import { startWildberriesSandbox, WILDBERRIES_SANDBOX_CREDENTIALS } from './sandbox.ts';
import { randomBase64Url } from '../kit/sandbox-secrets.ts';

/**
 * Settings besides the marketplace's common ones (all optional):
 * - `pricesBaseUrl`, `contentBaseUrl`: the prices and content APIs' hosts (WB's own by default; the
 *   sandbox's URL when the integration is sandboxed, since the sandbox serves every path).
 * - `warehouseId`: the seller warehouse `listProducts` puts in the listings it returns (the first FBS
 *   warehouse of the account when unset).
 * - `discountPercent`: sent with every price, so the buyer pays exactly `price × (1 − discount)`; unset,
 *   WB keeps each card's current discount.
 * - `supplyNamePrefix`: how the supplies the hub opens are named (and found again after a restart).
 */
export const wildberriesSettingsSchema = z.looseObject({
  ...marketplaceSettingsShape,
  pricesBaseUrl: z.url().optional(),
  contentBaseUrl: z.url().optional(),
  warehouseId: z.number().int().positive().optional(),
  discountPercent: z.number().int().min(0).max(99).optional(),
  supplyNamePrefix: z
    .string()
    .trim()
    .min(1)
    .max(40)
    .regex(/^[^\s]+$/, 'one word')
    .default('hub'),
});
export type WildberriesSettings = z.infer<typeof wildberriesSettingsSchema>;

export const wildberriesConnector = defineConnector({
  name: 'wildberries',
  title: 'Wildberries seller API',
  description: 'The Wildberries marketplace (FBS): new orders, supplies, cancels, stock per warehouse, prices, product cards',
  defaultBaseUrl: WB_HOSTS.marketplace,
  credentials: z.object({
    token: z
      .string()
      .trim()
      .min(1, 'the API token from the seller cabinet, with the Marketplace, Prices and discounts and Content categories'),
  }),
  settings: wildberriesSettingsSchema,
  // the marketplace category's documented pace (300 a minute, burst 20); the client adds buckets of its own
  // for the stricter prices, content and cancel categories
  policy: {
    rateLimitPerSecond: (WB_RATE_LIMITS.marketplace.limit * 1000) / WB_RATE_LIMITS.marketplace.windowMs,
    rateLimitBurst: WB_RATE_LIMITS.marketplace.burst,
  },
  createClient: (http, config) => new WildberriesClient(http, config.credentials, resolveHosts(config.settings, config)),
  test: async (client, signal) => {
    const warehouses = await client.warehouses({ signal });
    return `authenticated; ${warehouses.length} seller warehouse(s)`;
  },
  sandbox: {
    start: (options, credentials) => startWildberriesSandbox(options, credentials),
    credentials: WILDBERRIES_SANDBOX_CREDENTIALS,
    // one word, as the connector asks of a token
    generateCredentials: () => ({ token: randomBase64Url(48) }),
  },
  describeError: describeWildberriesError,
});
