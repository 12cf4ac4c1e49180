import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GOODFIN_PATHS, registeredServiceSchema } from '../../actors/platform/connectors/goodfin/protocol.ts';
import { GOODFIN_SANDBOX_CREDENTIALS } from '../../actors/platform/connectors/goodfin/sandbox.ts';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { goodfinOf, startGoodfinSandboxProcess } from '../support/goodfin.ts';
import { hubClient, startHubProcess } from '../support/hub-process.ts';

interface DeclaredService {
  serviceSystemName: string;
  endpoint: string | null;
  statuses: Array<{ code: string; name: string }>;
  errors: string[];
}

type Goodfin = Awaited<ReturnType<typeof goodfinOf>>;

/** What a Goodfin (sandbox) holds as declared by one service. */
async function declaredAt(goodfin: Goodfin, serviceSystemName: string): Promise<DeclaredService | undefined> {
  const { state } = (await goodfin.control('state')) as { state: { services: DeclaredService[] } };
  return state.services.find((s) => s.serviceSystemName === serviceSystemName);
}

test('declarations: registered and declared at start-up, made again at once when the statuses, the base URL or the credentials change, retried while Goodfin fails', async () => {
  const other = await startGoodfinSandboxProcess();
  const hub = await startHubProcess({ dbName: uniqueDatabaseName('goodfin-declare') });
  try {
    const client = hubClient(hub.url);
    const builtIn = await goodfinOf(client);

    // start-up: registered as a service of its own, then the endpoint with its secret, the status model, the error codes
    const first = await eventually(
      async () => {
        const found = await builtIn.service();
        return found.endpoint && found.statuses.length > 0 && found.errors.length > 0 ? found : undefined;
      },
      15_000,
      'the declarations at start-up',
    );
    const sandboxName = first.serviceSystemName;
    assert.notEqual(sandboxName, GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName, 'the hub registered a service of its own');
    const startup = ((await builtIn.control('requests')) as { requests: Array<{ path: string; status: number | null }> }).requests.map(
      (r) => r.path,
    );
    assert.deepEqual(startup.slice(0, 5), [
      GOODFIN_PATHS.registerService,
      GOODFIN_PATHS.token,
      GOODFIN_PATHS.integrationEndpoint,
      GOODFIN_PATHS.statusMapping,
      GOODFIN_PATHS.errorMapping,
    ]);
    assert.equal(first.endpoint, `${hub.url}/goodfin/in`);
    assert.deepEqual(
      first.statuses.find((s) => s.code === 'WITHDRAWN'),
      { code: 'WITHDRAWN', name: 'Отозвана клиентом' },
    );
    assert.deepEqual(
      first.statuses.find((s) => s.code === 'APPROVED'),
      { code: 'APPROVED', name: 'Одобрена' },
    );
    assert.ok(first.errors.includes('WITHDRAWAL_REFUSED') && first.errors.includes('DOCS_MISSING'));
    const declarations = (await client.get('/admin/goodfin')).body.declarations as {
      declaredAt: string | null;
      endpoint: string;
      lastError: string | null;
    };
    assert.ok(declarations.declaredAt);
    assert.deepEqual([declarations.endpoint, declarations.lastError], [`${hub.url}/goodfin/in`, null]);

    // a new status list and a new label: declared again at once
    const badList = await client.call('PUT', '/admin/integrations/goodfin', {
      settings: { reviewStatuses: [{ code: 'ISSUED', name: 'Выдана' }] },
    });
    assert.equal(badList.status, 400, 'a fixed status cannot be a review status');
    const changed = await client.call('PUT', '/admin/integrations/goodfin', {
      settings: {
        reviewStatuses: [
          { code: 'UNDER_REVIEW', name: 'На рассмотрении' },
          { code: 'CREDIT_COMMITTEE', name: 'Кредитный комитет' },
        ],
        statusLabels: { ISSUED: 'Гарантия выдана' },
      },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    const redeclared = await eventually(
      async () => {
        const found = await declaredAt(builtIn, sandboxName);
        return found?.statuses.some((s) => s.code === 'CREDIT_COMMITTEE') ? found : undefined;
      },
      5_000,
      'the new status list at Goodfin',
    );
    assert.equal(
      redeclared.statuses.some((s) => s.code === 'APPROVED'),
      false,
    );
    assert.equal(redeclared.statuses.find((s) => s.code === 'ISSUED')?.name, 'Гарантия выдана');

    // an application received now is reviewed with the new list
    const generated = await client.post('/admin/sandbox/goodfin/generatedeals', { count: 1 });
    const id = (generated.body.deals as Array<{ dealApplicationId: string }>)[0]!.dealApplicationId;
    await client.waitForState(`/applications/${id}`, 'active.readyForSigning', 30_000);
    assert.equal((await client.post(`/applications/${id}/events`, { type: 'SET_STATUS', code: 'APPROVED' })).status, 400);
    const committee = await client.post(`/applications/${id}/events`, { type: 'SET_STATUS', code: 'CREDIT_COMMITTEE' });
    assert.equal(committee.status, 200);
    assert.deepEqual(committee.body.status, { code: 'CREDIT_COMMITTEE', label: 'Кредитный комитет' });

    // another Goodfin with another service: a new base URL and credentials take effect at once,
    // through a Goodfin that fails the first declarations
    const goodfin = await goodfinOf(client, other.url);
    const service = registeredServiceSchema.parse(
      await (await fetch(`${other.url}${GOODFIN_PATHS.registerService}`, { method: 'POST' })).json(),
    );
    await goodfin.control('faults', { kind: 'status', status: 503, count: 4, path: GOODFIN_PATHS.statusMapping });
    const moved = await client.call('PUT', '/admin/integrations/goodfin', { baseUrl: other.url, credentials: service });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.mode, 'configured');
    const atOther = await eventually(
      async () => {
        const found = await declaredAt(goodfin, service.serviceSystemName);
        return found?.errors.length ? found : undefined;
      },
      20_000,
      'the declarations at the other Goodfin',
    );
    assert.equal(atOther.endpoint, `${hub.url}/goodfin/in`);
    assert.ok(atOther.statuses.some((s) => s.code === 'CREDIT_COMMITTEE'));
    const mappings = ((await goodfin.control('requests')) as { requests: Array<{ path: string; status: number | null }> }).requests.filter(
      (r) => r.path === GOODFIN_PATHS.statusMapping,
    );
    assert.deepEqual(
      mappings.map((r) => r.status),
      [503, 503, 503, 503, 200],
      'retried until Goodfin took it',
    );
    await eventually(
      async () =>
        ((await client.get('/admin/goodfin')).body.declarations as { lastError: string | null }).lastError === null ? true : undefined,
      5_000,
      'the declaration state clear',
    );

    // the other Goodfin pushes with the new service's secret, and the application's messages go there
    const [pushed] = (
      (await goodfin.control('generatedeals', { count: 1, serviceSystemName: service.serviceSystemName })) as {
        deals: Array<{ dealApplicationId: string }>;
      }
    ).deals;
    await client.waitForState(`/applications/${pushed!.dealApplicationId}`, 'active.readyForSigning', 30_000);
    const statuses = await eventually(
      async () => {
        const got = (await goodfin.received(pushed!.dealApplicationId)).filter((m) => m.payloadType === 'ChangeDealApplicationStatusEvent');
        return got.length >= 2 ? got : undefined;
      },
      30_000,
      'the statuses at the other Goodfin',
    );
    assert.deepEqual(
      statuses.map((m) => m.payload.status),
      ['RECEIVED', 'READY_FOR_SIGNING'],
    );
    assert.deepEqual(await builtIn.received(pushed!.dealApplicationId), [], 'nothing went to the old one');
  } finally {
    await hub.terminate();
    await other.stop();
  }
});
