import type { SandboxRequest, SandboxResponse, SandboxRoute } from '../../kit/sandbox.ts';
import {
  envelopeSchema,
  GOODFIN_PATHS,
  GOODFIN_SYSTEM_NAME,
  PAYLOAD_SCHEMAS,
  type CommonResponse,
  type GoodfinEnvelope,
} from '../protocol.ts';
import { refused, type SandboxTokens } from './oauth.ts';
import type { GoodfinPusher } from './pusher.ts';
import type { RegisteredService } from './services.ts';
import { invalid } from './validation.ts';
import { describeIssues } from '../../../../../common/issues.ts';

/** What Goodfin remembers of the messages one service sent it. */
interface ReceivedMessages {
  /** msgIds received from the service */
  receivedIds: Set<string>;
  /** their msgId → the msgId of our CommonResponse, so that a repeat is answered with the same message */
  answers: Map<string, string>;
}

/**
 * What the bank sends to `openapi/in`: validated, kept once per msgId
 * (a repeat counts as a duplicate), and answered with a CommonResponse that
 * Goodfin pushes back; the bank's own CommonResponse stops the resends of
 * the message it answers.
 */
export class GoodfinInbound {
  /** whether messages the bank sends are answered with a CommonResponse */
  answering = true;
  private readonly messages = new Map<string, ReceivedMessages>();

  constructor(
    private readonly tokens: SandboxTokens,
    private readonly pusher: GoodfinPusher,
  ) {}

  /** forgets every message received, and answers again */
  reset(): void {
    this.forgetMessages();
    this.answering = true;
  }

  forgetMessages(): void {
    this.messages.clear();
  }

  route(): SandboxRoute {
    return { method: 'POST', path: GOODFIN_PATHS.inbound, handle: (request) => this.receive(request) };
  }

  private receive(request: SandboxRequest): SandboxResponse {
    const service = this.tokens.authorise(request);
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

    const state = this.messagesOf(service.serviceSystemName);
    const repeated = state.receivedIds.has(envelope.msgId);
    if (repeated) service.duplicates += 1;
    else {
      state.receivedIds.add(envelope.msgId);
      service.received.push(envelope);
    }
    // nobody answers an answer; it stops the resends of the message it answers
    if (envelope.payloadType === 'CommonResponse') this.pusher.answered(service.serviceSystemName, commonResponseOf(envelope));
    // after the 200 is written: the bank hears the answer to a message it knows it delivered
    else this.pusher.nextTurn(() => this.answer(service, envelope));
    return { json: { success: true } };
  }

  /** Goodfin's CommonResponse to a message of the bank's; a repeated msgId gets the same answer message again */
  private answer(service: RegisteredService, envelope: GoodfinEnvelope): void {
    if (!this.answering || !service.endpoint) return;
    const state = this.messagesOf(service.serviceSystemName);
    const earlier = state.answers.get(envelope.msgId);
    if (earlier !== undefined && this.pusher.repush(service.serviceSystemName, earlier)) return;
    const dealApplicationId = typeof envelope.payload.dealApplicationId === 'string' ? envelope.payload.dealApplicationId : undefined;
    const response: CommonResponse = { originalMsgId: envelope.msgId, ...(dealApplicationId ? { dealApplicationId } : {}), success: true };
    state.answers.set(envelope.msgId, this.pusher.push(service.serviceSystemName, 'CommonResponse', response, false).msgId);
  }

  private messagesOf(name: string): ReceivedMessages {
    let state = this.messages.get(name);
    if (!state) {
      state = { receivedIds: new Set(), answers: new Map() };
      this.messages.set(name, state);
    }
    return state;
  }
}

function commonResponseOf(envelope: GoodfinEnvelope): CommonResponse {
  return PAYLOAD_SCHEMAS.CommonResponse.parse(envelope.payload);
}
