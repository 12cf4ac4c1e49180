import type { AlertSink } from '../../platform/alerts/alerts.ts';
import { OneRunAtATime } from '../../platform/jobs/one-run-at-a-time.ts';
import { createHash } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { Logger } from 'winston';
import type { OutgoingMessage } from '../../../machines/goodfin-application.ts';
import { isDuplicateKeyError } from '../../../persistence/collections.ts';
import type { OutboxAnswerDoc, OutboxDoc } from '../../../persistence/goodfin.ts';
import type { GoodfinClient } from '../../platform/connectors/goodfin/client.ts';
import { GOODFIN_SYSTEM_NAME, goodfinTime, PAYLOAD_TYPES } from '../../platform/connectors/goodfin/protocol.ts';
import type { JobDefinition } from '../../platform/jobs/registry.ts';

/**
 * Messages to Goodfin, durable and in order per application: queued once
 * (the message's stable id is the document id), sent oldest first, an
 * application's later messages waiting while an earlier one fails, retried
 * with growing pauses, an alert when one keeps failing. Nothing is sent
 * twice by the hub: a message is marked sent after Goodfin's 2xx (a crash
 * between the two resends it once, with the same msgId, which Goodfin
 * deduplicates as we do).
 */
export interface OutboxOptions {
  collection: Collection<OutboxDoc>;
  answers: Collection<OutboxAnswerDoc>;
  client: () => GoodfinClient;
  logger: Logger;
  alerts?: AlertSink;
  now?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** attempts after which an alert is raised (delivery goes on) */
  alertAfter?: number;
}

/** A stable UUID-shaped msgId from the message's id. */
export function msgIdOf(id: string): string {
  const hex = createHash('sha1').update(`goodfin:${id}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export class GoodfinOutbox {
  private lastSeq = 0;
  private readonly deliveries = new OneRunAtATime(() => this.deliverDue());

  constructor(private readonly options: OutboxOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async enqueue(applicationId: string, messages: OutgoingMessage[]): Promise<number> {
    let queued = 0;
    for (const message of messages) {
      const at = this.now();
      this.lastSeq = Math.max(this.lastSeq + 1, at * 1000);
      const doc: OutboxDoc = {
        _id: message.id,
        applicationId,
        seq: this.lastSeq,
        msgId: msgIdOf(message.id),
        payloadType: message.payloadType,
        // a status's time is when it was queued (once: a repeat is not stored)
        payload:
          message.payloadType === 'ChangeDealApplicationStatusEvent'
            ? { statusDateTime: goodfinTime(at), ...message.payload }
            : message.payload,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: new Date(at),
        lastError: null,
        createdAt: new Date(at),
        sentAt: null,
      };
      try {
        await this.options.collection.insertOne(doc);
        queued += 1;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error; // queued before: the first one stands
      }
    }
    if (queued > 0) void this.deliver().catch(() => undefined);
    return queued;
  }

  /** Sends what is due; one run at a time in a process (a call during a run runs once more after it). */
  deliver(): Promise<{ sent: number; failed: number }> {
    return this.deliveries.run();
  }

  private async deliverDue(): Promise<{ sent: number; failed: number }> {
    const pending = await this.options.collection.find({ status: 'pending' }).sort({ seq: 1 }).limit(2_000).toArray();
    const byApplication = new Map<string, OutboxDoc[]>();
    for (const doc of pending) byApplication.set(doc.applicationId, [...(byApplication.get(doc.applicationId) ?? []), doc]);
    let sent = 0;
    let failed = 0;
    for (const queue of byApplication.values()) {
      for (const doc of queue) {
        if (doc.nextAttemptAt.getTime() > this.now()) break; // the first undelivered waits: later ones wait behind it
        const client = this.options.client();
        try {
          await client.send({
            payloadType: payloadTypeOf(doc.payloadType),
            originator: client.serviceSystemName,
            receiver: GOODFIN_SYSTEM_NAME,
            msgId: doc.msgId,
            msgDateTime: goodfinTime(this.now()),
            payload: doc.payload,
          });
          await this.options.collection.updateOne(
            { _id: doc._id },
            { $set: { status: 'sent', sentAt: new Date(this.now()), attempts: doc.attempts + 1, lastError: null } },
          );
          sent += 1;
        } catch (error) {
          failed += 1;
          const attempts = doc.attempts + 1;
          const delay = Math.min(this.options.maxDelayMs ?? 300_000, (this.options.baseDelayMs ?? 1_000) * 2 ** Math.min(attempts - 1, 20));
          const message = error instanceof Error ? error.message : String(error);
          await this.options.collection.updateOne(
            { _id: doc._id },
            { $set: { attempts, nextAttemptAt: new Date(this.now() + delay), lastError: message } },
          );
          this.options.logger.warn('goodfin message not delivered; it and the ones after it wait', {
            applicationId: doc.applicationId,
            message: doc._id,
            attempts,
            error: message,
          });
          if (attempts === (this.options.alertAfter ?? 5)) {
            await this.options.alerts
              ?.raise({
                kind: 'goodfin_delivery_failing',
                integration: 'goodfin',
                subject: `goodfin-application/${doc.applicationId}`,
                message: `a ${doc.payloadType} to Goodfin failed ${attempts} times; retrying`,
                details: { message: doc._id, error: message },
              })
              .catch(() => undefined);
          }
          break;
        }
      }
    }
    return { sent, failed };
  }

  /**
   * Goodfin's CommonResponse to one of our messages: the message it answers,
   * or null when none of ours has that msgId. The first answer stands (a
   * repeat of it by Goodfin changes nothing).
   */
  async recordAnswer(
    originalMsgId: string,
    answer: { msgId: string; success: boolean; errorCode: string | null; errorMessage: string | null },
  ): Promise<OutboxDoc | null> {
    const message = await this.options.collection.findOne({ msgId: originalMsgId });
    if (!message) return null;
    try {
      await this.options.answers.insertOne({ _id: message._id, ...answer, at: new Date(this.now()) });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    return message;
  }

  /**
   * Sends these messages again (those already sent; pending ones go anyway),
   * with their msgIds: Goodfin repeats a message it heard no answer to, and
   * expects the answer again.
   */
  async sendAgain(ids: string[]): Promise<string[]> {
    const again: string[] = [];
    for (const id of ids) {
      const result = await this.options.collection.updateOne(
        { _id: id, status: 'sent' },
        { $set: { status: 'pending', nextAttemptAt: new Date(this.now()), attempts: 0 } },
      );
      if (result.modifiedCount > 0) again.push(id);
    }
    if (again.length > 0) void this.deliver().catch(() => undefined);
    return again;
  }

  /** Everything we sent for one application, in order, each with Goodfin's answer when it came. */
  async messagesOf(applicationId: string): Promise<Array<OutboxDoc & { answer: OutboxAnswerDoc | null }>> {
    const messages = await this.options.collection.find({ applicationId }).sort({ seq: 1 }).limit(500).toArray();
    const answers = messages.length === 0 ? [] : await this.options.answers.find({ _id: { $in: messages.map((m) => m._id) } }).toArray();
    const byId = new Map(answers.map((a) => [a._id, a]));
    return messages.map((m) => ({ ...m, answer: byId.get(m._id) ?? null }));
  }
}

/** The outbox's delivery runs as a job, so one process at a time works through it and a restart picks it up. */
export function goodfinOutboxJob(outbox: GoodfinOutbox): JobDefinition {
  return {
    name: 'goodfin-outbox',
    description: 'delivers queued messages to Goodfin, in order per application, retrying what failed',
    every: '10 seconds',
    syncs: 'goodfin',
    run: () => outbox.deliver(),
  };
}

/** Stored as a string; only this outbox writes it, from the protocol's own list (a stranger value is a bug, refused). */
function payloadTypeOf(stored: string): (typeof PAYLOAD_TYPES)[number] {
  const known = PAYLOAD_TYPES.find((type) => type === stored);
  if (!known) throw new Error(`outbox message with an unknown payloadType "${stored}"`);
  return known;
}
