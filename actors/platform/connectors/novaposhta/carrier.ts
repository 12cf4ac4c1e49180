import type { Logger } from 'winston';
import { formatMinorUnits } from '../../../../common/money.ts';
import type { CityDoc, ReferenceCollections, WarehouseDoc } from '../../../../persistence/reference.ts';
import { ConnectorError, partnerErrorCode } from '../kit/errors.ts';
import type { Carrier, CarrierCall, ParcelRequest } from '../ports/carrier.ts';
import type { NovaPoshtaClient } from './client.ts';
import type { NovaPoshtaSettings } from './connector.ts';
import { NP_VALIDATION_CODES, npDate, returnWaybillOf, type WaybillRequest } from './protocol.ts';

const TRACK_BATCH = 100;
const DELETED_STATE = '2';

type SenderSettings = NovaPoshtaSettings & { sender: NonNullable<NovaPoshtaSettings['sender']> };

/** A parcel whose city or branch the synced directory does not know: the inline recipient needs their names. */
export const RECIPIENT_NOT_IN_DIRECTORY = partnerErrorCode('recipient_not_in_directory');

/** Where the parcel goes, with the names NP's inline recipient needs (from the synced directory). */
interface Destination {
  city: CityDoc;
  /** the branch or postomat; null for an address */
  branch: WarehouseDoc | null;
  toPostomat: boolean;
}

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

  const destinationOf = async (parcel: ParcelRequest): Promise<Destination> => {
    const city = await deps.reference.cities.findOne({ _id: parcel.cityRef });
    const branch = parcel.warehouseRef ? await deps.reference.warehouses.findOne({ _id: parcel.warehouseRef }) : null;
    const missing = !city ? `city ${parcel.cityRef}` : parcel.warehouseRef && !branch ? `branch ${parcel.warehouseRef}` : null;
    if (!city || missing)
      throw new ConnectorError(
        'novaposhta',
        RECIPIENT_NOT_IN_DIRECTORY,
        `${missing ?? 'the city'} is not in the synced Nova Poshta directory: run novaposhta-reference-sync, or fix the delivery`,
        false,
      );
    return { city, branch, toPostomat: branch?.category === 'Postomat' };
  };

  return {
    name: 'novaposhta',
    trackBatchSize: TRACK_BATCH,

    async quote(parcel, call) {
      const settings = deps.settings();
      const destination = await destinationOf(parcel);
      const serviceType = serviceTypeOf(parcel, settings, destination.toPostomat);
      const price = await deps.client().getDocumentPrice(
        {
          citySender: settings.sender.cityRef,
          cityRecipient: parcel.cityRef,
          weight: settings.parcel.weight,
          serviceType,
          cost: declaredCostOf(parcel),
          cargoType: settings.parcel.cargoType,
          seatsAmount: settings.parcel.seatsAmount,
          ...(parcel.collectOnDelivery ? { redeliveryAmount: formatMinorUnits(parcel.collectOnDelivery) } : {}),
        },
        context(call),
      );
      // no DateTime: its format for this method differs between sources ([md] dd.mm.yyyy, the transcribed portal a date-time); NP takes today
      const estimatedDelivery = await deps
        .client()
        .getDocumentDeliveryDate({ citySender: settings.sender.cityRef, cityRecipient: parcel.cityRef, serviceType }, context(call));
      return { cost: Math.round(price.Cost * 100), estimatedDelivery };
    },

    async findByOurCode(ourCode, since, call) {
      const listed = await deps.client().findWaybillsByOrder(ourCode, { since, until: new Date(now()) }, context(call));
      const live = listed.find((doc) => String(doc.StateId ?? '') !== DELETED_STATE);
      return live ? { number: live.IntDocNumber, ref: live.Ref } : null;
    },

    async createWaybill(parcel, call) {
      const settings = deps.settings();
      const destination = await destinationOf(parcel);
      const saved = await deps.client().saveWaybill(waybillOf(parcel, settings, destination, new Date(now())), {
        toPostomat: destination.toPostomat,
        context: context(call),
      });
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
        // a redirect also fills LastCreatedOnTheBasisNumber: only a CargoReturn brings the parcel back
        returnNumber: returnWaybillOf(result),
      }));
    },
  };
}

/** The one service type a parcel is quoted and saved with. */
function serviceTypeOf(parcel: ParcelRequest, settings: SenderSettings, toPostomat: boolean): WaybillRequest['ServiceType'] {
  return parcel.address ? 'WarehouseDoors' : toPostomat ? 'WarehousePostomat' : settings.parcel.serviceType;
}

/** NP's declared value is whole hryvnias (confirmed [md]): rounded up, so a parcel is never declared below its worth. */
function declaredCostOf(parcel: ParcelRequest): number {
  return Math.max(1, Math.ceil(parcel.declaredValue / 100));
}

/**
 * How cash on delivery is collected: payment control when the sender has
 * the agreement (and not at a postomat, which NP refuses), a money transfer
 * otherwise. Amounts in UAH formatted from kopiykas, never through a float.
 */
function collectionOf(parcel: ParcelRequest, settings: SenderSettings, toPostomat: boolean): Partial<WaybillRequest> {
  if (!parcel.collectOnDelivery) return {};
  const amount = formatMinorUnits(parcel.collectOnDelivery);
  if (settings.paymentControl && !toPostomat) return { AfterpaymentOnGoodsCost: amount };
  return { BackwardDeliveryData: [{ PayerType: 'Recipient', CargoType: 'Money', RedeliveryString: amount }] };
}

/** The `InternetDocument.save` properties of a parcel, its recipient inline with the directory's names. */
function waybillOf(parcel: ParcelRequest, settings: SenderSettings, destination: Destination, at: Date): WaybillRequest {
  const { city, branch, toPostomat } = destination;
  return {
    PayerType: settings.parcel.payerType,
    PaymentMethod: settings.parcel.paymentMethod,
    // the shipping date is a Kyiv day: after midnight there, UTC's date is already "yesterday" for NP
    DateTime: npDate(at),
    CargoType: settings.parcel.cargoType,
    Weight: settings.parcel.weight,
    ServiceType: serviceTypeOf(parcel, settings, toPostomat),
    SeatsAmount: settings.parcel.seatsAmount,
    Description: parcel.description.slice(0, 100),
    Cost: declaredCostOf(parcel),
    CitySender: settings.sender.cityRef,
    Sender: settings.sender.ref,
    SenderAddress: settings.sender.addressRef,
    ContactSender: settings.sender.contactRef,
    SendersPhone: settings.sender.phone,
    CityRecipient: parcel.cityRef,
    ...(branch ? { RecipientAddress: branch._id } : {}),
    RecipientsPhone: parcel.recipient.phone.replace(/^\+/, ''),
    NewAddress: '1',
    RecipientCityName: city.name,
    RecipientArea: city.area ?? '',
    // districts are not in our directory; NP's example leaves the field empty
    RecipientAreaRegions: '',
    RecipientAddressName: branch ? branch.number : (parcel.address?.street ?? ''),
    RecipientHouse: branch ? '' : (parcel.address?.house ?? ''),
    RecipientFlat: branch ? '' : (parcel.address?.flat ?? ''),
    RecipientName: parcel.recipient.name,
    RecipientType: 'PrivatePerson',
    ...(city.type ? { SettlementType: city.type } : {}),
    ...(toPostomat
      ? { OptionsSeat: [{ weight: settings.parcel.weight, volumetricWidth: 30, volumetricLength: 40, volumetricHeight: 20 }] }
      : { VolumeGeneral: settings.parcel.volumeGeneral }),
    InfoRegClientBarcodes: parcel.ourCode,
    ...collectionOf(parcel, settings, toPostomat),
  };
}
