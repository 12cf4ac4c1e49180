import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueDatabaseName, eventually } from '../support/database.ts';
import { hubClient, startHubProcess } from '../support/hub-process.ts';

interface Received {
  path: string;
  body: string;
  status: number | null;
}

function application(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    input: {
      applicationId: id, receivedMsgId: `in-${id}`, receivedAt: '2026-11-22T10:00:00.000', productType: 'BankGuarantee', amount: 1_000_000, currency: 'RUB',
      client: { inn: '7701234567', name: 'ООО Ромашка' }, documents: [{ documentId: 'doc-sample-0001', documentType: 'CHARTER', fileName: 'устав.pdf' }],
      policy: { limits: { BankGuarantee: { min: 100_000, max: 50_000_000 } }, requiredDocuments: ['CHARTER'], reviewStatuses: ['UNDER_REVIEW'] },
      ...extra,
    },
  };
}

test('a Goodfin application is acknowledged, numbered, its document downloaded, ready for signing; every message reaches Goodfin once, in order, also after Goodfin was down', async () => {
  const hub = await startHubProcess({ dbName: uniqueDatabaseName('goodfin') });
  try {
    const client = hubClient(hub.url);
    const goodfin = String((await client.get('/admin/integrations/goodfin')).body.baseUrl);
    const delivered = async (applicationId: string) => {
      const { requests } = (await (await fetch(`${goodfin}/__sandbox/requests`)).json()) as { requests: Received[] };
      return requests
        .filter((r) => r.path === '/ad/v1/external/openapi/in' && r.status === 200) // taken by Goodfin
        .map((r) => JSON.parse(r.body) as { payloadType: string; msgId: string; payload: { dealApplicationId: string; status?: string; serviceApplicationNumber?: string } })
        .filter((m) => m.payload.dealApplicationId === applicationId);
    };

    assert.equal((await client.post('/actors/goodfin-application', application('gf-1'))).status, 201);
    await client.waitForState('/actors/goodfin-application/gf-1', 'active.readyForSigning');
    const messages = await eventually(async () => {
      const got = await delivered('gf-1');
      return got.length >= 4 ? got : undefined;
    }, 15_000, 'four messages at Goodfin');
    assert.deepEqual(messages.map((m) => `${m.payloadType}:${m.payload.status ?? m.payload.serviceApplicationNumber ?? ''}`), [
      'CommonResponse:',
      'ChangeDealApplicationStatusEvent:RECEIVED',
      `UpdateApplicationParams:BG-2026-000001`,
      'ChangeDealApplicationStatusEvent:READY_FOR_SIGNING',
    ]);
    assert.equal(new Set(messages.map((m) => m.msgId)).size, 4);

    // Goodfin down: the messages wait, then arrive in order
    const fault = await fetch(`${goodfin}/__sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'status', status: 503, count: 3, path: '/ad/v1/external/openapi/in' }) });
    assert.equal(fault.status, 201);
    assert.equal((await client.post('/actors/goodfin-application', application('gf-2'))).status, 201);
    await client.waitForState('/actors/goodfin-application/gf-2', 'active.readyForSigning');
    const late = await eventually(async () => {
      const got = await delivered('gf-2');
      return got.length >= 4 ? got : undefined;
    }, 40_000, 'the messages after Goodfin came back');
    assert.deepEqual(late.map((m) => m.payload.status ?? m.payloadType), ['CommonResponse', 'RECEIVED', 'UpdateApplicationParams', 'READY_FOR_SIGNING']);
    assert.equal(late.find((m) => m.payloadType === 'UpdateApplicationParams')?.payload.serviceApplicationNumber, 'BG-2026-000002');
    assert.equal(new Set(late.map((m) => m.msgId)).size, late.length, 'each delivered once');

    // staff take it through review to issued; each status once, in order
    for (const event of [{ type: 'SET_STATUS', code: 'UNDER_REVIEW' }, { type: 'OFFER_ACCEPTED' }, { type: 'OFFER_PAID' }, { type: 'ISSUE' }]) {
      const sent = await client.post('/actors/goodfin-application/gf-1/events', event);
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
    }
    const statuses = await eventually(async () => {
      const got = (await delivered('gf-1')).filter((m) => m.payloadType === 'ChangeDealApplicationStatusEvent').map((m) => m.payload.status);
      return got.length >= 6 ? got : undefined;
    }, 30_000, 'the review statuses at Goodfin').catch(async (error: unknown) => {
      console.log('DEBUG', JSON.stringify((await delivered('gf-1')).map((m) => m.payload.status ?? m.payloadType)), JSON.stringify((await client.get('/admin/actors/goodfin-application/gf-1')).body).slice(0, 1500));
      throw error;
    });
    assert.deepEqual(statuses, ['RECEIVED', 'READY_FOR_SIGNING', 'UNDER_REVIEW', 'OFFER_ACCEPTED', 'OFFER_PAID', 'ISSUED']);
  } finally {
    await hub.terminate();
  }
});
