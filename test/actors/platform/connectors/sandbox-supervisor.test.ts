import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import winston from 'winston';
import { allConnectors } from '../../../../actors/platform/connectors/index.ts';
import { SandboxSupervisor } from '../../../../actors/platform/connectors/kit/sandbox-supervisor.ts';
import { createLogger } from '../../../../common/logger.ts';
import {
  SANDBOX_CREDENTIALS_FILE,
  SandboxCredentialsFile,
  SandboxCredentialsFileError,
} from '../../../../persistence/sandbox-credentials.ts';
import { ITEMS_SANDBOX_CREDENTIALS, itemsConnector } from '../../../support/items-connector.ts';

/** The service's logger, writing into a string the test reads. */
function capturedLogger() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const logger = createLogger({ level: 'info', json: true, transports: [new winston.transports.Stream({ stream })] });
  return { logger, output: () => text };
}

async function withDataDir(run: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sandbox-credentials-'));
  try {
    await run(dataDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const supervisorIn = (dataDir: string, logger = capturedLogger().logger) =>
  new SandboxSupervisor(logger, SandboxCredentialsFile.in(dataDir));

async function itemsStatus(url: string, apiKey: string): Promise<number> {
  return (await fetch(`${url}/items/1`, { headers: { 'x-api-key': apiKey } })).status;
}

test('a first start generates the sandbox credentials into a 0600 file, starts the sandbox with them, and logs no secret', () =>
  withDataDir(async (dataDir) => {
    const { logger, output } = capturedLogger();
    const supervisor = supervisorIn(dataDir, logger);
    await supervisor.start([itemsConnector]);
    try {
      const file = path.join(dataDir, SANDBOX_CREDENTIALS_FILE);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
      const stored = JSON.parse(await readFile(file, 'utf8')) as { integrations: Record<string, { apiKey: string }> };
      const apiKey = stored.integrations.items?.apiKey ?? '';
      assert.match(apiKey, /^[A-Za-z0-9]{24}$/);
      assert.notEqual(apiKey, ITEMS_SANDBOX_CREDENTIALS.apiKey);
      assert.deepEqual(supervisor.credentialsOf(itemsConnector), { apiKey });

      // the sandbox the hub runs accepts this installation's key, and not the one in the source
      const server = supervisor.serverOf('items');
      assert.ok(server);
      assert.equal(await itemsStatus(server.url, apiKey), 404, 'authenticated: no such item');
      assert.equal(await itemsStatus(server.url, ITEMS_SANDBOX_CREDENTIALS.apiKey), 401);

      assert.match(output(), /generated credentials for the sandboxes/);
      assert.ok(!output().includes(apiKey), 'the generated key was logged');
    } finally {
      await supervisor.stop();
    }
  }));

test('a restart reuses the stored credentials; an entry the connector no longer accepts is generated again, the others kept', () =>
  withDataDir(async (dataDir) => {
    const first = supervisorIn(dataDir);
    await first.start([itemsConnector]);
    const generated = first.credentialsOf(itemsConnector);
    await first.stop();

    const { logger, output } = capturedLogger();
    const second = supervisorIn(dataDir, logger);
    await second.start([itemsConnector]);
    try {
      assert.deepEqual(second.credentialsOf(itemsConnector), generated);
      assert.equal(await itemsStatus(second.serverOf('items')?.url ?? '', generated?.apiKey ?? ''), 404);
      assert.doesNotMatch(output(), /generated credentials/, 'nothing new was generated');
    } finally {
      await second.stop();
    }

    // a damaged entry (an empty key) is replaced; an integration not started now keeps its entry
    const file = path.join(dataDir, SANDBOX_CREDENTIALS_FILE);
    await writeFile(file, JSON.stringify({ version: 1, integrations: { items: { apiKey: '' }, other: { token: 'kept-as-is' } } }));
    const third = supervisorIn(dataDir);
    const credentials = await third.credentialsFor([itemsConnector]);
    assert.match(credentials.items?.apiKey ?? '', /^[A-Za-z0-9]{24}$/);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { integrations: Record<string, Record<string, string>> };
    assert.deepEqual(stored.integrations, { items: credentials.items, other: { token: 'kept-as-is' } });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  }));

test('a file that is not a credentials file stops the start and is left as it was', () =>
  withDataDir(async (dataDir) => {
    const file = path.join(dataDir, SANDBOX_CREDENTIALS_FILE);
    for (const content of ['{"version": 1, "integrations": ', JSON.stringify({ version: 2, integrations: {} })]) {
      await writeFile(file, content);
      const supervisor = supervisorIn(dataDir);
      await assert.rejects(supervisor.start([itemsConnector]), SandboxCredentialsFileError);
      assert.equal(supervisor.serverOf('items'), null);
      assert.equal(await readFile(file, 'utf8'), content);
    }
  }));

test('two processes starting on one fresh DATA_DIR end up with the same credentials', () =>
  withDataDir(async (dataDir) => {
    const [a, b] = await Promise.all([
      supervisorIn(dataDir).credentialsFor(allConnectors),
      supervisorIn(dataDir).credentialsFor(allConnectors),
    ]);
    assert.deepEqual(a, b);
    const stored = JSON.parse(await readFile(path.join(dataDir, SANDBOX_CREDENTIALS_FILE), 'utf8')) as { integrations: unknown };
    assert.deepEqual(stored.integrations, a);
  }));

test("every connector generates credentials its own schema accepts, with each secret random and none the source's", () => {
  // the fields that open a sandbox; the rest are identifiers the protocol gives a fixed shape
  const secretFields: Record<string, string[]> = {
    novaposhta: ['apiKey'],
    monobank: ['token'],
    liqpay: ['privateKey'],
    rozetka: ['password'],
    goodfin: ['password'],
    payme: ['key'],
    click: ['secretKey'],
    jowi: ['apiKey', 'apiSecret'],
    uzum: ['apiToken'],
    wildberries: ['token'],
    ozon: ['apiKey'],
  };
  assert.deepEqual(allConnectors.map((c) => c.name).sort(), Object.keys(secretFields).sort());
  for (const connector of allConnectors) {
    const one = connector.sandbox.generateCredentials() as Record<string, string>;
    const two = connector.sandbox.generateCredentials() as Record<string, string>;
    assert.deepEqual(connector.credentials.parse(one), one, `${connector.name}: its schema changes what it generated`);
    assert.deepEqual(Object.keys(one).sort(), Object.keys(connector.sandbox.credentials).sort(), connector.name);
    for (const field of secretFields[connector.name] ?? []) {
      const fixed = (connector.sandbox.credentials as Record<string, string>)[field];
      assert.ok((one[field]?.length ?? 0) >= 16, `${connector.name}.${field} is short`);
      assert.notEqual(one[field], fixed, `${connector.name}.${field} is the fixed one`);
      assert.notEqual(one[field], two[field], `${connector.name}.${field} is not random`);
    }
  }
});
