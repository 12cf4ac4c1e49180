import { startSandboxServer, type SandboxOptions, type SandboxResponse, type SandboxServer } from '../kit/sandbox.ts';
import { NOVAPOSHTA_PATH, NP_ERROR_CODES, npRequestSchema, type NpCity, type NpWarehouse } from './protocol.ts';

/**
 * The Nova Poshta sandbox: the same single endpoint and envelope, HTTP 200
 * for business errors with NP's own error codes, API-key checks, and seeded
 * reference data (real city names; city Refs as NP publishes them, branch
 * Refs our own).
 */

export const NOVAPOSHTA_SANDBOX_API_KEY = 'np-sandbox-0000000000000000000000000000';

export const SANDBOX_CITIES: NpCity[] = [
  { Ref: '8d5a980d-391c-11dd-90d9-001a92567626', Description: 'Київ', DescriptionRu: 'Киев', Area: '71508131-9b87-11de-822f-000c2965ae0e', AreaDescription: 'Київська', SettlementTypeDescription: 'місто', CityID: '4' },
  { Ref: 'db5c88f5-391c-11dd-90d9-001a92567626', Description: 'Львів', DescriptionRu: 'Львов', Area: '71508138-9b87-11de-822f-000c2965ae0e', AreaDescription: 'Львівська', SettlementTypeDescription: 'місто', CityID: '6' },
  { Ref: 'db5c88d0-391c-11dd-90d9-001a92567626', Description: 'Одеса', DescriptionRu: 'Одесса', Area: '7150813a-9b87-11de-822f-000c2965ae0e', AreaDescription: 'Одеська', SettlementTypeDescription: 'місто', CityID: '11' },
];

const [kyiv, lviv, odesa] = SANDBOX_CITIES as [NpCity, NpCity, NpCity];

function warehouse(city: NpCity, ref: string, number: number, description: string, category: 'Branch' | 'Postomat', maxWeight: number): NpWarehouse {
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
  warehouse(kyiv, 'a2a6ab6e-3b1f-11ec-8513-b88303659df5', 20001, 'Поштомат №20001: просп. Перемоги, 24 (у під\'їзді)', 'Postomat', 20),
  warehouse(lviv, '169227f6-e1c2-11e3-8c4a-0050568002cf', 1, 'Відділення №1: вул. Городоцька, 359', 'Branch', 1000),
  warehouse(odesa, '1692286e-e1c2-11e3-8c4a-0050568002cf', 1, 'Відділення №1: вул. Михайла Грушевського, 39', 'Branch', 1000),
];

type NpAnswer = { data: unknown[]; info?: unknown } | { errors: Array<[string, string]> };

function answer(result: NpAnswer): SandboxResponse {
  if ('errors' in result) {
    return {
      json: { success: false, data: [], errors: result.errors.map(([text]) => text), warnings: [], info: [], messageCodes: [], errorCodes: result.errors.map(([, code]) => code), warningCodes: [], infoCodes: [] },
    };
  }
  return { json: { success: true, data: result.data, errors: [], warnings: [], info: result.info ?? [], messageCodes: [], errorCodes: [], warningCodes: [], infoCodes: [] } };
}

function page<T>(items: T[], properties: Record<string, unknown>): { data: T[]; info: { totalCount: number } } {
  const limit = Math.max(1, Math.min(500, Number(properties.Limit ?? 150) || 150));
  const pageNumber = Math.max(1, Number(properties.Page ?? 1) || 1);
  return { data: items.slice((pageNumber - 1) * limit, pageNumber * limit), info: { totalCount: items.length } };
}

function matches(value: string | undefined, fragment: unknown): boolean {
  if (typeof fragment !== 'string' || fragment === '') return true;
  return (value ?? '').toLocaleLowerCase('uk').includes(fragment.toLocaleLowerCase('uk'));
}

/** Methods that answer without an API key (NP masks personal data instead). */
const KEYLESS_METHODS = new Set(['TrackingDocument.getStatusDocuments']);

export function startNovaPoshtaSandbox(options: SandboxOptions = {}, apiKey = NOVAPOSHTA_SANDBOX_API_KEY): Promise<SandboxServer> {
  const handlers: Record<string, (properties: Record<string, unknown>) => NpAnswer> = {
    'Address.getCities': (p) =>
      page(SANDBOX_CITIES.filter((c) => (!p.Ref || c.Ref === p.Ref) && (matches(c.Description, p.FindByString) || matches(c.DescriptionRu, p.FindByString))), p),
    'Address.getWarehouses': (p) =>
      page(SANDBOX_WAREHOUSES.filter((w) => (!p.CityRef || w.CityRef === p.CityRef) && matches(w.CityDescription, p.CityName) && matches(w.Description, p.FindByString)), p),
  };

  return startSandboxServer(
    {
      name: 'novaposhta',
      describe: () => ({ cities: SANDBOX_CITIES.length, warehouses: SANDBOX_WAREHOUSES.length }),
      routes: [
        {
          method: 'POST',
          path: NOVAPOSHTA_PATH,
          handle: (request) => {
            const envelope = npRequestSchema.safeParse(request.json());
            if (!envelope.success) return answer({ errors: [['Model or method is not specified', '']] });
            const { modelName, calledMethod } = envelope.data;
            const method = `${modelName.replace(/General$/, '')}.${calledMethod}`;
            if (!KEYLESS_METHODS.has(method)) {
              if (!envelope.data.apiKey) return answer({ errors: [['API key is empty', NP_ERROR_CODES.emptyApiKey]] });
              if (envelope.data.apiKey !== apiKey) return answer({ errors: [['API auth fail', NP_ERROR_CODES.authFailed]] });
            }
            const handler = handlers[method];
            if (!handler) return answer({ errors: [[`Method ${calledMethod} of model ${modelName} is not available in the sandbox`, '']] });
            return answer(handler(envelope.data.methodProperties ?? {}));
          },
        },
      ],
    },
    options,
  );
}
