import { createHash, randomUUID } from 'node:crypto';
import { startSandboxServer, type SandboxOptions, type SandboxResponse, type SandboxServer } from '../kit/sandbox.ts';
import {
  BASIS_DOCUMENT_TYPES,
  INFO_REG_CLIENT_BARCODES_MAX,
  INFO_REG_CLIENT_BARCODES_PATTERN,
  NOVAPOSHTA_PATH,
  NP_ERROR_CODES,
  NP_ERROR_TEXT,
  NP_VALIDATION_CODES,
  npDate,
  npDateKey,
  npRequestSchema,
  type NpCity,
  type NpWarehouse,
} from './protocol.ts';
import { constantTimeEqual } from '../../../../common/security.ts';

/**
 * The Nova Poshta sandbox: the same single endpoint and envelope, HTTP 200
 * for business errors with NP's own error codes, API-key checks, and seeded
 * reference data (real city names; city Refs as NP publishes them, branch
 * Refs our own).
 */

export const NOVAPOSHTA_SANDBOX_API_KEY = 'np-sandbox-0000000000000000000000000000';

export const SANDBOX_CITIES: NpCity[] = [
  {
    Ref: '8d5a980d-391c-11dd-90d9-001a92567626',
    Description: 'Київ',
    DescriptionRu: 'Киев',
    Area: '71508131-9b87-11de-822f-000c2965ae0e',
    AreaDescription: 'Київська',
    SettlementTypeDescription: 'місто',
    CityID: '4',
  },
  {
    Ref: 'db5c88f5-391c-11dd-90d9-001a92567626',
    Description: 'Львів',
    DescriptionRu: 'Львов',
    Area: '71508138-9b87-11de-822f-000c2965ae0e',
    AreaDescription: 'Львівська',
    SettlementTypeDescription: 'місто',
    CityID: '6',
  },
  {
    Ref: 'db5c88d0-391c-11dd-90d9-001a92567626',
    Description: 'Одеса',
    DescriptionRu: 'Одесса',
    Area: '7150813a-9b87-11de-822f-000c2965ae0e',
    AreaDescription: 'Одеська',
    SettlementTypeDescription: 'місто',
    CityID: '11',
  },
];

const [kyiv, lviv, odesa] = SANDBOX_CITIES as [NpCity, NpCity, NpCity];

function warehouse(
  city: NpCity,
  ref: string,
  number: number,
  description: string,
  category: 'Branch' | 'Postomat',
  maxWeight: number,
): NpWarehouse {
  return {
    Ref: ref,
    Description: description,
    ShortAddress: `${city.Description}, ${description.split(': ')[1] ?? description}`,
    Number: String(number),
    CityRef: city.Ref,
    CityDescription: city.Description,
    TypeOfWarehouse: category === 'Postomat' ? 'f9316480-5f2d-425d-bc2c-ac7cd29decf0' : '841339c7-591a-42e2-8233-7a0a00f0ed6f',
    CategoryOfWarehouse: category,
    WarehouseStatus: 'Working',
    PlaceMaxWeightAllowed: String(maxWeight),
  };
}

export const SANDBOX_WAREHOUSES: NpWarehouse[] = [
  warehouse(kyiv, '1ec09d88-e1c2-11e3-8c4a-0050568002cf', 1, 'Відділення №1: вул. Пирогівський шлях, 135', 'Branch', 1000),
  warehouse(kyiv, '7b422fc5-e1b8-11e3-8c4a-0050568002cf', 2, 'Відділення №2: вул. Богатирська, 11', 'Branch', 1000),
  warehouse(kyiv, 'a2a6ab6e-3b1f-11ec-8513-b88303659df5', 20001, "Поштомат №20001: просп. Перемоги, 24 (у під'їзді)", 'Postomat', 20),
  warehouse(lviv, '169227f6-e1c2-11e3-8c4a-0050568002cf', 1, 'Відділення №1: вул. Городоцька, 359', 'Branch', 1000),
  warehouse(odesa, '1692286e-e1c2-11e3-8c4a-0050568002cf', 1, 'Відділення №1: вул. Михайла Грушевського, 39', 'Branch', 1000),
];

type NpAnswer = { data: unknown[]; info?: unknown } | { errors: Array<[string, string]> };

function answer(result: NpAnswer): SandboxResponse {
  if ('errors' in result) {
    return {
      json: {
        success: false,
        data: [],
        errors: result.errors.map(([text]) => text),
        warnings: [],
        info: [],
        messageCodes: [],
        errorCodes: result.errors.map(([, code]) => code),
        warningCodes: [],
        infoCodes: [],
      },
    };
  }
  return {
    json: {
      success: true,
      data: result.data,
      errors: [],
      warnings: [],
      info: result.info ?? [],
      messageCodes: [],
      errorCodes: [],
      warningCodes: [],
      infoCodes: [],
    },
  };
}

function page<T>(items: T[], properties: Record<string, unknown>, pageLimit = 500): { data: T[]; info: { totalCount: number } } {
  // a page is at most `pageLimit` long whatever Limit asks: a client may not take a short page for the last
  const limit = Math.max(1, Math.min(pageLimit, Number(properties.Limit ?? 150) || 150));
  const pageNumber = Math.max(1, Number(properties.Page ?? 1) || 1);
  return { data: items.slice((pageNumber - 1) * limit, pageNumber * limit), info: { totalCount: items.length } };
}

function matches(value: string | undefined, fragment: unknown): boolean {
  if (typeof fragment !== 'string' || fragment === '') return true;
  return (value ?? '').toLocaleLowerCase('uk').includes(fragment.toLocaleLowerCase('uk'));
}

/** Methods that answer without an API key (NP masks personal data instead). */
const KEYLESS_METHODS = new Set(['TrackingDocument.getStatusDocuments']);

const STREETS = [
  'вул. Шевченка',
  'вул. Франка',
  'просп. Незалежності',
  'вул. Лесі Українки',
  'вул. Соборна',
  'вул. Героїв',
  'вул. Садова',
  'вул. Миру',
];

/** A deterministic UUID-shaped Ref from a seed (stable across sandbox restarts, so synced data stays valid). */
function refOf(seed: string): string {
  const hex = createHash('sha1').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Generated settlements with branches, so that a directory sync has thousands of rows to page through. */
export function generatedDirectory(settlements: number, branchesEach: number): { cities: NpCity[]; warehouses: NpWarehouse[] } {
  const cities: NpCity[] = [];
  const warehouses: NpWarehouse[] = [];
  for (let i = 1; i <= settlements; i += 1) {
    const city: NpCity = {
      Ref: refOf(`city-${i}`),
      Description: `Пісочне-${i}`,
      DescriptionRu: `Песочное-${i}`,
      AreaDescription: 'Тестова',
      SettlementTypeDescription: 'село',
      CityID: String(1000 + i),
    };
    cities.push(city);
    for (let n = 1; n <= branchesEach; n += 1) {
      warehouses.push(
        warehouse(
          city,
          refOf(`warehouse-${i}-${n}`),
          n,
          `Відділення №${n}: ${STREETS[n % STREETS.length]}, ${n}`,
          n % 10 === 0 ? 'Postomat' : 'Branch',
          n % 10 === 0 ? 20 : 1000,
        ),
      );
    }
  }
  return { cities, warehouses };
}

/** The status sequences the sandbox walks a waybill through (StatusCode as NP writes them). */
export const TRACKING_SCENARIOS = {
  delivered: ['1', '4', '5', '6', '7', '9'],
  postomat: ['1', '4', '5', '6', '8', '9'],
  local: ['1', '41', '7', '9'],
  refused: ['1', '4', '5', '6', '7', '103', '102'],
  /** the return waybill NP creates on a refusal, back to the sender */
  return: ['4', '5', '6', '7', '9'],
} as const;
export type TrackingScenario = keyof typeof TRACKING_SCENARIOS;

const STATUS_TEXT: Record<string, string> = {
  '1': 'Відправник самостійно створив цю накладну, але ще не надав до відправки',
  '2': 'Видалено',
  '3': 'Номер не знайдено',
  '4': 'Відправлення у місті відправника',
  '41': 'Відправлення у місті відправника',
  '5': 'Відправлення прямує до міста одержувача',
  '6': 'Відправлення у місті одержувача',
  '7': 'Прибув на відділення',
  '8': 'Прибув на відділення (завантажено в Поштомат)',
  '9': 'Відправлення отримано',
  '102': 'Відмова від отримання (Відправником створено замовлення на повернення)',
  '103': 'Відмова одержувача',
};

interface Waybill {
  ref: string;
  number: string;
  orderRef: string;
  created: Date;
  /** its `DateTime`, the shipping date (dd.mm.yyyy, a Kyiv day) */
  date: string;
  request: Record<string, unknown>;
  scenario: TrackingScenario;
  step: number;
  deleted: boolean;
  phones: string[];
  returnNumber: string | null;
  /** the document NP made on this one's basis, and what it is (`CargoReturn`, `Redirecting`) */
  basis: { number: string; type: string } | null;
}

export interface NovaPoshtaSandbox extends SandboxServer {
  /** waybills created, oldest first */
  waybills(): Array<{
    number: string;
    ref: string;
    orderRef: string;
    status: string;
    scenario: TrackingScenario;
    returnNumber: string | null;
  }>;
  /** moves waybills (all, or one) `steps` statuses on; a refusal creates its return waybill */
  advance(number?: string, steps?: number): void;
  setScenario(number: string, scenario: TrackingScenario): void;
  /** calls received per method, e.g. `TrackingDocument.getStatusDocuments` */
  calls(method: string): number;
  /** waybills that need no save: a load test of tracking */
  seedWaybills(count: number): string[];
  /** the sender orders the parcel back (NP's `CargoReturn`): a return waybill, whatever the status; its number */
  orderReturn(number: string): string | null;
  /** the parcel is redirected (NP's `Redirecting`): a new waybill on its basis, not a return; its number */
  redirect(number: string): string | null;
  /** the sandbox's clock (what "today" is for `DateTime`); null: the real one */
  setClock(at: number | null): void;
  /** the `methodProperties` of every `InternetDocument.save` received, oldest first */
  savedRequests(): Array<Record<string, unknown>>;
}

export interface NovaPoshtaSandboxOptions extends SandboxOptions {
  apiKey?: string;
  /** generated settlements × branches each (0: only the named cities) */
  generated?: { settlements: number; branchesEach: number };
  /** the longest page the directory answers, whatever `Limit` asks (500). NP's own cap is not documented: short pages are our assumption of the worst case */
  pageLimit?: number;
  /** the sandbox's clock (tests of dates at Kyiv's midnight); the real one by default */
  now?: () => number;
}

export async function startNovaPoshtaSandbox(options: NovaPoshtaSandboxOptions = {}): Promise<NovaPoshtaSandbox> {
  const apiKey = options.apiKey ?? NOVAPOSHTA_SANDBOX_API_KEY;
  const generated = options.generated
    ? generatedDirectory(options.generated.settlements, options.generated.branchesEach)
    : { cities: [], warehouses: [] };
  const cities = [...SANDBOX_CITIES, ...generated.cities];
  const warehouses = [...SANDBOX_WAREHOUSES, ...generated.warehouses];
  let waybills = new Map<string, Waybill>();
  let calls = new Map<string, number>();
  let saved: Array<Record<string, unknown>> = [];
  let clockAt: number | null = null;
  const now = () => clockAt ?? (options.now ?? Date.now)();
  // 14-digit numbers, unique within this sandbox and unlikely to repeat across restarts
  let sequence = (Date.now() % 100_000) * 10_000;

  const nextNumber = () => {
    sequence += 1;
    return `2045${String(sequence % 10_000_000_000).padStart(10, '0')}`;
  };
  const statusOf = (waybill: Waybill): string => (waybill.deleted ? '2' : (TRACKING_SCENARIOS[waybill.scenario][waybill.step] ?? '9'));
  const byRef = (ref: unknown) => [...waybills.values()].find((w) => w.ref === ref);

  const advanceOne = (waybill: Waybill, steps: number) => {
    if (waybill.deleted) return;
    const sequenceOf = TRACKING_SCENARIOS[waybill.scenario];
    waybill.step = Math.min(sequenceOf.length - 1, waybill.step + steps);
    if (waybill.scenario === 'refused' && statusOf(waybill) === '102' && !waybill.returnNumber)
      basedOn(waybill, BASIS_DOCUMENT_TYPES.cargoReturn);
  };

  /** A document NP makes on a waybill's basis: a return (tracked back to the sender) or a redirect. */
  const basedOn = (waybill: Waybill, type: string): string => {
    const made = new Date(now());
    const next: Waybill = {
      ref: randomUUID(),
      number: nextNumber(),
      orderRef: waybill.orderRef,
      created: made,
      date: npDate(made),
      request: {},
      scenario: type === BASIS_DOCUMENT_TYPES.cargoReturn ? 'return' : 'delivered',
      step: 0,
      deleted: false,
      phones: waybill.phones,
      returnNumber: null,
      basis: null,
    };
    waybills.set(next.number, next);
    waybill.basis = { number: next.number, type };
    if (type === BASIS_DOCUMENT_TYPES.cargoReturn) waybill.returnNumber = next.number;
    return next.number;
  };

  const requireFields = (p: Record<string, unknown>): Array<[string, string]> => {
    const problems: Array<[string, string]> = [];
    const blank = (key: string) => p[key] === undefined || p[key] === null || p[key] === '';
    if (blank('CitySender')) problems.push(['CitySender is not selected', NP_VALIDATION_CODES.citySenderMissing]);
    // with a new address (NewAddress "1") NP's documented example names the city instead of giving its Ref
    if (blank('CityRecipient') && p.NewAddress !== '1')
      problems.push(['CityRecipient is not selected', NP_VALIDATION_CODES.cityRecipientMissing]);
    else if (!blank('CityRecipient') && !cities.some((c) => c.Ref === p.CityRecipient))
      problems.push(['CityRecipient not found', NP_VALIDATION_CODES.cityRecipientNotFound]);
    if (blank('ContactSender')) problems.push(['ContactSender is not selected', NP_VALIDATION_CODES.contactSenderMissing]);
    if (blank('ContactRecipient') && blank('RecipientName'))
      problems.push(['ContactRecipient is not selected', NP_VALIDATION_CODES.contactRecipientMissing]);
    if (!(Number(p.Cost) > 0)) problems.push(['Cost is invalid', NP_VALIDATION_CODES.costInvalid]);
    if (blank('Description')) problems.push(['Description is empty', NP_VALIDATION_CODES.descriptionEmpty]);
    return problems;
  };

  const refusal = (code: string): [string, string] => [NP_ERROR_TEXT[code] ?? code, code];
  const todayKey = (): number => npDateKey(npDate(new Date(now()))) ?? 0;

  /** The recipient's city: by its Ref, and with a new address by its name too (both must agree). */
  const recipientCityOf = (p: Record<string, unknown>): NpCity | undefined => {
    const byRef = cities.find((c) => c.Ref === p.CityRecipient);
    if (p.NewAddress !== '1') return byRef;
    const named = typeof p.RecipientCityName === 'string' ? p.RecipientCityName.trim().toLocaleLowerCase('uk') : '';
    const byName = cities.filter((c) => [c.Description, c.DescriptionRu].some((name) => name?.toLocaleLowerCase('uk') === named));
    return p.CityRecipient ? byName.find((c) => c.Ref === byRef?.Ref) : byName[0];
  };

  /**
   * What the sandbox refuses beyond missing fields, each with NP's code and
   * text (protocol.ts says which rules are sourced, which assumed): a past
   * shipping date judged in Kyiv, our client code's limits, payment control
   * at a postomat, the money redelivery's shape, and the inline recipient
   * (NewAddress "1") whose names must be the directory's.
   */
  const protocolProblems = (p: Record<string, unknown>): Array<[string, string]> => {
    const problems: Array<[string, string]> = [];
    // NP's documented example leaves DateTime empty: taken as today (ASSUMED); a date before today in Kyiv is refused
    const date = p.DateTime === undefined || p.DateTime === '' ? todayKey() : npDateKey(p.DateTime);
    if (date === null) problems.push(refusal(NP_VALIDATION_CODES.dateTimeInvalidFormat));
    else if (date < todayKey()) problems.push(refusal(NP_VALIDATION_CODES.dateTimeBeforeToday));

    const barcode = p.InfoRegClientBarcodes;
    if (typeof barcode === 'string' && barcode.length > INFO_REG_CLIENT_BARCODES_MAX)
      problems.push(refusal(NP_VALIDATION_CODES.infoRegClientBarcodesTooLong));
    else if (typeof barcode === 'string' && barcode !== '' && !INFO_REG_CLIENT_BARCODES_PATTERN.test(barcode))
      problems.push(refusal(NP_VALIDATION_CODES.infoRegClientBarcodesInvalidCharacters));

    const city = recipientCityOf(p);
    const toDoors = String(p.ServiceType ?? '').endsWith('Doors');
    const addressName = typeof p.RecipientAddressName === 'string' ? p.RecipientAddressName : '';
    const branchByRef = warehouses.find((w) => w.Ref === p.RecipientAddress);
    const branchByNumber = toDoors ? undefined : warehouses.find((w) => w.CityRef === city?.Ref && w.Number === addressName);
    const branch = branchByRef ?? branchByNumber;
    if (p.AfterpaymentOnGoodsCost !== undefined && p.AfterpaymentOnGoodsCost !== '') {
      if (branch?.CategoryOfWarehouse === 'Postomat') problems.push(refusal(NP_VALIDATION_CODES.afterpaymentDisabledForPostomat));
      else if (!/^\d+(\.\d{1,2})?$/.test(String(p.AfterpaymentOnGoodsCost)))
        problems.push(refusal(NP_VALIDATION_CODES.afterpaymentInvalid));
    }

    if (p.BackwardDeliveryData !== undefined) {
      const items = p.BackwardDeliveryData;
      if (!Array.isArray(items)) problems.push(refusal(NP_VALIDATION_CODES.backwardDeliveryDataMustBeArray));
      else
        for (const item of items as Array<Record<string, unknown>>) {
          if (item?.CargoType !== 'Money') problems.push(refusal(NP_VALIDATION_CODES.backwardDeliveryMustBeMoney));
          else if (item.PayerType !== 'Sender' && item.PayerType !== 'Recipient')
            problems.push(refusal(NP_VALIDATION_CODES.backwardDeliveryPayerTypeIncorrect));
          else if (!/^\d+(\.\d{1,2})?$/.test(String(item.RedeliveryString ?? '')))
            problems.push(refusal(NP_VALIDATION_CODES.redeliveryStringInvalid));
          else if (Number(item.RedeliveryString) < 1) problems.push(refusal(NP_VALIDATION_CODES.redeliveryStringBelowOne));
        }
    }

    if (p.NewAddress === '1') {
      const named = typeof p.RecipientCityName === 'string' ? p.RecipientCityName.trim() : '';
      if (!named) problems.push(refusal(NP_VALIDATION_CODES.recipientCityNameMissing));
      else if (!city) problems.push(refusal(NP_VALIDATION_CODES.recipientCityNameNotFound));
      if (p.RecipientType !== 'PrivatePerson') problems.push(refusal(NP_VALIDATION_CODES.recipientTypeInvalid));
      if (typeof p.RecipientsPhone !== 'string' || p.RecipientsPhone === '')
        problems.push(refusal(NP_VALIDATION_CODES.recipientsPhoneEmpty));
      if (toDoors) {
        if (!addressName) problems.push(refusal(NP_VALIDATION_CODES.recipientAddressStreetMissing));
        if (typeof p.RecipientHouse !== 'string' || p.RecipientHouse === '')
          problems.push(refusal(NP_VALIDATION_CODES.recipientHouseMissing));
      } else {
        // a branch is named by its number in the recipient's city ([np-example] in protocol.ts)
        if (city && (!branchByNumber || (branchByRef && branchByNumber.Ref !== branchByRef.Ref)))
          problems.push(refusal(NP_VALIDATION_CODES.recipientAddressNameNotFound));
      }
    }
    return problems;
  };

  const tracking = (waybill: Waybill, phone: unknown) => {
    const status = statusOf(waybill);
    const unmasked = typeof phone === 'string' && waybill.phones.includes(phone.replace(/^\+/, ''));
    const recipientCity = cities.find((c) => c.Ref === waybill.request.CityRecipient);
    const branch = warehouses.find((w) => w.Ref === waybill.request.RecipientAddress);
    return {
      Number: waybill.number,
      StatusCode: status,
      Status: STATUS_TEXT[status] ?? '',
      DateCreated: waybill.created.toISOString().replace('T', ' ').slice(0, 19),
      CityRecipient: recipientCity?.Description ?? '',
      WarehouseRecipient: branch?.Description ?? '',
      ClientBarcode: waybill.orderRef,
      ...(status === '9' ? { RecipientDateTime: new Date(now()).toISOString().replace('T', ' ').slice(0, 19) } : {}),
      ...(unmasked
        ? {
            RecipientFullNameEW: String(waybill.request.RecipientName ?? ''),
            PhoneRecipient: String(waybill.request.RecipientsPhone ?? ''),
          }
        : {}),
      ...(waybill.basis
        ? { LastCreatedOnTheBasisNumber: waybill.basis.number, LastCreatedOnTheBasisDocumentType: waybill.basis.type }
        : { LastCreatedOnTheBasisNumber: '', LastCreatedOnTheBasisDocumentType: '' }),
    };
  };

  const handlers: Record<string, (properties: Record<string, unknown>) => NpAnswer> = {
    'Address.getCities': (p) =>
      page(
        cities.filter(
          (c) => (!p.Ref || c.Ref === p.Ref) && (matches(c.Description, p.FindByString) || matches(c.DescriptionRu, p.FindByString)),
        ),
        p,
        options.pageLimit,
      ),
    'Address.getWarehouses': (p) =>
      page(
        warehouses.filter(
          (w) =>
            (!p.CityRef || w.CityRef === p.CityRef) && matches(w.CityDescription, p.CityName) && matches(w.Description, p.FindByString),
        ),
        p,
        options.pageLimit,
      ),
    'Address.searchSettlements': (p) => {
      const found = cities.filter((c) => matches(c.Description, p.CityName));
      const { data } = page(found, p);
      const addresses = data.map((c) => ({
        Present: `${c.SettlementTypeDescription === 'село' ? 'с.' : 'м.'} ${c.Description}, ${c.AreaDescription ?? ''} обл.`,
        MainDescription: c.Description,
        Area: c.AreaDescription ?? '',
        Ref: refOf(`settlement-${c.Ref}`),
        DeliveryCity: c.Ref,
        Warehouses: warehouses.filter((w) => w.CityRef === c.Ref).length,
      }));
      return { data: [{ TotalCount: found.length, Addresses: addresses }] };
    },
    'InternetDocument.getDocumentPrice': (p) => {
      const problems = [p.CitySender, p.CityRecipient].some((v) => !v)
        ? [['CitySender or CityRecipient is not selected', NP_VALIDATION_CODES.cityRecipientMissing] as [string, string]]
        : [];
      if (problems.length > 0) return { errors: problems };
      const redelivery = p.RedeliveryCalculate as { CargoType?: unknown; Amount?: unknown } | undefined;
      if (redelivery !== undefined && (redelivery.CargoType !== 'Money' || !/^\d+(\.\d{1,2})?$/.test(String(redelivery.Amount ?? ''))))
        return { errors: [refusal(NP_VALIDATION_CODES.redeliveryCalculateAmount)] };
      const weight = Math.max(0.1, Number(p.Weight) || 0.1);
      const declared = Math.max(0, Number(p.Cost) || 0);
      const cost = 60 + 10 * Math.ceil(weight) + Math.round(declared * 0.005);
      // our own tariff: 20 UAH + 2 % of the amount transferred back
      const costRedelivery = redelivery ? 20 + Math.round(Number(redelivery.Amount) * 0.02) : 0;
      return {
        data: [
          {
            AssessedCost: String(declared),
            Cost: String(cost),
            CostRedelivery: String(costRedelivery),
            TZoneInfo: { TzoneName: 'Тарифна зона: 2', TzoneID: '2' },
          },
        ],
      };
    },
    'InternetDocument.getDocumentDeliveryDate': (p) => {
      if (!p.CitySender || !p.CityRecipient)
        return { errors: [['CitySender or CityRecipient is not selected', NP_VALIDATION_CODES.cityRecipientMissing]] };
      const days = p.CitySender === p.CityRecipient ? 1 : 2;
      const date = new Date(now() + days * 24 * 3600 * 1000).toISOString().slice(0, 10);
      return { data: [{ DeliveryDate: { date: `${date} 18:00:00.000000`, timezone_type: 3, timezone: 'Europe/Kiev' } }] };
    },
    'InternetDocument.save': (p) => {
      saved.push(p);
      const problems = [...requireFields(p), ...protocolProblems(p)];
      if (problems.length > 0) return { errors: problems };
      const number = nextNumber();
      const recipientCity = recipientCityOf(p);
      const branch =
        warehouses.find((w) => w.Ref === p.RecipientAddress) ??
        warehouses.find((w) => w.CityRef === recipientCity?.Ref && w.Number === p.RecipientAddressName);
      const toPostomat = branch?.CategoryOfWarehouse === 'Postomat';
      const scenario: TrackingScenario = toPostomat ? 'postomat' : p.CitySender === recipientCity?.Ref ? 'local' : 'delivered';
      const phones = [p.RecipientsPhone, p.SendersPhone].filter((v): v is string => typeof v === 'string').map((v) => v.replace(/^\+/, ''));
      const waybill: Waybill = {
        ref: randomUUID(),
        number,
        orderRef: String(p.InfoRegClientBarcodes ?? ''),
        created: new Date(now()),
        date: typeof p.DateTime === 'string' && p.DateTime !== '' ? p.DateTime : npDate(new Date(now())),
        request: { ...p, CityRecipient: recipientCity?.Ref, RecipientAddress: branch?.Ref },
        scenario,
        step: 0,
        deleted: false,
        phones,
        returnNumber: null,
        basis: null,
      };
      waybills.set(number, waybill);
      const days = p.CitySender === recipientCity?.Ref ? 1 : 2;
      return {
        data: [
          {
            Ref: waybill.ref,
            CostOnSite: String(60 + 10 * Math.ceil(Number(p.Weight) || 0.1)),
            EstimatedDeliveryDate: npDate(new Date(now() + days * 24 * 3600 * 1000)),
            IntDocNumber: number,
            TypeDocument: 'InternetDocument',
          },
        ],
      };
    },
    'InternetDocument.delete': (p) => {
      const waybill = byRef(p.DocumentRefs);
      if (!waybill || waybill.deleted) return { errors: [['InternetDocument not found', NP_VALIDATION_CODES.internetDocumentNotFound]] };
      if (statusOf(waybill) !== '1') return { errors: [['Document can not be deleted: it was handed over to Nova Poshta', '']] };
      waybill.deleted = true;
      return { data: [{ Ref: waybill.ref }] };
    },
    'InternetDocument.getDocumentList': (p) => {
      // the window is of shipping dates (each waybill's DateTime, a Kyiv day), both ends included
      const from = npDateKey(p.DateTimeFrom);
      const to = npDateKey(p.DateTimeTo);
      if (from === null || to === null) return { errors: [refusal(NP_VALIDATION_CODES.dateTimeFilteringInvalidFormat)] };
      const listed = [...waybills.values()].filter((w) => {
        const date = npDateKey(w.date);
        return w.request.InfoRegClientBarcodes !== undefined && date !== null && date >= from && date <= to;
      });
      return {
        data: listed.map((w) => ({
          Ref: w.ref,
          IntDocNumber: w.number,
          InfoRegClientBarcodes: w.orderRef,
          StateId: statusOf(w),
          StateName: STATUS_TEXT[statusOf(w)] ?? '',
          DateTime: w.date,
        })),
      };
    },
    'TrackingDocument.getStatusDocuments': (p) => {
      const documents = Array.isArray(p.Documents) ? (p.Documents as Array<{ DocumentNumber?: unknown; Phone?: unknown }>) : null;
      if (!documents || documents.length === 0)
        return { errors: [['Document number is not correct', NP_ERROR_CODES.documentNumberIncorrect]] };
      if (documents.length > 100) return { errors: [['Too many documents in one request (at most 100)', '']] };
      return {
        data: documents.map((d) => {
          const waybill = waybills.get(String(d.DocumentNumber ?? ''));
          return waybill
            ? tracking(waybill, d.Phone)
            : { Number: String(d.DocumentNumber ?? ''), StatusCode: '3', Status: STATUS_TEXT['3'] };
        }),
      };
    },
  };

  const server = await startSandboxServer(
    {
      name: 'novaposhta',
      onReset: () => {
        waybills = new Map();
        calls = new Map();
        saved = [];
        clockAt = null;
      },
      describe: () => ({ cities: cities.length, warehouses: warehouses.length, waybills: waybills.size, calls: Object.fromEntries(calls) }),
      routes: [
        {
          method: 'POST',
          path: NOVAPOSHTA_PATH,
          handle: (request) => {
            const envelope = npRequestSchema.safeParse(request.json());
            if (!envelope.success) return answer({ errors: [['Model or method is not specified', '']] });
            const { modelName, calledMethod } = envelope.data;
            const method = `${modelName.replace(/General$/, '')}.${calledMethod}`;
            calls.set(method, (calls.get(method) ?? 0) + 1);
            if (!KEYLESS_METHODS.has(method)) {
              if (!envelope.data.apiKey) return answer({ errors: [['API key is empty', NP_ERROR_CODES.emptyApiKey]] });
              if (!constantTimeEqual(envelope.data.apiKey, apiKey))
                return answer({ errors: [['API auth fail', NP_ERROR_CODES.authFailed]] });
            }
            const handler = handlers[method];
            if (!handler) return answer({ errors: [[`Method ${calledMethod} of model ${modelName} is not available in the sandbox`, '']] });
            return answer(handler(envelope.data.methodProperties ?? {}));
          },
        },
        {
          // not Nova Poshta's: moves parcels on, for tests and demos (`{"number"?, "steps"?}`)
          method: 'POST',
          path: '/sandbox/tracking/advance',
          handle: (request) => {
            const body = (request.rawBody.length > 0 ? request.json() : {}) as { number?: string; steps?: number };
            control.advance(body.number, body.steps ?? 1);
            return { json: { waybills: control.waybills() } };
          },
        },
        {
          method: 'POST',
          path: '/sandbox/tracking/scenario',
          handle: (request) => {
            const body = request.json() as { number?: string; scenario?: TrackingScenario };
            if (!body.number || !body.scenario || !(body.scenario in TRACKING_SCENARIOS))
              return { status: 400, json: { error: `number and scenario (${Object.keys(TRACKING_SCENARIOS).join(', ')}) are required` } };
            control.setScenario(body.number, body.scenario);
            return { json: { waybills: control.waybills() } };
          },
        },
        {
          // the sender orders a parcel back, or redirects it (`{"number", "kind": "return|redirect"}`)
          method: 'POST',
          path: '/sandbox/tracking/basis',
          handle: (request) => {
            const body = request.json() as { number?: string; kind?: string };
            const made =
              body.number && body.kind === 'return'
                ? control.orderReturn(body.number)
                : body.number && body.kind === 'redirect'
                  ? control.redirect(body.number)
                  : null;
            if (!made) return { status: 400, json: { error: 'a known number and kind (return, redirect) are required' } };
            return { json: { number: made, waybills: control.waybills() } };
          },
        },
        { method: 'GET', path: '/sandbox/waybills', handle: () => ({ json: { waybills: control.waybills() } }) },
      ],
    },
    options,
  );
  const control = {
    waybills: () =>
      [...waybills.values()].map((w) => ({
        number: w.number,
        ref: w.ref,
        orderRef: w.orderRef,
        status: statusOf(w),
        scenario: w.scenario,
        returnNumber: w.returnNumber,
      })),
    advance: (number?: string, steps = 1) => {
      const targets = number ? [waybills.get(number)].filter((w): w is Waybill => w !== undefined) : [...waybills.values()];
      for (const waybill of targets) advanceOne(waybill, steps);
    },
    setScenario: (number: string, scenario: TrackingScenario) => {
      const waybill = waybills.get(number);
      if (waybill) waybill.scenario = scenario;
    },
    calls: (method: string) => calls.get(method) ?? 0,
    seedWaybills: (count: number) => {
      const numbers: string[] = [];
      for (let i = 0; i < count; i += 1) {
        const waybill: Waybill = {
          ref: randomUUID(),
          number: nextNumber(),
          orderRef: `LOAD-${i}`,
          created: new Date(now()),
          date: npDate(new Date(now())),
          request: {},
          scenario: 'delivered',
          step: 0,
          deleted: false,
          phones: [],
          returnNumber: null,
          basis: null,
        };
        waybills.set(waybill.number, waybill);
        numbers.push(waybill.number);
      }
      return numbers;
    },
    orderReturn: (number: string) => {
      const waybill = waybills.get(number);
      return waybill && !waybill.deleted ? (waybill.returnNumber ?? basedOn(waybill, BASIS_DOCUMENT_TYPES.cargoReturn)) : null;
    },
    redirect: (number: string) => {
      const waybill = waybills.get(number);
      return waybill && !waybill.deleted ? basedOn(waybill, BASIS_DOCUMENT_TYPES.redirecting) : null;
    },
    setClock: (at: number | null) => {
      clockAt = at;
    },
    savedRequests: () => [...saved],
  };
  return Object.assign(server, control);
}

/** The sender the sandbox knows (Refs of its own; in Kyiv, from branch №1). */
export const SANDBOX_SENDER = {
  cityRef: SANDBOX_CITIES[0]?.Ref ?? '',
  ref: refOf('sandbox-sender'),
  addressRef: SANDBOX_WAREHOUSES[0]?.Ref ?? '',
  contactRef: refOf('sandbox-sender-contact'),
  phone: '380661112233',
};
