import type { Logger } from 'winston';
import orderModule, { type OrderEvent, type ShipmentRequest } from '../../machines/order.ts';
import shipmentModule, { type CreatedWaybill, type Quote, type ShipmentInput, type ShipmentNotice } from '../../machines/shipment.ts';
import type { ReferenceCollections } from '../../persistence/reference.ts';
import type { Connectors } from '../connectors/kit/connectors.ts';
import { ConnectorError } from '../connectors/kit/errors.ts';
import { NP_CONNECTOR_ERROR_CODES } from '../connectors/novaposhta/client.ts';
import { novaPoshtaConnector, type NovaPoshtaSettings } from '../connectors/novaposhta/connector.ts';
import { NP_VALIDATION_CODES, npDate } from '../connectors/novaposhta/protocol.ts';
import { SANDBOX_SENDER } from '../connectors/novaposhta/sandbox.ts';
import type { Mailer } from '../notifications/mailer.ts';
import { bindEffects, type BoundEffects, type EffectHandler } from '../runtime/effects.ts';

/**
 * What the shipment machine invokes at Nova Poshta. A waybill is created
 * once: before every `save` the sender's waybills are searched for our
 * order id (`InfoRegClientBarcodes`), so a save whose answer a crash lost
 * is found, not repeated.
 */
export interface ShipmentEffectDeps {
  connectors: Connectors;
  reference: ReferenceCollections;
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
  const now = deps.now ?? Date.now;
  const np = () => deps.connectors.client(novaPoshtaConnector);
  const settingsOf = (): NovaPoshtaSettings & { sender: NonNullable<NovaPoshtaSettings['sender']> } => {
    const config = deps.connectors.configOf(novaPoshtaConnector);
    const sender = config.settings.sender ?? (config.sandboxed ? SANDBOX_SENDER : undefined);
    if (!sender)
      throw new ConnectorError(
        'novaposhta',
        NP_CONNECTOR_ERROR_CODES.senderNotConfigured,
        'set the sender in the novaposhta integration settings (settings.sender: cityRef, ref, addressRef, contactRef, phone)',
        false,
      );
    return { ...config.settings, sender };
  };

  const quoteShipment: EffectHandler<ShipmentInput, Quote> = async (input, context) => {
    const settings = settingsOf();
    const call = { actor: { type: 'shipment', id: input.shipmentId }, signal: context.signal };
    const serviceType = input.address ? 'WarehouseDoors' : settings.parcel.serviceType;
    const price = await np().getDocumentPrice(
      {
        citySender: settings.sender.cityRef,
        cityRecipient: input.cityRef,
        weight: settings.parcel.weight,
        serviceType,
        cost: Math.ceil(input.declaredValue / 100),
        cargoType: settings.parcel.cargoType,
        seatsAmount: settings.parcel.seatsAmount,
      },
      call,
    );
    const estimatedDelivery = await np().getDocumentDeliveryDate(
      { citySender: settings.sender.cityRef, cityRecipient: input.cityRef, serviceType },
      call,
    );
    return { cost: Math.round(price.Cost * 100), estimatedDelivery };
  };

  const createWaybill: EffectHandler<ShipmentInput & { quote: Quote | null }, CreatedWaybill> = async (input, context) => {
    const settings = settingsOf();
    const call = { actor: { type: 'shipment', id: input.shipmentId }, signal: context.signal };
    const since = new Date(Date.parse(input.requestedAt) - 24 * 3600 * 1000);
    const existing = (await np().findWaybillsByOrder(input.shipmentId, since, call)).find((doc) => String(doc.StateId ?? '') !== '2');
    if (existing) {
      deps.logger.info('waybill found by order id, not created again', { shipmentId: input.shipmentId, number: existing.IntDocNumber });
      return { number: existing.IntDocNumber, ref: existing.Ref, cost: null, recovered: true };
    }
    const branch = input.warehouseRef ? await deps.reference.warehouses.findOne({ _id: input.warehouseRef }) : null;
    const toPostomat = branch?.category === 'Postomat';
    const saved = await np().saveWaybill(
      {
        PayerType: settings.parcel.payerType,
        PaymentMethod: settings.parcel.paymentMethod,
        DateTime: npDate(new Date(now())),
        CargoType: settings.parcel.cargoType,
        Weight: settings.parcel.weight,
        ServiceType: input.address ? 'WarehouseDoors' : toPostomat ? 'WarehousePostomat' : settings.parcel.serviceType,
        SeatsAmount: settings.parcel.seatsAmount,
        Description: input.description.slice(0, 100),
        Cost: Math.max(1, Math.ceil(input.declaredValue / 100)),
        CitySender: settings.sender.cityRef,
        Sender: settings.sender.ref,
        SenderAddress: settings.sender.addressRef,
        ContactSender: settings.sender.contactRef,
        SendersPhone: settings.sender.phone,
        CityRecipient: input.cityRef,
        ...(input.warehouseRef ? { RecipientAddress: input.warehouseRef } : {}),
        RecipientsPhone: input.recipient.phone.replace(/^\+/, ''),
        NewAddress: '1',
        RecipientName: input.recipient.name,
        RecipientType: 'PrivatePerson',
        ...(input.address
          ? {
              RecipientAddressName: input.address.street,
              RecipientHouse: input.address.house,
              ...(input.address.flat ? { RecipientFlat: input.address.flat } : {}),
            }
          : {}),
        ...(toPostomat
          ? { OptionsSeat: [{ weight: settings.parcel.weight, volumetricWidth: 30, volumetricLength: 40, volumetricHeight: 20 }] }
          : { VolumeGeneral: settings.parcel.volumeGeneral }),
        InfoRegClientBarcodes: input.shipmentId,
        ...(input.collectOnDelivery ? { AfterpaymentOnGoodsCost: Math.ceil(input.collectOnDelivery / 100) } : {}),
      },
      { toPostomat, context: call },
    );
    return {
      number: saved.IntDocNumber,
      ref: saved.Ref,
      cost: saved.CostOnSite ? Math.round(Number(saved.CostOnSite) * 100) : null,
      recovered: false,
    };
  };

  const deleteWaybill: EffectHandler<{ shipmentId: string; ref: string }, { deleted: boolean }> = async (input, context) => {
    try {
      await np().deleteWaybill(input.ref, { actor: { type: 'shipment', id: input.shipmentId }, signal: context.signal });
      return { deleted: true };
    } catch (error) {
      // deleted already (a repeated effect): done
      if (error instanceof ConnectorError && error.code === NP_VALIDATION_CODES.internetDocumentNotFound) return { deleted: false };
      throw error;
    }
  };

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
