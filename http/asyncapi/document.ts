import { z } from 'zod';
import { domainEventSubject } from '../../actors/runtime/domain-events.ts';
import { COMMANDS_STREAM } from '../../actors/platform/events/commands.ts';
import { EVENTS_STREAM } from '../../actors/platform/events/publisher.ts';
import type { AnyMachineModule } from '../../machines/machine-module.ts';

/**
 * The AsyncAPI 3.0 document of the hub's NATS subjects, built from the machine modules' declarations (as
 * `/openapi.json` is from the routes' contracts): one channel per domain event, `hub.<type>.<event>`, whose
 * message is the envelope every event shares with its module's `data` schema inside, and one channel per
 * machine for commands in, `hub.commands.<type>`.
 */

type JsonSchema = Record<string, unknown>;

function envelope(type: string, event: string, data: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['id', 'type', 'actorId', 'event', 'revision', 'occurredAt', 'state', 'data'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', description: 'the commit id: unique per event; also the message id (`Nats-Msg-Id`) to deduplicate by' },
      type: { const: type },
      actorId: { type: 'string' },
      event: { const: event },
      revision: { type: 'integer', minimum: 1, description: "the actor's revision: in order per actor" },
      occurredAt: { type: 'string', format: 'date-time', description: 'when the transition was committed' },
      state: { type: 'string', description: 'the state the transition ended in (internal; the event name is the contract)' },
      data: { anyOf: [data, { type: 'null' }] },
    },
  };
}

const commandSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'event'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 128, description: "the actor's id" },
    event: {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string' } },
      description: 'what `POST /actors/{type}/{id}/events` takes',
    },
  },
};

function key(text: string): string {
  return text.replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ?? '').toUpperCase());
}

export function buildAsyncApiDocument(modules: readonly AnyMachineModule[], info: { version: string }): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const module of modules) {
    const declared = module.domainEvents;
    const data = declared ? (z.toJSONSchema(declared.data, { io: 'output', unrepresentable: 'any' }) as JsonSchema) : {};
    delete data.$schema;
    for (const [event, { description }] of Object.entries(declared?.events ?? { changed: { description: 'any transition' } })) {
      const name = key(`${module.type}-${event}`);
      messages[name] = {
        name,
        title: `${module.type} ${event}`,
        summary: description,
        contentType: 'application/json',
        payload: envelope(module.type, event, data),
      };
      channels[name] = {
        address: domainEventSubject(module.type, event),
        description: `${description} (stream ${EVENTS_STREAM})`,
        messages: { [name]: { $ref: `#/components/messages/${name}` } },
      };
      operations[`publish${name[0]?.toUpperCase() ?? ''}${name.slice(1)}`] = { action: 'send', channel: { $ref: `#/channels/${name}` } };
    }
    const commands = key(`${module.type}-commands`);
    messages[commands] = {
      name: commands,
      title: `a command to a ${module.type}`,
      summary:
        'An event for one actor; the `Nats-Msg-Id` header is its idempotency key; a `Hub-Reply-To` header names where the result goes',
      contentType: 'application/json',
      payload: commandSchema,
    };
    channels[commands] = {
      address: `hub.commands.${module.type}`,
      description: `commands to ${module.type} actors (stream ${COMMANDS_STREAM})`,
      messages: { [commands]: { $ref: `#/components/messages/${commands}` } },
    };
    operations[`receive${commands[0]?.toUpperCase() ?? ''}${commands.slice(1)}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${commands}` },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Integration Hub domain events',
      version: info.version,
      description:
        "Every committed transition of every actor, at least once, in order per actor, deduplicated by `id` (JetStream's duplicate window drops a repeat; a consumer drops a later one by the same id).",
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages },
  };
}
