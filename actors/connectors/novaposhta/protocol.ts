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
export const AUTH_NP_CODES: ReadonlySet<string> = new Set([NP_ERROR_CODES.authFailed, NP_ERROR_CODES.emptyApiKey, NP_ERROR_CODES.apiKeyExpired]);

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
  totalCount: number;
}
