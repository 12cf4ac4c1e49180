import { z } from 'zod';

/** How a customer pays, and the order policy read from HUB_ORDER_POLICY: shared by the configuration and the order machine. */

/** `marketplace`: the buyer paid the marketplace the order came from (the hub takes no payment) */
export const PAYMENT_METHODS = ['monobank', 'liqpay', 'cod', 'payme', 'click', 'marketplace'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
/** The ways of paying the hub itself takes money by. */
export type OwnPaymentMethod = Exclude<PaymentMethod, 'marketplace'>;

/** The currencies an order or a sale is priced in: amounts are minor units (kopiykas, tiyin, kopecks). Roubles come only from marketplaces. */
export const CURRENCIES = ['UAH', 'UZS', 'RUB'] as const;
export type Currency = (typeof CURRENCIES)[number];

/**
 * The one currency each way of paying takes: Monobank and LiqPay (and cash on delivery through Nova Poshta)
 * in hryvnias, Payme and Click in soums. An order that pairs them otherwise is refused at intake. An order
 * paid at a marketplace is in the marketplace's currency.
 */
export const CURRENCY_OF_METHOD: Readonly<Record<OwnPaymentMethod, Currency>> = {
  monobank: 'UAH',
  liqpay: 'UAH',
  cod: 'UAH',
  payme: 'UZS',
  click: 'UZS',
};

/** The methods an order in this currency may choose. */
export const methodsFor = (currency: Currency): OwnPaymentMethod[] =>
  PAYMENT_METHODS.filter((method): method is OwnPaymentMethod => method !== 'marketplace' && CURRENCY_OF_METHOD[method] === currency);

/**
 * Units of each other currency one hryvnia is worth, for the values a Ukrainian carrier declares in hryvnias
 * (an approximation for the declared value and its insurance, not for money taken; set it from the bank's rate).
 */
export const DEFAULT_EXCHANGE_RATES: Readonly<Record<Exclude<Currency, 'UAH'>, number>> = { UZS: 300, RUB: 2 };

/** Taxes, fees and timings, fixed into each order when it is accepted (configuration, not code). */
export const orderPolicySchema = z.object({
  /** VAT rate in percent; `vatIncluded`: prices already contain it (it is shown, not added) */
  vatRatePercent: z.number().min(0).max(100).default(20),
  vatIncluded: z.boolean().default(true),
  /** extra fees, e.g. `{"name": "cod_fee", "percent": 2, "methods": ["cod"]}` or `{"name": "packing", "fixed": 1500}` */
  fees: z
    .array(
      z.object({
        name: z.string().min(1),
        percent: z.number().min(0).max(100).optional(),
        /** minor units */
        fixed: z.number().int().min(0).optional(),
        methods: z.array(z.enum(PAYMENT_METHODS)).optional(),
      }),
    )
    .default([]),
  maxPaymentAttempts: z.number().int().min(1).max(10).default(3),
  paymentRetryDelayMs: z.number().int().min(0).default(60_000),
  paymentValiditySeconds: z
    .number()
    .int()
    .min(1)
    .default(24 * 3600),
  /** after the payment window, how long a webhook or the poller has to report the outcome before the payment asks the provider itself */
  paymentGraceSeconds: z.number().int().min(0).default(300),
  /** promised delivery, counted from confirmation */
  deliveryDays: z.number().int().min(1).default(3),
  /** how long a survey waits for an answer before the order completes without one */
  surveyWindowDays: z.number().int().min(1).default(7),
  /** the fiscal register (a device name) that prints the receipt of an order paid online; null: no fiscal receipt */
  fiscalRegister: z.string().min(1).max(64).nullable().default(null),
  /** units of each other currency per hryvnia, for the declared value of a parcel Nova Poshta carries (see DEFAULT_EXCHANGE_RATES) */
  exchangeRates: z
    .object({ UZS: z.number().positive().max(1_000_000), RUB: z.number().positive().max(1_000_000).default(DEFAULT_EXCHANGE_RATES.RUB) })
    .default({ ...DEFAULT_EXCHANGE_RATES }),
  /** the receipt printer (a device name) at the warehouse that prints each confirmed order's packing slip; null: none */
  packingPrinter: z.string().min(1).max(64).nullable().default(null),
});
export type OrderPolicy = z.infer<typeof orderPolicySchema>;
