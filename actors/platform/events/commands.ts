import { AckPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { EventObject } from 'xstate';
import type { Logger } from 'winston';
import { z } from 'zod';
import { requestHash } from '../../../common/canonical-json.ts';
import { isAppError } from '../../../common/errors.ts';
import type { ActorRuntime } from '../../runtime/runtime.ts';

/**
 * Commands in over NATS: a message on `hub.commands.<type>` (stream `HUB_COMMANDS`) is what
 * `POST /actors/:type/:id/events` takes — `{"id": "<actor id>", "event": {"type": …}}` — and its
 * `Nats-Msg-Id` header is the idempotency key (a repeat answers the first result and changes nothing).
 * One durable consumer serves every hub process: each message goes to one of them, is acknowledged
 * once its event is committed (or refused for good), and is delivered again if the process dies first.
 * A `Hub-Reply-To` header names a subject the result is published to.
 */

export const COMMANDS_STREAM = 'HUB_COMMANDS';
export const COMMANDS_CONSUMER = 'hub-commands';
export const REPLY_HEADER = 'Hub-Reply-To';

const commandSchema = z
  .object({
    id: z.string().min(1).max(128),
    event: z.looseObject({ type: z.string().min(1).max(200) }),
  })
  .strict();

export type CommandReply =
  | { ok: true; actor: { type: string; id: string; state: string; revision: number }; replayed: boolean }
  | { ok: false; error: { code: string; message: string } };

export interface CommandsOptions {
  runtime: ActorRuntime;
  logger: Logger;
  /** how long a command may take before NATS delivers it again */
  ackWaitMs?: number;
  /** a command failing for a passing reason (the database away) is delivered again after this */
  retryDelayMs?: number;
}

export class NatsCommands {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private nc: NatsConnection | null = null;
  handled = 0;

  constructor(private readonly options: CommandsOptions) {}

  async start(nc: NatsConnection): Promise<void> {
    this.nc = nc;
    const jsm = await jetstreamManager(nc);
    const stream = { name: COMMANDS_STREAM, subjects: ['hub.commands.>'], storage: 'file' as const, duplicate_window: nanos(10 * 60_000) };
    if (!(await jsm.streams.info(COMMANDS_STREAM).catch(() => null))) await jsm.streams.add(stream);
    const consumer = {
      durable_name: COMMANDS_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
      filter_subject: 'hub.commands.>',
    };
    if (!(await jsm.consumers.info(COMMANDS_STREAM, COMMANDS_CONSUMER).catch(() => null)))
      await jsm.consumers.add(COMMANDS_STREAM, consumer);
    const js = jetstream(nc);
    this.messages = await (await js.consumers.get(COMMANDS_STREAM, COMMANDS_CONSUMER)).consume();
    this.loop = (async () => {
      for await (const message of this.messages!) await this.handle(message);
    })().catch((error: unknown) => {
      this.options.logger.warn('the NATS command consumer stopped', { error: String(error) });
    });
  }

  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  private async handle(message: JsMsg): Promise<void> {
    const type = message.subject.slice('hub.commands.'.length);
    const msgId = message.headers?.get('Nats-Msg-Id') ?? '';
    let reply: CommandReply;
    try {
      const parsed = commandSchema.safeParse(safeJson(message.string()));
      if (!parsed.success) throw new CommandRefused('invalid_command', 'a command is {"id": "…", "event": {"type": "…", …}}');
      this.options.runtime.registry.get(type);
      const result = await this.options.runtime.send(type, parsed.data.id, parsed.data.event as EventObject, {
        // without a message id, the stream's sequence keeps a redelivery idempotent all the same
        idempotencyKey: `nats:${msgId || `${COMMANDS_STREAM}#${message.seq}`}`,
        requestHash: requestHash('event', `${type}/${parsed.data.id}`, parsed.data.event),
        origin: { kind: 'event', actorName: 'nats' },
      });
      reply = {
        ok: true,
        actor: { type, id: result.actor.id, state: result.actor.state, revision: result.actor.revision },
        replayed: result.replayed,
      };
      message.ack();
    } catch (error) {
      if (error instanceof CommandRefused || (isAppError(error) && error.status < 500)) {
        // refused for good: acknowledged, so it is not delivered again and again
        const { code, message: text } = error instanceof CommandRefused ? error : { code: error.code, message: error.message };
        reply = { ok: false, error: { code, message: text } };
        message.ack();
      } else {
        this.options.logger.warn('a NATS command failed; it will be delivered again', { subject: message.subject, error: String(error) });
        message.nak(this.options.retryDelayMs ?? 1_000);
        return;
      }
    }
    this.handled += 1;
    const replyTo = message.headers?.get(REPLY_HEADER);
    if (replyTo && this.nc) this.nc.publish(replyTo, JSON.stringify(reply));
  }
}

class CommandRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
