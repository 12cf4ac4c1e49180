import { z } from 'zod';
import type { CallContext, ConnectorHttp } from '../kit/definition.ts';
import { parseAnswer } from '../kit/parse.ts';
import {
  AUTH_NP_CODES,
  citySchema,
  NOVAPOSHTA_PATH,
  npResponseSchema,
  pagedInfoSchema,
  RETRYABLE_NP_CODES,
  warehouseSchema,
  type NpCity,
  type NpPage,
  type NpWarehouse,
} from './protocol.ts';

export interface NpCallOptions<T> {
  /** how each item of `data` is parsed */
  item: z.ZodType<T>;
  /** reads are safe to send twice; a write (save, delete) is not */
  idempotent: boolean;
  context?: CallContext;
}

/** Typed client of the Nova Poshta API 2.0. */
export class NovaPoshtaClient {
  constructor(
    private readonly http: ConnectorHttp,
    private readonly apiKey: string,
  ) {}

  /**
   * One envelope call. `success: false` becomes a ConnectorError whose code
   * is NP's first error code (its text the message); "service unavailable"
   * is retryable, every other business error is not.
   */
  async request<T>(modelName: string, calledMethod: string, methodProperties: Record<string, unknown>, options: NpCallOptions<T>): Promise<{ data: T[]; info: unknown; warnings: unknown }> {
    const operation = `${modelName}.${calledMethod}`;
    return this.http.call({
      operation,
      method: 'POST',
      path: NOVAPOSHTA_PATH,
      json: { apiKey: this.apiKey, modelName, calledMethod, methodProperties },
      idempotent: options.idempotent,
      context: options.context,
      parse: (response) => {
        const body = parseAnswer(this.http, npResponseSchema, response.data, operation, response.status);
        if (!body.success) {
          const code = body.errorCodes[0] || 'novaposhta_error';
          const message = body.errors.map(String).join('; ') || 'Nova Poshta refused the request';
          throw this.http.error(code, message, { retryable: RETRYABLE_NP_CODES.has(code), status: AUTH_NP_CODES.has(code) ? 401 : response.status });
        }
        const data = parseAnswer(this.http, z.array(options.item), body.data, operation, response.status);
        return { data, info: body.info, warnings: body.warnings };
      },
    });
  }

  /** Cities, optionally filtered by a name fragment; pages start at 1. */
  async getCities(query: { findByString?: string; ref?: string; page?: number; limit?: number } = {}, context?: CallContext): Promise<NpPage<NpCity>> {
    const properties = compact({ FindByString: query.findByString, Ref: query.ref, Page: query.page, Limit: query.limit });
    const answer = await this.request('Address', 'getCities', properties, { item: citySchema, idempotent: true, context });
    return { items: answer.data, totalCount: totalOf(answer.info, answer.data.length) };
  }

  /** Branches and postomats, optionally of one city; pages start at 1. */
  async getWarehouses(query: { cityRef?: string; findByString?: string; page?: number; limit?: number } = {}, context?: CallContext): Promise<NpPage<NpWarehouse>> {
    const properties = compact({ CityRef: query.cityRef, FindByString: query.findByString, Page: query.page, Limit: query.limit });
    const answer = await this.request('Address', 'getWarehouses', properties, { item: warehouseSchema, idempotent: true, context });
    return { items: answer.data, totalCount: totalOf(answer.info, answer.data.length) };
  }
}

function compact(properties: Record<string, string | number | undefined>): Record<string, string | number> {
  return Object.fromEntries(Object.entries(properties).filter((entry): entry is [string, string | number] => entry[1] !== undefined));
}

function totalOf(info: unknown, fallback: number): number {
  const parsed = pagedInfoSchema.safeParse(info);
  return parsed.success ? parsed.data.totalCount : fallback;
}
