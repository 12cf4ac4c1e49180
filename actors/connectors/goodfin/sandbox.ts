import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { deliverCallback } from '../kit/sandbox-callbacks.ts';
import {
  SandboxHttpError,
  startSandboxServer,
  type SandboxOptions,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxServer,
} from '../kit/sandbox.ts';
import {
  endpointDeclarationSchema,
  envelopeSchema,
  errorMappingSchema,
  GOODFIN_OAUTH_CLIENT_ID,
  GOODFIN_PATHS,
  generateDealsRequestSchema,
  GOODFIN_SYSTEM_NAME,
  goodfinTime,
  PAYLOAD_SCHEMAS,
  PRODUCT_TYPES,
  statusMappingSchema,
  type AddDealApplication,
  type CommonResponse,
  type EndpointDeclaration,
  type ErrorMapping,
  type GeneratedDeals,
  type GoodfinEnvelope,
  type StatusMapping,
} from './protocol.ts';
import { describeIssues } from '../../../common/issues.ts';
import { constantTimeEqual, hmac } from '../../../common/security.ts';

/**
 * The Goodfin sandbox (the service side of it): services registered with a
 * login and password, OAuth password-grant tokens that are real HS256 JWTs
 * with `exp`, the declarations a service makes (endpoint, statuses,
 * errors), attached documents to download, and both directions of
 * messages: Goodfin pushes applications and withdrawals to the declared
 * endpoint (in order, one at a time per service) and resends what the bank
 * did not answer with a CommonResponse; what the bank sends to `openapi/in`
 * is validated, kept once per msgId and answered with a CommonResponse.
 */

export const GOODFIN_SANDBOX_CREDENTIALS = { serviceSystemName: 'hubSandbx1', password: 'sandbox-goodfin-pass' };

export interface RegisteredService {
  serviceSystemName: string;
  endpoint: EndpointDeclaration | null;
  statuses: StatusMapping | null;
  errors: ErrorMapping | null;
  /** messages received from this service, oldest first, one per msgId */
  received: GoodfinEnvelope[];
  /** messages received again under a msgId already received */
  duplicates: number;
}

/** A message Goodfin pushed to a service, as Goodfin tracks it. */
export interface PushedMessage {
  msgId: string;
  payloadType: GoodfinEnvelope['payloadType'];
  dealApplicationId: string | null;
  /** times the envelope went out: the first push, resends and repushes (each push tries a few times) */
  pushes: number;
  /** automatic resends among them */
  resends: number;
  /** the bank's CommonResponse to it; null while unanswered */
  answered: CommonResponse | null;
  /** the status of the last delivery attempt; null when nothing answered (or not pushed yet) */
  lastStatus: number | null;
  /** false for Goodfin's own CommonResponses: nobody answers an answer, so they are never resent */
  expectsAnswer: boolean;
  envelope: GoodfinEnvelope;
}

export interface ResendPolicy {
  /** a message without a CommonResponse this long after its last push is pushed again */
  resendAfterMs: number;
  /** then Goodfin gives up (the message stays unanswered) */
  maxResends: number;
}

export interface GenerateDealsOptions {
  /** the preregistered sandbox service unless given */
  serviceSystemName?: string;
  /** 1..50, 3 by default */
  count?: number;
  /** BankGuarantee and Loan alternate unless given */
  productType?: (typeof PRODUCT_TYPES)[number];
  /** the first deal has no client INN, so the bank's checks fail */
  invalid?: boolean;
}

export interface GoodfinSandbox extends SandboxServer {
  service(serviceSystemName: string): RegisteredService | null;
  /** seconds a new token lives (3599 by default, as Goodfin) */
  setTokenLifetime(seconds: number): void;
  /** makes every token issued so far invalid (the next call answers 401) */
  revokeTokens(): void;
  addDocument(documentId: string, content: Buffer): void;
  tokensIssued(): number;
  /** pushes test applications (AddDealApplication) to the service's endpoint; throws SandboxHttpError 400 without one */
  generateDeals(options?: GenerateDealsOptions): GeneratedDeals;
  /** pushes a CancelDealApplication (the client withdraws, or Goodfin itself with initiator SYSTEM) */
  cancelDeal(
    dealApplicationId: string,
    options?: { serviceSystemName?: string; reason?: string; initiator?: 'CLIENT' | 'SYSTEM' },
  ): { msgId: string };
  /** pushes an earlier message again now, the same envelope (a duplicate delivery); false when unknown */
  repush(msgId: string, serviceSystemName?: string): boolean;
  setResendPolicy(policy: ResendPolicy): void;
  /** whether messages the bank sends are answered with a CommonResponse (on by default) */
  setAnswering(enabled: boolean): void;
  /** what Goodfin pushed to the service, oldest first */
  pushed(serviceSystemName?: string): PushedMessage[];
}

export const DEFAULT_RESEND_POLICY: ResendPolicy = { resendAfterMs: 30_000, maxResends: 5 };
/** HTTP attempts of one push, with a short growing pause between them */
const DELIVERY_ATTEMPTS = 3;
const DELIVERY_PAUSE_MS = 100;

const oauthError = (status: number, error: string, description: string): SandboxResponse => ({
  status,
  json: { error, error_description: description },
});

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A one-page PDF, so that a downloaded document is a real file. */
export function samplePdf(title: string): Buffer {
  const content = `BT /F1 18 Tf 72 770 Td (${title.replace(/[()\\]/g, '')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body);
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

// --- test applications: plausible Russian companies, tenders and documents ---

const pick = <T>(list: readonly T[]): T => list[randomInt(list.length)] as T;
const digits = (n: number): string => Array.from({ length: n }, () => String(randomInt(10))).join('');

/** The control digit of a legal entity's 10-digit INN, from its first nine digits. */
function innControlDigit(nine: string): string {
  const weights = [2, 4, 10, 3, 5, 9, 4, 6, 8];
  const sum = weights.reduce((total, weight, i) => total + weight * Number(nine[i]), 0);
  return String((sum % 11) % 10);
}

const REGIONS = ['77', '78', '50', '66', '16', '54', '23', '52', '63', '74', '02', '61'];

/** region, tax office, record number, control digit */
function legalEntityInn(region = pick(REGIONS)): string {
  const nine = `${region}${String(randomInt(1, 52)).padStart(2, '0')}${digits(5)}`;
  return nine + innControlDigit(nine);
}

/** 1, year of registration, region, record, control digit (the 12-digit number mod 11, mod 10) */
function ogrn(region: string): string {
  const twelve = `1${String(randomInt(2, 25)).padStart(2, '0')}${region}${digits(7)}`;
  return twelve + String((BigInt(twelve) % 11n) % 10n);
}

const COMPANY_NAMES = [
  'Ромашка',
  'СтройИнвест',
  'Северный ветер',
  'ТехноПромСервис',
  'Волга-Логистик',
  'АгроСоюз',
  'Меридиан',
  'УралСтальКонструкция',
  'Балтийские дороги',
  'Энергомонтаж',
  'Сибирский подрядчик',
  'МедТехСнаб',
];
const BENEFICIARIES = [
  'ГКУ «Управление капитального строительства»',
  'МКУ «Дирекция по благоустройству»',
  'ГБУЗ «Городская клиническая больница № 15»',
  'ФГБОУ ВО «Государственный технический университет»',
  'МБОУ «Средняя общеобразовательная школа № 7»',
  'ГКУ «Дирекция автомобильных дорог»',
];
const GUARANTEE_TYPES = ['PARTICIPATION', 'CONTRACT_EXECUTION', 'ADVANCE_RETURN', 'WARRANTY_OBLIGATIONS'];
const LOAN_PURPOSES = [
  'Пополнение оборотных средств',
  'Исполнение государственного контракта',
  'Приобретение оборудования',
  'Рефинансирование кредита',
];
const OPTIONAL_DOCUMENTS = [
  { documentType: 'PASSPORT', fileName: 'Паспорт руководителя.pdf' },
  { documentType: 'TAX_RETURN', fileName: 'Налоговая декларация.pdf' },
  { documentType: 'DECISION_OF_APPOINTMENT', fileName: 'Решение о назначении директора.pdf' },
];

/** A document listed in a deal, and the (ASCII) title of the PDF the sandbox serves for it. */
interface GeneratedDocument {
  documentId: string;
  documentType: string;
  fileName: string;
}

/** An AddDealApplication payload as Goodfin would push it; `withoutInn` drops the client INN (the bank's checks fail). */
function generateDeal(productType: string, withoutInn: boolean, now: number): AddDealApplication {
  const region = pick(REGIONS);
  const inn = legalEntityInn(region);
  const client = {
    ...(withoutInn ? {} : { inn }),
    name: `${pick(['ООО', 'ООО', 'АО'])} «${pick(COMPANY_NAMES)}»`,
    ogrn: ogrn(region),
    contactPhone: `+79${digits(9)}`,
  };
  const year = new Date(now).getUTCFullYear();
  const requestData: AddDealApplication['requestData'] =
    productType === 'Loan'
      ? {
          amount: randomInt(500, 15_001) * 1_000,
          currency: 'RUB',
          term: pick([6, 12, 18, 24, 36, 48, 60]),
          purpose: pick(LOAN_PURPOSES),
          client,
        }
      : {
          amount: randomInt(150, 20_001) * 1_000,
          currency: 'RUB',
          term: randomInt(3, 37),
          guaranteeType: pick(GUARANTEE_TYPES),
          federalLaw: '44-FZ',
          // a 44-FZ notice number: 19 digits
          purchaseNumber: `03${digits(9)}${String(year % 100).padStart(2, '0')}${digits(6)}`,
          beneficiary: { inn: legalEntityInn(region), name: pick(BENEFICIARIES) },
          client,
        };
  const documents: GeneratedDocument[] = [
    { documentId: `doc-${randomUUID()}`, documentType: 'CHARTER', fileName: 'Устав.pdf' },
    { documentId: `doc-${randomUUID()}`, documentType: 'FINANCIAL_STATEMENT', fileName: `Бухгалтерская отчетность за ${year - 1} год.pdf` },
    ...OPTIONAL_DOCUMENTS.filter(() => randomInt(2) === 0).map((d) => ({ documentId: `doc-${randomUUID()}`, ...d })),
  ];
  return {
    dealApplicationId: randomUUID(),
    createApplicationDateTime: goodfinTime(now - randomInt(1, 30) * 60_000),
    productType,
    requestData,
    documents,
  };
}

// --- control bodies ---

const serviceField = { serviceSystemName: z.string().min(1).optional() };
const generateDealsBodySchema = generateDealsRequestSchema.extend(serviceField);
const cancelBodySchema = z.object({
  ...serviceField,
  dealApplicationId: z.string().min(1).max(128),
  reason: z.string().max(2000).optional(),
  initiator: z.enum(['CLIENT', 'SYSTEM']).optional(),
});
const repushBodySchema = z.object({ ...serviceField, msgId: z.string().min(1) });
const tokenLifetimeSchema = z.object({ seconds: z.number().int().min(1).max(86_400) });
const resendPolicySchema = z.object({
  resendAfterMs: z.number().int().min(10).max(3_600_000),
  maxResends: z.number().int().min(0).max(1_000),
});
const answeringSchema = z.object({ enabled: z.boolean() });

const invalid = (description: string) => new SandboxHttpError(400, { error: 'validation_error', error_description: description });

function parseBody<T>(request: SandboxRequest, schema: z.ZodType<T>): T {
  // an empty body is an empty object: every field of a control is optional or has a default
  const parsed = schema.safeParse(request.rawBody.length === 0 ? {} : request.json());
  if (!parsed.success) throw invalid(describeIssues(parsed.error, '(body)'));
  return parsed.data;
}

/** A pushed message with what only the sandbox needs: its resend timer. */
interface Tracked extends PushedMessage {
  timer: NodeJS.Timeout | null;
}

/** Goodfin's side of one service's messages. */
interface ServiceMessages {
  /** by msgId, in the order first pushed */
  pushed: Map<string, Tracked>;
  /** pushes go out one at a time, in order */
  tail: Promise<void>;
  /** msgIds received from the service */
  receivedIds: Set<string>;
  /** their msgId → the msgId of our CommonResponse, so that a repeat is answered with the same message */
  answers: Map<string, string>;
}

export async function startGoodfinSandbox(
  options: SandboxOptions = {},
  preregistered = GOODFIN_SANDBOX_CREDENTIALS,
): Promise<GoodfinSandbox> {
  const signingKey = randomBytes(32);
  const services = new Map<string, RegisteredService & { password: string }>();
  const messages = new Map<string, ServiceMessages>();
  const documents = new Map<string, Buffer>();
  let tokenLifetime = 3599;
  // tokens carry the generation they were issued in; revoking starts a new one
  let generation = 0;
  let issued = 0;
  let lastDeclared: string | null = null;
  let policy: ResendPolicy = { ...DEFAULT_RESEND_POLICY };
  let answering = true;
  // work started before a reset (or close) sees a new epoch and stops; in-flight requests are aborted
  let epoch = 0;
  let stopping = new AbortController();

  const register = (serviceSystemName: string, password: string) => {
    services.set(serviceSystemName, {
      serviceSystemName,
      password,
      endpoint: null,
      statuses: null,
      errors: null,
      received: [],
      duplicates: 0,
    });
  };
  const stopPushes = () => {
    epoch += 1;
    stopping.abort();
    stopping = new AbortController();
    for (const state of messages.values()) for (const message of state.pushed.values()) if (message.timer) clearTimeout(message.timer);
    messages.clear();
  };
  const seed = () => {
    stopPushes();
    services.clear();
    lastDeclared = null;
    documents.clear();
    policy = { ...DEFAULT_RESEND_POLICY };
    answering = true;
    register(preregistered.serviceSystemName, preregistered.password);
    documents.set('doc-sample-0001', samplePdf('Goodfin sandbox document'));
  };
  seed();

  const sign = (input: string) => hmac('sha256', signingKey, input, 'base64url');

  const issueToken = (serviceSystemName: string) => {
    const iat = Math.floor(Date.now() / 1000);
    const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({ user_name: serviceSystemName, scope: ['read', 'write'], client_id: GOODFIN_OAUTH_CLIENT_ID, iat, exp: iat + tokenLifetime, jti: randomUUID(), gen: generation })}`;
    issued += 1;
    return `${unsigned}.${sign(unsigned)}`;
  };

  /** the service whose valid token this request carries, or the 401 Goodfin would answer */
  const authorise = (request: SandboxRequest): (RegisteredService & { password: string }) | SandboxResponse => {
    const token = /^Bearer (.+)$/i.exec(request.header('authorization') ?? '')?.[1];
    const [header, payload, signature] = token?.split('.') ?? [];
    if (!header || !payload || !signature)
      return oauthError(401, 'unauthorized', 'Full authentication is required to access this resource');
    if (!constantTimeEqual(signature, sign(`${header}.${payload}`)))
      return oauthError(401, 'invalid_token', 'Cannot convert access token to JSON');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { user_name: string; exp: number; gen: number };
    if (claims.exp * 1000 <= Date.now()) return oauthError(401, 'invalid_token', 'Access token expired');
    if (claims.gen !== generation) return oauthError(401, 'invalid_token', 'Invalid access token');
    return services.get(claims.user_name) ?? oauthError(401, 'invalid_token', 'Invalid access token');
  };
  const refused = (value: RegisteredService | SandboxResponse): value is SandboxResponse => 'json' in value;

  const declaration = <T>(
    path: string,
    schema: {
      safeParse(
        body: unknown,
      ): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
    },
    store: (service: RegisteredService, value: T) => void,
  ) => ({
    method: 'POST' as const,
    path,
    handle: (request: SandboxRequest): SandboxResponse => {
      const service = authorise(request);
      if (refused(service)) return service;
      const parsed = schema.safeParse(request.json());
      if (!parsed.success)
        return { status: 400, json: { error: 'validation_error', error_description: describeIssues(parsed.error, '(body)') } };
      store(service, parsed.data);
      return { json: { success: true } };
    },
  });

  const download = (request: SandboxRequest): SandboxResponse => {
    const service = authorise(request);
    if (refused(service)) return service;
    const content = documents.get(request.query.get('documentId') ?? '');
    if (!content) return { status: 404, json: { error: 'not_found', error_description: 'document not found' } };
    return { headers: { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="document.pdf"' }, body: content };
  };

  // --- pushing to the bank ---

  // the controls act for the service that declared an endpoint last (the hub under test), else the preregistered one
  const serviceNamed = (name = lastDeclared ?? preregistered.serviceSystemName) => {
    const service = services.get(name);
    if (!service) throw new SandboxHttpError(404, { error: 'not_found', error_description: `no service ${name}` });
    return service;
  };
  const messagesOf = (name: string): ServiceMessages => {
    let state = messages.get(name);
    if (!state) {
      state = { pushed: new Map(), tail: Promise.resolve(), receivedIds: new Set(), answers: new Map() };
      messages.set(name, state);
    }
    return state;
  };
  const endpointOf = (service: RegisteredService): EndpointDeclaration => {
    if (!service.endpoint)
      throw new SandboxHttpError(400, {
        error: 'endpoint_not_declared',
        error_description: `service ${service.serviceSystemName} has declared no integration endpoint (${GOODFIN_PATHS.integrationEndpoint})`,
      });
    return service.endpoint;
  };

  /** POSTs the envelope to the endpoint declared now; a few attempts, any 2xx is delivered */
  const deliver = async (endpoint: EndpointDeclaration, envelope: GoodfinEnvelope, signal: AbortSignal): Promise<number | null> =>
    (
      await deliverCallback({
        url: endpoint.url,
        body: JSON.stringify(envelope),
        headers: { 'content-type': 'application/json; charset=utf-8', [endpoint.auth.name]: endpoint.auth.value },
        attempts: DELIVERY_ATTEMPTS,
        pauseMs: DELIVERY_PAUSE_MS,
        delivered: (status) => status >= 200 && status < 300,
        signal,
      })
    ).status;

  const scheduleResend = (name: string, message: Tracked) => {
    if (message.timer) clearTimeout(message.timer);
    message.timer = null;
    if (!message.expectsAnswer || message.answered || message.resends >= policy.maxResends) return;
    message.timer = setTimeout(() => {
      message.timer = null;
      if (message.answered) return;
      message.resends += 1;
      enqueue(name, message, 'resend');
    }, policy.resendAfterMs);
    message.timer.unref();
  };

  /** queues one push of the message behind the service's earlier pushes */
  const enqueue = (name: string, message: Tracked, why: 'first' | 'resend' | 'repush') => {
    const state = messagesOf(name);
    const started = epoch;
    const { signal } = stopping;
    const push = async () => {
      // an answer that came while the resend waited its turn makes it pointless
      if (started !== epoch || (why === 'resend' && message.answered)) return;
      const endpoint = services.get(name)?.endpoint;
      if (!endpoint) return;
      message.pushes += 1;
      const status = await deliver(endpoint, message.envelope, signal);
      if (started !== epoch) return;
      message.lastStatus = status;
      scheduleResend(name, message);
    };
    state.tail = state.tail.then(push).catch(() => undefined);
  };

  /** a new message to the service: tracked, then pushed in its turn */
  const push = (
    name: string,
    payloadType: GoodfinEnvelope['payloadType'],
    payload: Record<string, unknown>,
    expectsAnswer: boolean,
  ): Tracked => {
    const envelope: GoodfinEnvelope = {
      payloadType,
      originator: GOODFIN_SYSTEM_NAME,
      receiver: name,
      msgId: randomUUID(),
      msgDateTime: goodfinTime(Date.now()),
      payload,
    };
    const dealApplicationId = typeof payload.dealApplicationId === 'string' ? payload.dealApplicationId : null;
    const message: Tracked = {
      msgId: envelope.msgId,
      payloadType,
      dealApplicationId,
      pushes: 0,
      resends: 0,
      answered: null,
      lastStatus: null,
      expectsAnswer,
      envelope,
      timer: null,
    };
    messagesOf(name).pushed.set(message.msgId, message);
    enqueue(name, message, 'first');
    return message;
  };

  const generateDeals = (options: GenerateDealsOptions = {}): GeneratedDeals => {
    const { serviceSystemName, count, productType, invalid: withoutInn } = generateDealsBodySchema.parse(options);
    const service = serviceNamed(serviceSystemName);
    endpointOf(service);
    const now = Date.now();
    const deals: GeneratedDeals['deals'] = [];
    for (let i = 0; i < count; i += 1) {
      const type = productType ?? PRODUCT_TYPES[i % PRODUCT_TYPES.length] ?? 'BankGuarantee';
      const deal = generateDeal(type, withoutInn && i === 0, now);
      // every listed document can be downloaded
      for (const document of deal.documents)
        documents.set(document.documentId, samplePdf(`${document.documentType} - deal ${deal.dealApplicationId}`));
      const message = push(service.serviceSystemName, 'AddDealApplication', deal, true);
      deals.push({ dealApplicationId: deal.dealApplicationId, msgId: message.msgId, productType: type });
    }
    return { success: true, deals };
  };

  const cancelDeal: GoodfinSandbox['cancelDeal'] = (dealApplicationId, options = {}) => {
    const service = serviceNamed(options.serviceSystemName);
    endpointOf(service);
    const payload = { dealApplicationId, reason: options.reason ?? 'Клиент отозвал заявку', initiator: options.initiator ?? 'CLIENT' };
    return { msgId: push(service.serviceSystemName, 'CancelDealApplication', payload, true).msgId };
  };

  const repush = (msgId: string, serviceSystemName?: string): boolean => {
    const service = serviceNamed(serviceSystemName);
    const message = messages.get(service.serviceSystemName)?.pushed.get(msgId);
    if (!message) return false;
    enqueue(service.serviceSystemName, message, 'repush');
    return true;
  };

  const setResendPolicy = (next: ResendPolicy) => {
    policy = resendPolicySchema.parse(next);
    // waiting resends wait the new time, from now
    for (const [name, state] of messages) for (const message of state.pushed.values()) if (message.timer) scheduleResend(name, message);
  };

  const pushed = (serviceSystemName?: string): PushedMessage[] =>
    [...(messages.get(serviceNamed(serviceSystemName).serviceSystemName)?.pushed.values() ?? [])].map(({ timer: _timer, ...message }) => ({
      ...message,
    }));

  // --- what the bank sends ---

  /** Goodfin's CommonResponse to a message of the bank's; a repeated msgId gets the same answer message again */
  const answer = (service: RegisteredService, envelope: GoodfinEnvelope) => {
    if (!answering || !service.endpoint) return;
    const state = messagesOf(service.serviceSystemName);
    const earlier = state.pushed.get(state.answers.get(envelope.msgId) ?? '');
    if (earlier) {
      enqueue(service.serviceSystemName, earlier, 'repush');
      return;
    }
    const dealApplicationId = typeof envelope.payload.dealApplicationId === 'string' ? envelope.payload.dealApplicationId : undefined;
    const response: CommonResponse = { originalMsgId: envelope.msgId, ...(dealApplicationId ? { dealApplicationId } : {}), success: true };
    state.answers.set(envelope.msgId, push(service.serviceSystemName, 'CommonResponse', response, false).msgId);
  };

  const inbound = (request: SandboxRequest): SandboxResponse => {
    const service = authorise(request);
    if (refused(service)) return service;
    const parsed = envelopeSchema.safeParse(request.json());
    if (!parsed.success) throw invalid(describeIssues(parsed.error, '(body)'));
    const envelope = parsed.data;
    if (envelope.originator !== service.serviceSystemName)
      throw invalid(`originator: ${envelope.originator} is not the service ${service.serviceSystemName} signed in`);
    if (envelope.receiver !== GOODFIN_SYSTEM_NAME)
      throw invalid(`receiver: messages to Goodfin go to ${GOODFIN_SYSTEM_NAME}, not ${envelope.receiver}`);
    if (envelope.payloadType === 'AddDealApplication' || envelope.payloadType === 'CancelDealApplication')
      throw invalid(`payloadType: ${envelope.payloadType} is sent by Goodfin, never to it`);
    const payload = PAYLOAD_SCHEMAS[envelope.payloadType].safeParse(envelope.payload);
    if (!payload.success) throw invalid(`payload: ${describeIssues(payload.error, '(body)')}`);

    const state = messagesOf(service.serviceSystemName);
    const repeated = state.receivedIds.has(envelope.msgId);
    if (repeated) service.duplicates += 1;
    else {
      state.receivedIds.add(envelope.msgId);
      service.received.push(envelope);
    }
    if (envelope.payloadType === 'CommonResponse') {
      // nobody answers an answer; it stops the resends of the message it answers
      const answered = commonResponseOf(envelope);
      const original = state.pushed.get(answered.originalMsgId);
      if (original?.expectsAnswer && !original.answered) {
        original.answered = answered;
        if (original.timer) clearTimeout(original.timer);
        original.timer = null;
      }
    } else {
      // after the 200 is written: the bank hears the answer to a message it knows it delivered
      const started = epoch;
      setImmediate(() => {
        if (started === epoch) answer(service, envelope);
      });
    }
    return { json: { success: true } };
  };

  // --- controls (tests reach a sandbox in another process only over HTTP) ---

  const controls: Record<string, (request: SandboxRequest) => SandboxResponse> = {
    'POST /generatedeals': (request) => ({ json: generateDeals(parseBody(request, generateDealsBodySchema)) }),
    'POST /cancel': (request) => {
      const body = parseBody(request, cancelBodySchema);
      return { json: cancelDeal(body.dealApplicationId, body) };
    },
    'POST /repush': (request) => {
      const body = parseBody(request, repushBodySchema);
      if (!repush(body.msgId, body.serviceSystemName))
        return { status: 404, json: { error: 'not_found', error_description: `no message ${body.msgId} was pushed` } };
      return { json: { msgId: body.msgId } };
    },
    'POST /resend-policy': (request) => {
      setResendPolicy(parseBody(request, resendPolicySchema));
      return { json: { ...policy } };
    },
    'POST /answering': (request) => {
      answering = parseBody(request, answeringSchema).enabled;
      return { json: { enabled: answering } };
    },
    'POST /token-lifetime': (request) => {
      tokenLifetime = parseBody(request, tokenLifetimeSchema).seconds;
      return { json: { seconds: tokenLifetime } };
    },
    'POST /revoke-tokens': () => {
      generation += 1;
      return { json: { revoked: true, tokensIssued: issued } };
    },
    // what Goodfin would send with a push: lets a test push as Goodfin to a hub whose credentials it does not know
    'GET /endpoint': (request) => {
      const service = serviceNamed(request.query.get('serviceSystemName') ?? undefined);
      const endpoint = endpointOf(service);
      return {
        json: {
          serviceSystemName: service.serviceSystemName,
          url: endpoint.url,
          header: { name: endpoint.auth.name, value: endpoint.auth.value },
        },
      };
    },
    'GET /tokens': () => ({ json: { tokensIssued: issued, lifetimeSeconds: tokenLifetime } }),
    'GET /messages': (request) => {
      const service = serviceNamed(request.query.get('serviceSystemName') ?? undefined);
      return {
        json: {
          pushed: pushed(service.serviceSystemName).map(({ envelope: _envelope, ...message }) => message),
          received: service.received,
          duplicates: service.duplicates,
        },
      };
    },
  };

  const server = await startSandboxServer(
    {
      name: 'goodfin',
      onReset: seed,
      describe: () => ({
        controlsActFor: lastDeclared ?? preregistered.serviceSystemName,
        resendPolicy: policy,
        answering,
        services: [...services.values()].map((s) => {
          const sent = [...(messages.get(s.serviceSystemName)?.pushed.values() ?? [])];
          return {
            serviceSystemName: s.serviceSystemName,
            endpoint: s.endpoint?.url ?? null,
            statuses: s.statuses?.statuses.map((status) => ({ code: status.code, name: status.name })) ?? [],
            errors: s.errors?.errors.map((error) => error.code) ?? [],
            received: s.received.length,
            duplicates: s.duplicates,
            pushed: sent.length,
            unanswered: sent.filter((m) => m.expectsAnswer && !m.answered).length,
          };
        }),
      }),
      controls,
      routes: [
        {
          method: 'POST',
          path: GOODFIN_PATHS.registerService,
          handle: () => {
            const serviceSystemName = randomBytes(8).toString('base64url').replace(/[-_]/g, 'x').slice(0, 10);
            const password = randomBytes(8).toString('base64url').replace(/[-_]/g, 'y').slice(0, 10);
            register(serviceSystemName, password);
            return { json: { serviceSystemName, password } };
          },
        },
        {
          method: 'POST',
          path: GOODFIN_PATHS.token,
          handle: (request) => {
            const form = request.form();
            if (form.get('client_id') !== GOODFIN_OAUTH_CLIENT_ID) return oauthError(401, 'invalid_client', 'Bad client credentials');
            if (form.get('grant_type') !== 'password')
              return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${form.get('grant_type') ?? ''}`);
            const service = services.get(form.get('username') ?? '');
            if (!service || !constantTimeEqual(form.get('password') ?? '', service.password))
              return oauthError(400, 'invalid_grant', 'Bad credentials');
            return {
              json: {
                access_token: issueToken(service.serviceSystemName),
                token_type: 'bearer',
                expires_in: tokenLifetime,
                scope: 'read write',
                userId: service.serviceSystemName,
              },
            };
          },
        },
        declaration(GOODFIN_PATHS.integrationEndpoint, endpointDeclarationSchema, (service, value) => {
          service.endpoint = value;
          lastDeclared = service.serviceSystemName;
        }),
        declaration(GOODFIN_PATHS.statusMapping, statusMappingSchema, (service, value) => (service.statuses = value)),
        declaration(GOODFIN_PATHS.errorMapping, errorMappingSchema, (service, value) => (service.errors = value)),
        {
          method: 'POST',
          path: GOODFIN_PATHS.generateDeals,
          handle: (request) => {
            const service = authorise(request);
            if (refused(service)) return service;
            const { serviceSystemName: _ignored, ...body } = parseBody(request, generateDealsBodySchema);
            // a token speaks for its own service only
            return { json: generateDeals({ ...body, serviceSystemName: service.serviceSystemName }) };
          },
        },
        { method: 'POST', path: GOODFIN_PATHS.inbound, handle: inbound },
        { method: 'GET', path: GOODFIN_PATHS.downloadDocument, handle: download },
        { method: 'GET', path: GOODFIN_PATHS.getDocumentFile, handle: download },
      ],
    },
    options,
  );
  const closeServer = server.close;
  return Object.assign(server, {
    service: (name: string) => {
      const found = services.get(name);
      if (!found) return null;
      const { password: _password, ...service } = found;
      return service;
    },
    setTokenLifetime: (seconds: number) => {
      tokenLifetime = seconds;
    },
    revokeTokens: () => {
      generation += 1;
    },
    addDocument: (documentId: string, content: Buffer) => {
      documents.set(documentId, content);
    },
    tokensIssued: () => issued,
    generateDeals,
    cancelDeal,
    repush,
    setResendPolicy,
    setAnswering: (enabled: boolean) => {
      answering = enabled;
    },
    pushed,
    close: async () => {
      stopPushes();
      await closeServer();
    },
  });
}

function commonResponseOf(envelope: GoodfinEnvelope): CommonResponse {
  return PAYLOAD_SCHEMAS.CommonResponse.parse(envelope.payload);
}
