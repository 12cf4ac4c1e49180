import type { AlertSink } from '../../platform/alerts/alerts.ts';
import type { Logger } from 'winston';
import { isAppError, refusalReasonOf } from '../../../common/errors.ts';
import applicationModule, {
  APPLICATION_REFUSALS,
  type ApplicationData,
  type ApplicationInput,
} from '../../../machines/goodfin-application.ts';
import type { Connectors } from '../../platform/connectors/kit/connectors.ts';
import { goodfinConnector } from '../../platform/connectors/goodfin/connector.ts';
import {
  addDealApplicationSchema,
  cancelDealApplicationSchema,
  commonResponseSchema,
  envelopeSchema,
  goodfinTime,
  INBOUND_TOKEN_HEADER,
  type AddDealApplication,
  type GoodfinEnvelope,
} from '../../platform/connectors/goodfin/protocol.ts';
import type { ActorRuntime } from '../../runtime/runtime.ts';
import type { EventOf } from '../../../machines/machine-module.ts';
import { WebhookBodyError, type WebhookDispatch, type WebhookRequest, type WebhookSpec } from '../../platform/inbound/spec.ts';
import { inboundToken, policyOf } from './model.ts';
import type { GoodfinOutbox } from './outbox.ts';
import { describeIssues } from '../../../common/issues.ts';
import { verifySharedHeader } from '../../../common/security.ts';

export const APPLICATION_TYPE = applicationModule.type;

export interface InboundDeps {
  runtime: ActorRuntime;
  connectors: Connectors;
  outbox: GoodfinOutbox;
  logger: Logger;
  alerts?: AlertSink;
  now?: () => number;
}

function envelopeOf(request: WebhookRequest): GoodfinEnvelope {
  let body: unknown;
  try {
    body = JSON.parse(request.rawBody.toString('utf8')) as unknown;
  } catch {
    throw new WebhookBodyError('not JSON');
  }
  const parsed = envelopeSchema.safeParse(body);
  if (!parsed.success) throw new WebhookBodyError(describeIssues(parsed.error));
  return parsed.data;
}

/** the application a message is about, read leniently (for answers to messages we cannot parse) */
function applicationIdIn(envelope: GoodfinEnvelope): string {
  const id = envelope.payload.dealApplicationId;
  return typeof id === 'string' && id.length > 0 ? id.slice(0, 128) : 'unknown';
}

/** What the bank keeps of an AddDealApplication: the fields it checks, and the rest as Goodfin sent them (for staff). */
function applicationDataOf(deal: AddDealApplication): ApplicationData {
  const { amount, currency, client, ...details } = deal.requestData;
  return {
    productType: deal.productType,
    amount: amount ?? null,
    currency: currency ?? null,
    client: { inn: client?.inn ?? null, name: client?.name ?? null },
    documents: deal.documents,
    details: { ...details, createApplicationDateTime: deal.createApplicationDateTime, ...(client ? { client } : {}) },
  };
}

/** Ids of the answers the hub may have queued to a message (the machine's and this module's). */
export const answerIds = (applicationId: string, msgId: string) => [
  `${applicationId}:ack:${msgId}`,
  `${applicationId}:reply:${msgId}`,
  `${applicationId}:withdrawal:${msgId}`,
];

/**
 * `POST /goodfin/in`, Goodfin's messages to the bank. The webhook pipeline
 * checks the caller (allow-list, our declared header secret) and stores the
 * message by its msgId before answering 2xx; this module then acts on it:
 * AddDealApplication creates the application actor (its id is Goodfin's),
 * CancelDealApplication asks it to withdraw, CommonResponse is matched to
 * the message of ours it answers; an AddDealApplication for an application
 * returned for rework is its correction (RESUBMITTED), for any other one a
 * duplicate. Every message but a CommonResponse gets a
 * CommonResponse (the machine's own, or one queued here when the message
 * cannot be taken), and a repeated msgId gets its answer again.
 */
export function goodfinInbound(deps: InboundDeps): WebhookSpec {
  const now = deps.now ?? Date.now;
  const applications = deps.runtime.of(applicationModule);
  const reply = async (
    applicationId: string,
    msgId: string,
    success: boolean,
    errorCode: string | null,
    errorMessage: string | null,
  ): Promise<void> => {
    await deps.outbox.enqueue(applicationId, [
      {
        id: `${applicationId}:reply:${msgId}`,
        payloadType: 'CommonResponse',
        payload: { originalMsgId: msgId, dealApplicationId: applicationId, success, ...(success ? {} : { errorCode, errorMessage }) },
      },
    ]);
  };
  const origin = (msgId: string) => ({ kind: 'webhook' as const, integration: 'goodfin', deliveryId: msgId });

  const addApplication = async (envelope: GoodfinEnvelope): Promise<WebhookDispatch> => {
    const applicationId = applicationIdIn(envelope);
    const parsed = addDealApplicationSchema.safeParse(envelope.payload);
    if (!parsed.success) {
      await reply(applicationId, envelope.msgId, false, 'INVALID_PAYLOAD', describeIssues(parsed.error));
      return { dispatchedTo: `${APPLICATION_TYPE}/${applicationId}`, result: `refused: INVALID_PAYLOAD` };
    }
    const deal = parsed.data;
    const receivedAt = goodfinTime(now());
    const policy = policyOf(deps.connectors.configOf(goodfinConnector).settings);
    const data = applicationDataOf(deal);
    const input: ApplicationInput = { applicationId: deal.dealApplicationId, receivedMsgId: envelope.msgId, receivedAt, ...data, policy };
    try {
      const created = await applications.create(deal.dealApplicationId, input, {
        idempotencyKey: `goodfin:${envelope.msgId}`,
        origin: origin(envelope.msgId),
      });
      return {
        dispatchedTo: `${APPLICATION_TYPE}/${deal.dealApplicationId}`,
        result: `${created.replayed ? 'already created' : 'created'}: ${created.actor.state}@${created.actor.revision}`,
      };
    } catch (error) {
      if (isAppError(error) && error.code === 'actor_exists') {
        return resubmitApplication(envelope, { type: 'RESUBMITTED', msgId: envelope.msgId, at: receivedAt, data, policy });
      }
      if (isAppError(error) && error.status === 400) {
        await reply(applicationId, envelope.msgId, false, 'INVALID_PAYLOAD', error.message);
        return { dispatchedTo: `${APPLICATION_TYPE}/${applicationId}`, result: 'refused: INVALID_PAYLOAD' };
      }
      throw error;
    }
  };

  /**
   * The application came before under another msgId: Goodfin resends it once
   * the client has corrected it (our assumption, see protocol.ts). Taken only
   * while it is returned for rework; otherwise a duplicate that changes nothing.
   */
  const resubmitApplication = async (
    envelope: GoodfinEnvelope,
    event: Extract<EventOf<typeof applicationModule>, { type: 'RESUBMITTED' }>,
  ): Promise<WebhookDispatch> => {
    const applicationId = applicationIdIn(envelope);
    const dispatchedTo = `${APPLICATION_TYPE}/${applicationId}`;
    try {
      const sent = await applications.send(applicationId, event, {
        idempotencyKey: `goodfin:${envelope.msgId}`,
        origin: origin(envelope.msgId),
      });
      // answered by the machine (the corrected message's CommonResponse), then checked again
      return {
        dispatchedTo,
        result: `${sent.replayed ? 'already resubmitted' : 'resubmitted'}: ${sent.actor.state}@${sent.actor.revision}`,
      };
    } catch (error) {
      if (isAppError(error) && error.code === 'event_not_accepted') {
        const reason = refusalReasonOf(error);
        const why = reason?.code === APPLICATION_REFUSALS.notReturnedForRework ? `: ${reason.message}` : '';
        await reply(
          applicationId,
          envelope.msgId,
          false,
          'DUPLICATE_APPLICATION',
          `application ${applicationId} was received before${why}`,
        );
        return { dispatchedTo, result: 'refused: DUPLICATE_APPLICATION' };
      }
      if (isAppError(error) && error.status === 400) {
        await reply(applicationId, envelope.msgId, false, 'INVALID_PAYLOAD', error.message);
        return { dispatchedTo, result: 'refused: INVALID_PAYLOAD' };
      }
      throw error;
    }
  };

  const cancelApplication = async (envelope: GoodfinEnvelope): Promise<WebhookDispatch> => {
    const applicationId = applicationIdIn(envelope);
    const dispatchedTo = `${APPLICATION_TYPE}/${applicationId}`;
    const parsed = cancelDealApplicationSchema.safeParse(envelope.payload);
    if (!parsed.success) {
      await reply(applicationId, envelope.msgId, false, 'INVALID_PAYLOAD', describeIssues(parsed.error));
      return { dispatchedTo, result: 'refused: INVALID_PAYLOAD' };
    }
    const event = {
      type: 'WITHDRAWAL_REQUESTED',
      msgId: envelope.msgId,
      origin: parsed.data.initiator === 'SYSTEM' ? 'system' : 'client',
      reason: parsed.data.reason,
    } as const;
    try {
      const sent = await applications.send(parsed.data.dealApplicationId, event, {
        idempotencyKey: `goodfin:${envelope.msgId}`,
        origin: origin(envelope.msgId),
      });
      // answered when the bank decides (accepted or refused)
      return { dispatchedTo, result: `withdrawal requested: ${sent.actor.state}@${sent.actor.revision}` };
    } catch (error) {
      if (isAppError(error) && error.code === 'not_found') {
        await reply(applicationId, envelope.msgId, false, 'APPLICATION_NOT_FOUND', `no application ${applicationId}`);
        return { dispatchedTo, result: 'refused: APPLICATION_NOT_FOUND' };
      }
      if (isAppError(error) && error.code === 'event_not_accepted') {
        // the machine says why; an actor that is done has no reason to give and is closed all the same
        const reason = refusalReasonOf(error);
        const code = reason?.code === APPLICATION_REFUSALS.withdrawalPending ? 'WITHDRAWAL_PENDING' : 'APPLICATION_CLOSED';
        await reply(applicationId, envelope.msgId, false, code, reason?.message ?? error.message);
        return { dispatchedTo, result: `refused: ${code}` };
      }
      throw error;
    }
  };

  const recordAnswer = async (envelope: GoodfinEnvelope): Promise<WebhookDispatch> => {
    const parsed = commonResponseSchema.safeParse(envelope.payload);
    if (!parsed.success) return { dispatchedTo: null, result: `ignored: an unreadable CommonResponse (${describeIssues(parsed.error)})` };
    const answer = parsed.data;
    const matched = await deps.outbox.recordAnswer(answer.originalMsgId, {
      msgId: envelope.msgId,
      success: answer.success,
      errorCode: answer.errorCode ?? null,
      errorMessage: answer.errorMessage ?? null,
    });
    if (!matched) {
      deps.logger.warn('goodfin answered a message we do not know', { originalMsgId: answer.originalMsgId });
      return { dispatchedTo: null, result: 'ignored: answers no message of ours' };
    }
    const applicationId = matched.applicationId;
    if (!answer.success) {
      deps.logger.warn('goodfin refused a message of ours', { applicationId, message: matched._id, errorCode: answer.errorCode });
      await deps.alerts
        ?.raise({
          kind: 'goodfin_message_refused',
          integration: 'goodfin',
          subject: `${APPLICATION_TYPE}/${applicationId}`,
          message: `Goodfin refused our ${matched.payloadType}: ${answer.errorCode ?? 'no code'} ${answer.errorMessage ?? ''}`.trim(),
          details: { message: matched._id, errorCode: answer.errorCode ?? null },
        })
        .catch(() => undefined);
    }
    return {
      dispatchedTo: `${APPLICATION_TYPE}/${applicationId}`,
      result: `answer to ${matched.payloadType}: ${answer.success ? 'success' : `refused ${answer.errorCode ?? ''}`.trim()}`,
    };
  };

  return {
    integration: 'goodfin',
    verify(request, config) {
      const expected = inboundToken({
        serviceSystemName: config.credentials.serviceSystemName ?? '',
        password: config.credentials.password ?? '',
      });
      return verifySharedHeader({ expected, sent: request.headers[INBOUND_TOKEN_HEADER.toLowerCase()] });
    },
    deliveryId(request) {
      return envelopeOf(request).msgId;
    },
    route(request) {
      // validation only (before anything is stored): dispatch does the work
      const envelope = envelopeOf(request);
      const config = deps.connectors.configOf(goodfinConnector);
      const us = config.credentials.serviceSystemName;
      if (envelope.receiver !== us) {
        if (config.settings.strictReceiver) throw new WebhookBodyError(`the message is for ${envelope.receiver}, this service is ${us}`);
        deps.logger.warn('a Goodfin message names another receiver; taken as ours (settings.strictReceiver is off)', {
          msgId: envelope.msgId,
          receiver: envelope.receiver,
          service: us,
        });
      }
      return null;
    },
    async dispatch(request) {
      const envelope = envelopeOf(request);
      switch (envelope.payloadType) {
        case 'AddDealApplication':
          return addApplication(envelope);
        case 'CancelDealApplication':
          return cancelApplication(envelope);
        case 'CommonResponse':
          return recordAnswer(envelope);
        default: {
          const applicationId = applicationIdIn(envelope);
          await reply(applicationId, envelope.msgId, false, 'UNSUPPORTED_MESSAGE', `the bank does not take ${envelope.payloadType}`);
          return { dispatchedTo: null, result: 'refused: UNSUPPORTED_MESSAGE' };
        }
      }
    },
    async repeated(request) {
      const envelope = envelopeOf(request);
      if (envelope.payloadType === 'CommonResponse') return;
      const again = await deps.outbox.sendAgain(answerIds(applicationIdIn(envelope), envelope.msgId));
      deps.logger.info('goodfin sent a message again; its answer goes again', {
        msgId: envelope.msgId,
        payloadType: envelope.payloadType,
        answers: again,
      });
    },
  };
}
