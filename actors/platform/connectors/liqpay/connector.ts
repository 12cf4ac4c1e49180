import { z } from 'zod';
import { ConnectorError } from '../kit/errors.ts';
import { defineConnector } from '../kit/definition.ts';
import { LiqPayClient } from './client.ts';
import { LIQPAY_SANDBOX_KEYS, startLiqPaySandbox } from './sandbox.ts';
import { randomAlphanumeric } from '../kit/sandbox-secrets.ts';

export const liqpayConnector = defineConnector({
  name: 'liqpay',
  title: 'LiqPay',
  description: "PrivatBank's payment gateway: signed checkouts, payment status, refunds, signed callbacks",
  defaultBaseUrl: 'https://www.liqpay.ua',
  credentials: z.object({
    publicKey: z.string().trim().min(1, 'the public key from the LiqPay cabinet'),
    privateKey: z.string().trim().min(1, 'the private key from the LiqPay cabinet'),
  }),
  settings: z.looseObject({
    /** where LiqPay's page sends the customer after paying (`result_url`); unset: the hub's thank-you page */
    resultUrl: z.url({ protocol: /^https?$/ }).optional(),
  }),
  createClient: (http, config) => new LiqPayClient(http, config.credentials),
  // LiqPay has no "who am I": ask for an order that cannot exist; "not found" proves the keys and the signature are accepted
  test: async (client, signal) => {
    try {
      await client.status(`hub-connection-test-${Date.now()}`, { signal });
    } catch (error) {
      if (error instanceof ConnectorError && error.code === 'payment_not_found') return 'authenticated; keys and signature accepted';
      throw error;
    }
    return 'authenticated';
  },
  sandbox: {
    start: (options, keys) => startLiqPaySandbox(options, keys),
    credentials: LIQPAY_SANDBOX_KEYS,
    // the public key is the shop's id (it travels in every checkout); a sandbox private key is `sandbox_` and 40 characters
    generateCredentials: () => ({ publicKey: LIQPAY_SANDBOX_KEYS.publicKey, privateKey: `sandbox_${randomAlphanumeric(40)}` }),
  },
});
