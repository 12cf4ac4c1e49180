import { z } from 'zod';

/** The shops' tills (`HUB_POS_POLICY`, JSON): which devices each store sells on, and the loyalty rules. */

const deviceName = z.string().min(1).max(64);

export const posPolicySchema = z
  .object({
    /** each store by name: the fiscal register its receipts print on, the printer of the customer's slip (null: none) */
    stores: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a store name: letters, digits, . _ -'),
        z
          .object({
            /** shown on the slip */
            title: z.string().min(1).max(64).optional(),
            fiscalRegister: deviceName.nullable().default(null),
            receiptPrinter: deviceName.nullable().default(null),
          })
          .strict(),
      )
      .default({ main: { fiscalRegister: null, receiptPrinter: null } }),
    /** how long a sale waits for the loyalty program's answer before it goes on without it (seed 004: never block a sale) */
    loyaltyTimeoutMs: z.number().int().min(100).max(2_500).default(1_500),
    /** the share of a sale (after the discount) bonuses may pay */
    maxBonusSharePercent: z.number().min(0).max(100).default(50),
    /** how long a customer has to pay a Payme or Click link at the till, and the provider's grace after it */
    paymentValiditySeconds: z
      .number()
      .int()
      .min(30)
      .default(15 * 60),
    paymentGraceSeconds: z.number().int().min(0).default(60),
  })
  .strict();

export type PosPolicy = z.infer<typeof posPolicySchema>;
