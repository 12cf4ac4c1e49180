import type { Logger } from 'winston';
import type { ReferenceCollections } from '../../../../persistence/reference.ts';
import { ConnectorError } from '../kit/errors.ts';
import type { Carrier, CarrierCall, ParcelRequest } from '../ports/carrier.ts';
import type { NovaPoshtaClient } from './client.ts';
import type { NovaPoshtaSettings } from './connector.ts';
import { NP_VALIDATION_CODES, npDate, type WaybillRequest } from './protocol.ts';

const TRACK_BATCH = 100;
const DELETED_STATE = '2';

type SenderSettings = NovaPoshtaSettings & { sender: NonNullable<NovaPoshtaSettings['sender']> };

/**
 * Nova Poshta as a carrier: price and date from `InternetDocument`
 * (`getDocumentPrice`, `getDocumentDeliveryDate`), waybills saved with our
 * code in `InfoRegClientBarcodes` (so the sender's list finds one whose
 * answer was lost), deleted by Ref, tracked 100 a call with
 * `getStatusDocuments`. Parcel lockers take seats with dimensions instead
 * of a volume; an address is `WarehouseDoors`.
 */
export function novaPoshtaCarrier(deps: {
  client: () => NovaPoshtaClient;
  /** the settings with the sender (throws `sender_not_configured` when there is none) */
  settings: () => SenderSettings;
  /** the synced directory, to know a parcel locker */
  reference: ReferenceCollections;
  logger: Logger;
  now?: () => number;
}): Carrier {
  const now = deps.now ?? Date.now;
  const context = (call: CarrierCall) => ({ actor: call.actor, ...(call.signal ? { signal: call.signal } : {}) });

  return {
    name: 'novaposhta',
    trackBatchSize: TRACK_BATCH,

    async quote(parcel, call) {
      const settings = deps.settings();
      const serviceType = parcel.address ? 'WarehouseDoors' : settings.parcel.serviceType;
      const price = await deps.client().getDocumentPrice(
        {
          citySender: settings.sender.cityRef,
          cityRecipient: parcel.cityRef,
          weight: settings.parcel.weight,
          serviceType,
          cost: Math.ceil(parcel.declaredValue / 100),
          cargoType: settings.parcel.cargoType,
          seatsAmount: settings.parcel.seatsAmount,
        },
        context(call),
      );
      const estimatedDelivery = await deps
        .client()
        .getDocumentDeliveryDate({ citySender: settings.sender.cityRef, cityRecipient: parcel.cityRef, serviceType }, context(call));
      return { cost: Math.round(price.Cost * 100), estimatedDelivery };
    },

    async findByOurCode(ourCode, since, call) {
      const listed = await deps.client().findWaybillsByOrder(ourCode, since, context(call));
      const live = listed.find((doc) => String(doc.StateId ?? '') !== DELETED_STATE);
      return live ? { number: live.IntDocNumber, ref: live.Ref } : null;
    },

    async createWaybill(parcel, call) {
      const settings = deps.settings();
      const branch = parcel.warehouseRef ? await deps.reference.warehouses.findOne({ _id: parcel.warehouseRef }) : null;
      const toPostomat = branch?.category === 'Postomat';
      const saved = await deps
        .client()
        .saveWaybill(waybillOf(parcel, settings, toPostomat, new Date(now())), { toPostomat, context: context(call) });
      return { number: saved.IntDocNumber, ref: saved.Ref, cost: saved.CostOnSite ? Math.round(Number(saved.CostOnSite) * 100) : null };
    },

    async deleteWaybill(ref, call) {
      try {
        await deps.client().deleteWaybill(ref, context(call));
        return true;
      } catch (error) {
        // deleted already (a repeated effect): done
        if (error instanceof ConnectorError && error.code === NP_VALIDATION_CODES.internetDocumentNotFound) return false;
        throw error;
      }
    },

    async track(parcels) {
      const results = await deps.client().track(parcels.map((p) => ({ number: p.number, phone: p.phone.replace(/^\+/, '') })));
      return results.map((result) => ({
        number: result.Number,
        statusCode: result.StatusCode,
        status: result.Status ?? '',
        returnNumber: result.LastCreatedOnTheBasisNumber ?? null,
      }));
    },
  };
}

/** The `InternetDocument.save` properties of a parcel. */
function waybillOf(parcel: ParcelRequest, settings: SenderSettings, toPostomat: boolean, at: Date): WaybillRequest {
  return {
    PayerType: settings.parcel.payerType,
    PaymentMethod: settings.parcel.paymentMethod,
    DateTime: npDate(at),
    CargoType: settings.parcel.cargoType,
    Weight: settings.parcel.weight,
    ServiceType: parcel.address ? 'WarehouseDoors' : toPostomat ? 'WarehousePostomat' : settings.parcel.serviceType,
    SeatsAmount: settings.parcel.seatsAmount,
    Description: parcel.description.slice(0, 100),
    Cost: Math.max(1, Math.ceil(parcel.declaredValue / 100)),
    CitySender: settings.sender.cityRef,
    Sender: settings.sender.ref,
    SenderAddress: settings.sender.addressRef,
    ContactSender: settings.sender.contactRef,
    SendersPhone: settings.sender.phone,
    CityRecipient: parcel.cityRef,
    ...(parcel.warehouseRef ? { RecipientAddress: parcel.warehouseRef } : {}),
    RecipientsPhone: parcel.recipient.phone.replace(/^\+/, ''),
    NewAddress: '1',
    RecipientName: parcel.recipient.name,
    RecipientType: 'PrivatePerson',
    ...(parcel.address
      ? {
          RecipientAddressName: parcel.address.street,
          RecipientHouse: parcel.address.house,
          ...(parcel.address.flat ? { RecipientFlat: parcel.address.flat } : {}),
        }
      : {}),
    ...(toPostomat
      ? { OptionsSeat: [{ weight: settings.parcel.weight, volumetricWidth: 30, volumetricLength: 40, volumetricHeight: 20 }] }
      : { VolumeGeneral: settings.parcel.volumeGeneral }),
    InfoRegClientBarcodes: parcel.ourCode,
    ...(parcel.collectOnDelivery ? { AfterpaymentOnGoodsCost: Math.ceil(parcel.collectOnDelivery / 100) } : {}),
  };
}
