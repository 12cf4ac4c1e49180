import { z } from 'zod';
import { CURRENCIES, CURRENCY_OF_METHOD, methodsFor, PAYMENT_METHODS, type Currency, type OrderPolicy } from '../common/order-policy.ts';
import { isMarketplace, MARKETPLACE_CURRENCY, MARKETPLACES } from '../common/marketplaces.ts';
export {
  CURRENCIES,
  DEFAULT_EXCHANGE_RATES,
  orderPolicySchema,
  PAYMENT_METHODS,
  type Currency,
  type OrderPolicy,
  type PaymentMethod,
} from '../common/order-policy.ts';

/**
 * The pure rules of an order: what a valid order is, and how it is priced.
 * No I/O here — stock and delivery coverage are checked by effects.
 */

export interface OrderError {
  code: string;
  message: string;
  path?: string;
}

const ref = z.string().min(1).max(64);

/** The intake body: types are checked here (a wrong type is a 400); what is missing is the order's own error. */
export const orderRequestSchema = z.object({
  externalId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._:-]+$/)
    .optional(),
  /** where the order came from: the shop, a person, or the marketplace that sold it (its id is then `externalId`) */
  source: z.enum(['shop', 'marketplace', 'manual', ...MARKETPLACES]),
  customer: z.object({ name: z.string().max(200).optional(), phone: z.string().max(32).optional(), email: z.string().max(254).optional() }),
  items: z
    .array(
      z.object({
        sku: z.string().min(1).max(64),
        name: z.string().max(200).optional(),
        qty: z.number().int().positive().max(10_000),
        unitPrice: z.number().int().nonnegative(),
      }),
    )
    .max(200),
  /** UAH (kopiykas) or UZS (tiyin); it decides the ways of paying (Payme and Click take soums, the others hryvnias) */
  currency: z.enum(CURRENCIES),
  delivery: z.object({
    /** `marketplace`: the marketplace's own logistics carry it (FBS); we pack and hand it over */
    carrier: z.enum(['novaposhta', 'marketplace']),
    /** the marketplace's logistics service, e.g. `uzum-fbs` */
    service: z.string().min(1).max(64).optional(),
    cityRef: ref.optional(),
    warehouseRef: ref.optional(),
    address: z.object({ street: z.string().max(200), house: z.string().max(20), flat: z.string().max(20).optional() }).optional(),
    fee: z.number().int().nonnegative().default(0),
  }),
  payment: z.object({ method: z.enum(PAYMENT_METHODS) }),
  total: z.number().int().nonnegative(),
});
export type OrderRequest = z.infer<typeof orderRequestSchema>;

/** What `POST /orders` takes: the request, with a way of paying that takes its currency (else a 400 naming the ones that do). */
export const orderIntakeSchema = orderRequestSchema.superRefine((order, ctx) => {
  const method = order.payment.method;
  if (method === 'marketplace' || order.delivery.carrier === 'marketplace' || isMarketplace(order.source)) {
    if (!isMarketplace(order.source))
      ctx.addIssue({
        code: 'custom',
        path: ['source'],
        message: `payment at a marketplace and marketplace logistics are for orders a marketplace sold (source ${MARKETPLACES.join(', ')})`,
      });
    else if (order.currency !== MARKETPLACE_CURRENCY[order.source])
      ctx.addIssue({ code: 'custom', path: ['currency'], message: `${order.source} sells in ${MARKETPLACE_CURRENCY[order.source]}` });
    if (method === 'marketplace') return;
  }
  if (CURRENCY_OF_METHOD[method] === order.currency) return;
  const methods = methodsFor(order.currency);
  ctx.addIssue({
    code: 'custom',
    path: ['payment', 'method'],
    message: `${method} takes ${CURRENCY_OF_METHOD[method]}; ${methods.length > 0 ? `an order in ${order.currency} pays by ${methods.join(', ')}` : `an order in ${order.currency} is paid at its marketplace (marketplace)`}`,
  });
});

/** Customers' phones by the order's currency: Ukrainian for hryvnia orders, Uzbek or Ukrainian for soum orders. */
const PHONES: Record<Currency, { pattern: RegExp; example: string }> = {
  UAH: { pattern: /^\+?380\d{9}$/, example: 'a Ukrainian phone number, e.g. +380501234567' },
  UZS: { pattern: /^\+?(998|380)\d{9}$/, example: 'an Uzbek or Ukrainian phone number, e.g. +998901234567' },
  RUB: { pattern: /^\+?7\d{10}$/, example: 'a Russian or Kazakh phone number, e.g. +79161234567' },
};
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Every problem of the order as sent, each with its own code (empty: valid so far). */
export function validateOrder(order: OrderRequest): OrderError[] {
  const errors: OrderError[] = [];
  const missing: string[] = [];
  // a marketplace gives what it has: no e-mail, and no customer at all when its own logistics carry the parcel
  const fromMarketplace = isMarketplace(order.source);
  const weShip = order.delivery.carrier === 'novaposhta';
  if (weShip || !fromMarketplace) {
    if (!order.customer.name?.trim()) missing.push('customer.name');
    if (!order.customer.phone?.trim()) missing.push('customer.phone');
  }
  if (!fromMarketplace && !order.customer.email?.trim()) missing.push('customer.email');
  if (order.items.length === 0) missing.push('items');
  if (weShip && !order.delivery.cityRef) missing.push('delivery.cityRef');
  if (weShip && !order.delivery.warehouseRef && !order.delivery.address) missing.push('delivery.warehouseRef');
  for (const path of missing) errors.push({ code: 'missing_field', message: `${path} is required`, path });
  const phone = PHONES[order.currency];
  if (order.customer.phone?.trim() && !phone.pattern.test(order.customer.phone.replace(/[\s()-]/g, ''))) {
    errors.push({ code: 'invalid_phone', message: phone.example, path: 'customer.phone' });
  }
  if (order.customer.email?.trim() && !EMAIL.test(order.customer.email))
    errors.push({ code: 'invalid_email', message: 'not an e-mail address', path: 'customer.email' });
  if (order.delivery.address && (!order.delivery.address.street.trim() || !order.delivery.address.house.trim())) {
    errors.push({ code: 'invalid_address', message: 'street and house are required for address delivery', path: 'delivery.address' });
  }
  const skus = new Set<string>();
  order.items.forEach((item, index) => {
    if (skus.has(item.sku)) errors.push({ code: 'duplicate_item', message: `${item.sku} is listed twice`, path: `items.${index}.sku` });
    skus.add(item.sku);
  });
  const expected = linesTotal(order.items) + order.delivery.fee;
  if (order.items.length > 0 && order.total !== expected) {
    errors.push({
      code: 'total_mismatch',
      message: `total ${order.total} differs from the lines plus delivery (${expected})`,
      path: 'total',
    });
  }
  return errors;
}

export function linesTotal(items: ReadonlyArray<{ qty: number; unitPrice: number }>): number {
  return items.reduce((sum, item) => sum + item.qty * item.unitPrice, 0);
}

export interface Pricing {
  subtotal: number;
  deliveryFee: number;
  fees: Array<{ name: string; amount: number }>;
  /** what the customer pays, minor units */
  total: number;
  vatRatePercent: number;
  /** the VAT inside (or added to) the total */
  vat: number;
  currency: Currency;
}

/** Taxes and fees by the order's policy. */
export function priceOrder(order: OrderRequest, policy: OrderPolicy): Pricing {
  const subtotal = linesTotal(order.items);
  const fees = policy.fees
    .filter((fee) => !fee.methods || fee.methods.includes(order.payment.method))
    .map((fee) => ({ name: fee.name, amount: (fee.fixed ?? 0) + Math.round((subtotal * (fee.percent ?? 0)) / 100) }))
    .filter((fee) => fee.amount > 0);
  const net = subtotal + order.delivery.fee + fees.reduce((sum, fee) => sum + fee.amount, 0);
  const vat = policy.vatIncluded
    ? Math.round((net * policy.vatRatePercent) / (100 + policy.vatRatePercent))
    : Math.round((net * policy.vatRatePercent) / 100);
  return {
    subtotal,
    deliveryFee: order.delivery.fee,
    fees,
    total: policy.vatIncluded ? net : net + vat,
    vatRatePercent: policy.vatRatePercent,
    vat,
    currency: order.currency,
  };
}
