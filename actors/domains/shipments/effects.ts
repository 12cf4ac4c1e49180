import type { Logger } from 'winston';
import orderModule, { type OrderEvent, type ShipmentRequest } from '../../../machines/order.ts';
import shipmentModule, {
  type CreatedWaybill,
  type Quote,
  type ShipmentInput,
  type ShipmentNotice,
  type ShipmentParcel,
} from '../../../machines/shipment.ts';
import type { Carriers } from '../../platform/connectors/carriers.ts';
import type { Connectors } from '../../platform/connectors/kit/connectors.ts';
import { novaPoshtaConnector } from '../../platform/connectors/novaposhta/connector.ts';
import type { CarrierCall, ParcelRequest } from '../../platform/connectors/ports/carrier.ts';
import type { Mailer } from '../../platform/mail/mailer.ts';
import { bindEffects, type BoundEffects, type EffectContext, type EffectHandler } from '../../runtime/effects.ts';

const NOVA_POSHTA = 'novaposhta';

/**
 * What the shipment machine invokes at its carrier. A waybill is created
 * once: before every creation the carrier is asked for a waybill with our
 * code, so a creation whose answer a crash lost is found, not repeated.
 */
export interface ShipmentEffectDeps {
  carriers: Carriers;
  mailer: Mailer;
  logger: Logger;
  now?: () => number;
}

const STAGE_TEXT: Partial<Record<ShipmentNotice['stage'], { subject: string; text: string }>> = {
  awaitingPickup: { subject: 'створено накладну Нової Пошти', text: 'Ми створили накладну Нової Пошти для вашого замовлення.' },
  atWarehouse: { subject: 'чекає у відділенні', text: 'Ваше замовлення прибуло у відділення Нової Пошти і чекає на вас.' },
  refused: { subject: 'повертається', text: 'Від отримання відмовились: посилка повертається до нас.' },
  returned: { subject: 'повернено', text: "Посилка повернулася до магазину. Ми зв'яжемося з вами щодо коштів." },
  cancelled: { subject: 'накладну скасовано', text: 'Накладну Нової Пошти скасовано разом із замовленням.' },
};

/**
 * What each stage tells the order. Any stage past pickup means the parcel
 * left (polls can skip statuses), so SHIPPED goes first; the order ignores
 * what it heard already.
 */
const ORDER_EVENTS: Partial<Record<ShipmentNotice['stage'], Array<'SHIPPED' | 'DELIVERED' | 'RETURNED'>>> = {
  inTransit: ['SHIPPED'],
  atWarehouse: ['SHIPPED'],
  refused: ['SHIPPED'],
  returning: ['SHIPPED'],
  delivered: ['SHIPPED', 'DELIVERED'],
  returned: ['SHIPPED', 'RETURNED'],
};

export function shipmentEffects(deps: ShipmentEffectDeps): BoundEffects {
  // one carrier today; a shipment that names its carrier picks it here
  const carrier = () => deps.carriers.of(NOVA_POSHTA);
  const callOf = (shipmentId: string, context: EffectContext): CarrierCall => ({
    actor: { type: shipmentModule.type, id: shipmentId },
    signal: context.signal,
  });
  // an invocation recorded by version 1 of the machine carries no code: it wrote the shipment id on the waybill
  const codeOf = (input: ShipmentParcel): string => (input as Partial<ShipmentParcel>).ourCode ?? input.shipmentId;
  const parcelOf = (input: ShipmentParcel): ParcelRequest => ({
    ourCode: codeOf(input),
    recipient: input.recipient,
    cityRef: input.cityRef,
    warehouseRef: input.warehouseRef,
    address: input.address,
    declaredValue: input.declaredValue,
    description: input.description,
    collectOnDelivery: input.collectOnDelivery,
  });

  const quoteShipment: EffectHandler<ShipmentParcel, Quote> = (input, context) =>
    carrier().quote(parcelOf(input), callOf(input.shipmentId, context));

  const createWaybill: EffectHandler<ShipmentParcel & { quote: Quote | null }, CreatedWaybill> = async (input, context) => {
    const call = callOf(input.shipmentId, context);
    // a day before the request: a waybill is dated the day it is saved, in Kyiv, which may be "yesterday" in UTC
    const since = new Date(Date.parse(input.requestedAt) - 24 * 3600 * 1000);
    const existing = await carrier().findByOurCode(codeOf(input), since, call);
    if (existing) {
      deps.logger.info('waybill found by order id, not created again', { shipmentId: input.shipmentId, number: existing.number });
      return { ...existing, cost: null, recovered: true };
    }
    return { ...(await carrier().createWaybill(parcelOf(input), call)), recovered: false };
  };

  const deleteWaybill: EffectHandler<{ shipmentId: string; ref: string }, { deleted: boolean }> = async (input, context) => ({
    deleted: await carrier().deleteWaybill(input.ref, callOf(input.shipmentId, context)),
  });

  return bindEffects(shipmentModule, { quoteShipment, createWaybill, deleteWaybill, ...shipmentNotices(deps) });
}

/** Each stage told to the order and (where it matters to them) the customer. */
export function shipmentNotices(deps: { mailer: Mailer; now?: () => number }) {
  const now = deps.now ?? Date.now;
  const notifyShipment: EffectHandler<ShipmentNotice, { notified: boolean }> = async (input, context) => {
    for (const eventType of ORDER_EVENTS[input.stage] ?? []) {
      const at = new Date(now()).toISOString();
      const event: OrderEvent =
        eventType === 'SHIPPED'
          ? { type: 'SHIPPED', ...(input.number ? { waybill: input.number } : {}), at }
          : eventType === 'DELIVERED'
            ? { type: 'DELIVERED', at }
            : { type: 'RETURNED' };
      await context.actors.send(orderModule, input.orderId, event, { key: eventType, ifGone: 'skip' });
    }
    const words = STAGE_TEXT[input.stage];
    if (words && input.email) {
      const tracking = input.number
        ? `\nНомер накладної: ${input.number}\nВідстежити: https://novaposhta.ua/tracking/?cargo_number=${input.number}`
        : '';
      await deps.mailer.send({
        id: `${context.idempotencyKey}:mail`,
        to: input.email,
        subject: `Замовлення ${input.orderId}: ${words.subject}`,
        text: `${words.text}${tracking}`,
        template: `shipment_${input.stage}`,
        orderId: input.orderId,
      });
    }
    return { notified: true };
  };

  return { notifyShipment };
}

/** The order asks for its parcel: a shipment actor under the order's id, with today's status table. */
export function requestShipmentEffect(deps: {
  connectors: Connectors;
  now?: () => number;
}): EffectHandler<ShipmentRequest, { shipmentId: string }> {
  const now = deps.now ?? Date.now;
  return async (input, context) => {
    // the marketplace's logistics carry it: the order waits for the seller's SHIPPED
    if (input.carrier === 'marketplace') return { shipmentId: '' };
    const config = deps.connectors.configOf(novaPoshtaConnector);
    const shipment: ShipmentInput = {
      shipmentId: input.orderId,
      orderId: input.orderId,
      recipient: input.recipient,
      cityRef: input.cityRef,
      warehouseRef: input.warehouseRef,
      address: input.address,
      declaredValue: input.declaredValue,
      description: input.description,
      collectOnDelivery: input.collectOnDelivery,
      statusMap: config.settings.statusMap,
      requestedAt: new Date(now()).toISOString(),
    };
    await context.actors.create(shipmentModule, input.orderId, shipment, { ifExists: 'skip' });
    return { shipmentId: input.orderId };
  };
}
