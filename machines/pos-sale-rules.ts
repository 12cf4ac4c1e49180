import { z } from 'zod';
import { CURRENCIES } from '../common/order-policy.ts';

/**
 * The pure rules of a point-of-sale sale (seed 004): what a sale request is,
 * how the loyalty answer prices it, and how its discount lands on the fiscal
 * receipt's lines. No I/O: the loyalty look-up happens before the sale is
 * made, and its answer is part of the sale's input.
 */

export const POS_PAYMENT_METHODS = ['cash', 'card', 'payme', 'click'] as const;
export type PosPaymentMethod = (typeof POS_PAYMENT_METHODS)[number];
/** the methods whose money comes through a provider (a payment actor, a link and QR code) */
export const ONLINE_POS_METHODS: ReadonlySet<PosPaymentMethod> = new Set(['payme', 'click']);

const name = z.string().trim().min(1).max(64);

export const posSaleRequestSchema = z.object({
  /** the store's name in HUB_POS_POLICY.stores */
  store: name,
  /** the till at the store (shown on the slip; the store decides the devices) */
  register: name,
  cashier: name,
  currency: z.enum(CURRENCIES),
  /** the loyalty customer, by phone or by card (or QR code); null: no customer */
  customer: z
    .union([
      z
        .object({
          phone: z
            .string()
            .trim()
            .regex(/^\+?\d{9,15}$/, 'digits, e.g. +998901234567'),
        })
        .strict(),
      z.object({ card: z.string().trim().min(4).max(64) }).strict(),
    ])
    .nullable(),
  items: z
    .array(
      z.object({
        sku: z.string().min(1).max(64),
        name: z.string().trim().min(1).max(128),
        qty: z.number().int().positive().max(10_000),
        /** per unit, minor units (tiyin for UZS) */
        price: z.number().int().positive(),
      }),
    )
    .min(1)
    .max(200)
    .refine((items) => new Set(items.map((item) => item.sku)).size === items.length, 'each sku once'),
  payment: z.object({ method: z.enum(POS_PAYMENT_METHODS) }),
  /** bonuses the customer wants to spend, minor units: applied only with a live answer from the loyalty program */
  useBonus: z.number().int().nonnegative().default(0),
});
export type PosSaleRequest = z.infer<typeof posSaleRequestSchema>;

export const LOYALTY_STATUSES = ['applied', 'offline', 'not_found', 'refused', 'none'] as const;
export type LoyaltyStatus = (typeof LOYALTY_STATUSES)[number];

/** What the loyalty look-up answered when the sale was made. */
export interface LoyaltyAnswer {
  status: LoyaltyStatus;
  customer: {
    id: string;
    name: string | null;
    level: string | null;
    discountPercent: number;
    /** minor units */
    bonusBalance: number;
  } | null;
  /** `live`: JOWi answered; `cache`: JOWi did not, the customer is known from its last answer (identifies, never discounts) */
  source: 'live' | 'cache' | null;
  warning: string | null;
}

export const loyaltyAnswerSchema = z.object({
  status: z.enum(LOYALTY_STATUSES),
  customer: z
    .object({
      id: z.string().min(1).max(128),
      name: z.string().max(200).nullable(),
      level: z.string().max(64).nullable(),
      discountPercent: z.number().min(0).max(100),
      bonusBalance: z.number().int().nonnegative(),
    })
    .nullable(),
  source: z.enum(['live', 'cache']).nullable(),
  warning: z.string().max(500).nullable(),
});

export interface SalePricing {
  subtotal: number;
  /** the loyalty level's discount */
  discount: number;
  /** bonuses spent */
  bonusSpent: number;
  /** what the customer pays */
  total: number;
}

/**
 * The discount and the bonuses of a sale. Only a live answer from the loyalty program gives either: offline
 * (or from the cache) the sale goes on at full price. Bonuses are bounded by the balance, by the share of the
 * discounted amount the policy allows, and by what is asked.
 */
export function priceSale(
  items: ReadonlyArray<{ qty: number; price: number }>,
  loyalty: LoyaltyAnswer,
  useBonus: number,
  maxBonusSharePercent: number,
): SalePricing {
  const subtotal = items.reduce((sum, item) => sum + item.qty * item.price, 0);
  const customer = loyalty.status === 'applied' && loyalty.source === 'live' ? loyalty.customer : null;
  if (!customer) return { subtotal, discount: 0, bonusSpent: 0, total: subtotal };
  const discount = Math.floor((subtotal * customer.discountPercent) / 100);
  const afterDiscount = subtotal - discount;
  const bonusCap = Math.floor((afterDiscount * maxBonusSharePercent) / 100);
  const bonusSpent = Math.max(0, Math.min(useBonus, customer.bonusBalance, bonusCap));
  return { subtotal, discount, bonusSpent, total: afterDiscount - bonusSpent };
}

/**
 * The fiscal receipt's lines of a sale: the reduction (discount and bonuses) shared over the lines in
 * proportion to their sums (largest remainders, so the shares add up exactly), and a line whose share does
 * not divide by its quantity split in two (the last unit carries the remainder) — the register prints whole
 * minor units, and the lines add up to what the customer pays to the tiyin.
 */
export function receiptLinesOf(
  items: ReadonlyArray<{ name: string; qty: number; price: number }>,
  reduction: number,
): Array<{ name: string; qty: number; price: number }> {
  const sums = items.map((item) => item.qty * item.price);
  const subtotal = sums.reduce((a, b) => a + b, 0);
  if (reduction < 0 || reduction > subtotal) throw new RangeError(`a reduction of ${reduction} on ${subtotal}`);
  const exact = sums.map((sum) => (subtotal === 0 ? 0 : (sum * reduction) / subtotal));
  const shares = exact.map(Math.floor);
  let left = reduction - shares.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder);
  for (const { index } of byRemainder) {
    if (left === 0) break;
    shares[index] = (shares[index] ?? 0) + 1;
    left -= 1;
  }
  return items.flatMap((item, index) => {
    const lineSum = (sums[index] ?? 0) - (shares[index] ?? 0);
    const unit = Math.floor(lineSum / item.qty);
    const remainder = lineSum - unit * item.qty;
    if (remainder === 0) return [{ name: item.name, qty: item.qty, price: unit }];
    return [
      ...(item.qty > 1 ? [{ name: item.name, qty: item.qty - 1, price: unit }] : []),
      { name: item.name, qty: 1, price: unit + remainder },
    ];
  });
}
