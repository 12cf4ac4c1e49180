import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { NovaPoshtaClient } from './client.ts';
import { NOVAPOSHTA_SANDBOX_API_KEY, startNovaPoshtaSandbox } from './sandbox.ts';

export const novaPoshtaConnector = defineConnector({
  name: 'novaposhta',
  title: 'Nova Poshta',
  description: 'Parcel delivery in Ukraine: quotes, waybills, tracking, cities and branches (API 2.0)',
  defaultBaseUrl: 'https://api.novaposhta.ua/v2.0',
  credentials: z.object({ apiKey: z.string().trim().min(1, 'the API key from the Nova Poshta business cabinet') }),
  // sender, parcel defaults and the status table arrive with the shipments work; unknown keys are kept
  settings: z.looseObject({}),
  createClient: (http, config) => new NovaPoshtaClient(http, config.credentials.apiKey),
  test: async (client, signal) => {
    const cities = await client.getCities({ limit: 1 }, { signal });
    return `authenticated; ${cities.totalCount} cities in the directory`;
  },
  sandbox: { start: (options) => startNovaPoshtaSandbox(options), credentials: { apiKey: NOVAPOSHTA_SANDBOX_API_KEY } },
});
