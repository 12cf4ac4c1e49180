import { assign, setup } from 'xstate';
import { z } from 'zod';
import { innProblem } from '../common/inn.ts';
export { DEFAULT_REVIEW_STATUSES, FIXED_STATUS_LABELS } from '../common/goodfin-statuses.ts';
import {
  defineMachineModule,
  effect,
  type EffectFailure,
  type PersistedSnapshotJson,
  type Refusal,
  type RefusalOf,
} from './machine-module.ts';

/**
 * A loan or guarantee application from Goodfin, on the bank's side (seeds
 * 002, 003): acknowledged → numbered → checked automatically (or returned
 * for rework) → documents downloaded → ready for signing → reviewed by bank
 * staff (statuses from configuration) → offer accepted → offer paid →
 * issued; or rejected; or withdrawn — a withdrawal asked at any step is
 * accepted, or refused and the application goes back exactly where it was.
 * An application returned for rework goes back to the checks when Goodfin
 * resends it corrected (RESUBMITTED: its data replaced, the change kept in
 * `resubmissions`) or when staff send it back (RESUBMIT_FOR_CHECKS).
 *
 * Messages to Goodfin are queued through one effect, each with a stable id
 * (`<application>:<kind>:<sequence>`), so that re-entering a state (after a
 * refused withdrawal), repeating an effect or carrying a missed status
 * along never queues one twice; the outbox delivers them in order.
 */

export const APPLICATION_STATUS = {
  received: 'RECEIVED',
  rework: 'REWORK',
  readyForSigning: 'READY_FOR_SIGNING',
  offerAccepted: 'OFFER_ACCEPTED',
  offerPaid: 'OFFER_PAID',
  issued: 'ISSUED',
  rejected: 'REJECTED',
  withdrawn: 'WITHDRAWN',
} as const;

export const FINAL_STATUSES: ReadonlySet<string> = new Set([
  APPLICATION_STATUS.issued,
  APPLICATION_STATUS.rejected,
  APPLICATION_STATUS.withdrawn,
]);

/** Every error code the bank may send Goodfin (declared through errormapping). */
export const APPLICATION_ERRORS: Record<string, string> = {
  CLIENT_INN_MISSING: 'Не указан ИНН клиента',
  CLIENT_INN_INVALID: 'ИНН клиента некорректен',
  AMOUNT_MISSING: 'Не указана сумма',
  PRODUCT_NOT_OFFERED: 'Банк не предоставляет этот продукт',
  AMOUNT_OUT_OF_LIMITS: 'Сумма вне лимитов банка',
  DOCS_MISSING: 'Не хватает документов',
  WITHDRAWAL_REFUSED: 'Банк отказал в отзыве заявки',
  WITHDRAWAL_PENDING: 'Запрос на отзыв уже рассматривается',
  APPLICATION_CLOSED: 'Заявка уже в конечном статусе',
  APPLICATION_NOT_FOUND: 'Заявка не найдена',
  DUPLICATE_APPLICATION: 'Заявка с этим идентификатором уже получена',
  INVALID_PAYLOAD: 'Сообщение не соответствует контракту',
  UNSUPPORTED_MESSAGE: 'Банк не принимает сообщения этого типа',
};

export interface ApplicationDocument {
  documentId: string;
  documentType: string;
  fileName: string;
}

export interface ApplicationPolicy {
  /** per product type: the amounts the bank takes */
  limits: Record<string, { min: number; max: number }>;
  /** document types every application must list */
  requiredDocuments: string[];
  /** review statuses staff may set (codes from the declared status model) */
  reviewStatuses: string[];
}

export interface ApplicationInput {
  applicationId: string;
  /** the msgId of the AddDealApplication: acknowledged with a CommonResponse */
  receivedMsgId: string;
  receivedAt: string;
  productType: string;
  amount: number | null;
  currency: string | null;
  client: { inn: string | null; name: string | null };
  documents: ApplicationDocument[];
  policy: ApplicationPolicy;
  /** the product's other fields as Goodfin sent them (term, beneficiary, purpose …), for staff */
  details?: Record<string, unknown>;
}

/** What a corrected AddDealApplication replaces (the rest — id, number, history — stays). */
export type ApplicationData = Pick<ApplicationInput, 'productType' | 'amount' | 'currency' | 'client' | 'documents' | 'details'>;

/** The fields a resubmission compares, in the order its changes are listed. */
const RESUBMITTED_FIELDS = ['productType', 'amount', 'currency', 'client', 'documents', 'details', 'policy'] as const;

/** One return to the checks from rework: when, by whom, and what changed (each field before and after). */
export interface Resubmission {
  /** when the bank took it (the hub's clock, Goodfin's local date-time format) */
  at: string;
  by: 'goodfin' | 'staff';
  /** the msgId of the corrected AddDealApplication (answered with a CommonResponse); null for staff */
  msgId: string | null;
  comment: string | null;
  changes: Array<{ field: (typeof RESUBMITTED_FIELDS)[number]; from: unknown; to: unknown }>;
}

/** One status announced to Goodfin; a REWORK carries the first failing check's code and every reason. */
export interface AnnouncedStatus {
  code: string;
  comment: string | null;
  errorCode?: string | null;
}

/** One message to Goodfin, with the id that makes queueing it idempotent. */
export interface OutgoingMessage {
  id: string;
  payloadType: 'CommonResponse' | 'ChangeDealApplicationStatusEvent' | 'UpdateApplicationParams';
  payload: Record<string, unknown>;
}

export interface ApplicationContext extends ApplicationInput {
  number: string | null;
  status: string | null;
  statusSeq: number;
  statusHistory: AnnouncedStatus[];
  checkErrors: Array<{ code: string; message: string }>;
  downloaded: string[];
  withdrawal: { msgId: string | null; origin: 'client' | 'system'; reason: string } | null;
  lastError: EffectFailure | null;
  /** which message ids were queued (the outbox dedupes; this keeps the story readable) */
  messages: string[];
  /** every return from rework to the checks, oldest first */
  resubmissions: Resubmission[];
}

export type ApplicationEvent =
  | { type: 'SET_STATUS'; code: string; comment?: string }
  | { type: 'OFFER_ACCEPTED'; comment?: string }
  | { type: 'OFFER_PAID'; comment?: string }
  | { type: 'ISSUE'; comment?: string }
  | { type: 'REJECT'; comment: string }
  | { type: 'WITHDRAWAL_REQUESTED'; msgId: string | null; origin: 'client' | 'system'; reason: string }
  | { type: 'ACCEPT_WITHDRAWAL' }
  | { type: 'REFUSE_WITHDRAWAL'; comment?: string }
  | { type: 'RETRY' }
  | { type: 'RESUBMITTED'; msgId: string; at: string; data: ApplicationData; policy: ApplicationPolicy }
  | { type: 'RESUBMIT_FOR_CHECKS'; at: string; comment: string; policy: ApplicationPolicy };

const policySchema = z.object({
  limits: z.record(z.string(), z.object({ min: z.number(), max: z.number() })),
  requiredDocuments: z.array(z.string()),
  reviewStatuses: z.array(z.string()),
});

const applicationDataSchema = z.object({
  productType: z.string().min(1),
  amount: z.number().nullable(),
  currency: z.string().nullable(),
  client: z.object({ inn: z.string().nullable(), name: z.string().nullable() }),
  documents: z.array(z.object({ documentId: z.string().min(1), documentType: z.string(), fileName: z.string() })),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const applicationInputSchema = applicationDataSchema.extend({
  applicationId: z.string().min(1).max(128),
  receivedMsgId: z.string().min(1),
  receivedAt: z.string().min(1),
  policy: policySchema,
});

export const applicationEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('SET_STATUS'), code: z.string().min(1).max(64), comment: z.string().max(1000).optional() }),
  z.object({ type: z.literal('OFFER_ACCEPTED'), comment: z.string().max(1000).optional() }),
  z.object({ type: z.literal('OFFER_PAID'), comment: z.string().max(1000).optional() }),
  z.object({ type: z.literal('ISSUE'), comment: z.string().max(1000).optional() }),
  z.object({ type: z.literal('REJECT'), comment: z.string().min(1).max(1000) }),
  z.object({
    type: z.literal('WITHDRAWAL_REQUESTED'),
    msgId: z.string().nullable(),
    origin: z.enum(['client', 'system']),
    reason: z.string().max(1000),
  }),
  z.object({ type: z.literal('ACCEPT_WITHDRAWAL') }),
  z.object({ type: z.literal('REFUSE_WITHDRAWAL'), comment: z.string().max(1000).optional() }),
  z.object({ type: z.literal('RETRY') }),
  z.object({
    type: z.literal('RESUBMITTED'),
    msgId: z.string().min(1),
    at: z.string().min(1),
    data: applicationDataSchema,
    policy: policySchema,
  }),
  z.object({ type: z.literal('RESUBMIT_FOR_CHECKS'), at: z.string().min(1), comment: z.string().min(1).max(1000), policy: policySchema }),
]);

const INN_PROBLEMS = {
  not_digits: 'not only digits',
  wrong_length: 'neither 10 nor 12 digits',
  check_digit: 'its check digits do not match',
} as const;

/** The automatic checks (seed 003 step 3): required fields, a valid client INN, product limits, documents listed. */
export function checkApplication(input: ApplicationInput): Array<{ code: string; message: string }> {
  const errors: Array<{ code: string; message: string }> = [];
  if (!input.client.inn) errors.push({ code: 'CLIENT_INN_MISSING', message: 'the client INN is required' });
  else {
    const problem = innProblem(input.client.inn);
    if (problem)
      errors.push({ code: 'CLIENT_INN_INVALID', message: `the client INN ${input.client.inn} is not valid (${INN_PROBLEMS[problem]})` });
  }
  if (input.amount === null || !(input.amount > 0)) errors.push({ code: 'AMOUNT_MISSING', message: 'the amount is required' });
  const limits = input.policy.limits[input.productType];
  if (!limits) errors.push({ code: 'PRODUCT_NOT_OFFERED', message: `the bank does not offer ${input.productType}` });
  else if (input.amount !== null && (input.amount < limits.min || input.amount > limits.max)) {
    errors.push({ code: 'AMOUNT_OUT_OF_LIMITS', message: `${input.amount} is outside ${limits.min}…${limits.max}` });
  }
  const listed = new Set(input.documents.map((d) => d.documentType));
  const missing = input.policy.requiredDocuments.filter((type) => !listed.has(type));
  if (missing.length > 0) errors.push({ code: 'DOCS_MISSING', message: `documents missing: ${missing.join(', ')}` });
  return errors;
}

const statusMessage = (context: ApplicationContext, entry: AnnouncedStatus, seq: number): OutgoingMessage => ({
  id: `${context.applicationId}:status:${seq}`,
  payloadType: 'ChangeDealApplicationStatusEvent',
  payload: {
    dealApplicationId: context.applicationId,
    status: entry.code,
    comment: entry.comment,
    ...(entry.errorCode === undefined ? {} : { errorCode: entry.errorCode }),
  },
});

const queue = (id: string, messages: (context: ApplicationContext) => OutgoingMessage[]) => ({
  id,
  src: 'queueMessages' as const,
  input: ({ context }: { context: ApplicationContext }) => ({ applicationId: context.applicationId, messages: messages(context) }),
  onError: { actions: 'recordError' as const },
});

/**
 * Every status announced so far, oldest first. A state can be left before its
 * queueing effect runs (staff clicking quickly): the next queueing then
 * carries the missed ones; those queued already keep their place (same ids).
 */
const currentStatus = (context: ApplicationContext): OutgoingMessage[] =>
  context.statusHistory.map((entry, index) => statusMessage(context, entry, index + 1));

/** A REWORK status says why: the first failing check's code, and every reason. */
const reworkStatus = (checkErrors: ApplicationContext['checkErrors']): AnnouncedStatus => ({
  code: APPLICATION_STATUS.rework,
  comment: checkErrors.map((e) => e.message).join('; '),
  errorCode: checkErrors[0]?.code ?? null,
});

/** The CommonResponse to the corrected AddDealApplication that brought the application back (none for staff). */
const resubmissionAnswer = (context: ApplicationContext): OutgoingMessage[] => {
  const msgId = context.resubmissions.at(-1)?.msgId;
  return msgId
    ? [
        {
          id: `${context.applicationId}:ack:${msgId}`,
          payloadType: 'CommonResponse',
          payload: { originalMsgId: msgId, dealApplicationId: context.applicationId, success: true },
        },
      ]
    : [];
};

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The context after a return to the checks: the corrected data and the current policy in, checks computed again, the change kept. */
function afterResubmission(
  context: ApplicationContext,
  event: Extract<ApplicationEvent, { type: 'RESUBMITTED' | 'RESUBMIT_FOR_CHECKS' }>,
): Partial<ApplicationContext> {
  const data: ApplicationData =
    event.type === 'RESUBMITTED'
      ? event.data
      : {
          productType: context.productType,
          amount: context.amount,
          currency: context.currency,
          client: context.client,
          documents: context.documents,
          details: context.details,
        };
  // replaced, not merged: a correction without details has none
  const next = { ...context, ...data, details: data.details, policy: event.policy };
  const changes = RESUBMITTED_FIELDS.filter((field) => !sameValue(context[field], next[field])).map((field) => ({
    field,
    from: context[field] ?? null,
    to: next[field] ?? null,
  }));
  const resubmission: Resubmission = {
    at: event.at,
    by: event.type === 'RESUBMITTED' ? 'goodfin' : 'staff',
    msgId: event.type === 'RESUBMITTED' ? event.msgId : null,
    comment: event.type === 'RESUBMIT_FOR_CHECKS' ? event.comment : null,
    changes,
  };
  return {
    ...data,
    details: next.details,
    policy: event.policy,
    checkErrors: checkApplication(next),
    downloaded: [],
    lastError: null,
    resubmissions: [...context.resubmissions, resubmission],
  };
}

/** Why an application refuses an event (answered in `event_not_accepted`'s `details.reason`). */
export const APPLICATION_REFUSALS = {
  notAReviewStatus: 'not_a_review_status',
  withdrawalPending: 'withdrawal_pending',
  applicationClosed: 'application_closed',
  notReturnedForRework: 'not_returned_for_rework',
} as const;
export type ApplicationRefusalCode = (typeof APPLICATION_REFUSALS)[keyof typeof APPLICATION_REFUSALS];

/** Staff set only the review statuses the application was received with: the rule behind the `reviewStatus` guard. */
function reviewStatusRefusal(
  context: ApplicationContext,
  event: Extract<ApplicationEvent, { type: 'SET_STATUS' }>,
): Refusal<ApplicationRefusalCode> | null {
  const allowed = context.policy.reviewStatuses;
  if (allowed.includes(event.code)) return null;
  return {
    code: APPLICATION_REFUSALS.notAReviewStatus,
    message: `${event.code} is not a review status of this application: one of ${allowed.join(', ')}`,
    details: { code: event.code, reviewStatuses: allowed },
  };
}

const applicationMachine = setup({
  types: {} as { context: ApplicationContext; events: ApplicationEvent; input: ApplicationInput },
  actors: {
    queueMessages: effect<{ queued: number }, { applicationId: string; messages: OutgoingMessage[] }>(),
    assignNumber: effect<{ number: string }, { applicationId: string; productType: string; receivedAt: string }>(),
    downloadDocuments: effect<{ downloaded: string[] }, { applicationId: string; documents: ApplicationDocument[] }>(),
  },
  guards: {
    checksFail: ({ context }) => context.checkErrors.length > 0,
    reviewStatus: ({ context, event }) => event.type === 'SET_STATUS' && reviewStatusRefusal(context, event) === null,
  },
  actions: {
    /** Announces a status (`code`, or the SET_STATUS event's): the sequence grows only when it changes, so a re-entry announces nothing new. */
    announce: assign(({ context, event }, params: { code: string | null }) => {
      const next = params.code ?? (event.type === 'SET_STATUS' ? event.code : '');
      const comment = 'comment' in event && typeof event.comment === 'string' ? event.comment : null;
      if (!next || next === context.status) return {};
      return { status: next, statusSeq: context.statusSeq + 1, statusHistory: [...context.statusHistory, { code: next, comment }] };
    }),
    /** Announces REWORK with the reasons of the checks that failed (it is never current when entered: the checks run after another status). */
    announceRework: assign(({ context }) =>
      context.status === APPLICATION_STATUS.rework
        ? {}
        : {
            status: APPLICATION_STATUS.rework,
            statusSeq: context.statusSeq + 1,
            statusHistory: [...context.statusHistory, reworkStatus(context.checkErrors)],
          },
    ),
    resubmit: assign(({ context, event }) =>
      event.type === 'RESUBMITTED' || event.type === 'RESUBMIT_FOR_CHECKS' ? afterResubmission(context, event) : {},
    ),
    forgetWithdrawal: assign({ withdrawal: null }),
    recordError: assign({ lastError: ({ event }) => (event as unknown as { error: EffectFailure }).error }),
  },
}).createMachine({
  id: 'goodfinApplication',
  initial: 'active',
  context: ({ input }) => ({
    ...input,
    number: null,
    status: null,
    statusSeq: 0,
    statusHistory: [],
    checkErrors: checkApplication(input),
    downloaded: [],
    withdrawal: null,
    lastError: null,
    messages: [],
    resubmissions: [],
  }),
  states: {
    active: {
      initial: 'acknowledging',
      on: {
        WITHDRAWAL_REQUESTED: {
          target: 'withdrawalRequested',
          actions: assign({ withdrawal: ({ event }) => ({ msgId: event.msgId, origin: event.origin, reason: event.reason }) }),
        },
        REJECT: { target: 'rejected', actions: { type: 'announce', params: { code: APPLICATION_STATUS.rejected } } },
      },
      states: {
        acknowledging: {
          entry: { type: 'announce', params: { code: APPLICATION_STATUS.received } },
          invoke: {
            ...queue('acknowledge', (c) => [
              {
                id: `${c.applicationId}:ack:${c.receivedMsgId}`,
                payloadType: 'CommonResponse',
                payload: { originalMsgId: c.receivedMsgId, dealApplicationId: c.applicationId, success: true },
              },
              ...currentStatus(c),
            ]),
            onDone: 'numbering',
          },
        },
        numbering: {
          invoke: {
            id: 'number',
            src: 'assignNumber',
            input: ({ context }) => ({
              applicationId: context.applicationId,
              productType: context.productType,
              receivedAt: context.receivedAt,
            }),
            onDone: { target: 'announcingNumber', actions: assign({ number: ({ event }) => event.output.number }) },
            onError: { target: 'stuck', actions: 'recordError' },
          },
        },
        announcingNumber: {
          invoke: {
            ...queue('announceNumber', (c) => [
              {
                id: `${c.applicationId}:number`,
                payloadType: 'UpdateApplicationParams',
                payload: { dealApplicationId: c.applicationId, serviceApplicationNumber: c.number },
              },
            ]),
            onDone: 'checking',
          },
        },
        checking: {
          always: [{ guard: 'checksFail', target: 'returnedForRework' }, { target: 'downloadingDocuments' }],
        },
        returnedForRework: {
          entry: 'announceRework',
          invoke: queue('rework', currentStatus),
          on: {
            // Goodfin resends the application corrected (same dealApplicationId, a new msgId)
            RESUBMITTED: { target: 'resubmitted', actions: 'resubmit' },
            // staff send it back as it is, under the current policy (say why)
            RESUBMIT_FOR_CHECKS: { target: 'resubmitted', actions: 'resubmit' },
          },
        },
        /** back from rework: received again (as a new application is), the corrected message answered, then the checks */
        resubmitted: {
          entry: { type: 'announce', params: { code: APPLICATION_STATUS.received } },
          invoke: { ...queue('resubmitted', (c) => [...resubmissionAnswer(c), ...currentStatus(c)]), onDone: 'checking' },
        },
        downloadingDocuments: {
          invoke: {
            id: 'documents',
            src: 'downloadDocuments',
            input: ({ context }) => ({ applicationId: context.applicationId, documents: context.documents }),
            onDone: { target: 'readyForSigning', actions: assign({ downloaded: ({ event }) => event.output.downloaded }) },
            onError: { target: 'stuck', actions: 'recordError' },
          },
        },
        /** an effect failed after its retries (documents, numbering): a person looks, then RETRY */
        stuck: {
          tags: ['alert'],
          on: { RETRY: 'acknowledging' },
        },
        readyForSigning: {
          entry: { type: 'announce', params: { code: APPLICATION_STATUS.readyForSigning } },
          invoke: queue('ready', currentStatus),
          on: {
            SET_STATUS: { guard: 'reviewStatus', target: 'underReview', actions: { type: 'announce', params: { code: null } } },
            OFFER_ACCEPTED: { target: 'offerAccepted', actions: { type: 'announce', params: { code: APPLICATION_STATUS.offerAccepted } } },
          },
        },
        underReview: {
          invoke: queue('review', currentStatus),
          on: {
            SET_STATUS: {
              guard: 'reviewStatus',
              target: 'underReview',
              reenter: true,
              actions: { type: 'announce', params: { code: null } },
            },
            OFFER_ACCEPTED: { target: 'offerAccepted', actions: { type: 'announce', params: { code: APPLICATION_STATUS.offerAccepted } } },
          },
        },
        offerAccepted: {
          invoke: queue('offerAccepted', currentStatus),
          on: { OFFER_PAID: { target: 'offerPaid', actions: { type: 'announce', params: { code: APPLICATION_STATUS.offerPaid } } } },
        },
        offerPaid: {
          invoke: queue('offerPaid', currentStatus),
          on: {
            ISSUE: { target: '#goodfinApplication.issued', actions: { type: 'announce', params: { code: APPLICATION_STATUS.issued } } },
          },
        },
        history: { type: 'history', history: 'deep' },
      },
    },
    withdrawalRequested: {
      on: {
        ACCEPT_WITHDRAWAL: { target: 'withdrawn', actions: { type: 'announce', params: { code: APPLICATION_STATUS.withdrawn } } },
        REFUSE_WITHDRAWAL: 'refusingWithdrawal',
      },
    },
    refusingWithdrawal: {
      invoke: {
        ...queue('refuseWithdrawal', (c) =>
          c.withdrawal?.msgId
            ? [
                {
                  id: `${c.applicationId}:withdrawal:${c.withdrawal.msgId}`,
                  payloadType: 'CommonResponse',
                  payload: {
                    originalMsgId: c.withdrawal.msgId,
                    dealApplicationId: c.applicationId,
                    success: false,
                    errorCode: 'WITHDRAWAL_REFUSED',
                  },
                },
              ]
            : [],
        ),
        // back exactly where it was; its status is not announced again (same sequence)
        onDone: { target: 'active.history', actions: 'forgetWithdrawal' },
        onError: { target: 'active.history', actions: ['recordError', 'forgetWithdrawal'] },
      },
    },
    withdrawn: {
      invoke: queue('withdrawn', (c) => [
        ...(c.withdrawal?.msgId
          ? [
              {
                id: `${c.applicationId}:withdrawal:${c.withdrawal.msgId}`,
                payloadType: 'CommonResponse' as const,
                payload: { originalMsgId: c.withdrawal.msgId, dealApplicationId: c.applicationId, success: true },
              },
            ]
          : []),
        ...currentStatus(c),
      ]),
    },
    issued: { invoke: queue('issued', currentStatus) },
    rejected: { invoke: queue('rejected', currentStatus) },
  },
});

/**
 * Why the application refuses an event. A review status it does not have is
 * refused in every state (the code is wrong whatever the state). A withdrawal
 * is taken in every active state, so one refused is either waiting for the
 * bank's decision on an earlier one, or asked of an application that is
 * closed; Goodfin is answered accordingly (see actors/domains/goodfin/inbound.ts).
 */
export const applicationRefusal: RefusalOf<typeof applicationMachine, ApplicationRefusalCode> = (snapshot, event) => {
  switch (event.type) {
    case 'RESUBMITTED':
    case 'RESUBMIT_FOR_CHECKS':
      return {
        code: APPLICATION_REFUSALS.notReturnedForRework,
        message: `only an application returned for rework goes back to the checks; this one is ${snapshot.context.status ?? 'not announced yet'}`,
        details: { status: snapshot.context.status },
      };
    case 'SET_STATUS':
      return reviewStatusRefusal(snapshot.context, event);
    case 'WITHDRAWAL_REQUESTED':
      if (snapshot.matches('withdrawalRequested') || snapshot.matches('refusingWithdrawal')) {
        return {
          code: APPLICATION_REFUSALS.withdrawalPending,
          message: 'the bank is deciding on an earlier withdrawal request',
        };
      }
      return {
        code: APPLICATION_REFUSALS.applicationClosed,
        message: `the application is closed (${snapshot.context.status ?? 'no status'})`,
        details: { status: snapshot.context.status },
      };
    default:
      return null;
  }
};

/**
 * Version 1 → 2: the context gains `resubmissions` (none yet), and a REWORK
 * status keeps its reasons in the history (version 1 derived them from the
 * check errors when queueing: the same values are filled in, so the message
 * ids and what Goodfin got stay as they were).
 */
export function addResubmissions(snapshot: PersistedSnapshotJson): PersistedSnapshotJson {
  const context = snapshot.context as Omit<ApplicationContext, 'resubmissions'> & { resubmissions?: Resubmission[] };
  return {
    ...snapshot,
    context: {
      ...context,
      statusHistory: context.statusHistory.map((entry) =>
        entry.code === APPLICATION_STATUS.rework && entry.errorCode === undefined ? reworkStatus(context.checkErrors) : entry,
      ),
      resubmissions: context.resubmissions ?? [],
    },
  };
}

export default defineMachineModule({
  type: 'goodfin-application',
  version: 2,
  description:
    'A Goodfin loan or guarantee application, bank side: checks (rework, resubmission), documents, staff review, offer, issue; withdrawals accepted or refused',
  migrations: { 1: addResubmissions },
  machine: applicationMachine,
  inputSchema: applicationInputSchema,
  eventSchema: applicationEventSchema,
  refusal: applicationRefusal,
  personalData: {
    context: {
      'client.inn': 'document',
      'client.name': 'name',
      // Goodfin's whole client block as it came (phones, addresses, passport data)
      'details.client': 'document',
      // a change of the client is listed with its old and new value; other fields' changes are sealed alike
      'resubmissions.*.changes.*.from': 'document',
      'resubmissions.*.changes.*.to': 'document',
    },
    events: {
      RESUBMITTED: { 'data.client.inn': 'document', 'data.client.name': 'name', 'data.details.client': 'document' },
    },
  },
  domainEvents: {
    events: {
      received: {
        description: 'an application came from Goodfin: acknowledged, numbered, checked',
        states: ['active.acknowledging', 'active.numbering', 'active.announcingNumber', 'active.checking', 'active.downloadingDocuments'],
      },
      returnedForRework: { description: 'returned to the client to correct', states: ['active.returnedForRework'] },
      resubmitted: { description: 'the client sent it again', states: ['active.resubmitted'] },
      stuck: { description: 'a step keeps failing: a person must act', states: ['active.stuck'] },
      readyForSigning: { description: 'ready for the bank to sign', states: ['active.readyForSigning'] },
      underReview: { description: 'the bank reviews it', states: ['active.underReview'] },
      offerAccepted: { description: "the client accepted the bank's offer", states: ['active.offerAccepted'] },
      offerPaid: { description: 'the client paid for the offer', states: ['active.offerPaid'] },
      statusChanged: { description: 'a status told to Goodfin', states: ['active.history'] },
      withdrawalRequested: {
        description: 'the client (or Goodfin) asks to withdraw it',
        states: ['withdrawalRequested', 'refusingWithdrawal'],
      },
      withdrawn: { description: 'withdrawn', states: ['withdrawn'] },
      issued: { description: 'the guarantee or loan is issued', states: ['issued'] },
      rejected: { description: 'the bank rejected it', states: ['rejected'] },
    },
    data: z.object({
      applicationId: z.string(),
      number: z.string().nullable(),
      productType: z.string(),
      amount: z.number().nullable(),
      currency: z.string().nullable(),
      status: z.string().nullable(),
    }),
  },
});
