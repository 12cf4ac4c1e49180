import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GOODFIN_SANDBOX_CREDENTIALS } from '../../actors/platform/connectors/goodfin/sandbox.ts';
import { GOODFIN_PATHS, INBOUND_TOKEN_HEADER, type GoodfinEnvelope } from '../../actors/platform/connectors/goodfin/protocol.ts';
import { inboundToken } from '../../actors/domains/goodfin/model.ts';
import { hubClient, startHubProcess, TEST_ADMIN_KEY, type HubProcess } from './hub-process.ts';
import { eventually, uniqueDatabaseName } from './database.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A message the bank sent Goodfin, as the sandbox received it. */
export interface SentToGoodfin {
  payloadType: string;
  msgId: string;
  payload: {
    dealApplicationId?: string;
    status?: string;
    serviceApplicationNumber?: string;
    originalMsgId?: string;
    success?: boolean;
    errorCode?: string | null;
    errorMessage?: string | null;
    statusDateTime?: string;
    comment?: string | null;
  };
}

/** The Goodfin sandbox the hub runs (sandbox mode), reached over HTTP as a test would reach the real one. */
export async function goodfinOf(client: ReturnType<typeof hubClient>, sandboxUrl?: string) {
  const url = sandboxUrl ?? String((await client.get('/admin/integrations/goodfin')).body.baseUrl);
  const control = async (what: string, body?: unknown) => {
    const answer = await fetch(
      `${url}/__sandbox/${what}`,
      body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    );
    if (!answer.ok) throw new Error(`sandbox ${what}: ${answer.status} ${await answer.text()}`);
    return answer.status === 204 ? null : ((await answer.json()) as Record<string, unknown>);
  };
  return {
    url,
    control,
    /** the service the sandbox's controls act for (the hub's own, once it declared its endpoint), as the sandbox sees it */
    async service(): Promise<{
      serviceSystemName: string;
      endpoint: string | null;
      received: number;
      duplicates: number;
      pushed: number;
      unanswered: number;
      statuses: Array<{ code: string; name: string }>;
      errors: string[];
    }> {
      const { state } = (await control('state')) as {
        state: {
          controlsActFor: string;
          services: Array<{
            serviceSystemName: string;
            endpoint: string | null;
            received: number;
            duplicates: number;
            pushed: number;
            unanswered: number;
            statuses: Array<{ code: string; name: string }>;
            errors: string[];
          }>;
        };
      };
      const found = state.services.find((s) => s.serviceSystemName === state.controlsActFor);
      if (!found) throw new Error(`the sandbox has no service ${state.controlsActFor}`);
      return found;
    },
    /** every message Goodfin took (HTTP 200) from the bank, repeats included, oldest first */
    async received(applicationId?: string): Promise<SentToGoodfin[]> {
      const { requests } = (await (await fetch(`${url}/__sandbox/requests`)).json()) as {
        requests: Array<{ path: string; body: string; status: number | null }>;
      };
      return requests
        .filter((r) => r.path === GOODFIN_PATHS.inbound && r.status === 200)
        .map((r) => JSON.parse(r.body) as SentToGoodfin)
        .filter((m) => applicationId === undefined || m.payload.dealApplicationId === applicationId);
    },
  };
}

/** What Goodfin sends with a push to this hub: the service it is addressed to and the declared header secret. */
async function pushIdentityOf(hubUrl: string): Promise<{ receiver: string; token: string }> {
  const integration = (await (
    await fetch(`${hubUrl}/admin/integrations/goodfin`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } })
  ).json()) as { baseUrl: string; mode: string };
  if (integration.mode !== 'sandbox')
    return { receiver: GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName, token: inboundToken(GOODFIN_SANDBOX_CREDENTIALS) };
  // in sandbox mode the hub registered a service of its own at start-up; its sandbox knows what it declared
  const endpoint = (await eventually(
    async () => {
      const answer = await fetch(`${integration.baseUrl}/__sandbox/endpoint`);
      return answer.ok ? answer.json() : undefined;
    },
    15_000,
    "the hub's endpoint declared to its Goodfin sandbox",
  )) as { serviceSystemName: string; url: string; header: { value: string } };
  if (!endpoint.url.startsWith(hubUrl)) throw new Error(`the sandbox pushes to ${endpoint.url}, not to ${hubUrl}`);
  return { receiver: endpoint.serviceSystemName, token: endpoint.header.value };
}

/** Pushes a message to the hub's `/goodfin/in` as Goodfin does (the header secret the hub declared). */
export async function pushToHub(
  hubUrl: string,
  payloadType: GoodfinEnvelope['payloadType'],
  payload: Record<string, unknown>,
  options: { msgId?: string; token?: string | null; receiver?: string } = {},
) {
  const identity = await pushIdentityOf(hubUrl);
  const envelope = {
    payloadType,
    originator: 'Shb',
    receiver: options.receiver ?? identity.receiver,
    msgId: options.msgId ?? randomUUID(),
    msgDateTime: '2026-11-22T10:00:00.000',
    payload,
  };
  const token = options.token === undefined ? identity.token : options.token;
  const answer = await fetch(`${hubUrl}/goodfin/in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { [INBOUND_TOKEN_HEADER]: token }) },
    body: JSON.stringify(envelope),
  });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown>, msgId: envelope.msgId };
}

export function dealPayload(dealApplicationId: string, overrides: { amount?: number; inn?: string | null; productType?: string } = {}) {
  return {
    dealApplicationId,
    createApplicationDateTime: '2026-11-22T09:58:00.000',
    productType: overrides.productType ?? 'BankGuarantee',
    requestData: {
      amount: overrides.amount ?? 2_500_000,
      currency: 'RUB',
      term: 12,
      guaranteeType: 'CONTRACT_EXECUTION',
      client: { inn: overrides.inn === undefined ? '7707083893' : overrides.inn, name: 'ООО «Ромашка»' },
    },
    documents: [
      { documentId: 'doc-sample-0001', documentType: 'CHARTER', fileName: 'устав.pdf' },
      { documentId: 'doc-sample-0001', documentType: 'FINANCIAL_STATEMENT', fileName: 'баланс.pdf' },
    ],
  };
}

/** The Goodfin sandbox in a process of its own (`npm run sandbox -- goodfin`), so that it outlives a hub killed in a test. */
export async function startGoodfinSandboxProcess(): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/sandbox.ts'), 'goodfin'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the goodfin sandbox did not start: ${output}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A hub of its own (sandbox mode, a fresh database) for one test, with its client and its Goodfin sandbox; stopped whatever happens. */
export async function withGoodfinHub(
  label: string,
  run: (setup: { hub: HubProcess; client: ReturnType<typeof hubClient>; goodfin: Awaited<ReturnType<typeof goodfinOf>> }) => Promise<void>,
  options: { env?: Record<string, string> } = {},
): Promise<void> {
  const hub = await startHubProcess({ dbName: uniqueDatabaseName(label), env: options.env });
  try {
    const client = hubClient(hub.url);
    await run({ hub, client, goodfin: await goodfinOf(client) });
  } finally {
    await hub.terminate();
  }
}

/** Waits until no effect of the application is in flight: from then on its revision moves only with a new event. */
export async function settledApplication(client: ReturnType<typeof hubClient>, id: string): Promise<void> {
  await eventually(
    async () => {
      const actor = await client.get(`/admin/actors/goodfin-application/${id}`);
      return (actor.body.effects as unknown[]).length === 0 ? true : undefined;
    },
    30_000,
    `${id} with no effect in flight`,
  );
}
