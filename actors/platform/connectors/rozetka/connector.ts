import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { RozetkaClient } from './client.ts';
import { rozetkaErrorSchema } from './protocol.ts';
import { ROZETKA_SANDBOX_CREDENTIALS, startRozetkaSandbox } from './sandbox.ts';

export const rozetkaConnector = defineConnector({
  name: 'rozetka',
  title: 'Rozetka Seller API',
  description: 'The Rozetka marketplace, seller side: orders, statuses and waybill numbers',
  defaultBaseUrl: 'https://api-seller.rozetka.com.ua',
  credentials: z.object({
    username: z.string().trim().min(1, 'the seller cabinet login'),
    password: z.string().min(1, 'the seller cabinet password (as typed; the hub encodes it)'),
  }),
  settings: z.looseObject({}),
  createClient: (http, config) => new RozetkaClient(http, config.credentials),
  test: async (client) => {
    await client.signIn();
    return 'authenticated; seller session opened';
  },
  sandbox: { start: (options) => startRozetkaSandbox(options), credentials: ROZETKA_SANDBOX_CREDENTIALS },
  describeError: (_status, body) => {
    const parsed = rozetkaErrorSchema.safeParse(body);
    return parsed.success ? { code: parsed.data.errors.code, message: parsed.data.errors.message } : null;
  },
});
