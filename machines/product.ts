import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineMachineModule } from './machine-module.ts';

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
  | { type: 'COMMIT'; orderId: string };

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
]);

const productMachine = setup({
  types: {} as { context: ProductContext; events: ProductEvent; input: ProductInput },
  guards: {
    alreadyReserved: ({ context, event }) => event.type === 'RESERVE' && context.reservations[event.orderId] !== undefined,
    available: ({ context, event }) => event.type === 'RESERVE' && availableUnits(context) >= event.qty,
    coversReservations: ({ context, event }) =>
      event.type === 'SET' && (event.stock === undefined || event.stock >= reservedUnits(context)),
    holdsReservation: ({ context, event }) =>
      (event.type === 'RELEASE' || event.type === 'COMMIT') && context.reservations[event.orderId] !== undefined,
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

export default defineMachineModule({
  type: 'product',
  version: 1,
  description: 'A product and its stock: reservations per order, released on cancel, committed when shipped',
  migrations: {},
  machine: productMachine,
  inputSchema: productInputSchema,
  eventSchema: productEventSchema,
});
