import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { MonobankClient } from './client.ts';
import { monoErrorSchema } from './protocol.ts';
import { MONOBANK_SANDBOX_TOKEN, startMonobankSandbox } from './sandbox.ts';
import { randomBase64Url } from '../kit/sandbox-secrets.ts';

export const monobankConnector = defineConnector({
  name: 'monobank',
  title: 'Monobank acquiring',
  description: 'Card payments by invoice (plata by mono): invoices, status, refunds, signed status webhooks',
  defaultBaseUrl: 'https://api.monobank.ua',
  credentials: z.object({ token: z.string().trim().min(1, 'the merchant X-Token from web.monobank.ua') }),
  settings: z.looseObject({
    /** where Monobank's page sends the customer after paying; unset: the hub's thank-you page (PUBLIC_BASE_URL/payments/thank-you) */
    redirectUrl: z.url({ protocol: /^https?$/ }).optional(),
  }),
  createClient: (http, config) => new MonobankClient(http, config.credentials.token),
  test: async (client, signal) => {
    await client.publicKey({ signal });
    return 'authenticated; webhook public key fetched';
  },
  sandbox: {
    start: (options, credentials) => startMonobankSandbox(options, credentials?.token),
    credentials: { token: MONOBANK_SANDBOX_TOKEN },
    // an X-Token is `u` and 43 base64url characters
    generateCredentials: () => ({ token: `u${randomBase64Url(32)}` }),
  },
  describeError: (_status, body) => {
    const parsed = monoErrorSchema.safeParse(body);
    return parsed.success ? { code: parsed.data.errCode, message: parsed.data.errText } : null;
  },
});
