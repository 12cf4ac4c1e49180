import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { deliverCallback } from '../../kit/sandbox-callbacks.ts';
import { GOODFIN_SYSTEM_NAME, goodfinTime, type CommonResponse, type EndpointDeclaration, type GoodfinEnvelope } from '../protocol.ts';
import type { ServiceRegistry } from './services.ts';

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

export const DEFAULT_RESEND_POLICY: ResendPolicy = { resendAfterMs: 30_000, maxResends: 5 };
export const resendPolicySchema = z.object({
  resendAfterMs: z.number().int().min(10).max(3_600_000),
  maxResends: z.number().int().min(0).max(1_000),
});

/** HTTP attempts of one push, with a short growing pause between them */
const DELIVERY_ATTEMPTS = 3;
const DELIVERY_PAUSE_MS = 100;

/** A pushed message with what only the sandbox needs: its resend timer. */
interface Tracked extends PushedMessage {
  timer: NodeJS.Timeout | null;
}

/** Goodfin's side of the messages it pushes to one service. */
interface ServiceQueue {
  /** by msgId, in the order first pushed */
  pushed: Map<string, Tracked>;
  /** pushes go out one at a time, in order */
  tail: Promise<void>;
}

/**
 * Goodfin's pushes to the endpoint a service declared: new messages, in
 * order and one at a time per service; resends of those the bank did not
 * answer with a CommonResponse (by the resend policy); and repushes of an
 * earlier envelope (a duplicate delivery).
 */
export class GoodfinPusher {
  private readonly queues = new Map<string, ServiceQueue>();
  private policy: ResendPolicy = { ...DEFAULT_RESEND_POLICY };
  // work started before a reset (or close) sees a new epoch and stops; in-flight requests are aborted
  private epoch = 0;
  private stopping = new AbortController();

  constructor(private readonly services: ServiceRegistry) {}

  get resendPolicy(): ResendPolicy {
    return this.policy;
  }

  /** stops every push and forgets every message, then the default resend policy again */
  reset(): void {
    this.stop();
    this.policy = { ...DEFAULT_RESEND_POLICY };
  }

  /** stops every push and forgets every message */
  stop(): void {
    this.epoch += 1;
    this.stopping.abort();
    this.stopping = new AbortController();
    for (const queue of this.queues.values()) for (const message of queue.pushed.values()) if (message.timer) clearTimeout(message.timer);
    this.queues.clear();
  }

  setResendPolicy(next: ResendPolicy): void {
    this.policy = resendPolicySchema.parse(next);
    // waiting resends wait the new time, from now
    for (const [name, queue] of this.queues)
      for (const message of queue.pushed.values()) if (message.timer) this.scheduleResend(name, message);
  }

  /** a new message to the service: tracked, then pushed in its turn */
  push(name: string, payloadType: GoodfinEnvelope['payloadType'], payload: Record<string, unknown>, expectsAnswer: boolean): PushedMessage {
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
    this.queueOf(name).pushed.set(message.msgId, message);
    this.enqueue(name, message, 'first');
    return message;
  }

  /** pushes an earlier message again, the same envelope; false when the service was pushed no such message */
  repush(name: string, msgId: string): boolean {
    const message = this.queues.get(name)?.pushed.get(msgId);
    if (!message) return false;
    this.enqueue(name, message, 'repush');
    return true;
  }

  /** the bank's CommonResponse: it stops the resends of the message it answers */
  answered(name: string, response: CommonResponse): void {
    const original = this.queues.get(name)?.pushed.get(response.originalMsgId);
    if (original?.expectsAnswer && !original.answered) {
      original.answered = response;
      if (original.timer) clearTimeout(original.timer);
      original.timer = null;
    }
  }

  /** what was pushed to the service, oldest first */
  pushed(name: string): PushedMessage[] {
    return [...(this.queues.get(name)?.pushed.values() ?? [])].map(({ timer: _timer, ...message }) => ({ ...message }));
  }

  /** runs `work` on the next turn of the event loop, unless the sandbox is reset or closed before */
  nextTurn(work: () => void): void {
    const started = this.epoch;
    setImmediate(() => {
      if (started === this.epoch) work();
    });
  }

  private queueOf(name: string): ServiceQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = { pushed: new Map(), tail: Promise.resolve() };
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** queues one push of the message behind the service's earlier pushes */
  private enqueue(name: string, message: Tracked, why: 'first' | 'resend' | 'repush'): void {
    const queue = this.queueOf(name);
    const started = this.epoch;
    const { signal } = this.stopping;
    const push = async () => {
      // an answer that came while the resend waited its turn makes it pointless
      if (started !== this.epoch || (why === 'resend' && message.answered)) return;
      const endpoint = this.services.get(name)?.endpoint;
      if (!endpoint) return;
      message.pushes += 1;
      const status = await deliver(endpoint, message.envelope, signal);
      if (started !== this.epoch) return;
      message.lastStatus = status;
      this.scheduleResend(name, message);
    };
    queue.tail = queue.tail.then(push).catch(() => undefined);
  }

  private scheduleResend(name: string, message: Tracked): void {
    if (message.timer) clearTimeout(message.timer);
    message.timer = null;
    if (!message.expectsAnswer || message.answered || message.resends >= this.policy.maxResends) return;
    message.timer = setTimeout(() => {
      message.timer = null;
      if (message.answered) return;
      message.resends += 1;
      this.enqueue(name, message, 'resend');
    }, this.policy.resendAfterMs);
    message.timer.unref();
  }
}

/** POSTs the envelope to the endpoint declared now; a few attempts, any 2xx is delivered */
async function deliver(endpoint: EndpointDeclaration, envelope: GoodfinEnvelope, signal: AbortSignal): Promise<number | null> {
  const { status } = await deliverCallback({
    url: endpoint.url,
    body: JSON.stringify(envelope),
    headers: { 'content-type': 'application/json; charset=utf-8', [endpoint.auth.name]: endpoint.auth.value },
    attempts: DELIVERY_ATTEMPTS,
    pauseMs: DELIVERY_PAUSE_MS,
    delivered: (status) => status >= 200 && status < 300,
    signal,
  });
  return status;
}
