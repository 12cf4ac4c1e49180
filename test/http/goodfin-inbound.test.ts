import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import goodfinApplication from '../../machines/goodfin-application.ts';
import { eventually } from '../support/database.ts';
import { dealPayload, pushToHub, settledApplication, withGoodfinHub } from '../support/goodfin.ts';
import { hubDatabases } from '../support/hub-process.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';

// Every actor these tests drove, replayed from its journal once their hubs have stopped: the machines are deterministic.
after(() => assertHubJournalsReplay(hubDatabases(), [goodfinApplication]));

interface ApplicationBody {
  state: string;
  revision: number;
  number: string | null;
  status: { code: string; label: string } | null;
  documents: Array<{ documentId: string; downloaded: boolean; url: string | null }>;
  messages: {
    sent: Array<{ payloadType: string; msgId: string; payload: Record<string, unknown>; status: string }>;
    received: Array<{ msgId: string; payloadType: string; result: string }>;
  };
  history: Array<{ event: string; to: string; by: string }>;
}

test('POST /goodfin/in: only Goodfin with the declared secret (and from an allowed address, when listed) gets in; a malformed or misaddressed message is refused before anything is stored', () =>
  withGoodfinHub('goodfin-in-auth', async ({ hub, client }) => {
    const noToken = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-auth-1'), { token: null });
    assert.equal(noToken.status, 401);
    const wrong = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-auth-1'), { token: 'guessed-token' });
    assert.equal(wrong.status, 401);
    assert.equal((wrong.body.error as { code: string }).code, 'invalid_signature');

    const notJson = await fetch(`${hub.url}/goodfin/in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Goodfin-Token': 'x' },
      body: '{',
    });
    assert.equal(notJson.status, 401, 'the secret is checked first');
    // by default another receiver is taken as ours (the guide's own example names no service id) and answered
    const loose = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-auth-0'), { receiver: 'GoodfinGuideExample' });
    assert.equal(loose.status, 200, JSON.stringify(loose.body));
    await client.waitForState('/applications/gf-auth-0', 'active.readyForSigning');
    // in strict mode it is refused before anything is stored
    assert.equal((await client.call('PUT', '/admin/integrations/goodfin', { settings: { strictReceiver: true } })).status, 200);
    const misaddressed = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-auth-1'), { receiver: 'someOtherBank' });
    assert.equal(misaddressed.status, 400);
    assert.match(JSON.stringify(misaddressed.body), /someOtherBank/);

    assert.equal((await client.get('/applications/gf-auth-1')).status, 404, 'nothing was created');

    // with an allow-list, only Goodfin's addresses get in, even with the right secret
    assert.equal((await client.call('PUT', '/admin/integrations/goodfin', { settings: { allowedIps: ['10.20.0.0/16'] } })).status, 200);
    const outsider = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-auth-1'));
    assert.equal(outsider.status, 403);
    assert.equal((outsider.body.error as { code: string }).code, 'address_not_allowed');
    assert.equal((await client.call('PUT', '/admin/integrations/goodfin', { settings: { allowedIps: ['127.0.0.0/8'] } })).status, 200);
    const insider = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-auth-1'));
    assert.equal(insider.status, 200, JSON.stringify(insider.body));
  }));

test('an AddDealApplication becomes an application: acknowledged, numbered, documents downloaded, ready for signing; a repeat of its msgId changes nothing and is answered again', () =>
  withGoodfinHub('goodfin-in-add', async ({ hub, client, goodfin }) => {
    const first = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-add-1'));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.duplicate, false);
    await client.waitForState('/applications/gf-add-1', 'active.readyForSigning');

    const acks = async () =>
      (await goodfin.received('gf-add-1')).filter((m) => m.payloadType === 'CommonResponse' && m.payload.originalMsgId === first.msgId);
    await eventually(async () => ((await acks()).length === 1 ? true : undefined), 15_000, 'the CommonResponse at Goodfin');
    // Goodfin answers each message we sent it with a CommonResponse; the application keeps those answers
    await eventually(
      async () => {
        const view = (await client.get('/applications/gf-add-1')).body as unknown as ApplicationBody;
        const ours = view.messages.sent.filter((m) => m.payloadType !== 'CommonResponse').length;
        return view.messages.received.filter((m) => m.payloadType === 'CommonResponse').length === ours ? view : undefined;
      },
      15_000,
      'the answers to our messages recorded',
    );
    // and nothing of it in flight: its revision moves now only with a new event
    await settledApplication(client, 'gf-add-1');
    const before = (await client.get('/applications/gf-add-1')).body as unknown as ApplicationBody;
    assert.match(before.number ?? '', /^BG-\d{4}-000001$/);
    assert.deepEqual(before.status, { code: 'READY_FOR_SIGNING', label: 'Готова к подписанию' });
    assert.ok(
      before.documents.every((d) => d.downloaded && d.url),
      JSON.stringify(before.documents),
    );
    const pdf = await fetch(`${hub.url}${before.documents[0]?.url ?? ''}`, {
      headers: { authorization: `Bearer ${'test-admin-key-0123456789abcdef'}` },
    });
    assert.equal(pdf.status, 200);
    assert.equal((await pdf.arrayBuffer()).byteLength > 100, true);
    const fromGoodfin = (view: ApplicationBody) => view.messages.received.filter((m) => m.payloadType !== 'CommonResponse');
    assert.deepEqual(
      fromGoodfin(before).map((m) => m.payloadType),
      ['AddDealApplication'],
    );
    assert.equal(before.history[0]?.by, 'goodfin');

    // Goodfin heard no answer and sends the same message again
    const repeat = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-add-1'), { msgId: first.msgId });
    assert.equal(repeat.status, 200);
    assert.equal(repeat.body.duplicate, true);
    const answered = await eventually(
      async () => {
        const got = await acks();
        return got.length === 2 ? got : undefined;
      },
      15_000,
      'the answer sent again',
    );
    assert.equal(answered[0]?.msgId, answered[1]?.msgId, 'the same answer, with its msgId');
    const after = (await client.get('/applications/gf-add-1')).body as unknown as ApplicationBody;
    assert.equal(after.revision, before.revision, 'the application did not change');
    assert.equal(fromGoodfin(after).length, 1);

    // the same application under a new msgId: refused, the application stays as it is
    const again = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-add-1', { amount: 9_999_999 }));
    assert.equal(again.status, 200);
    const refusal = await eventually(
      async () => (await goodfin.received('gf-add-1')).find((m) => m.payload.originalMsgId === again.msgId),
      15_000,
      'the refusal',
    );
    assert.deepEqual([refusal.payload.success, refusal.payload.errorCode], [false, 'DUPLICATE_APPLICATION']);
    assert.equal(((await client.get('/applications/gf-add-1')).body as unknown as ApplicationBody).revision, before.revision);
  }));

test('messages the bank cannot take are answered with our error codes: bad payload, unknown application, a type Goodfin should not send; failing checks return it for rework', () =>
  withGoodfinHub('goodfin-in-errors', async ({ hub, client, goodfin }) => {
    const answerTo = (msgId: string) =>
      eventually(async () => (await goodfin.received()).find((m) => m.payload.originalMsgId === msgId), 15_000, `the answer to ${msgId}`);

    const invalid = await pushToHub(hub.url, 'AddDealApplication', { dealApplicationId: 'gf-err-1', requestData: {} });
    assert.equal(invalid.status, 200, 'stored and answered, not bounced');
    const invalidAnswer = await answerTo(invalid.msgId);
    assert.deepEqual([invalidAnswer.payload.success, invalidAnswer.payload.errorCode], [false, 'INVALID_PAYLOAD']);
    assert.equal((await client.get('/applications/gf-err-1')).status, 404);

    const unknown = await pushToHub(hub.url, 'CancelDealApplication', { dealApplicationId: 'gf-nobody', reason: 'передумал' });
    assert.equal((await answerTo(unknown.msgId)).payload.errorCode, 'APPLICATION_NOT_FOUND');

    const misdirected = await pushToHub(hub.url, 'UpdateApplicationParams', { dealApplicationId: 'gf-x', serviceApplicationNumber: 'N-1' });
    assert.equal((await answerTo(misdirected.msgId)).payload.errorCode, 'UNSUPPORTED_MESSAGE');

    const noInn = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-err-2', { inn: null, amount: 10 }));
    assert.equal(noInn.status, 200);
    await client.waitForState('/applications/gf-err-2', 'active.returnedForRework');
    const rework = await eventually(
      async () => (await goodfin.received('gf-err-2')).find((m) => m.payload.status === 'REWORK'),
      15_000,
      'the REWORK status',
    );
    assert.equal(rework.payload.errorCode, 'CLIENT_INN_MISSING');
    const view = (await client.get('/applications/gf-err-2')).body as unknown as ApplicationBody & { checkErrors: Array<{ code: string }> };
    assert.deepEqual(
      view.checkErrors.map((e) => e.code),
      ['CLIENT_INN_MISSING', 'AMOUNT_OUT_OF_LIMITS'],
    );

    // an INN whose check digit is wrong is no INN: returned for rework with its own code
    const badInn = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-err-3', { inn: '7707083894' }));
    assert.equal(badInn.status, 200);
    const badInnRework = await eventually(
      async () => (await goodfin.received('gf-err-3')).find((m) => m.payload.status === 'REWORK'),
      15_000,
      'the REWORK status of a wrong INN',
    );
    assert.equal(badInnRework.payload.errorCode, 'CLIENT_INN_INVALID');
  }));
