import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineMachineModule, type Refusal, type RefusalOf } from './machine-module.ts';

/**
 * A product and its stock. Stock is reserved by orders one event at a time:
 * the runtime applies one event per actor at a time across every process
 * (its commit is a compare-and-set on the revision), so "available ≥ qty,
 * then reserve" cannot be raced — which a conditional update cannot promise
 * on FerretDB. A reservation is keyed by the order, so asking twice
 * reserves once.
 */

export interface ProductContext {
  sku: string;
  name: string;
  /** minor units */
  price: number;
  /** units on hand, reserved ones included */
  stock: number;
  /** order id → units held for it */
  reservations: Record<string, number>;
  /** the last reservation refused, so the caller can say why */
  lastRefusal: { orderId: string; qty: number; available: number } | null;
  sold: number;
}

export type ProductEvent =
  | { type: 'SET'; name?: string; price?: number; stock?: number }
  | { type: 'RESERVE'; orderId: string; qty: number }
  | { type: 'RELEASE'; orderId: string }
  | { type: 'COMMIT'; orderId: string }
  /** sold units brought back (a return at the till): on the shelf again */
  | { type: 'RESTOCK'; returnId: string; qty: number };

export interface ProductInput {
  sku: string;
  name: string;
  price: number;
  stock: number;
}

export function reservedUnits(context: Pick<ProductContext, 'reservations'>): number {
  return Object.values(context.reservations).reduce((sum, qty) => sum + qty, 0);
}

export function availableUnits(context: Pick<ProductContext, 'stock' | 'reservations'>): number {
  return context.stock - reservedUnits(context);
}

export const productInputSchema = z.object({
  sku: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  price: z.number().int().nonnegative(),
  stock: z.number().int().nonnegative(),
});

const orderId = z.string().min(1).max(128);
export const productEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('SET'),
    name: z.string().min(1).max(200).optional(),
    price: z.number().int().nonnegative().optional(),
    stock: z.number().int().nonnegative().optional(),
  }),
  z.object({ type: z.literal('RESERVE'), orderId, qty: z.number().int().positive() }),
  z.object({ type: z.literal('RELEASE'), orderId }),
  z.object({ type: z.literal('COMMIT'), orderId }),
  z.object({ type: z.literal('RESTOCK'), returnId: z.string().min(1).max(128), qty: z.number().int().positive() }),
]);

/** Why a product refuses an event (answered in `event_not_accepted`'s `details.reason`). */
export const PRODUCT_REFUSALS = {
  stockBelowReserved: 'stock_below_reserved',
  noReservation: 'no_reservation',
  alreadyReserved: 'already_reserved',
} as const;
export type ProductRefusalCode = (typeof PRODUCT_REFUSALS)[keyof typeof PRODUCT_REFUSALS];

type SetEvent = Extract<ProductEvent, { type: 'SET' }>;
type ReservationEvent = Extract<ProductEvent, { type: 'RELEASE' | 'COMMIT' }>;

/** Stock may not go below what open orders hold: the rule behind the `coversReservations` guard, with its reason. */
function stockRefusal(context: ProductContext, event: SetEvent): Refusal<ProductRefusalCode> | null {
  const reserved = reservedUnits(context);
  if (event.stock === undefined || event.stock >= reserved) return null;
  return {
    code: PRODUCT_REFUSALS.stockBelowReserved,
    message: `stock ${event.stock} is below the ${reserved} units reserved by open orders`,
    details: { stock: event.stock, reserved },
  };
}

/** Only a reservation that exists can be released or committed: the rule behind the `holdsReservation` guard. */
function reservationRefusal(context: ProductContext, event: ReservationEvent): Refusal<ProductRefusalCode> | null {
  if (context.reservations[event.orderId] !== undefined) return null;
  return {
    code: PRODUCT_REFUSALS.noReservation,
    message: `order ${event.orderId} holds no reservation of ${context.sku}`,
    details: { orderId: event.orderId },
  };
}

const productMachine = setup({
  types: {} as { context: ProductContext; events: ProductEvent; input: ProductInput },
  guards: {
    alreadyReserved: ({ context, event }) => event.type === 'RESERVE' && context.reservations[event.orderId] !== undefined,
    available: ({ context, event }) => event.type === 'RESERVE' && availableUnits(context) >= event.qty,
    coversReservations: ({ context, event }) => event.type === 'SET' && stockRefusal(context, event) === null,
    holdsReservation: ({ context, event }) =>
      (event.type === 'RELEASE' || event.type === 'COMMIT') && reservationRefusal(context, event) === null,
  },
}).createMachine({
  id: 'product',
  initial: 'active',
  context: ({ input }) => ({ ...input, reservations: {}, lastRefusal: null, sold: 0 }),
  states: {
    active: {
      on: {
        SET: {
          guard: 'coversReservations',
          actions: assign(({ context, event }) => ({
            name: event.name ?? context.name,
            price: event.price ?? context.price,
            stock: event.stock ?? context.stock,
          })),
        },
        RESERVE: [
          { guard: 'alreadyReserved' },
          {
            guard: 'available',
            actions: assign({ reservations: ({ context, event }) => ({ ...context.reservations, [event.orderId]: event.qty }) }),
          },
          {
            actions: assign({
              lastRefusal: ({ context, event }) => ({ orderId: event.orderId, qty: event.qty, available: availableUnits(context) }),
            }),
          },
        ],
        RELEASE: {
          guard: 'holdsReservation',
          actions: assign({ reservations: ({ context, event }) => withoutKey(context.reservations, event.orderId) }),
        },
        RESTOCK: {
          actions: assign(({ context, event }) => ({ stock: context.stock + event.qty, sold: Math.max(0, context.sold - event.qty) })),
        },
        COMMIT: {
          guard: 'holdsReservation',
          actions: assign(({ context, event }) => {
            const qty = context.reservations[event.orderId] ?? 0;
            return { stock: context.stock - qty, sold: context.sold + qty, reservations: withoutKey(context.reservations, event.orderId) };
          }),
        },
      },
    },
  },
});

function withoutKey(record: Record<string, number>, key: string): Record<string, number> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

/**
 * Why the product refuses an event. A RESERVE for an order that holds units
 * already is taken by a transition that does nothing, which XState's `can()`
 * counts as not accepting it; the reason says so.
 */
export const productRefusal: RefusalOf<typeof productMachine, ProductRefusalCode> = ({ context }, event) => {
  switch (event.type) {
    case 'SET':
      return stockRefusal(context, event);
    case 'RELEASE':
    case 'COMMIT':
      return reservationRefusal(context, event);
    case 'RESTOCK':
      return null;
    case 'RESERVE': {
      const held = context.reservations[event.orderId];
      if (held === undefined) return null;
      return {
        code: PRODUCT_REFUSALS.alreadyReserved,
        message: `order ${event.orderId} holds ${held} units of ${context.sku} already`,
        details: { orderId: event.orderId, reserved: held },
      };
    }
  }
};

export default defineMachineModule({
  type: 'product',
  version: 1,
  description: 'A product and its stock: reservations per order, released on cancel, committed when shipped',
  migrations: {},
  machine: productMachine,
  inputSchema: productInputSchema,
  eventSchema: productEventSchema,
  refusal: productRefusal,
  domainEvents: {
    events: {
      changed: { description: "a product's name, price, stock or reservations changed", states: ['active'] },
    },
    data: z.object({ sku: z.string(), name: z.string(), price: z.number(), stock: z.number(), sold: z.number() }),
  },
});
