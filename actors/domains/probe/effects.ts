import probe from '../../../machines/probe.ts';
import { EchoClient } from '../../platform/connectors/echo/client.ts';
import { bindEffects, type BoundEffects } from '../../runtime/effects.ts';

/** What the probe machine invokes: one call to the echo service, keyed so that it happens once. */
export function probeEffects(options: { baseUrl: string }): BoundEffects {
  const client = new EchoClient({ baseUrl: options.baseUrl });
  return bindEffects(probe, {
    echoCall: (input, context) => client.echo(input, context.idempotencyKey, context.signal),
  });
}
