import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import goodfinApplication from '../../machines/goodfin-application.ts';
import { GOODFIN_PATHS } from '../../actors/platform/connectors/goodfin/protocol.ts';
import { eventually } from '../support/database.ts';
import { dealPayload, goodfinOf, pushToHub, settledApplication, withGoodfinHub } from '../support/goodfin.ts';
import { hubClient, hubDatabases } from '../support/hub-process.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';

// Every actor these tests drove, replayed from its journal once their hubs have stopped: the machines are deterministic.
after(() => assertHubJournalsReplay(hubDatabases(), [goodfinApplication]));

// An application returned for rework comes back to the automatic checks when
// Goodfin (its sandbox) resends it corrected, or when bank staff send it back.

type Client = ReturnType<typeof hubClient>;
type Goodfin = Awaited<ReturnType<typeof goodfinOf>>;

interface Application {
  state: string;
  revision: number;
  number: string | null;
  client: { inn: string | null };
  status: { code: string } | null;
  checkErrors: Array<{ code: string }>;
  resubmissions: Array<{
    at: string;
    by: string;
    msgId: string | null;
    comment: string | null;
    changes: Array<{ field: string; from: unknown; to: unknown }>;
  }>;
  statuses: Array<{ code: string; comment: string | null }>;
  history: Array<{ event: string; to: string; by: string }>;
  documents: Array<{ documentId: string; downloaded: boolean }>;
  messages: { sent: Array<{ payloadType: string }>; received: Array<{ msgId: string; payloadType: string | null; result: string }> };
}

async function application(client: Client, id: string): Promise<Application> {
  const answer = await client.get(`/applications/${id}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as unknown as Application;
}

/** The application once no effect of it is in flight (its revision then moves only with a new event). */
async function settled(client: Client, id: string): Promise<Application> {
  await settledApplication(client, id);
  return application(client, id);
}

const waitFor = async (client: Client, id: string, state: string) =>
  (await client.waitForState(`/applications/${id}`, state, 30_000)) as unknown as Application;

/** Goodfin's messages from the bank about one application, once at least `count` statuses arrived (and a moment for late extras). */
async function statusesAt(goodfin: Goodfin, id: string, count: number) {
  const statuses = async () =>
    (await goodfin.received(id)).filter((m) => m.payloadType === 'ChangeDealApplicationStatusEvent').map((m) => m.payload);
  await eventually(async () => ((await statuses()).length >= count ? true : undefined), 30_000, `${count} statuses at Goodfin`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return statuses();
}

/** The bank's answers to one of Goodfin's messages, as Goodfin took them, once there are `count`. */
async function answersTo(goodfin: Goodfin, msgId: string, count = 1) {
  return eventually(
    async () => {
      const found = (await goodfin.received()).filter((m) => m.payloadType === 'CommonResponse' && m.payload.originalMsgId === msgId);
      return found.length >= count ? found : undefined;
    },
    30_000,
    `${count} answer(s) to ${msgId}`,
  );
}

/** How often the bank downloaded a document from Goodfin. */
async function downloadsOf(goodfin: Goodfin, documentId: string): Promise<number> {
  const { requests } = (await (await fetch(`${goodfin.url}/__sandbox/requests`)).json()) as {
    requests: Array<{ path: string; query: string; status: number | null }>;
  };
  return requests.filter(
    (r) =>
      (r.path === GOODFIN_PATHS.downloadDocument || r.path === GOODFIN_PATHS.getDocumentFile) &&
      new URLSearchParams(r.query).get('documentId') === documentId,
  ).length;
}

test('Goodfin resends a returned application corrected: its data replaced (the change kept), checked again, the corrected documents fetched (the replaced one never), every status sent; a repeat changes nothing; outside rework it is a duplicate', () =>
  withGoodfinHub('goodfin-rework', async ({ client, goodfin }) => {
    const generated = await client.post('/admin/sandbox/goodfin/generatedeals', { count: 1, invalid: true });
    assert.equal(generated.status, 202, JSON.stringify(generated.body));
    const [deal] = generated.body.deals as Array<{ dealApplicationId: string; msgId: string }>;
    const id = deal!.dealApplicationId;
    const rework = await waitFor(client, id, 'active.returnedForRework');
    assert.deepEqual(
      rework.checkErrors.map((e) => e.code),
      ['CLIENT_INN_MISSING'],
    );
    assert.deepEqual(
      (await statusesAt(goodfin, id, 2)).map((s) => [s.status, s.errorCode ?? null]),
      [
        ['RECEIVED', null],
        ['REWORK', 'CLIENT_INN_MISSING'],
      ],
    );
    const firstDocuments = rework.documents.map((d) => d.documentId);

    // the client fixed it; Goodfin resends the application under a new msgId
    const resent = await goodfin.control('resubmit', { dealApplicationId: id });
    const resentMsgId = String(resent?.msgId);
    const [accepted] = await answersTo(goodfin, resentMsgId);
    assert.equal(accepted?.payload.success, true, JSON.stringify(accepted?.payload));
    const ready = await waitFor(client, id, 'active.readyForSigning');
    assert.deepEqual(ready.checkErrors, []);
    assert.match(ready.client.inn ?? '', /^\d{10}$/);
    assert.equal(ready.number, rework.number, 'numbered once');
    assert.equal(ready.resubmissions.length, 1);
    const [resubmission] = ready.resubmissions;
    assert.deepEqual([resubmission?.by, resubmission?.msgId, resubmission?.comment], ['goodfin', resentMsgId, null]);
    assert.deepEqual(
      resubmission?.changes.map((c) => c.field),
      ['client', 'documents', 'details'],
      'what changed: the INN (also in the raw details) and the charter',
    );
    const clientChange = resubmission?.changes[0] as { from: { inn: string | null }; to: { inn: string | null } } | undefined;
    assert.deepEqual([clientChange?.from.inn, clientChange?.to.inn], [null, ready.client.inn]);
    assert.deepEqual(
      ready.history.filter((h) => h.event === 'RESUBMITTED').map((h) => [h.to, h.by]),
      [['active.resubmitted', 'goodfin']],
    );

    // documents are fetched only once the checks pass: the corrected list, each once; the replaced charter never
    const newCharter = ready.documents[0]!.documentId;
    assert.ok(!firstDocuments.includes(newCharter));
    assert.ok(ready.documents.every((d) => d.downloaded));
    for (const documentId of ready.documents.map((d) => d.documentId)) assert.equal(await downloadsOf(goodfin, documentId), 1);
    assert.equal(await downloadsOf(goodfin, firstDocuments[0]!), 0, 'the charter the client replaced is not fetched');

    // Goodfin heard every status, as for a new application: received again, then ready for signing
    assert.deepEqual(
      (await statusesAt(goodfin, id, 4)).map((s) => s.status),
      ['RECEIVED', 'REWORK', 'RECEIVED', 'READY_FOR_SIGNING'],
    );
    const params = (await goodfin.received(id)).filter((m) => m.payloadType === 'UpdateApplicationParams');
    assert.equal(params.length, 1, 'the number is told once');

    // the same message again (Goodfin heard no answer): the same answer again, nothing changes
    const before = await settled(client, id);
    assert.deepEqual(await goodfin.control('repush', { msgId: resentMsgId }), { msgId: resentMsgId });
    const answers = await answersTo(goodfin, resentMsgId, 2);
    assert.equal(answers[0]?.msgId, answers[1]?.msgId, 'the same answer, with its msgId');
    assert.equal((await application(client, id)).revision, before.revision);

    // ready for signing now: another resend is a duplicate and changes nothing
    const late = await goodfin.control('resubmit', { dealApplicationId: id });
    const [refused] = await answersTo(goodfin, String(late?.msgId));
    assert.deepEqual([refused?.payload.success, refused?.payload.errorCode], [false, 'DUPLICATE_APPLICATION']);
    assert.match(String(refused?.payload.errorMessage), /READY_FOR_SIGNING/);
    const after = await application(client, id);
    assert.equal(after.revision, before.revision);
    assert.equal(after.resubmissions.length, 1);
  }));

test('staff send a returned application back to the checks under changed settings (RESUBMIT_FOR_CHECKS, with a reason): audited with their name, told to Goodfin; refused outside rework', () =>
  withGoodfinHub('goodfin-rework-staff', async ({ hub, client: admin, goodfin }) => {
    const operator = hubClient(
      hub.url,
      (await admin.post('/admin/api-keys', { name: 'credit desk', role: 'operator' })).body.key as string,
    );
    const viewer = hubClient(hub.url, (await admin.post('/admin/api-keys', { name: 'auditor', role: 'viewer' })).body.key as string);
    const pushed = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-rework-staff', { amount: 50_000 }));
    assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
    const rework = await waitFor(admin, 'gf-rework-staff', 'active.returnedForRework');
    assert.deepEqual(
      rework.checkErrors.map((e) => e.code),
      ['AMOUNT_OUT_OF_LIMITS'],
    );

    const path = '/applications/gf-rework-staff/events';
    assert.equal((await viewer.post(path, { type: 'RESUBMIT_FOR_CHECKS', comment: 'x' })).status, 403);
    const noReason = await operator.post(path, { type: 'RESUBMIT_FOR_CHECKS' });
    assert.equal(noReason.status, 400);
    assert.match(JSON.stringify(noReason.body), /comment/);

    // the bank lowers its guarantee minimum; the application goes back as it is
    const settings = await admin.call('PUT', '/admin/integrations/goodfin', {
      settings: { limits: { BankGuarantee: { min: 10_000, max: 50_000_000 }, Loan: { min: 500_000, max: 30_000_000 } } },
    });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    const key = { 'Idempotency-Key': 'resubmit-gf-rework-staff-1' };
    const sent = await operator.post(path, { type: 'RESUBMIT_FOR_CHECKS', comment: 'лимит по гарантиям снижен' }, key);
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const ready = await waitFor(admin, 'gf-rework-staff', 'active.readyForSigning');
    assert.deepEqual(ready.checkErrors, []);
    const [resubmission] = ready.resubmissions;
    assert.deepEqual([resubmission?.by, resubmission?.msgId, resubmission?.comment], ['staff', null, 'лимит по гарантиям снижен']);
    assert.deepEqual(
      resubmission?.changes.map((c) => c.field),
      ['policy'],
    );
    assert.deepEqual(
      ready.history.filter((h) => h.event === 'RESUBMIT_FOR_CHECKS').map((h) => [h.to, h.by]),
      [['active.resubmitted', 'credit desk']],
    );
    assert.deepEqual(
      (await statusesAt(goodfin, 'gf-rework-staff', 4)).map((s) => [s.status, s.comment ?? null]),
      [
        ['RECEIVED', null],
        ['REWORK', '50000 is outside 100000…50000000'],
        ['RECEIVED', 'лимит по гарантиям снижен'],
        ['READY_FOR_SIGNING', null],
      ],
    );

    // the same request again (same key) changes nothing
    const quiet = await settled(admin, 'gf-rework-staff');
    const repeat = await operator.post(path, { type: 'RESUBMIT_FOR_CHECKS', comment: 'лимит по гарантиям снижен' }, key);
    assert.equal(repeat.status, 200);
    assert.equal(repeat.headers.get('idempotent-replayed'), 'true');
    assert.equal((await application(admin, 'gf-rework-staff')).revision, quiet.revision);

    // outside rework: refused with the reason, nothing changes
    const refused = await operator.post(path, { type: 'RESUBMIT_FOR_CHECKS', comment: 'ещё раз' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error?.code, 'event_not_accepted');
    assert.match(refused.body.error?.message ?? '', /returned for rework/);
    assert.equal((await application(admin, 'gf-rework-staff')).revision, quiet.revision);
  }));

test('a correction that still fails goes back to rework with its new reason, and the next one passes: each REWORK tells why, the documents are fetched once, only when the checks pass', () =>
  withGoodfinHub('goodfin-rework-documents', async ({ hub, client, goodfin }) => {
    const created = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-rework-docs', { inn: null }));
    assert.equal(created.status, 200);
    await waitFor(client, 'gf-rework-docs', 'active.returnedForRework');
    // the documents are fetched only once the checks pass
    assert.equal(await downloadsOf(goodfin, 'doc-sample-0001'), 0);

    // still wrong (an INN with a bad check digit), the documents as they were: checked again, back in rework
    const stillWrong = dealPayload('gf-rework-docs', { inn: '7707083894' });
    const first = await pushToHub(hub.url, 'AddDealApplication', stillWrong);
    assert.equal((await answersTo(goodfin, first.msgId))[0]?.payload.success, true);
    const again = await eventually(
      async () => {
        const view = await application(client, 'gf-rework-docs');
        return view.state === 'active.returnedForRework' && view.resubmissions.length === 1 ? view : undefined;
      },
      30_000,
      'back in rework after the first correction',
    );
    assert.deepEqual(
      again.checkErrors.map((e) => e.code),
      ['CLIENT_INN_INVALID'],
    );

    // fixed: the documents are fetched (once per document id)
    const fixed = await pushToHub(hub.url, 'AddDealApplication', dealPayload('gf-rework-docs'));
    assert.equal((await answersTo(goodfin, fixed.msgId))[0]?.payload.success, true);
    await waitFor(client, 'gf-rework-docs', 'active.readyForSigning');
    assert.equal(await downloadsOf(goodfin, 'doc-sample-0001'), 1);
    const statuses = (await statusesAt(goodfin, 'gf-rework-docs', 6)).map((s) => [s.status, s.errorCode ?? null]);
    assert.deepEqual(statuses, [
      ['RECEIVED', null],
      ['REWORK', 'CLIENT_INN_MISSING'],
      ['RECEIVED', null],
      ['REWORK', 'CLIENT_INN_INVALID'],
      ['RECEIVED', null],
      ['READY_FOR_SIGNING', null],
    ]);
    const view = await application(client, 'gf-rework-docs');
    assert.deepEqual(
      view.resubmissions.map((r) => [r.msgId, r.changes.map((c) => c.field)]),
      [
        [first.msgId, ['client', 'details']],
        [fixed.msgId, ['client', 'details']],
      ],
    );
    assert.deepEqual(
      view.messages.received.filter((m) => m.payloadType === 'AddDealApplication').map((m) => m.msgId),
      [created.msgId, first.msgId, fixed.msgId],
      "Goodfin's three messages are listed with the application",
    );
  }));
