import { z } from 'zod';

/**
 * Nova Poshta API 2.0: one JSON endpoint, every call an envelope
 * `{apiKey, modelName, calledMethod, methodProperties}`, every answer
 * `{success, data[], errors[], errorCodes[], warnings, info, …}` with HTTP 200 —
 * business errors included (`success: false`, `errors[i]` and `errorCodes[i]`
 * parallel). Shapes from shared/protocols/novaposhta.md.
 *
 * Where each fact comes from. NP's own portal (developers.novaposhta.ua) was
 * not in any corpus we could read, so "confirmed" means published by a
 * maintained SDK, its fixtures, or a transcription of the portal's pages:
 *   [md]   shared/protocols/novaposhta.md (itself citing platx/go-nova-poshta,
 *          shopanaio/carrier-api and a transcription of the portal)
 *   [sdk]  shopanaio/carrier-api: packages/novaposhta-api-client/src/types/{waybill,errors}.ts
 *   [fix]  platx/go-nova-poshta: api/internetdocument/testdata/request/*.json
 *   [err]  a public table of NP's error codes with their en/ru/uk texts
 *          (index id 30687170909); the codes agree with [sdk] errors.ts
 *   [np-example] NP's documented "save with a new address" example, as
 *          reproduced verbatim by public integrations (index ids 11950264836,
 *          23224010658, 3962312275)
 *   [tpl]  a public NP tracking template that reads LastCreatedOnTheBasisDocumentType
 *          (OkayCMS module, index id 25562919170)
 *   ASSUMED: our reading where no source says; each one is marked so below.
 */

/** The one endpoint, POSTed JSON (under the base URL `https://api.novaposhta.ua/v2.0`): confirmed [md] §1.1. */
export const NOVAPOSHTA_PATH = '/json/';

/** Confirmed [md]. */
export const NP_ERROR_CODES = {
  authFailed: '20000200068',
  emptyApiKey: '20000200069',
  apiKeyExpired: '20000201204',
  serviceUnavailable: '20000100016',
  documentNumberIncorrect: '20001401442',
  refNotSpecified: '20000900752',
} as const;

/** Errors that another attempt can cure ("Service Unavailable" is, per [md]); every other NP error is the request's fault (ASSUMED). */
export const RETRYABLE_NP_CODES: ReadonlySet<string> = new Set([NP_ERROR_CODES.serviceUnavailable]);
export const AUTH_NP_CODES: ReadonlySet<string> = new Set([
  NP_ERROR_CODES.authFailed,
  NP_ERROR_CODES.emptyApiKey,
  NP_ERROR_CODES.apiKeyExpired,
]);

/** The envelope, both ways: confirmed [md] §1.2 (`methodProperties: {}` when there are none). */
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

/** `info: {totalCount}` on paged reference calls: confirmed [md] §1.2. */
export const pagedInfoSchema = z.object({ totalCount: z.coerce.number().int() });

const text = z.union([z.string(), z.number()]).transform(String);

/** Directory entries (`Address.getCities`, `getWarehouses`): fields confirmed [md] §1.8. */
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

/** Validation codes of `InternetDocument.save` and friends. Codes confirmed [md][sdk]; English texts confirmed [err]. */
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
  dateTimeBeforeToday: '20000400455',
  dateTimeInvalidFormat: '20000400456',
  dateTimeFilteringInvalidFormat: '20000300413',
  afterpaymentDisabledForPostomat: '20000200032',
  afterpaymentInvalid: '20000200033',
  backwardDeliveryDataMustBeArray: '20000200086',
  backwardDeliveryMustBeMoney: '20000200083',
  backwardDeliveryPayerTypeIncorrect: '20000200085',
  redeliveryStringInvalid: '20000200079',
  redeliveryStringBelowOne: '20000200080',
  redeliveryCalculateAmount: '20000200303',
  infoRegClientBarcodesInvalidCharacters: '20000200188',
  infoRegClientBarcodesTooLong: '20000200189',
  recipientAddressNameNotFound: '20000200273',
  recipientAddressStreetMissing: '20000200274',
  recipientCityNameNotFound: '20000200279',
  recipientCityNameMissing: '20000200281',
  recipientHouseMissing: '20000200296',
  recipientTypeInvalid: '20000200300',
  recipientsPhoneEmpty: '20000300435',
} as const;

/** NP's English text of each code the sandbox answers (confirmed [err], except where marked). */
export const NP_ERROR_TEXT: Record<string, string> = {
  [NP_VALIDATION_CODES.dateTimeBeforeToday]: 'DateTime cannot be less then now',
  [NP_VALIDATION_CODES.dateTimeInvalidFormat]: 'DateTime has invalid format', // ASSUMED text ([sdk] names the code DateTimeInvalidFormat)
  [NP_VALIDATION_CODES.dateTimeFilteringInvalidFormat]: 'DateTime filtering is invalid format', // ASSUMED text ([sdk] DateTimeFilteringInvalidFormat)
  [NP_VALIDATION_CODES.afterpaymentDisabledForPostomat]: 'AfterpaymentOnGoodsCost is disabled for Postomat NovaPoshta',
  [NP_VALIDATION_CODES.afterpaymentInvalid]: 'AfterpaymentOnGoodsCost is invalid',
  [NP_VALIDATION_CODES.backwardDeliveryDataMustBeArray]: 'BackwardDeliveryData must be array',
  [NP_VALIDATION_CODES.backwardDeliveryMustBeMoney]: 'BackwardDelivery must be Money',
  [NP_VALIDATION_CODES.backwardDeliveryPayerTypeIncorrect]: 'BackwardDelivery PayerType is incorrect',
  [NP_VALIDATION_CODES.redeliveryStringInvalid]: 'BackwardDelivery Money RedeliveryString is not valid',
  [NP_VALIDATION_CODES.redeliveryStringBelowOne]: 'BackwardDelivery Money RedeliveryString must not be less than 1',
  [NP_VALIDATION_CODES.redeliveryCalculateAmount]: 'RedeliveryCalculate Amount',
  [NP_VALIDATION_CODES.infoRegClientBarcodesInvalidCharacters]: 'InfoRegClientBarcodes has invalid characters',
  [NP_VALIDATION_CODES.infoRegClientBarcodesTooLong]: 'InfoRegClientBarcodes is too long',
  [NP_VALIDATION_CODES.recipientAddressNameNotFound]: 'RecipientAddressName not found',
  [NP_VALIDATION_CODES.recipientAddressStreetMissing]: 'RecipientAddressStreet not selected',
  [NP_VALIDATION_CODES.recipientCityNameNotFound]: 'RecipientCityName not found',
  [NP_VALIDATION_CODES.recipientCityNameMissing]: 'RecipientCityName not selected',
  [NP_VALIDATION_CODES.recipientHouseMissing]: 'RecipientHouse not selected',
  [NP_VALIDATION_CODES.recipientTypeInvalid]: 'RecipientType is invalid',
  [NP_VALIDATION_CODES.recipientsPhoneEmpty]: 'RecipientsPhone is empty',
};

/**
 * NP's calendar is Kyiv's: `DateTime` of a waybill ("дата відправки",
 * dd.mm.yyyy) is refused when it is before today there (20000400455), and the
 * sender's list (`getDocumentList`) filters by those dates. The zone is
 * confirmed by NP's own answers (`"timezone":"Europe/Kiev"` in
 * getDocumentDeliveryDate [md]); that "today" is judged in it is ASSUMED (NP
 * is a Ukrainian service; no source states it). Intl knows Kyiv's summer time.
 */
export const NP_TIME_ZONE = 'Europe/Kyiv';

const kyivCalendar = new Intl.DateTimeFormat('en-GB', { timeZone: NP_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });

/** The Kyiv calendar day of an instant, `dd.mm.yyyy` — the date format of NP's requests [md]. */
export function npDate(date: Date): string {
  const parts = Object.fromEntries(kyivCalendar.formatToParts(date).map((part) => [part.type, part.value]));
  return `${parts.day}.${parts.month}.${parts.year}`;
}

/** `dd.mm.yyyy` → a sortable `yyyymmdd` number; null when it is not such a date. */
export function npDateKey(value: unknown): number | null {
  const match = /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(typeof value === 'string' ? value : '');
  if (!match) return null;
  const [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  return year * 10_000 + month * 100 + day;
}

/** Confirmed [md] §1.3; the two *Postomat service types are listed by one SDK only. */
export const CARGO_TYPES = ['Parcel', 'Cargo', 'Documents', 'TiresWheels', 'Pallet'] as const;
export const SERVICE_TYPES = [
  'WarehouseWarehouse',
  'WarehouseDoors',
  'DoorsWarehouse',
  'DoorsDoors',
  'WarehousePostomat',
  'DoorsPostomat',
] as const;

/** `getDocumentPrice`'s answer: confirmed [md] §1.4. */
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

/** Both shapes seen: `{DeliveryDate: {date, …}}` (documented) and `{date, …}` (an SDK's fixture) — confirmed [md] §1.5. */
export const deliveryDateSchema = z.union([
  z.looseObject({ DeliveryDate: z.looseObject({ date: z.string() }) }).transform((d) => d.DeliveryDate.date),
  z.looseObject({ date: z.string() }).transform((d) => d.date),
]);

/** "2024-07-10 18:00:00.000000" or "2019.01.02 12:13:14" → an ISO date-time, local to Kyiv as the answer's `timezone` says (kept without an offset). */
export function parseNpDateTime(value: string): string | null {
  const match = /^(\d{4})[-.](\d{2})[-.](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value);
  return match ? `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}` : null;
}

/** `save`'s answer: `Ref` and the 14-digit `IntDocNumber`, confirmed [md] §1.3. */
export const savedDocumentSchema = z.looseObject({
  Ref: z.string().min(1),
  IntDocNumber: z.string().regex(/^\d{14}$/),
  CostOnSite: text.optional(),
  EstimatedDeliveryDate: z.string().optional(),
  TypeDocument: z.string().optional(),
});
export type NpSavedDocument = z.infer<typeof savedDocumentSchema>;

/**
 * A document of the sender's list (`getDocumentList`): how a waybill is
 * found again by our code. The request (`DateTimeFrom`, `DateTimeTo`,
 * `GetFullList`) is confirmed [fix] GetDocumentListDefault.json; that each
 * listed document carries `InfoRegClientBarcodes` and `StateId` is ASSUMED
 * (a public client's DTO lists InfoRegClientBarcodes and StateName, index id
 * 26546486529), as is StateId "2" meaning deleted (tracking's code for it).
 */
export const listedDocumentSchema = z.looseObject({
  Ref: z.string(),
  IntDocNumber: text,
  InfoRegClientBarcodes: z.string().nullish(),
  StateId: text.optional(),
  StateName: z.string().optional(),
});
export type NpListedDocument = z.infer<typeof listedDocumentSchema>;

/** `getStatusDocuments`' items (≤ 100 documents a call): confirmed [md] §1.7; `ClientBarcode` is our code, per the transcribed portal. */
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

/**
 * What the document NP made on the basis of a waybill is
 * (`LastCreatedOnTheBasisDocumentType`, with its number in
 * `LastCreatedOnTheBasisNumber`): a return of the cargo to the sender is
 * `CargoReturn`, a redirection `Redirecting` — confirmed [tpl]; both fill the
 * number, so only the type says a parcel comes back. Values we do not know
 * (e.g. whatever a money redelivery writes there) are not returns.
 */
export const BASIS_DOCUMENT_TYPES = { cargoReturn: 'CargoReturn', redirecting: 'Redirecting' } as const;

/** The return waybill of a tracked parcel, or null when NP made none (a redirect is not one). */
export function returnWaybillOf(
  tracking: Pick<NpTracking, 'LastCreatedOnTheBasisDocumentType' | 'LastCreatedOnTheBasisNumber'>,
): string | null {
  return tracking.LastCreatedOnTheBasisDocumentType === BASIS_DOCUMENT_TYPES.cargoReturn && tracking.LastCreatedOnTheBasisNumber
    ? tracking.LastCreatedOnTheBasisNumber
    : null;
}

/** `searchSettlements`' answer: confirmed [md] §1.8. */
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

/**
 * `InfoRegClientBarcodes` ("внутрішній номер замовлення клієнта"): NP refuses
 * one too long (20000200189) or with invalid characters (20000200188) —
 * codes confirmed [sdk][err]. The limits are not published: 36 is the string
 * type [sdk] gives the field (ASSUMED to be NP's limit), and letters, digits
 * and hyphens are ASSUMED safe. Our own codes are 21 characters of [A-Z0-9-]
 * (common/shipment-code.ts).
 */
export const INFO_REG_CLIENT_BARCODES_MAX = 36;
export const INFO_REG_CLIENT_BARCODES_PATTERN = /^[A-Za-z0-9-]+$/;

/** An amount in hryvnias as NP's money fields take it: "250", "1234.50" (formatted from kopiykas, common/money.ts). */
const hryvnias = z.string().regex(/^\d+(\.\d{1,2})?$/, 'an amount in UAH such as "1234.50"');

/**
 * Cash on delivery as a money transfer to the sender: confirmed [md][sdk]
 * (`BackwardDeliveryData[]`, `CargoType: "Money"`, `RedeliveryString` the
 * amount) and [np-example]. That NP takes kopiykas in it ("1234.50") is
 * ASSUMED; public examples send whole hryvnias.
 */
export const backwardDeliverySchema = z.strictObject({
  PayerType: z.enum(['Sender', 'Recipient']),
  CargoType: z.literal('Money'),
  RedeliveryString: hryvnias,
});

/**
 * The `InternetDocument.save` properties we send. Strict on purpose: a key
 * this schema does not know is refused (`invalid_waybill` naming it), never
 * dropped on the way to NP — a caller who sets a field must see it sent or
 * refused.
 *
 * The recipient is created inline by NP ("new address", `NewAddress: "1"`):
 * confirmed [md][fix] (SaveWarehouseDefault.json sends exactly these names)
 * and [np-example]: `RecipientCityName` (the city's name), `RecipientArea`
 * and `RecipientAreaRegions` (oblast and district names; the example leaves
 * them empty), `RecipientAddressName` (the branch number for a branch or
 * postomat, the street for an address — [np-example]), `RecipientHouse`,
 * `RecipientFlat`, `RecipientName` (full name), `RecipientType:
 * "PrivatePerson"`, `RecipientsPhone`. We also send the city and branch Refs
 * (`CityRecipient`, `RecipientAddress`), as [fix] does; Counterparty.save /
 * ContactPerson.save are not needed in this form.
 */
export const waybillRequestSchema = z
  .strictObject({
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
    NewAddress: z.literal('1'),
    RecipientCityName: z.string().min(1),
    RecipientArea: z.string(),
    RecipientAreaRegions: z.string(),
    RecipientAddressName: z.string().min(1),
    RecipientHouse: z.string(),
    RecipientFlat: z.string(),
    RecipientName: z.string().min(1),
    RecipientType: z.literal('PrivatePerson'),
    SettlementType: z.string().optional(),
    VolumeGeneral: z.number().min(0.0004).optional(),
    OptionsSeat: z
      .array(
        z.strictObject({ weight: z.number(), volumetricWidth: z.number(), volumetricLength: z.number(), volumetricHeight: z.number() }),
      )
      .optional(),
    InfoRegClientBarcodes: z.string().min(1).max(INFO_REG_CLIENT_BARCODES_MAX).regex(INFO_REG_CLIENT_BARCODES_PATTERN),
    BackwardDeliveryData: z.array(backwardDeliverySchema).min(1).optional(),
    /** payment control ("контроль оплати"), for senders with an agreement: confirmed [md][sdk]; the amount in UAH */
    AfterpaymentOnGoodsCost: hryvnias.optional(),
  })
  .refine((w) => !(w.BackwardDeliveryData && w.AfterpaymentOnGoodsCost), {
    // ASSUMED: NP collects the money one way, a postal transfer or payment control, not both
    message: 'BackwardDeliveryData (money transfer) and AfterpaymentOnGoodsCost (payment control) exclude each other',
    path: ['AfterpaymentOnGoodsCost'],
  });
export type WaybillRequest = z.infer<typeof waybillRequestSchema>;

/**
 * Postomat limits (checked before NP is called): parcels or documents, one
 * seat ≤ 20 kg, 40×60×30 cm, declared value ≤ 10 000 UAH — confirmed [md];
 * no payment control there — confirmed [err] 20000200032.
 */
export function postomatProblems(request: WaybillRequest): string[] {
  const problems: string[] = [];
  if (request.AfterpaymentOnGoodsCost !== undefined) problems.push('no payment control (AfterpaymentOnGoodsCost) at a postomat');
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
