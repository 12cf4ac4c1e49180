import { z } from 'zod';

/** How receipts behave on this hub's registers (`HUB_FISCAL_POLICY`, JSON). */
export const fiscalPolicySchema = z
  .object({
    /** take a Z-report by itself when a shift has run over 24 hours, so the receipt goes on */
    autoZReport: z.boolean().default(true),
    /** first pause after a device fault; doubles up to `maxRetryDelayMs` */
    retryDelayMs: z.number().int().min(50).max(600_000).default(2_000),
    maxRetryDelayMs: z.number().int().min(50).max(3_600_000).default(60_000),
    /** how long a receipt may wait for its device before a person is alerted */
    alertAfterMs: z
      .number()
      .int()
      .min(1_000)
      .default(5 * 60_000),
    /** the daily `fiscal-z-report` job closes every open shift at this time (cron, read in `timeZone`); null: never */
    dailyZReport: z
      .string()
      .regex(/^\S+( \S+){4}$/, 'a cron expression of five fields, e.g. "55 23 * * *"')
      .nullable()
      .default('55 23 * * *'),
    timeZone: z
      .string()
      .refine((zone) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, 'an IANA time zone, e.g. Europe/Kyiv')
      .default('Europe/Kyiv'),
  })
  .strict();

export type FiscalPolicy = z.infer<typeof fiscalPolicySchema>;
