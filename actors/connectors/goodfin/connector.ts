import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { GoodfinClient } from './client.ts';
import { oauthErrorSchema } from './protocol.ts';
import { GOODFIN_SANDBOX_CREDENTIALS, startGoodfinSandbox } from './sandbox.ts';

export const goodfinConnector = defineConnector({
  name: 'goodfin',
  title: 'Goodfin',
  description: 'The Goodfin lending marketplace, bank side: applications in, statuses and answers out',
  defaultBaseUrl: 'https://sandbox.goodfin.ru',
  credentials: z.object({
    serviceSystemName: z.string().trim().min(1, 'the service login Goodfin issued (registerservice)'),
    password: z.string().min(1, 'the service password Goodfin issued'),
  }),
  settings: z.looseObject({}),
  createClient: (http, config) => new GoodfinClient(http, config.credentials),
  test: async (client) => {
    await client.signIn();
    return `authenticated as service ${client.serviceSystemName}`;
  },
  sandbox: { start: (options) => startGoodfinSandbox(options), credentials: GOODFIN_SANDBOX_CREDENTIALS },
  describeError: (_status, body) => {
    const parsed = oauthErrorSchema.safeParse(body);
    return parsed.success ? { code: parsed.data.error, message: parsed.data.error_description ?? parsed.data.error } : null;
  },
});
