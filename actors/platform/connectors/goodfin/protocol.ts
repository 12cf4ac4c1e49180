import { z } from 'zod';

/**
 * Goodfin, the lending marketplace; we are a bank's service. Every message
 * shape of the contract lives in this one module, so that it can be
 * corrected in one place when Goodfin's swagger is at hand (the contract is
 * fixed in ../shared/protocols/goodfin.md, from seeds 002 and 003).
 *
 * Authentication is an OAuth2 password grant: form-encoded
 * `grant_type=password&client_id=shboauthclient&username&password` →
 * `{access_token (a JWT), token_type: "bearer", expires_in, scope, userId}`;
 * errors in the OAuth2 shape `{error, error_description}`.
 *
 * Applications returned for rework, and resends. Confirmed by the sources:
 * the automatic check may send an application back ("автопроверка (после
 * которой заявка может вернуться)", seed 003 §1 note 3) and "Запрос от
 * клиента на доработку" is one of the statuses a service reports (seed 003
 * §1 note 5); every message Goodfin sends gets a CommonResponse, and one
 * left unanswered is sent again (seed 002 step 4; goodfin.md "Rules"), so a
 * repeated msgId changes nothing and is answered again. Our assumptions (no
 * source says how a returned application comes back, and the swagger is not
 * at hand): Goodfin resends the corrected application as a new
 * AddDealApplication with the same dealApplicationId and a new msgId; we
 * take it only while the application is returned for rework (otherwise
 * DUPLICATE_APPLICATION, as before); "back in the checks" is announced as
 * RECEIVED, the status a new application gets (goodfin.md names no code for
 * it; its only example, UNDER_REVIEW "На рассмотрении", is a staff review
 * status from configuration in our model). Documents are fetched only after
 * the checks pass (seed 003 §1 note 3 orders them so), so a returned
 * application holds none: after a correction its current list is fetched.
 */

export const GOODFIN_PATHS = {
  registerService: '/api/v1/sandbox/registerservice',
  token: '/api/v1/oauth/token',
  integrationEndpoint: '/ad/v1/external/integrationendpoint/update',
  statusMapping: '/api/v1/service/statusmapping/update',
  errorMapping: '/api/v1/service/errormapping/update',
  generateDeals: '/api/v1/sandbox/generatedeals',
  downloadDocument: '/api/v1/document/downloaddocumentfile',
  /** the name seed 002 uses for the same download */
  getDocumentFile: '/api/v1/document/getdocumentfile',
  inbound: '/ad/v1/external/openapi/in',
} as const;

export const GOODFIN_OAUTH_CLIENT_ID = 'shboauthclient';
/** Goodfin's name as originator/receiver of messages */
export const GOODFIN_SYSTEM_NAME = 'Shb';

/** OAuth2 and Spring error bodies; `error` is a code (a word, never a sentence) */
export const oauthErrorSchema = z.object({ error: z.string().regex(/^[A-Za-z0-9_.-]+$/), error_description: z.string().optional() });

export const tokenSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'a bearer token'),
  expires_in: z.number().int().positive(),
  scope: z.string().optional(),
  userId: z.union([z.string(), z.number()]).optional(),
});
export type GoodfinToken = z.infer<typeof tokenSchema>;

export const registeredServiceSchema = z.object({ serviceSystemName: z.string().min(1), password: z.string().min(1) });

/** Where Goodfin pushes messages to us, and the header secret it must send. */
export const endpointDeclarationSchema = z.object({
  url: z.url(),
  deliveryMode: z.literal('full'),
  auth: z.object({ type: z.literal('header'), name: z.string().min(1), value: z.string().min(1) }),
});
export type EndpointDeclaration = z.infer<typeof endpointDeclarationSchema>;

export const statusMappingSchema = z.object({
  statuses: z.array(z.object({ code: z.string().min(1), name: z.string().min(1), final: z.boolean() })).min(1),
});
export type StatusMapping = z.infer<typeof statusMappingSchema>;

export const errorMappingSchema = z.object({
  errors: z.array(z.object({ code: z.string().min(1), message: z.string().min(1) })).min(1),
});
export type ErrorMapping = z.infer<typeof errorMappingSchema>;

export const PAYLOAD_TYPES = [
  'AddDealApplication',
  'CancelDealApplication',
  'CommonResponse',
  'ChangeDealApplicationStatusEvent',
  'UpdateApplicationParams',
] as const;

/** The envelope of every message, both ways. */
export const envelopeSchema = z.object({
  payloadType: z.enum(PAYLOAD_TYPES),
  originator: z.string().min(1),
  receiver: z.string().min(1),
  msgId: z.string().min(1),
  /** local date-time as Goodfin writes it, e.g. 2019-06-14T13:10:23.771 */
  msgDateTime: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
});
export type GoodfinEnvelope = z.infer<typeof envelopeSchema>;

/** Goodfin's local date-time format, e.g. 2019-06-14T13:10:23.771 (UTC, without a zone). */
export function goodfinTime(at: number | Date): string {
  return new Date(at).toISOString().replace('Z', '');
}

export const PRODUCT_TYPES = ['BankGuarantee', 'Loan'] as const;

export const applicationDocumentSchema = z.object({
  documentId: z.string().min(1).max(256),
  documentType: z.string().min(1).max(128),
  fileName: z.string().max(512),
});

const party = z.looseObject({ inn: z.string().min(1).max(32).nullable().optional(), name: z.string().max(1000).nullable().optional() });

/**
 * AddDealApplication (Goodfin → bank): a client's application. `requestData`
 * carries the product's fields; we read amount, currency, term and client,
 * and keep the rest as received (guarantee: type, beneficiary, purchase
 * number; loan: purpose).
 */
export const addDealApplicationSchema = z.object({
  dealApplicationId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits, ".", "_", ":" or "-", at most 128'),
  createApplicationDateTime: z.string().min(1),
  productType: z.string().min(1).max(64),
  requestData: z.looseObject({
    amount: z.number().nullable().optional(),
    currency: z.string().max(8).nullable().optional(),
    /** months */
    term: z.number().int().nullable().optional(),
    client: party.nullable().optional(),
  }),
  documents: z.array(applicationDocumentSchema).max(200).default([]),
});
export type AddDealApplication = z.infer<typeof addDealApplicationSchema>;

/** CancelDealApplication (Goodfin → bank): the client withdraws. */
export const cancelDealApplicationSchema = z.object({
  dealApplicationId: z.string().min(1).max(128),
  reason: z.string().max(2000).default(''),
  /** who withdraws: the client (default) or Goodfin itself (seed 003 §2.3) */
  initiator: z.enum(['CLIENT', 'SYSTEM']).default('CLIENT'),
});

/** CommonResponse (both ways): the answer to one message, by its msgId. */
export const commonResponseSchema = z.object({
  originalMsgId: z.string().min(1),
  dealApplicationId: z.string().optional(),
  success: z.boolean(),
  errorCode: z.string().nullable().optional(),
  errorMessage: z.string().nullable().optional(),
});
export type CommonResponse = z.infer<typeof commonResponseSchema>;

/** ChangeDealApplicationStatusEvent (bank → Goodfin). */
export const statusEventSchema = z.object({
  dealApplicationId: z.string().min(1),
  status: z.string().min(1),
  statusDateTime: z.string().optional(),
  comment: z.string().nullable().optional(),
  errorCode: z.string().nullable().optional(),
});

/** UpdateApplicationParams (bank → Goodfin): our number for the application. */
export const updateApplicationParamsSchema = z.object({
  dealApplicationId: z.string().min(1),
  serviceApplicationNumber: z.string().min(1),
});

/** What each payload type must look like. */
export const PAYLOAD_SCHEMAS = {
  AddDealApplication: addDealApplicationSchema,
  CancelDealApplication: cancelDealApplicationSchema,
  CommonResponse: commonResponseSchema,
  ChangeDealApplicationStatusEvent: statusEventSchema,
  UpdateApplicationParams: updateApplicationParamsSchema,
} as const;

/** The header Goodfin sends our secret in (declared with the endpoint). */
export const INBOUND_TOKEN_HEADER = 'X-Goodfin-Token';

/** Reads `exp` (epoch seconds) from a JWT without trusting it; null when absent or unreadable. */
export function jwtExpiry(token: string): number | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp : null;
  } catch {
    return null;
  }
}

/** What the sandbox's generatedeals takes: how many deals, of which product, and whether the first fails the bank's checks (no INN). */
export const generateDealsRequestSchema = z.object({
  count: z.number().int().min(1).max(50).default(3),
  productType: z.enum(PRODUCT_TYPES).optional(),
  invalid: z.boolean().default(false),
});

/** The answer of the sandbox's generatedeals: the applications it is about to push, one AddDealApplication each. */
export const generatedDealsSchema = z.object({
  success: z.boolean(),
  deals: z.array(z.object({ dealApplicationId: z.string().min(1), msgId: z.string().min(1), productType: z.string().min(1) })),
});
export type GeneratedDeals = z.infer<typeof generatedDealsSchema>;
