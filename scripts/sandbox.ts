import { allConnectors } from '../actors/platform/connectors/index.ts';
import { startEchoSandbox } from '../actors/platform/connectors/echo/sandbox.ts';

/**
 * `npm run sandbox -- <name> [--port N] [--host H]`: runs one integration's
 * sandbox on its own, e.g. to point a hub (`PUT /admin/integrations/<name>`
 * with its baseUrl) or a partner's SDK at it. Faults are injected over HTTP:
 * `POST /__sandbox/faults {"kind":"status","status":503,"count":2}`;
 * `GET /__sandbox/requests` lists what it received; `POST /__sandbox/reset`.
 */
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const name = args.find((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
const names = ['echo', ...allConnectors.map((c) => c.name)].sort();

if (!name || !names.includes(name)) {
  process.stderr.write(`usage: npm run sandbox -- <name> [--port N] [--host H]\n  sandboxes: ${names.join(', ')}\n`);
  process.exit(2);
}
const port = Number(option('port') ?? '0');
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('--port must be a whole number from 0 to 65535\n');
  process.exit(2);
}
const host = option('host') ?? '127.0.0.1';

const definition = allConnectors.find((c) => c.name === name);
const server = definition ? await definition.sandbox.start({ port, host }) : await startEchoSandbox({ port, host });
process.stdout.write(`${name} sandbox listening on ${server.url}\n`);
if (definition) {
  process.stdout.write(`credentials it accepts: ${JSON.stringify(definition.sandbox.credentials)}\n`);
  process.stdout.write(`faults: POST ${server.url}/__sandbox/faults   requests: GET ${server.url}/__sandbox/requests\n`);
}
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
