import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allConnectors } from '../../actors/platform/connectors/index.ts';
import { uniqueDatabaseName } from '../support/database.ts';
import { hubClient, sandboxCredentialsOf, startHubProcess, TEST_ADMIN_KEY } from '../support/hub-process.ts';

const NAMES = ['novaposhta', 'monobank', 'liqpay', 'rozetka', 'goodfin', 'payme', 'click', 'jowi', 'uzum', 'wildberries', 'ozon'];

interface View {
  name: string;
  known: boolean;
  mode: string;
  baseUrl: string | null;
  credentials: Record<string, string>;
}

test('every connector runs against its sandbox in a fresh hub: listed, tested over HTTP, measured, healthy; a credential change applies at once', async () => {
  assert.deepEqual(allConnectors.map((c) => c.name).sort(), [...NAMES].sort());
  const hub = await startHubProcess({ dbName: uniqueDatabaseName('connectors_e2e'), env: { LOG_LEVEL: 'http' } });
  const client = hubClient(hub.url);
  const bodies: string[] = [];
  try {
    for (const name of NAMES)
      assert.match(hub.output(), new RegExp(`integration sandboxed.*${name}|${name}.*integration sandboxed`), `${name} was not sandboxed`);

    const list = await client.get('/admin/integrations');
    bodies.push(JSON.stringify(list.body));
    const views = (list.body as { integrations: View[] }).integrations;
    for (const name of NAMES) {
      const view = views.find((v) => v.name === name);
      assert.ok(view, `${name} is not listed`);
      assert.equal(view.known, true);
      assert.equal(view.mode, 'sandbox');
      assert.match(view.baseUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(
        Object.values(view.credentials).every((state) => state === 'unset'),
        `${name}: ${JSON.stringify(view.credentials)}`,
      );
    }

    for (const name of NAMES) {
      const result = await client.post(`/admin/integrations/${name}/test`, {});
      bodies.push(JSON.stringify(result.body));
      assert.equal(result.status, 200);
      assert.equal(result.body.ok, true, `${name}: ${JSON.stringify(result.body)}`);
      assert.equal(result.body.mode, 'sandbox');
      assert.match(String(result.body.detail), /authenticated/);
    }

    // Point Nova Poshta at its sandbox with a wrong key, then the right one: no restart between.
    const sandboxUrl = views.find((v) => v.name === 'novaposhta')?.baseUrl ?? '';
    const wrong = await client.call('PUT', '/admin/integrations/novaposhta', {
      baseUrl: sandboxUrl,
      credentials: { apiKey: 'np-wrong-key-5150' },
    });
    bodies.push(JSON.stringify(wrong.body));
    assert.equal(wrong.status, 200, JSON.stringify(wrong.body));
    assert.equal((wrong.body as unknown as View).mode, 'configured');
    const refused = await client.post('/admin/integrations/novaposhta/test', {});
    bodies.push(JSON.stringify(refused.body));
    assert.equal(refused.body.ok, false);
    assert.deepEqual(refused.body.error, { code: '20000200068', message: 'API auth fail', status: 401, retryable: false });
    // the key of this installation's sandbox, not the one in the source
    const sandboxKey = (await sandboxCredentialsOf(hub.dataDir, 'novaposhta')).apiKey ?? '';
    assert.notEqual(sandboxKey, allConnectors.find((c) => c.name === 'novaposhta')?.sandbox.credentials.apiKey);
    assert.equal((await client.call('PUT', '/admin/integrations/novaposhta', { credentials: { apiKey: sandboxKey } })).status, 200);
    const accepted = await client.post('/admin/integrations/novaposhta/test', {});
    assert.equal(accepted.body.ok, true, JSON.stringify(accepted.body));
    assert.equal(accepted.body.mode, 'configured');

    const metrics = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    const text = await metrics.text();
    const operations: Record<string, string> = {
      novaposhta: 'Address.getCities',
      monobank: 'merchant.pubkey',
      liqpay: 'status',
      rozetka: 'login',
      goodfin: 'oauth.token',
      payme: 'checkout.open',
      jowi: 'customers.find',
    };
    for (const [name, operation] of Object.entries(operations)) {
      assert.match(
        text,
        new RegExp(
          `hub_connector_requests_total\\{integration="${name}",operation="${operation.replace('.', '\\.')}",outcome="(ok|rejected)"\\} [1-9]`,
        ),
        `${name} ${operation} not counted`,
      );
    }
    assert.match(text, /hub_connector_errors_total\{integration="novaposhta",code="20000200068"\} 1/);

    const health = await client.get('/admin/integrations/health');
    const integrations = (health.body as { integrations: Array<{ name: string; calls: number; circuit: string }> }).integrations;
    for (const name of NAMES) {
      const entry = integrations.find((i) => i.name === name);
      assert.ok((entry?.calls ?? 0) >= 1, `${name} health: ${JSON.stringify(entry)}`);
      assert.equal(entry?.circuit, 'closed');
    }

    const everything = bodies.join('\n') + hub.output();
    const secretFields: Record<string, string> = {
      novaposhta: 'apiKey',
      monobank: 'token',
      liqpay: 'privateKey',
      rozetka: 'password',
      goodfin: 'password',
      payme: 'key',
      click: 'secretKey',
      jowi: 'apiSecret',
      uzum: 'apiToken',
      wildberries: 'token',
      ozon: 'apiKey',
    };
    for (const connector of allConnectors) {
      const field = secretFields[connector.name] ?? '';
      // the secrets the hub generated for its sandboxes, and the fixed ones of the source
      const generated = (await sandboxCredentialsOf(hub.dataDir, connector.name))[field] ?? '';
      const fixed = (connector.sandbox.credentials as Record<string, string>)[field] ?? '';
      for (const secret of [generated, fixed])
        assert.ok(secret.length > 8 && !everything.includes(secret), `${connector.name} ${field} leaked`);
    }
    assert.ok(!everything.includes('np-wrong-key-5150'), 'a stored key leaked into a response or the log');
  } finally {
    await hub.terminate();
  }
});
