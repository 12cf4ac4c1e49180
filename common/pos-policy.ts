import { z } from 'zod';

/**
 * The shops' tills (`HUB_POS_POLICY`, JSON): which devices each store sells on, and how long a Payme or Click
 * link at the till waits. The loyalty rules (the look-up's bounded time, the share bonuses may pay) are the
 * `jowi` integration's settings, changeable while the hub runs.
 */

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
