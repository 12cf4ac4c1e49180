import { assign, setup } from 'xstate';
import { z } from 'zod';
import { shipmentCodeOf } from '../common/shipment-code.ts';
import { statusMapSchema, type ShipmentStage } from '../common/shipment-stages.ts';
import { defineMachineModule, effect, type EffectFailure, type PersistedSnapshotJson } from './machine-module.ts';

/**
 * A parcel with Nova Poshta: quoted, its waybill created (exactly once, even
 * across a crash: the effect looks the waybill up by our order id before
 * creating another), then moved by tracking — NP's status codes mapped to
 * stages by a table that is configuration (the integration's settings),
 * fixed into the shipment when it is created. Every stage change tells the
 * customer and the order.
 */

export { DEFAULT_STATUS_MAP, SHIPMENT_STAGES, statusMapSchema, type ShipmentStage } from '../common/shipment-stages.ts';

export interface ShipmentInput {
  shipmentId: string;
  orderId: string;
  recipient: { name: string; phone: string; email: string | null };
  cityRef: string;
  warehouseRef: string | null;
  address: { street: string; house: string; flat?: string } | null;
  /** declared value, minor units */
  declaredValue: number;
  description: string;
  /** cash on delivery: the amount NP collects, minor units */
  collectOnDelivery: number | null;
  statusMap: Record<string, ShipmentStage>;
  /** when asked for (ISO): the lookup of a waybill lost in a crash searches from then */
  requestedAt: string;
  /** a waybill made elsewhere, only to be tracked */
  existingWaybill?: { number: string; ref: string } | null;
}

export interface Quote {
  cost: number;
  estimatedDelivery: string | null;
}

export interface CreatedWaybill {
  number: string;
  ref: string;
  cost: number | null;
  /** found by our order id rather than created (a crash lost the first answer) */
  recovered: boolean;
}

export interface TrackedEvent {
  type: 'TRACKED';
  number: string;
  statusCode: string;
  status: string;
  returnNumber?: string | null;
}

export type ShipmentEvent = TrackedEvent | { type: 'CANCEL'; reason: string } | { type: 'RETRY' };

export interface ShipmentNotice {
  shipmentId: string;
  orderId: string;
  stage: ShipmentStage;
  number: string | null;
  email: string | null;
}

/** What the carrier effects are given: the shipment and the code it writes on its waybill. */
export type ShipmentParcel = ShipmentInput & { ourCode: string };

export interface ShipmentContext extends ShipmentInput {
  /**
   * Written on the waybill (NP's `InfoRegClientBarcodes`) and searched for
   * after a crash: short and derived from the shipment id
   * (common/shipment-code.ts), kept so that the lookup asks for exactly what
   * the save wrote, whatever later versions derive.
   */
  ourCode: string;
  quote: Quote | null;
  quoteError: EffectFailure | null;
  waybill: { number: string; ref: string; cost: number | null; recovered: boolean } | null;
  returnNumber: string | null;
  lastStatusCode: string | null;
  lastStatus: string | null;
  history: Array<{ number: string; statusCode: string; stage: ShipmentStage | 'unknown' }>;
  error: EffectFailure | null;
  noticeError: EffectFailure | null;
  cancelReason: string | null;
}

export const shipmentInputSchema = z.object({
  shipmentId: z.string().min(1).max(128),
  orderId: z.string().min(1).max(128),
  recipient: z.object({ name: z.string().min(1), phone: z.string().min(1), email: z.string().nullable() }),
  cityRef: z.string().min(1),
  warehouseRef: z.string().nullable(),
  address: z.object({ street: z.string(), house: z.string(), flat: z.string().optional() }).nullable(),
  declaredValue: z.number().int().positive(),
  description: z.string().min(1).max(100),
  collectOnDelivery: z.number().int().positive().nullable(),
  statusMap: statusMapSchema,
  requestedAt: z.iso.datetime({ offset: true }),
  existingWaybill: z.object({ number: z.string().regex(/^\d{14}$/), ref: z.string() }).nullish(),
});

export const shipmentEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('TRACKED'),
    number: z.string(),
    statusCode: z.string().regex(/^\d{1,4}$/),
    status: z.string().max(500),
    returnNumber: z.string().nullish(),
  }),
  z.object({ type: z.literal('CANCEL'), reason: z.string().min(1).max(500) }),
  z.object({ type: z.literal('RETRY') }),
]);

export function stageOf(context: Pick<ShipmentContext, 'statusMap'>, statusCode: string): ShipmentStage | 'unknown' {
  return context.statusMap[statusCode] ?? 'unknown';
}

/** The number tracking asks about: the return waybill once the parcel goes back. */
export function trackedNumber(context: Pick<ShipmentContext, 'waybill' | 'returnNumber'>): string | null {
  return context.returnNumber ?? context.waybill?.number ?? null;
}

/** The stage a tracking event moves to; null when it says nothing new (another number, the same status). */
const trackedStage = (context: ShipmentContext, event: ShipmentEvent): ShipmentStage | 'unknown' | null => {
  if (event.type !== 'TRACKED' || event.number !== trackedNumber(context)) return null;
  const learnsReturn = Boolean(event.returnNumber) && context.returnNumber === null;
  return event.statusCode !== context.lastStatusCode || learnsReturn ? stageOf(context, event.statusCode) : null;
};

const notify = (stage: ShipmentStage) => ({
  id: `notify-${stage}`,
  src: 'notifyShipment' as const,
  input: ({ context }: { context: ShipmentContext }): ShipmentNotice => ({
    shipmentId: context.shipmentId,
    orderId: context.orderId,
    stage,
    number: trackedNumber(context),
    email: context.recipient.email,
  }),
  // telling the order or the customer failed even after retries: recorded, the parcel goes on
  onError: { actions: 'recordNoticeError' as const },
});

const shipmentMachine = setup({
  types: {} as { context: ShipmentContext; events: ShipmentEvent; input: ShipmentInput },
  actors: {
    quoteShipment: effect<Quote, ShipmentParcel>(),
    createWaybill: effect<CreatedWaybill, ShipmentParcel & { quote: Quote | null }>(),
    deleteWaybill: effect<{ deleted: boolean }, { shipmentId: string; ref: string }>(),
    notifyShipment: effect<{ notified: boolean }, ShipmentNotice>(),
  },
  actions: {
    recordNoticeError: assign({ noticeError: ({ event }) => (event as unknown as { error: EffectFailure }).error }),
    record: assign(({ context, event }) => {
      if (event.type !== 'TRACKED') return {};
      const stage = stageOf(context, event.statusCode);
      return {
        lastStatusCode: event.statusCode,
        lastStatus: event.status,
        returnNumber: context.returnNumber ?? event.returnNumber ?? null,
        history: [...context.history, { number: event.number, statusCode: event.statusCode, stage }].slice(-100),
      };
    }),
  },
  guards: {
    imported: ({ context }) => Boolean(context.existingWaybill),
    toPickup: ({ context, event }) => trackedStage(context, event) === 'awaitingPickup',
    toTransit: ({ context, event }) => trackedStage(context, event) === 'inTransit',
    toWarehouse: ({ context, event }) => trackedStage(context, event) === 'atWarehouse',
    toDelivered: ({ context, event }) => trackedStage(context, event) === 'delivered',
    toRefused: ({ context, event }) => trackedStage(context, event) === 'refused',
    toReturning: ({ context, event }) => trackedStage(context, event) === 'returning',
    toCancelled: ({ context, event }) => trackedStage(context, event) === 'cancelled',
    // on the way back, the return waybill's "received" is the sender receiving it
    returnReceived: ({ context, event }) => context.returnNumber !== null && trackedStage(context, event) === 'delivered',
    // NP made the return waybill (whatever the status says), or the return waybill moves: the parcel comes back
    onTheWayBack: ({ context, event }) =>
      trackedStage(context, event) !== null &&
      ((event.type === 'TRACKED' && Boolean(event.returnNumber) && context.returnNumber === null) || context.returnNumber !== null),
    changed: ({ context, event }) => trackedStage(context, event) !== null,
  },
}).createMachine({
  id: 'shipment',
  initial: 'starting',
  context: ({ input }) => ({
    ...input,
    ourCode: shipmentCodeOf(input.shipmentId),
    quote: null,
    quoteError: null,
    waybill: input.existingWaybill
      ? { number: input.existingWaybill.number, ref: input.existingWaybill.ref, cost: null, recovered: false }
      : null,
    returnNumber: null,
    lastStatusCode: null,
    lastStatus: null,
    history: [],
    error: null,
    noticeError: null,
    cancelReason: null,
  }),
  states: {
    starting: { always: [{ guard: 'imported', target: 'awaitingPickup' }, { target: 'quoting' }] },
    quoting: {
      invoke: {
        id: 'quote',
        src: 'quoteShipment',
        input: ({ context }) => context,
        onDone: { target: 'creatingWaybill', actions: assign({ quote: ({ event }) => event.output }) },
        // a price we could not learn does not stop the parcel
        onError: { target: 'creatingWaybill', actions: assign({ quoteError: ({ event }) => event.error as EffectFailure }) },
      },
      on: { CANCEL: { target: 'cancelled', actions: assign({ cancelReason: ({ event }) => event.reason }) } },
    },
    creatingWaybill: {
      invoke: {
        id: 'waybill',
        src: 'createWaybill',
        input: ({ context }) => ({ ...context, quote: context.quote }),
        onDone: { target: 'announcingWaybill', actions: assign({ waybill: ({ event }) => event.output, error: null }) },
        onError: { target: 'failed', actions: assign({ error: ({ event }) => event.error as EffectFailure }) },
      },
    },
    /** the customer hears of the waybill we made (one made elsewhere and imported is not announced) */
    announcingWaybill: {
      invoke: {
        ...notify('awaitingPickup'),
        onDone: 'awaitingPickup',
        onError: { target: 'awaitingPickup', actions: 'recordNoticeError' },
      },
    },
    failed: {
      // NP refused the waybill (a validation error): a person fixes the data or the settings, then RETRY
      tags: ['alert'],
      on: { RETRY: 'creatingWaybill', CANCEL: { target: 'cancelled', actions: assign({ cancelReason: ({ event }) => event.reason }) } },
    },
    awaitingPickup: {
      tags: ['tracked'],
      on: {
        TRACKED: [
          { guard: 'toTransit', target: 'inTransit', actions: 'record' },
          { guard: 'toWarehouse', target: 'atWarehouse', actions: 'record' },
          { guard: 'toDelivered', target: 'delivered', actions: 'record' },
          // polls can skip statuses: a parcel first seen refused or going back left the sender all the same
          { guard: 'toRefused', target: 'refused', actions: 'record' },
          { guard: 'toReturning', target: 'returning', actions: 'record' },
          { guard: 'toCancelled', target: 'cancelled', actions: 'record' },
          { guard: 'changed', actions: 'record' },
        ],
        CANCEL: { target: 'deletingWaybill', actions: assign({ cancelReason: ({ event }) => event.reason }) },
      },
    },
    deletingWaybill: {
      invoke: {
        id: 'delete',
        src: 'deleteWaybill',
        input: ({ context }) => ({ shipmentId: context.shipmentId, ref: context.waybill?.ref ?? '' }),
        onDone: 'cancelled',
        // it left already: it cannot be called back, tracking goes on
        onError: { target: 'awaitingPickup', actions: assign({ error: ({ event }) => event.error as EffectFailure }) },
      },
    },
    inTransit: {
      tags: ['tracked'],
      invoke: notify('inTransit'),
      on: {
        TRACKED: [
          { guard: 'toWarehouse', target: 'atWarehouse', actions: 'record' },
          { guard: 'toDelivered', target: 'delivered', actions: 'record' },
          { guard: 'toRefused', target: 'refused', actions: 'record' },
          { guard: 'toReturning', target: 'returning', actions: 'record' },
          { guard: 'changed', actions: 'record' },
        ],
      },
    },
    atWarehouse: {
      tags: ['tracked'],
      invoke: notify('atWarehouse'),
      on: {
        TRACKED: [
          { guard: 'toDelivered', target: 'delivered', actions: 'record' },
          { guard: 'toRefused', target: 'refused', actions: 'record' },
          { guard: 'toReturning', target: 'returning', actions: 'record' },
          { guard: 'onTheWayBack', target: 'returning', actions: 'record' },
          { guard: 'changed', actions: 'record' },
        ],
      },
    },
    refused: {
      tags: ['tracked'],
      invoke: notify('refused'),
      on: {
        TRACKED: [
          // a return waybill learned while refused (the status still "refused") is the way back all the same
          { guard: 'returnReceived', target: 'returned', actions: 'record' },
          { guard: 'toReturning', target: 'returning', actions: 'record' },
          { guard: 'onTheWayBack', target: 'returning', actions: 'record' },
          { guard: 'changed', actions: 'record' },
        ],
      },
    },
    returning: {
      tags: ['tracked'],
      invoke: notify('returning'),
      on: {
        TRACKED: [
          { guard: 'returnReceived', target: 'returned', actions: 'record' },
          { guard: 'changed', actions: 'record' },
        ],
      },
    },
    delivered: { invoke: notify('delivered') },
    returned: { invoke: notify('returned') },
    cancelled: { invoke: notify('cancelled') },
  },
});

/**
 * Version 1 → 2: the code on the waybill became a short one derived from
 * the id (`ourCode`); version 1 wrote the shipment id itself (its schema
 * capped it at 36 characters), so a version-1 shipment keeps its id as its
 * code — a waybill it saved before the upgrade is still found by it.
 */
function addOurCode(snapshot: PersistedSnapshotJson): PersistedSnapshotJson {
  const context = snapshot.context as Omit<ShipmentContext, 'ourCode'> & { ourCode?: string };
  const legacy = context.shipmentId.length <= 36 ? context.shipmentId : shipmentCodeOf(context.shipmentId);
  return { ...snapshot, context: { ...context, ourCode: context.ourCode ?? legacy } };
}

export default defineMachineModule({
  type: 'shipment',
  version: 2,
  description: 'A Nova Poshta parcel: quote, waybill (created once), tracked by batched polling through a configurable status table',
  migrations: { 1: addOurCode },
  machine: shipmentMachine,
  inputSchema: shipmentInputSchema,
  eventSchema: shipmentEventSchema,
  personalData: {
    context: { 'recipient.name': 'name', 'recipient.phone': 'phone', 'recipient.email': 'email', address: 'address' },
  },
  slaMs: { quoting: 10 * 60_000, creatingWaybill: 10 * 60_000, awaitingPickup: 3 * 24 * 3600_000, atWarehouse: 7 * 24 * 3600_000 },
  domainEvents: {
    events: {
      requested: {
        description: 'a parcel is asked for: priced and its waybill made',
        states: ['starting', 'quoting', 'creatingWaybill', 'announcingWaybill'],
      },
      failed: { description: 'the waybill could not be made: a person must act', states: ['failed'] },
      awaitingPickup: { description: 'the waybill exists; the parcel waits for the carrier', states: ['awaitingPickup'] },
      inTransit: { description: 'the carrier has the parcel', states: ['inTransit'] },
      atWarehouse: { description: 'the parcel waits at the branch for the recipient', states: ['atWarehouse'] },
      delivered: { description: 'the recipient took the parcel', states: ['delivered'] },
      refused: { description: 'the recipient refused the parcel', states: ['refused'] },
      returning: { description: 'the parcel is on its way back', states: ['returning'] },
      returned: { description: 'the parcel is back', states: ['returned'] },
      cancelled: { description: 'the shipment is cancelled (its waybill deleted)', states: ['deletingWaybill', 'cancelled'] },
    },
    data: z.object({
      shipmentId: z.string(),
      orderId: z.string(),
      carrier: z.string().optional(),
      waybill: z.object({ number: z.string(), cost: z.number().nullable() }).nullable(),
      lastStatusCode: z.string().nullable(),
      lastStatus: z.string().nullable(),
    }),
  },
});
