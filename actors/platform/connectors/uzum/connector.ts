import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { marketplaceSettingsShape } from '../ports/marketplace.ts';
import { UzumClient } from './client.ts';
import { UZUM_BASE_URL, UZUM_RATE, uzumErrorBodySchema } from './protocol.ts';
import { startUzumSandbox, UZUM_SANDBOX_CREDENTIALS, UZUM_SANDBOX_SHOP_ID } from './sandbox.ts';
import { randomBase64Url } from '../kit/sandbox-secrets.ts';

/**
 * Settings: the marketplace ones (enabled, intervals) and `shopId`, the Uzum shop whose orders, stock and prices
 * the hub handles (GET /v1/shops lists the token's shops). Absent, it is the sandbox's shop: a real integration
 * sets it, and the connection test says so when the token cannot see it.
 */
export const uzumSettingsSchema = z.looseObject({
  ...marketplaceSettingsShape,
  shopId: z.number().int().positive().default(UZUM_SANDBOX_SHOP_ID),
});
export type UzumSettings = z.infer<typeof uzumSettingsSchema>;

export const uzumConnector = defineConnector({
  name: 'uzum',
  title: 'Uzum Market seller OpenAPI',
  description: 'The Uzum Market marketplace (FBS): new orders, confirmation and cancellation, stock by barcode, SKU prices, the catalogue',
  defaultBaseUrl: UZUM_BASE_URL,
  credentials: z.object({
    apiToken: z.string().trim().min(1, 'the OpenAPI token from the seller cabinet (Settings → API), sent as is'),
  }),
  settings: uzumSettingsSchema,
  policy: { rateLimitPerSecond: UZUM_RATE.perSecond, rateLimitBurst: UZUM_RATE.burst },
  createClient: (http, config) => new UzumClient(http, config.credentials, config.settings.shopId),
  test: async (client, signal) => {
    const shops = await client.checkShop({ signal });
    return `authenticated; shop ${client.shopId} is among the token's ${shops.length} shop(s)`;
  },
  sandbox: {
    start: (options, credentials) => startUzumSandbox(options, credentials),
    credentials: UZUM_SANDBOX_CREDENTIALS,
    generateCredentials: () => ({ apiToken: randomBase64Url(32) }),
  },
  describeError: (_status, body) => {
    const parsed = uzumErrorBodySchema.safeParse(body);
    const first = parsed.success ? parsed.data.errors[0] : undefined;
    return first ? { code: first.code, message: first.message } : null;
  },
});
