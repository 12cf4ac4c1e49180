import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { ConnectorError } from '../kit/errors.ts';
import { ClickClient } from './client.ts';
import { CLICK_MERCHANT_API_URL } from './protocol.ts';
import { CLICK_SANDBOX_CREDENTIALS, startClickSandbox } from './sandbox.ts';
import { randomAlphanumeric } from '../kit/sandbox-secrets.ts';

const digits = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,20}$/, what);

/**
 * Click (Uzbekistan): Click calls our Prepare and Complete endpoints (the
 * SHOP API, `actors/domains/payments/click-merchant.ts`); we ask its
 * Merchant API (`baseUrl`) for a payment's status and to reverse it.
 */
export const clickConnector = defineConnector({
  name: 'click',
  title: 'Click',
  description: 'Click SHOP API (Prepare/Complete called by Click, payment links in soums) and the Merchant API (status, reversal)',
  defaultBaseUrl: CLICK_MERCHANT_API_URL,
  credentials: z.object({
    serviceId: digits('the service id from the Click merchant cabinet'),
    merchantId: digits('the merchant id from the Click merchant cabinet'),
    secretKey: z.string().trim().min(1, 'the secret key from the Click merchant cabinet'),
    merchantUserId: digits('the merchant user id (Merchant API) from the Click merchant cabinet'),
  }),
  settings: z.looseObject({
    /** Click's payment page the links point at; unset: https://my.click.uz/services/pay (the sandbox's page when sandboxed) */
    paymentUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** where Click's page sends the payer after paying; unset: the hub's thank-you page */
    returnUrl: z.url({ protocol: /^https?$/ }).optional(),
  }),
  createClient: (http, config) => new ClickClient(http, config.credentials),
  // Click has no "who am I": ask for a payment that cannot exist; an answer (even "not found") proves the Auth header accepted
  test: async (client, signal) => {
    try {
      const answer = await client.paymentStatus('1', { signal });
      return `authenticated; Merchant API answered error_code ${answer.error_code}`;
    } catch (error) {
      if (error instanceof ConnectorError && error.status === 404) return 'authenticated; Merchant API answered 404 for a probe payment';
      throw error;
    }
  },
  sandbox: {
    start: (options, credentials) => startClickSandbox(options, credentials),
    credentials: CLICK_SANDBOX_CREDENTIALS,
    // the ids are the cabinet's numbers; the secret key signs every Prepare and Complete
    generateCredentials: () => ({ ...CLICK_SANDBOX_CREDENTIALS, secretKey: randomAlphanumeric(24) }),
  },
  describeError: (_status, body) => {
    const parsed = z.object({ error_code: z.number().int(), error_note: z.string().optional() }).safeParse(body);
    return parsed.success ? { code: `click_${parsed.data.error_code}`, message: parsed.data.error_note ?? '' } : null;
  },
});
