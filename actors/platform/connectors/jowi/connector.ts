import { z } from 'zod';
import { defineConnector } from '../kit/definition.ts';
import { JowiClient } from './client.ts';
import { errorBodySchema } from './protocol.ts';
import { JOWI_SANDBOX_CREDENTIALS, startJowiSandbox } from './sandbox.ts';
import { randomHex } from '../kit/sandbox-secrets.ts';

/**
 * The loyalty settings (all optional):
 * - `lookupTimeoutMs` (1500): how long a sale waits for JOWi to find its customer; past it the sale goes on
 *   without the discount (the bound: the sale answers within 3 s whatever JOWi does).
 * - `maxBonusSharePercent` (50): the largest share of a sale's total that bonuses may pay (only with a live answer).
 * - `accrualRetryBaseMs` (2000) and `accrualRetryMaxMs` (300000): the outbox's pauses between attempts to
 *   deliver an accrual or a refund, doubling from the first up to the second.
 * - `cacheMaxAgeHours` (720): a cached customer older than this is not offered when JOWi is unreachable.
 */
export const jowiSettingsSchema = z.looseObject({
  lookupTimeoutMs: z.number().int().min(100).max(2_500).default(1_500),
  maxBonusSharePercent: z.number().int().min(0).max(100).default(50),
  accrualRetryBaseMs: z.number().int().min(50).max(600_000).default(2_000),
  accrualRetryMaxMs: z.number().int().min(50).max(86_400_000).default(300_000),
  cacheMaxAgeHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(720),
});
export type JowiSettings = z.infer<typeof jowiSettingsSchema>;

export const jowiConnector = defineConnector({
  name: 'jowi',
  title: 'JOWi Club loyalty',
  description: 'Loyalty cards, levels, discounts and bonuses: customer look-up, accruals of sales, refunds, signed webhooks',
  defaultBaseUrl: 'https://api.jowi.club',
  credentials: z.object({
    apiKey: z.string().trim().min(1, 'the api_key from the developer cabinet (dev.jowi.club)'),
    apiSecret: z.string().trim().min(1, 'the api_secret from the developer cabinet; signs requests and webhooks'),
    restaurantId: z.string().trim().min(1, 'the restaurant (shop) id in JOWi that enabled our application'),
  }),
  settings: jowiSettingsSchema,
  // accruals wait in the outbox, look-ups have their own bound: a call never needs to take long
  // every sale makes two calls (the look-up, the accrual): the kit's default 20 a second would make busy tills'
  // look-ups queue behind accruals past their bound (bench:pos), so the budget is wider; settings.http narrows it
  policy: {
    timeoutMs: 5_000,
    retries: 1,
    breakerFailureThreshold: 5,
    breakerCooldownMs: 15_000,
    rateLimitPerSecond: 100,
    rateLimitBurst: 50,
  },
  createClient: (http, config) => new JowiClient(http, config.credentials),
  test: async (client, signal) => {
    // an unknown number: error 40 proves the key, the signature and the restaurant are accepted
    await client.findCustomer({ phone: '998000000000' }, { signal });
    return 'authenticated; customer look-up answered';
  },
  sandbox: {
    start: (options, credentials) => startJowiSandbox(options, credentials),
    credentials: JOWI_SANDBOX_CREDENTIALS,
    // the restaurant is an id; the api_secret signs requests and webhooks
    generateCredentials: () => ({ ...JOWI_SANDBOX_CREDENTIALS, apiKey: randomHex(16), apiSecret: randomHex(32) }),
  },
  describeError: (_status, body) => {
    const parsed = errorBodySchema.safeParse(body);
    return parsed.success ? { code: String(parsed.data.error), message: parsed.data.message } : null;
  },
});
