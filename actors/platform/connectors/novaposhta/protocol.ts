import { z } from 'zod';

/**
 * Nova Poshta API 2.0: one JSON endpoint, every call an envelope
 * `{apiKey, modelName, calledMethod, methodProperties}`, every answer
 * `{success, data[], errors[], errorCodes[], warnings, info, …}` with HTTP 200 —
 * business errors included (`success: false`, `errors[i]` and `errorCodes[i]`
 * parallel). Shapes from ../shared/protocols/novaposhta.md.
 */

export const NOVAPOSHTA_PATH = '/json/';

export const NP_ERROR_CODES = {
  authFailed: '20000200068',
  emptyApiKey: '20000200069',
  apiKeyExpired: '20000201204',
  serviceUnavailable: '20000100016',
  documentNumberIncorrect: '20001401442',
  refNotSpecified: '20000900752',
} as const;

/** Errors that another attempt can cure; every other NP error is the request's fault. */
export const RETRYABLE_NP_CODES: ReadonlySet<string> = new Set([NP_ERROR_CODES.serviceUnavailable]);
export const AUTH_NP_CODES: ReadonlySet<string> = new Set([
  NP_ERROR_CODES.authFailed,
  NP_ERROR_CODES.emptyApiKey,
  NP_ERROR_CODES.apiKeyExpired,
]);

export const npRequestSchema = z.object({
  apiKey: z.string().optional(),
  modelName: z.string().min(1),
  calledMethod: z.string().min(1),
  methodProperties: z.record(z.string(), z.unknown()).nullish(),
});
export type NpRequest = z.infer<typeof npRequestSchema>;

const code = z.union([z.string(), z.number()]).transform(String);

export const npResponseSchema = z.object({
  success: z.boolean(),
  data: z.array(z.unknown()).default([]),
  errors: z.array(z.unknown()).default([]),
  errorCodes: z.array(code).default([]),
  // an array of strings or of objects, or an object for paged reference calls
  warnings: z.unknown().optional(),
  info: z.unknown().optional(),
});
export type NpResponse = z.infer<typeof npResponseSchema>;

/** `info: {totalCount}` on paged reference calls */
export const pagedInfoSchema = z.object({ totalCount: z.coerce.number().int() });

const text = z.union([z.string(), z.number()]).transform(String);

export const citySchema = z.looseObject({
  Ref: z.string(),
  Description: z.string(),
  DescriptionRu: z.string().optional(),
  Area: z.string().optional(),
  AreaDescription: z.string().optional(),
  SettlementTypeDescription: z.string().optional(),
  CityID: text.optional(),
});
export type NpCity = z.infer<typeof citySchema>;

export const warehouseSchema = z.looseObject({
  Ref: z.string(),
  Description: z.string(),
  ShortAddress: z.string().optional(),
  Number: text,
  CityRef: z.string(),
  CityDescription: z.string().optional(),
  TypeOfWarehouse: z.string().optional(),
  CategoryOfWarehouse: z.string().optional(),
  WarehouseStatus: z.string().optional(),
  PlaceMaxWeightAllowed: text.optional(),
});
export type NpWarehouse = z.infer<typeof warehouseSchema>;

/** A page of reference data. */
export interface NpPage<T> {
  items: T[];
  /** what NP says the whole list holds; null when its answer does not say */
  totalCount: number | null;
}

export const NP_VALIDATION_CODES = {
  citySenderMissing: '20000200107',
  cityRecipientMissing: '20000200104',
  cityRecipientNotFound: '20000200103',
  contactSenderMissing: '20000300406',
  contactRecipientMissing: '20000300401',
  costInvalid: '20000200118',
  descriptionEmpty: '20000200150',
  documentNotFound: '20000300415',
  internetDocumentNotFound: '20000200205',
} as const;

/** `dd.mm.yyyy`, the date format of NP's requests. */
export function npDate(date: Date): string {
  const day = String(date.getUTCDate()).padStart(2, '0');
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  return `${day}.${month}.${date.getUTCFullYear()}`;
}

export const CARGO_TYPES = ['Parcel', 'Cargo', 'Documents', 'TiresWheels', 'Pallet'] as const;
export const SERVICE_TYPES = [
  'WarehouseWarehouse',
  'WarehouseDoors',
  'DoorsWarehouse',
  'DoorsDoors',
  'WarehousePostomat',
  'DoorsPostomat',
] as const;

export const priceSchema = z.looseObject({
  AssessedCost: text.optional(),
  Cost: z.coerce.number(),
  CostRedelivery: text.optional(),
  CostPack: text.optional(),
  // fixtures say TZoneInfo, one SDK TzoneInfo: both are accepted
  TZoneInfo: z.looseObject({ TzoneName: z.string().optional(), TzoneID: text.optional() }).optional(),
  TzoneInfo: z.looseObject({ TzoneName: z.string().optional(), TzoneID: text.optional() }).optional(),
});
export type NpPrice = z.infer<typeof priceSchema>;

/** Both shapes seen: `{DeliveryDate: {date, …}}` (documented) and `{date, …}` (an SDK's fixture). */
export const deliveryDateSchema = z.union([
  z.looseObject({ DeliveryDate: z.looseObject({ date: z.string() }) }).transform((d) => d.DeliveryDate.date),
  z.looseObject({ date: z.string() }).transform((d) => d.date),
]);

/** "2024-07-10 18:00:00.000000" or "2019.01.02 12:13:14" → an ISO date-time (Kyiv time taken as given). */
export function parseNpDateTime(value: string): string | null {
  const match = /^(\d{4})[-.](\d{2})[-.](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value);
  return match ? `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}` : null;
}

export const savedDocumentSchema = z.looseObject({
  Ref: z.string().min(1),
  IntDocNumber: z.string().regex(/^\d{14}$/),
  CostOnSite: text.optional(),
  EstimatedDeliveryDate: z.string().optional(),
  TypeDocument: z.string().optional(),
});
export type NpSavedDocument = z.infer<typeof savedDocumentSchema>;

/** A document of the sender's list (`getDocumentList`): how a waybill is found again by our order id. */
export const listedDocumentSchema = z.looseObject({
  Ref: z.string(),
  IntDocNumber: text,
  InfoRegClientBarcodes: z.string().nullish(),
  StateId: text.optional(),
  StateName: z.string().optional(),
});
export type NpListedDocument = z.infer<typeof listedDocumentSchema>;

export const trackingSchema = z.looseObject({
  Number: text,
  StatusCode: text,
  Status: z.string().optional(),
  ScheduledDeliveryDate: z.string().optional(),
  ActualDeliveryDate: z.string().optional(),
  RecipientDateTime: z.string().optional(),
  WarehouseRecipient: z.string().optional(),
  CityRecipient: z.string().optional(),
  ClientBarcode: z.string().optional(),
  UndeliveryReasonsSubtypeDescription: z.string().optional(),
  LastCreatedOnTheBasisNumber: z.string().nullish(),
  LastCreatedOnTheBasisDocumentType: z.string().nullish(),
});
export type NpTracking = z.infer<typeof trackingSchema>;

export const settlementsSchema = z.looseObject({
  TotalCount: z.coerce.number().int(),
  Addresses: z.array(
    z.looseObject({
      Present: z.string(),
      MainDescription: z.string(),
      Area: z.string().optional(),
      Ref: z.string(),
      DeliveryCity: z.string(),
      Warehouses: z.coerce.number().optional(),
    }),
  ),
});
export type NpSettlements = z.infer<typeof settlementsSchema>;

/** What a waybill needs: the parties (Refs from NP's directories), the parcel, and our order id. */
export const waybillRequestSchema = z.object({
  PayerType: z.enum(['Sender', 'Recipient', 'ThirdPerson']),
  PaymentMethod: z.enum(['Cash', 'NonCash']),
  DateTime: z.string().regex(/^\d{2}\.\d{2}\.\d{4}$/),
  CargoType: z.enum(CARGO_TYPES),
  Weight: z.number().min(0.1),
  ServiceType: z.enum(SERVICE_TYPES),
  SeatsAmount: z.number().int().min(1),
  Description: z.string().min(1).max(100),
  Cost: z.number().int().min(1),
  CitySender: z.string().min(1),
  Sender: z.string().min(1),
  SenderAddress: z.string().min(1),
  ContactSender: z.string().min(1),
  SendersPhone: z.string().min(1),
  CityRecipient: z.string().min(1),
  RecipientAddress: z.string().optional(),
  RecipientsPhone: z.string().min(1),
  // recipient created inline (a private person): name and, for address delivery, the street
  NewAddress: z.literal('1').optional(),
  RecipientName: z.string().optional(),
  RecipientType: z.literal('PrivatePerson').optional(),
  RecipientCityName: z.string().optional(),
  RecipientAddressName: z.string().optional(),
  RecipientHouse: z.string().optional(),
  RecipientFlat: z.string().optional(),
  VolumeGeneral: z.number().min(0.0004).optional(),
  OptionsSeat: z
    .array(z.object({ weight: z.number(), volumetricWidth: z.number(), volumetricLength: z.number(), volumetricHeight: z.number() }))
    .optional(),
  InfoRegClientBarcodes: z.string().min(1).max(36),
  AfterpaymentOnGoodsCost: z.number().int().optional(),
});
export type WaybillRequest = z.infer<typeof waybillRequestSchema>;

/** Postomat limits (checked before NP is called): parcels or documents, one seat ≤ 20 kg, 40×60×30 cm, declared value ≤ 10 000 UAH. */
export function postomatProblems(request: WaybillRequest): string[] {
  const problems: string[] = [];
  if (request.CargoType !== 'Parcel' && request.CargoType !== 'Documents') problems.push('a postomat takes parcels and documents only');
  if (request.SeatsAmount !== 1) problems.push('a postomat takes one seat');
  if (request.Cost > 10_000) problems.push('declared value above 10 000 UAH');
  const seat = request.OptionsSeat?.[0];
  if (!seat) problems.push('OptionsSeat (dimensions) is required for a postomat');
  else {
    if (seat.weight > 20) problems.push('a seat above 20 kg');
    if (seat.volumetricWidth > 40 || seat.volumetricLength > 60 || seat.volumetricHeight > 30)
      problems.push('a seat larger than 40×60×30 cm');
  }
  return problems;
}
