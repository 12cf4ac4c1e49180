import { z } from 'zod';
import type { CallContext, ConnectorHttp } from '../kit/definition.ts';
import { partnerErrorCode } from '../kit/errors.ts';
import { parseAnswer } from '../kit/parse.ts';
import {
  AUTH_NP_CODES,
  deliveryDateSchema,
  listedDocumentSchema,
  npDate,
  parseNpDateTime,
  postomatProblems,
  priceSchema,
  savedDocumentSchema,
  settlementsSchema,
  trackingSchema,
  waybillRequestSchema,
  type NpListedDocument,
  type NpPrice,
  type NpSavedDocument,
  type NpSettlements,
  type NpTracking,
  type WaybillRequest,
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

/**
 * The codes this connector gives what it will not send or cannot do at Nova
 * Poshta (a waybill that fails its checks, the sender missing from the
 * settings). Nova Poshta's vocabulary as far as the hub is concerned, so
 * PartnerErrorCodes like the numeric codes Nova Poshta answers itself.
 */
export const NP_CONNECTOR_ERROR_CODES = {
  invalidWaybill: partnerErrorCode('invalid_waybill'),
  postomatRestrictions: partnerErrorCode('postomat_restrictions'),
  tooManyDocuments: partnerErrorCode('too_many_documents'),
  senderNotConfigured: partnerErrorCode('sender_not_configured'),
} as const;

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
  async request<T>(
    modelName: string,
    calledMethod: string,
    methodProperties: Record<string, unknown>,
    options: NpCallOptions<T>,
  ): Promise<{ data: T[]; info: unknown; warnings: unknown }> {
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
          throw this.http.error(partnerErrorCode(code), message, {
            retryable: RETRYABLE_NP_CODES.has(code),
            status: AUTH_NP_CODES.has(code) ? 401 : response.status,
          });
        }
        const data = parseAnswer(this.http, z.array(options.item), body.data, operation, response.status);
        return { data, info: body.info, warnings: body.warnings };
      },
    });
  }

  /** Cities, optionally filtered by a name fragment; pages start at 1. */
  async getCities(
    query: { findByString?: string; ref?: string; page?: number; limit?: number } = {},
    context?: CallContext,
  ): Promise<NpPage<NpCity>> {
    const properties = compact({ FindByString: query.findByString, Ref: query.ref, Page: query.page, Limit: query.limit });
    const answer = await this.request('Address', 'getCities', properties, { item: citySchema, idempotent: true, context });
    return { items: answer.data, totalCount: totalOf(answer.info) };
  }

  /** Branches and postomats, optionally of one city; pages start at 1. */
  async getWarehouses(
    query: { cityRef?: string; findByString?: string; page?: number; limit?: number } = {},
    context?: CallContext,
  ): Promise<NpPage<NpWarehouse>> {
    const properties = compact({ CityRef: query.cityRef, FindByString: query.findByString, Page: query.page, Limit: query.limit });
    const answer = await this.request('Address', 'getWarehouses', properties, { item: warehouseSchema, idempotent: true, context });
    return { items: answer.data, totalCount: totalOf(answer.info) };
  }
  /** The price of sending a parcel (a read: retried freely). */
  async getDocumentPrice(
    query: {
      citySender: string;
      cityRecipient: string;
      weight: number;
      serviceType: string;
      cost: number;
      cargoType: string;
      seatsAmount: number;
      /** cash on delivery in UAH ("1234.50"): priced as NP's money redelivery */
      redeliveryAmount?: string;
    },
    context?: CallContext,
  ): Promise<NpPrice> {
    const properties = {
      CitySender: query.citySender,
      CityRecipient: query.cityRecipient,
      Weight: query.weight,
      ServiceType: query.serviceType,
      Cost: query.cost,
      CargoType: query.cargoType,
      SeatsAmount: query.seatsAmount,
      // confirmed [md]: RedeliveryCalculate {CargoType: "Money", Amount}
      ...(query.redeliveryAmount !== undefined ? { RedeliveryCalculate: { CargoType: 'Money', Amount: query.redeliveryAmount } } : {}),
    };
    const answer = await this.request('InternetDocument', 'getDocumentPrice', properties, { item: priceSchema, idempotent: true, context });
    const price = answer.data[0];
    if (!price) throw this.http.error('bad_response', 'novaposhta getDocumentPrice: no price in the answer');
    return price;
  }

  /** The estimated delivery date (ISO, Kyiv time as NP gives it); null when NP does not say. */
  async getDocumentDeliveryDate(
    query: { citySender: string; cityRecipient: string; serviceType: string; dateTime?: Date },
    context?: CallContext,
  ): Promise<string | null> {
    const properties = compact({
      CitySender: query.citySender,
      CityRecipient: query.cityRecipient,
      ServiceType: query.serviceType,
      DateTime: query.dateTime ? npDate(query.dateTime) : undefined,
    });
    const answer = await this.request('InternetDocument', 'getDocumentDeliveryDate', properties, {
      item: deliveryDateSchema,
      idempotent: true,
      context,
    });
    return answer.data[0] ? parseNpDateTime(answer.data[0]) : null;
  }

  /**
   * Creates a waybill (ТТН). Checked before NP is called (fields; postomat
   * limits when `toPostomat`), never repeated by the pipeline: after a lost
   * answer the caller looks the waybill up by `InfoRegClientBarcodes`.
   */
  async saveWaybill(request: WaybillRequest, options: { toPostomat?: boolean; context?: CallContext } = {}): Promise<NpSavedDocument> {
    const parsed = waybillRequestSchema.safeParse(request);
    if (!parsed.success)
      throw this.http.error(
        NP_CONNECTOR_ERROR_CODES.invalidWaybill,
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    const toBranch = !parsed.data.ServiceType.endsWith('Doors');
    if (toBranch && !parsed.data.RecipientAddress)
      throw this.http.error(NP_CONNECTOR_ERROR_CODES.invalidWaybill, 'RecipientAddress (the branch or postomat Ref) is required');
    if (!toBranch && !parsed.data.RecipientHouse)
      throw this.http.error(NP_CONNECTOR_ERROR_CODES.invalidWaybill, 'RecipientHouse is required for delivery to an address');
    if (options.toPostomat) {
      const problems = postomatProblems(parsed.data);
      if (problems.length > 0) throw this.http.error(NP_CONNECTOR_ERROR_CODES.postomatRestrictions, problems.join('; '));
    }
    const answer = await this.request('InternetDocument', 'save', parsed.data, {
      item: savedDocumentSchema,
      idempotent: false,
      context: options.context,
    });
    const saved = answer.data[0];
    if (!saved) throw this.http.error('bad_response', 'novaposhta save: no document in the answer');
    return saved;
  }

  /** Deletes a waybill that has not left yet. */
  async deleteWaybill(ref: string, context?: CallContext): Promise<void> {
    await this.request(
      'InternetDocument',
      'delete',
      { DocumentRefs: ref },
      { item: z.looseObject({ Ref: z.string() }), idempotent: true, context },
    );
  }

  /**
   * The sender's waybills dated from `since` to `until` that carry this
   * order reference. The window is in Kyiv days, as the waybills' own
   * `DateTime` is: a UTC day would miss one saved after midnight in Kyiv.
   */
  async findWaybillsByOrder(orderRef: string, window: { since: Date; until: Date }, context?: CallContext): Promise<NpListedDocument[]> {
    const properties = { DateTimeFrom: npDate(window.since), DateTimeTo: npDate(window.until), GetFullList: '1' };
    const answer = await this.request('InternetDocument', 'getDocumentList', properties, {
      item: listedDocumentSchema,
      idempotent: true,
      context,
    });
    return answer.data.filter((doc) => doc.InfoRegClientBarcodes === orderRef);
  }

  /** Tracks at most 100 waybills in one call; the phone unmasks the details. */
  async track(documents: Array<{ number: string; phone?: string }>, context?: CallContext): Promise<NpTracking[]> {
    if (documents.length > 100)
      throw this.http.error(
        NP_CONNECTOR_ERROR_CODES.tooManyDocuments,
        `getStatusDocuments takes at most 100 documents, not ${documents.length}`,
      );
    const properties = {
      Documents: documents.map((d) => (d.phone ? { DocumentNumber: d.number, Phone: d.phone } : { DocumentNumber: d.number })),
    };
    const answer = await this.request('TrackingDocument', 'getStatusDocuments', properties, {
      item: trackingSchema,
      idempotent: true,
      context,
    });
    return answer.data;
  }

  /** Settlements by name or postcode, paged. */
  async searchSettlements(query: { cityName: string; page?: number; limit?: number }, context?: CallContext): Promise<NpSettlements> {
    const answer = await this.request(
      'Address',
      'searchSettlements',
      { CityName: query.cityName, Page: query.page ?? 1, Limit: query.limit ?? 50 },
      { item: settlementsSchema, idempotent: true, context },
    );
    return answer.data[0] ?? { TotalCount: 0, Addresses: [] };
  }
}

function compact(properties: Record<string, string | number | undefined>): Record<string, string | number> {
  return Object.fromEntries(Object.entries(properties).filter((entry): entry is [string, string | number] => entry[1] !== undefined));
}

function totalOf(info: unknown): number | null {
  const parsed = pagedInfoSchema.safeParse(info);
  return parsed.success ? parsed.data.totalCount : null;
}
