import { z } from 'zod';
import { defineConnector, type ConnectorHttp } from '../kit/definition.ts';
import { PAYME_CHECKOUT_URL } from './protocol.ts';
import { PAYME_SANDBOX_CREDENTIALS, startPaymeSandbox } from './sandbox.ts';
import { randomAlphanumeric } from '../kit/sandbox-secrets.ts';

/**
 * Payme calls us (the Merchant API, `actors/domains/payments/payme-merchant.ts`); we call nothing of
 * Payme's. The client only opens the checkout, which is what the connection test can prove: the address a
 * payer's link points at answers.
 */
export class PaymeCheckoutClient {
  constructor(private readonly http: ConnectorHttp) {}

  async reachable(signal?: AbortSignal): Promise<number> {
    return this.http.call({
      operation: 'checkout.open',
      method: 'GET',
      path: '',
      parse: (response) => response.status,
      ...(signal ? { context: { signal } } : {}),
    });
  }
}

export const paymeConnector = defineConnector({
  name: 'payme',
  title: 'Payme',
  description:
    "Payme Business (Uzbekistan): Payme calls the hub's Merchant API (POST /webhooks/payme); payers pay on Payme's checkout, in soums",
  defaultBaseUrl: PAYME_CHECKOUT_URL,
  credentials: z.object({
    merchantId: z.string().trim().min(1, 'the merchant (cashbox) id from the Payme cabinet'),
    key: z.string().min(1, 'the cashbox key from the Payme cabinet (the password of the login Paycom)'),
  }),
  settings: z.looseObject({
    /** where payers are sent to pay (GET checkout links); the sandbox's own address while sandboxed */
    checkoutUrl: z.url({ protocol: /^https?$/ }).default(PAYME_CHECKOUT_URL),
  }),
  createClient: (http) => new PaymeCheckoutClient(http),
  // nothing of Payme's takes our key: the checkout answering is what can be proved from here
  test: async (client, signal) =>
    `checkout reachable (HTTP ${await client.reachable(signal)}); Payme's calls to the hub are authenticated by the cashbox key`,
  sandbox: {
    start: (options, credentials) => startPaymeSandbox(options, credentials),
    credentials: PAYME_SANDBOX_CREDENTIALS,
    // the merchant id is the cashbox's (24 hex digits); the key is what Payme's calls carry in Basic auth
    generateCredentials: () => ({ merchantId: PAYME_SANDBOX_CREDENTIALS.merchantId, key: randomAlphanumeric(40) }),
  },
});
