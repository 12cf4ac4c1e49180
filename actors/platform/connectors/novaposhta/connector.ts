import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { NovaPoshtaClient } from './client.ts';
import { NOVAPOSHTA_SANDBOX_API_KEY, startNovaPoshtaSandbox } from './sandbox.ts';
import { randomHex } from '../kit/sandbox-secrets.ts';
import { DEFAULT_STATUS_MAP, statusMapSchema } from '../../../../common/shipment-stages.ts';
import { CARGO_TYPES, SERVICE_TYPES } from './protocol.ts';

/** Who sends (Refs from NP's Counterparty directory), parcel defaults, tracking, and the status → stage table. */
export const novaPoshtaSettingsSchema = z.looseObject({
  sender: z
    .object({
      cityRef: z.string().min(1),
      ref: z.string().min(1),
      addressRef: z.string().min(1),
      contactRef: z.string().min(1),
      phone: z.string().min(10),
    })
    .optional(),
  parcel: z
    .object({
      cargoType: z.enum(CARGO_TYPES).default('Parcel'),
      weight: z.number().min(0.1).default(1),
      seatsAmount: z.number().int().min(1).default(1),
      serviceType: z.enum(SERVICE_TYPES).default('WarehouseWarehouse'),
      payerType: z.enum(['Sender', 'Recipient', 'ThirdPerson']).default('Recipient'),
      paymentMethod: z.enum(['Cash', 'NonCash']).default('Cash'),
      volumeGeneral: z.number().min(0.0004).default(0.001),
    })
    .default({
      cargoType: 'Parcel',
      weight: 1,
      seatsAmount: 1,
      serviceType: 'WarehouseWarehouse',
      payerType: 'Recipient',
      paymentMethod: 'Cash',
      volumeGeneral: 0.001,
    }),
  /**
   * The sender has an agreement with NP for payment control ("контроль
   * оплати", `AfterpaymentOnGoodsCost`): cash on delivery is then collected
   * that way (to the sender's account) instead of as a money transfer —
   * except at a postomat, where NP refuses it.
   */
  paymentControl: z.boolean().default(false),
  trackingIntervalMinutes: z.number().int().min(1).max(1440).default(15),
  /** overrides of the default table, e.g. {"112": "atWarehouse"} */
  statusMap: statusMapSchema.default({}).transform((overrides) => ({ ...DEFAULT_STATUS_MAP, ...overrides })),
});
export type NovaPoshtaSettings = z.infer<typeof novaPoshtaSettingsSchema>;

export const novaPoshtaConnector = defineConnector({
  name: 'novaposhta',
  title: 'Nova Poshta',
  description: 'Parcel delivery in Ukraine: quotes, waybills, tracking, cities and branches (API 2.0)',
  defaultBaseUrl: 'https://api.novaposhta.ua/v2.0',
  credentials: z.object({ apiKey: z.string().trim().min(1, 'the API key from the Nova Poshta business cabinet') }),
  settings: novaPoshtaSettingsSchema,
  createClient: (http, config) => new NovaPoshtaClient(http, config.credentials.apiKey),
  test: async (client, signal) => {
    const cities = await client.getCities({ limit: 1 }, { signal });
    return `authenticated; ${cities.totalCount} cities in the directory`;
  },
  sandbox: {
    start: (options, credentials) => startNovaPoshtaSandbox({ ...options, ...(credentials ? { apiKey: credentials.apiKey } : {}) }),
    credentials: { apiKey: NOVAPOSHTA_SANDBOX_API_KEY },
    // Nova Poshta's keys are 32 hex digits
    generateCredentials: () => ({ apiKey: randomHex(16) }),
  },
});
