import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { marketplaceSettingsShape } from '../ports/marketplace.ts';
import { OzonClient } from './client.ts';
import { OZON_BASE_URL, OZON_LIMITS, ozonErrorCode, ozonErrorSchema } from './protocol.ts';
import { OZON_SANDBOX_CREDENTIALS, startOzonSandbox } from './sandbox.ts';

/**
 * Ozon's settings besides the marketplace's own (all optional):
 * - `warehouseId`: the FBS warehouse a product listed by the catalogue sync is stocked at; unset, the seller's
 *   only FBS warehouse (a seller with several must set it).
 * - `ordersPageSize` (100): postings read per call of the order import (Ozon allows up to 1000).
 * - `ordersLookbackMinutes` (30): each pass of the import re-reads this much before the newest posting it saw,
 *   so a posting Ozon lists late is still found (the ones already taken are remembered in the cursor).
 * - `firstImportDays` (7): how far back the first import looks for postings still awaiting packaging.
 * - `stockRequestsPerMinute` (80): stock updates are paced under this (Ozon's limit is 80 a minute).
 */
export const ozonSettingsSchema = z.looseObject({
  ...marketplaceSettingsShape,
  warehouseId: z.number().int().positive().optional(),
  ordersPageSize: z.number().int().min(1).max(OZON_LIMITS.listLimit).default(100),
  ordersLookbackMinutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(30),
  firstImportDays: z.number().int().min(1).max(30).default(7),
  stockRequestsPerMinute: z.number().int().min(2).max(OZON_LIMITS.stockRequestsPerMinute).default(OZON_LIMITS.stockRequestsPerMinute),
});
export type OzonSettings = z.infer<typeof ozonSettingsSchema>;

export const ozonConnector = defineConnector({
  name: 'ozon',
  title: 'Ozon Seller API',
  description: 'The Ozon marketplace, FBS: postings in, packing and cancellations, stock and prices out, the product list',
  defaultBaseUrl: OZON_BASE_URL,
  credentials: z.object({
    clientId: z.string().trim().regex(/^\d+$/, 'the Client ID from Settings → Seller API (digits)'),
    apiKey: z.string().trim().min(1, 'the API key from Settings → Seller API'),
  }),
  settings: ozonSettingsSchema,
  // "не больше 50 запросов в секунду на все методы с одного Client ID"; the burst stays at half of it
  policy: { rateLimitPerSecond: OZON_LIMITS.requestsPerSecond, rateLimitBurst: 25 },
  createClient: (http, config) =>
    new OzonClient(http, config.credentials, { stockRequestsPerMinute: config.settings.stockRequestsPerMinute }),
  test: async (client, signal) => {
    const warehouses = await client.warehouses({ signal });
    return `authenticated; ${warehouses.length} FBS warehouse(s)`;
  },
  sandbox: {
    start: (options, credentials) => startOzonSandbox(options, credentials),
    credentials: OZON_SANDBOX_CREDENTIALS,
    // the Client ID is the seller's number; an API key is a UUID
    generateCredentials: () => ({ clientId: OZON_SANDBOX_CREDENTIALS.clientId, apiKey: randomUUID() }),
  },
  describeError: (_status, body) => {
    const parsed = ozonErrorSchema.safeParse(body);
    return parsed.success ? { code: ozonErrorCode(parsed.data), message: parsed.data.message } : null;
  },
});
