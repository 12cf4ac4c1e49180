import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { marketplaceSettingsShape } from '../ports/marketplace.ts';
import { RozetkaClient } from './client.ts';
import { GOODS_PAGE_SIZE_MAX, NOVA_POSHTA, ORDER_STATUS, ROZETKA_RATE_LIMIT, rozetkaErrorSchema } from './protocol.ts';
import { ROZETKA_SANDBOX_CREDENTIALS, startRozetkaSandbox } from './sandbox.ts';
import { randomAlphanumeric } from '../kit/sandbox-secrets.ts';

/** A Rozetka order status id to move the order to; null: the push is a no-op. */
const statusCode = z.number().int().positive().nullable();

/**
 * Which Rozetka status each of our status pushes sets (ids of the OrdersStatuses list, rozetka.md):
 * - `confirmed` 2 "being packed, data confirmed": the seller's own confirmation, after which a waybill moves the
 *   order on by itself (26 "processed by a manager" would only say someone is looking at it).
 * - `shipped` 3 "handed to the delivery service", sent with the Nova Poshta TTN Rozetka requires with it.
 * - `delivered` null: once a TTN is set Rozetka's tracking moves the order to "completed" itself.
 * - `cancelled` by reason: 42 "not in stock", 24 "cancelled: delivery does not suit", 18 "could not reach the
 *   buyer" (the usual reason a seller cancels on its own; Rozetka has no plain "cancelled by the seller"),
 *   40 "the customer changed their mind" (45 "cancelled by the buyer" is the buyer's own, set by Rozetka).
 */
export const rozetkaStatusCodesSchema = z
  .object({
    confirmed: statusCode.default(ORDER_STATUS.packing),
    shipped: statusCode.default(ORDER_STATUS.handedToCarrier),
    delivered: statusCode.default(null),
    cancelled: z
      .object({
        out_of_stock: statusCode.default(ORDER_STATUS.outOfStock),
        cannot_deliver: statusCode.default(ORDER_STATUS.deliveryNotSuitable),
        seller_cancelled: statusCode.default(ORDER_STATUS.couldNotReach),
        customer_cancelled: statusCode.default(ORDER_STATUS.customerChangedMind),
      })
      .prefault({}),
  })
  .prefault({});
export type RozetkaStatusCodes = z.infer<typeof rozetkaStatusCodesSchema>;

/**
 * The settings (all optional), besides the marketplace ones (enabled, intervals):
 * - `statusCodes`: the status table above.
 * - `ordersLookbackHours` (24): how far back the first order import looks.
 * - `ordersOverlapMinutes` (15): each sweep of new orders starts this long before the newest order seen, so an
 *   order that shows up late in the search, or got an id out of step with its time, is still found.
 * - `novaPoshtaServiceIds` ([5]): Rozetka's delivery service ids that are Nova Poshta.
 * - `goodsPageSize` (100): products per page of the catalogue sync.
 */
export const rozetkaSettingsSchema = z.looseObject({
  ...marketplaceSettingsShape,
  statusCodes: rozetkaStatusCodesSchema,
  ordersLookbackHours: z
    .number()
    .min(1)
    .max(24 * 90)
    .default(24),
  ordersOverlapMinutes: z.number().int().min(1).max(1440).default(15),
  novaPoshtaServiceIds: z.array(z.number().int().positive()).default([NOVA_POSHTA.serviceId]),
  goodsPageSize: z.number().int().min(1).max(GOODS_PAGE_SIZE_MAX).default(GOODS_PAGE_SIZE_MAX),
});
export type RozetkaSettings = z.infer<typeof rozetkaSettingsSchema>;

export const rozetkaConnector = defineConnector({
  name: 'rozetka',
  title: 'Rozetka Seller API',
  description: 'The Rozetka marketplace, seller side: orders, statuses and waybill numbers, stock and prices, the catalogue',
  defaultBaseUrl: 'https://api-seller.rozetka.com.ua',
  credentials: z.object({
    username: z.string().trim().min(1, 'the seller cabinet login'),
    password: z.string().min(1, 'the seller cabinet password (as typed; the hub encodes it)'),
  }),
  settings: rozetkaSettingsSchema,
  // no rate limit is published: ROZETKA_RATE_LIMIT is our own conservative pace (ASSUMED, see protocol.ts)
  policy: { rateLimitPerSecond: ROZETKA_RATE_LIMIT.perSecond, rateLimitBurst: ROZETKA_RATE_LIMIT.burst },
  createClient: (http, config) => new RozetkaClient(http, config.credentials),
  test: async (client) => {
    await client.signIn();
    return 'authenticated; seller session opened';
  },
  sandbox: {
    start: (options, credentials) => startRozetkaSandbox(options, credentials),
    credentials: ROZETKA_SANDBOX_CREDENTIALS,
    generateCredentials: () => ({ username: ROZETKA_SANDBOX_CREDENTIALS.username, password: randomAlphanumeric(24) }),
  },
  describeError: (_status, body) => {
    const parsed = rozetkaErrorSchema.safeParse(body);
    return parsed.success ? { code: parsed.data.errors.code, message: parsed.data.errors.message } : null;
  },
});
