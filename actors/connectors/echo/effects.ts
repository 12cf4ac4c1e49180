import type { EchoCallInput, EchoCallOutput } from '../../../machines/probe.ts';
import type { EffectHandler } from '../../runtime/effects.ts';
import { EchoClient } from './client.ts';

/** The effects machines invoke that the echo service performs. */
export function echoEffects(options: { baseUrl: string }): { echoCall: EffectHandler<EchoCallInput, EchoCallOutput> } {
  const client = new EchoClient({ baseUrl: options.baseUrl });
  return {
    echoCall: (input, context) => client.echo(input, context.idempotencyKey, context.signal),
  };
}
