import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import goodfinApplication from '../../machines/goodfin-application.ts';
import { GOODFIN_PATHS } from '../../actors/platform/connectors/goodfin/protocol.ts';
import { waitForAlerts } from '../support/alerts.ts';
import { eventually } from '../support/database.ts';
import { goodfinOf, withGoodfinHub } from '../support/goodfin.ts';
import { hubClient, hubDatabases } from '../support/hub-process.ts';
import { assertHubJournalsReplay } from '../support/replay.ts';

// Every actor these tests drove, replayed from its journal once their hubs have stopped: the machines are deterministic.
after(() => assertHubJournalsReplay(hubDatabases(), [goodfinApplication]));

// Deals come the way they come in production: Goodfin (its sandbox) pushes
// them to the endpoint the hub declared; bank staff drive them over HTTP.

type Client = ReturnType<typeof hubClient>;
type Goodfin = Awaited<ReturnType<typeof goodfinOf>>;

interface Deal {
  dealApplicationId: string;
  msgId: string;
  productType: string;
  url: string;
}

interface SentMessage {
  msgId: string;
  payloadType: string;
  payload: Record<string, unknown>;
  status: string;
  attempts: number;
  answer: { success: boolean; errorCode: string | null } | null;
}

interface Application {
  id: string;
  state: string;
  revision: number;
  number: string | null;
  productType: string;
  status: { code: string; label: string } | null;
  withdrawal: { origin: string; reason: string } | null;
  checkErrors: Array<{ code: string }>;
  statuses: Array<{ seq: number; code: string; label: string; comment: string | null }>;
  history: Array<{ event: string; to: string; by: string }>;
  messages: { sent: SentMessage[]; received: Array<{ msgId: string; payloadType: string | null }> };
}

async function generate(client: Client, body: Record<string, unknown>): Promise<Deal[]> {
  const answer = await client.post('/admin/sandbox/goodfin/generatedeals', body);
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  return answer.body.deals as Deal[];
}

async function application(client: Client, id: string): Promise<Application> {
  const answer = await client.get(`/applications/${id}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as unknown as Application;
}

async function staff(client: Client, id: string, event: Record<string, unknown>, headers?: Record<string, string>) {
  const answer = await client.call('POST', `/applications/${id}/events`, event, headers);
  assert.equal(answer.status, 200, `${JSON.stringify(event)}: ${JSON.stringify(answer.body)}`);
  return answer;
}

/** The statuses Goodfin took for one application, in the order it took them. */
async function statusesAt(goodfin: Goodfin, id: string): Promise<string[]> {
  return (await goodfin.received(id))
    .filter((m) => m.payloadType === 'ChangeDealApplicationStatusEvent')
    .map((m) => String(m.payload.status));
}

/** Waits until Goodfin holds exactly these statuses (and gives any late extra a moment to show up). */
async function expectStatusesAt(goodfin: Goodfin, id: string, expected: string[]) {
  await eventually(
    async () => ((await statusesAt(goodfin, id)).length >= expected.length ? true : undefined),
    30_000,
    `${expected.join(', ')} at Goodfin`,
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(await statusesAt(goodfin, id), expected);
}

/** The bank's answers to one of Goodfin's messages, as Goodfin received them. */
async function answersTo(goodfin: Goodfin, msgId: string) {
  return (await goodfin.received()).filter((m) => m.payloadType === 'CommonResponse' && m.payload.originalMsgId === msgId);
}

async function firstAnswerTo(goodfin: Goodfin, msgId: string) {
  const [answer] = await eventually(
    async () => {
      const found = await answersTo(goodfin, msgId);
      return found.length > 0 ? found : undefined;
    },
    30_000,
    `the answer to ${msgId}`,
  );
  return answer!;
}

async function waitForApplication(client: Client, id: string, state: string): Promise<Application> {
  return (await client.waitForState(`/applications/${id}`, state, 30_000)) as unknown as Application;
}

test('generated deals become applications: each acknowledged with its CommonResponse, numbered once and in sequence, its documents fetched; staff list them by state', () =>
  withGoodfinHub('goodfin-deals', async ({ hub, client: admin, goodfin }) => {
    const operator = hubClient(
      hub.url,
      (await admin.post('/admin/api-keys', { name: 'credit desk', role: 'operator' })).body.key as string,
    );
    const viewer = hubClient(hub.url, (await admin.post('/admin/api-keys', { name: 'auditor', role: 'viewer' })).body.key as string);

    assert.equal((await viewer.post('/admin/sandbox/goodfin/generatedeals', { count: 1 })).status, 403);
    const badCount = await operator.post('/admin/sandbox/goodfin/generatedeals', { count: 0 });
    assert.equal(badCount.status, 400);
    assert.match(JSON.stringify(badCount.body), /count/);

    const deals = await generate(operator, { count: 4 });
    assert.equal(deals.length, 4);
    assert.deepEqual(new Set(deals.map((d) => d.productType)), new Set(['BankGuarantee', 'Loan']));

    const ready = await eventually(
      async () => {
        const list = (await viewer.get('/applications?state=readyForSigning')).body.applications as Application[];
        return list.length === 4 ? list : undefined;
      },
      40_000,
      'four applications ready for signing',
    );
    assert.deepEqual(new Set(ready.map((a) => a.id)), new Set(deals.map((d) => d.dealApplicationId)));

    const numbers: number[] = [];
    for (const deal of deals) {
      const view = await eventually(
        async () => {
          const got = await application(viewer, deal.dealApplicationId);
          // every message we sent has reached Goodfin and been answered
          return got.messages.sent.length === 4 &&
            got.messages.sent.every((m) => m.status === 'sent' && (m.payloadType === 'CommonResponse' || m.answer?.success === true))
            ? got
            : undefined;
        },
        30_000,
        `the messages of ${deal.dealApplicationId} delivered and answered`,
      );
      assert.deepEqual(
        view.messages.sent.map((m) => m.payload.status ?? m.payloadType),
        ['CommonResponse', 'RECEIVED', 'UpdateApplicationParams', 'READY_FOR_SIGNING'],
      );
      assert.equal(view.messages.sent[0]?.payload.originalMsgId, deal.msgId, 'the CommonResponse answers the AddDealApplication');
      assert.equal(view.messages.sent[0]?.payload.success, true);
      const match = /^(BG|LN)-(\d{4})-(\d{6})$/.exec(view.number ?? '');
      assert.ok(match, view.number ?? 'no number');
      assert.equal(match[1], deal.productType === 'Loan' ? 'LN' : 'BG');
      assert.equal(view.messages.sent[2]?.payload.serviceApplicationNumber, view.number, 'Goodfin is told the number');
      numbers.push(Number(match[3]));
      assert.deepEqual(
        view.messages.received.map((m) => m.payloadType).filter((t) => t !== 'CommonResponse'),
        ['AddDealApplication'],
      );
    }
    assert.deepEqual(
      numbers.sort((a, b) => a - b),
      [1, 2, 3, 4],
      'numbers are sequential, none twice',
    );

    // Goodfin's side: every AddDealApplication was answered, so it stops resending
    const { pushed } = (await goodfin.control('messages')) as {
      pushed: Array<{ msgId: string; payloadType: string; answered: { success: boolean } | null }>;
    };
    for (const deal of deals) assert.equal(pushed.find((m) => m.msgId === deal.msgId)?.answered?.success, true);

    // a deal the automatic checks refuse is returned for rework with the reason
    const [incomplete] = await generate(operator, { count: 1, invalid: true });
    const rework = await waitForApplication(viewer, incomplete!.dealApplicationId, 'active.returnedForRework');
    assert.deepEqual(
      rework.checkErrors.map((e) => e.code),
      ['CLIENT_INN_MISSING'],
    );
    await expectStatusesAt(goodfin, incomplete!.dealApplicationId, ['RECEIVED', 'REWORK']);
    const listed = (await viewer.get('/applications?state=returnedForRework')).body.applications as Application[];
    assert.deepEqual(
      listed.map((a) => a.id),
      [incomplete!.dealApplicationId],
    );
    assert.equal((await viewer.get('/applications?limit=0')).status, 400);

    // with real credentials the hub talks to Goodfin itself, which generates nothing
    const configured = await admin.call('PUT', '/admin/integrations/goodfin', {
      baseUrl: goodfin.url,
      credentials: { serviceSystemName: 'bankProd01', password: 'not-the-sandbox-one' },
    });
    assert.equal(configured.status, 200, JSON.stringify(configured.body));
    const refused = await operator.post('/admin/sandbox/goodfin/generatedeals', { count: 1 });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error?.message ?? '', /configured/);
  }));

test('a full approval path reaches issued, and a rejection ends another: every status reaches Goodfin once and in order; unknown statuses and late events are refused', () =>
  withGoodfinHub('goodfin-approval', async ({ hub, client: admin, goodfin }) => {
    const operator = hubClient(hub.url, (await admin.post('/admin/api-keys', { name: 'Ирина', role: 'operator' })).body.key as string);
    const viewer = hubClient(hub.url, (await admin.post('/admin/api-keys', { name: 'auditor', role: 'viewer' })).body.key as string);
    const [deal] = await generate(operator, { count: 1, productType: 'Loan' });
    const id = deal!.dealApplicationId;
    await waitForApplication(viewer, id, 'active.readyForSigning');

    assert.equal(
      (await viewer.post(`/applications/${id}/events`, { type: 'SET_STATUS', code: 'UNDER_REVIEW' })).status,
      403,
      'viewers only look',
    );
    const unknown = await operator.post(`/applications/${id}/events`, { type: 'SET_STATUS', code: 'GUESSED_STATUS' });
    assert.equal(unknown.status, 400);
    assert.match(JSON.stringify(unknown.body), /UNDER_REVIEW/, 'the error lists the statuses that exist');
    assert.match(
      String(unknown.body.error?.message),
      /^GUESSED_STATUS is not a review status of this application: one of UNDER_REVIEW, /,
      "the machine's reason",
    );
    assert.equal(
      (await operator.post(`/applications/${id}/events`, { type: 'WITHDRAWAL_REQUESTED', msgId: null, origin: 'client', reason: 'x' }))
        .status,
      400,
      'only Goodfin asks for a withdrawal',
    );

    await staff(operator, id, { type: 'SET_STATUS', code: 'UNDER_REVIEW' });
    const asked = await staff(
      operator,
      id,
      { type: 'SET_STATUS', code: 'CLIENT_INFO_REQUESTED', comment: 'Нужна выписка по счёту' },
      { 'Idempotency-Key': 'desk-42' },
    );
    const again = await staff(
      operator,
      id,
      { type: 'SET_STATUS', code: 'CLIENT_INFO_REQUESTED', comment: 'Нужна выписка по счёту' },
      { 'Idempotency-Key': 'desk-42' },
    );
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal((again.body as unknown as Application).revision, (asked.body as unknown as Application).revision);
    for (const code of ['OFFER_PREPARING', 'OFFER_DOCUMENTS', 'APPROVED']) await staff(operator, id, { type: 'SET_STATUS', code });
    await staff(operator, id, { type: 'OFFER_ACCEPTED' });
    await staff(operator, id, { type: 'OFFER_PAID' });
    const issued = (await staff(operator, id, { type: 'ISSUE', comment: 'Кредит выдан' })).body as unknown as Application;
    assert.equal(issued.state, 'issued');
    assert.deepEqual(issued.status, { code: 'ISSUED', label: 'Продукт выдан' });

    const late = await operator.post(`/applications/${id}/events`, { type: 'SET_STATUS', code: 'UNDER_REVIEW' });
    assert.equal(late.status, 409, 'an issued application takes no more statuses');
    assert.equal(late.body.error?.code, 'event_not_accepted');

    const path = [
      'RECEIVED',
      'READY_FOR_SIGNING',
      'UNDER_REVIEW',
      'CLIENT_INFO_REQUESTED',
      'OFFER_PREPARING',
      'OFFER_DOCUMENTS',
      'APPROVED',
      'OFFER_ACCEPTED',
      'OFFER_PAID',
      'ISSUED',
    ];
    await expectStatusesAt(goodfin, id, path);
    const events = (await goodfin.received(id)).filter((m) => m.payloadType === 'ChangeDealApplicationStatusEvent');
    assert.equal(new Set(events.map((m) => m.msgId)).size, path.length, 'each status has its own msgId');
    const times = events.map((m) => String(m.payload.statusDateTime));
    assert.deepEqual([...times].sort(), times, 'status times do not go back');
    assert.equal(events.find((m) => m.payload.status === 'CLIENT_INFO_REQUESTED')?.payload.comment, 'Нужна выписка по счёту');
    assert.equal((await goodfin.service()).duplicates, 0, 'Goodfin saw no message twice');

    const view = await application(viewer, id);
    assert.deepEqual(
      view.statuses.map((s) => s.code),
      path,
    );
    assert.equal(view.statuses.find((s) => s.code === 'OFFER_DOCUMENTS')?.label, 'Формирование документов предложения');
    assert.ok(
      view.history.some((h) => h.event === 'ISSUE' && h.by === 'Ирина'),
      JSON.stringify(view.history),
    );
    const closed = (await viewer.get('/applications?state=issued')).body.applications as Application[];
    assert.deepEqual(
      closed.map((a) => a.id),
      [id],
    );

    // the bank turns another one down while reviewing it
    const [other] = await generate(operator, { count: 1, productType: 'BankGuarantee' });
    const otherId = other!.dealApplicationId;
    await waitForApplication(viewer, otherId, 'active.readyForSigning');
    await staff(operator, otherId, { type: 'SET_STATUS', code: 'UNDER_REVIEW' });
    assert.equal((await operator.post(`/applications/${otherId}/events`, { type: 'REJECT' })).status, 400, 'a rejection says why');
    const rejected = (await staff(operator, otherId, { type: 'REJECT', comment: 'Отрицательная кредитная история' }))
      .body as unknown as Application;
    assert.equal(rejected.state, 'rejected');
    await expectStatusesAt(goodfin, otherId, ['RECEIVED', 'READY_FOR_SIGNING', 'UNDER_REVIEW', 'REJECTED']);
    const refusal = (await goodfin.received(otherId)).find((m) => m.payload.status === 'REJECTED');
    assert.equal(refusal?.payload.comment, 'Отрицательная кредитная история');
  }));

test('withdrawals: accepted ends "Отозвана клиентом"; refused goes back to the exact state with WITHDRAWAL_REFUSED; a system withdrawal too; a repeated CancelDealApplication changes nothing', () =>
  withGoodfinHub('goodfin-cancel', async ({ client, goodfin }) => {
    const [a, b, c] = (await generate(client, { count: 3 })).map((d) => d.dealApplicationId) as [string, string, string];
    for (const id of [a, b, c]) await waitForApplication(client, id, 'active.readyForSigning');

    // accepted
    const cancelA = (await goodfin.control('cancel', { dealApplicationId: a, reason: 'Клиент нашёл другой банк' })) as { msgId: string };
    const pending = await waitForApplication(client, a, 'withdrawalRequested');
    assert.deepEqual(pending.withdrawal, { msgId: cancelA.msgId, origin: 'client', reason: 'Клиент нашёл другой банк' });
    const withdrawn = (await staff(client, a, { type: 'ACCEPT_WITHDRAWAL' })).body as unknown as Application;
    assert.equal(withdrawn.state, 'withdrawn');
    assert.deepEqual(withdrawn.status, { code: 'WITHDRAWN', label: 'Отозвана клиентом' });
    const accepted = await firstAnswerTo(goodfin, cancelA.msgId);
    assert.equal(accepted.payload.success, true);
    await expectStatusesAt(goodfin, a, ['RECEIVED', 'READY_FOR_SIGNING', 'WITHDRAWN']);

    // Goodfin sends the same CancelDealApplication again: nothing changes, the same answer is repeated
    const before = await application(client, a);
    await goodfin.control('repush', { msgId: cancelA.msgId });
    await eventually(
      async () => ((await answersTo(goodfin, cancelA.msgId)).length === 2 ? true : undefined),
      15_000,
      'the answer repeated',
    );
    const repeatedAnswers = await answersTo(goodfin, cancelA.msgId);
    assert.equal(repeatedAnswers[1]?.msgId, repeatedAnswers[0]?.msgId);
    assert.equal((await application(client, a)).revision, before.revision);
    // a new cancel of a closed application is refused
    const lateCancel = (await goodfin.control('cancel', { dealApplicationId: a })) as { msgId: string };
    assert.equal((await firstAnswerTo(goodfin, lateCancel.msgId)).payload.errorCode, 'APPLICATION_CLOSED');
    assert.equal((await firstAnswerTo(goodfin, lateCancel.msgId)).payload.errorMessage, 'the application is closed (WITHDRAWN)');

    // refused: back under review, exactly where it was, no status announced again
    await staff(client, b, { type: 'SET_STATUS', code: 'DOCUMENTS_CHECK' });
    await expectStatusesAt(goodfin, b, ['RECEIVED', 'READY_FOR_SIGNING', 'DOCUMENTS_CHECK']);
    const cancelB = (await goodfin.control('cancel', { dealApplicationId: b })) as { msgId: string };
    await waitForApplication(client, b, 'withdrawalRequested');
    const secondCancel = (await goodfin.control('cancel', { dealApplicationId: b })) as { msgId: string };
    assert.equal((await firstAnswerTo(goodfin, secondCancel.msgId)).payload.errorCode, 'WITHDRAWAL_PENDING');
    assert.equal(
      (await firstAnswerTo(goodfin, secondCancel.msgId)).payload.errorMessage,
      'the bank is deciding on an earlier withdrawal request',
    );
    assert.equal(
      ((await staff(client, b, { type: 'REFUSE_WITHDRAWAL', comment: 'Гарантия уже выпущена в работу' })).body as unknown as Application)
        .state,
      'refusingWithdrawal',
    );
    const back = await waitForApplication(client, b, 'active.underReview');
    assert.equal(back.status?.code, 'DOCUMENTS_CHECK');
    const refusal = await firstAnswerTo(goodfin, cancelB.msgId);
    assert.deepEqual([refusal.payload.success, refusal.payload.errorCode], [false, 'WITHDRAWAL_REFUSED']);
    await staff(client, b, { type: 'SET_STATUS', code: 'APPROVED' });
    await expectStatusesAt(goodfin, b, ['RECEIVED', 'READY_FOR_SIGNING', 'DOCUMENTS_CHECK', 'APPROVED']);

    // Goodfin withdraws on its own (initiator SYSTEM): handled the same way
    const cancelC = (await goodfin.control('cancel', { dealApplicationId: c, reason: 'Истёк срок заявки', initiator: 'SYSTEM' })) as {
      msgId: string;
    };
    assert.equal((await waitForApplication(client, c, 'withdrawalRequested')).withdrawal?.origin, 'system');
    await staff(client, c, { type: 'ACCEPT_WITHDRAWAL' });
    assert.equal((await firstAnswerTo(goodfin, cancelC.msgId)).payload.success, true);
    await expectStatusesAt(goodfin, c, ['RECEIVED', 'READY_FOR_SIGNING', 'WITHDRAWN']);
  }));

test('Goodfin down for a while: the messages wait and arrive in order when it returns; an expired or revoked token is renewed without failing a message', () =>
  withGoodfinHub('goodfin-down', async ({ client, goodfin }) => {
    await goodfin.control('faults', { kind: 'status', status: 503, count: 3, path: GOODFIN_PATHS.inbound });
    const deals = await generate(client, { count: 2 });
    for (const deal of deals) {
      await waitForApplication(client, deal.dealApplicationId, 'active.readyForSigning');
      const messages = await eventually(
        async () => {
          const got = (await goodfin.received(deal.dealApplicationId)).filter(
            (m) => m.payloadType !== 'CommonResponse' || m.payload.originalMsgId === deal.msgId,
          );
          return got.length >= 4 ? got : undefined;
        },
        60_000,
        `the messages of ${deal.dealApplicationId} after Goodfin came back`,
      );
      assert.deepEqual(
        messages.map((m) => m.payload.status ?? m.payloadType),
        ['CommonResponse', 'RECEIVED', 'UpdateApplicationParams', 'READY_FOR_SIGNING'],
      );
    }
    const failed = ((await goodfin.control('requests')) as { requests: Array<{ path: string; status: number | null }> }).requests.filter(
      (r) => r.path === GOODFIN_PATHS.inbound && r.status === 503,
    );
    assert.equal(failed.length, 3, 'Goodfin was really down');
    const retried = (await Promise.all(deals.map(async (d) => (await application(client, d.dealApplicationId)).messages.sent))).flat();
    assert.ok(
      retried.some((m) => m.attempts > 1),
      'some message needed more than one attempt',
    );
    assert.equal((await goodfin.service()).duplicates, 0, 'none delivered twice');

    // Goodfin forgets every token (as after its restart); the next ones live 61 s, inside the hub's 60 s renewal margin after one second
    const id = deals[0]!.dealApplicationId;
    const tokensBefore = ((await goodfin.control('tokens')) as { tokensIssued: number }).tokensIssued;
    await goodfin.control('token-lifetime', { seconds: 61 });
    await goodfin.control('revoke-tokens', {});
    await staff(client, id, { type: 'SET_STATUS', code: 'UNDER_REVIEW' });
    await expectStatusesAt(goodfin, id, ['RECEIVED', 'READY_FOR_SIGNING', 'UNDER_REVIEW']);
    // the point is the passing of time: a second after the new token was taken (before UNDER_REVIEW went), it is due for renewal
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await staff(client, id, { type: 'SET_STATUS', code: 'APPROVED' });
    await expectStatusesAt(goodfin, id, ['RECEIVED', 'READY_FOR_SIGNING', 'UNDER_REVIEW', 'APPROVED']);

    const sent = (await application(client, id)).messages.sent.filter(
      (m) => m.payload.status === 'UNDER_REVIEW' || m.payload.status === 'APPROVED',
    );
    assert.deepEqual(
      sent.map((m) => [m.status, m.attempts]),
      [
        ['sent', 1],
        ['sent', 1],
      ],
      'no message failed for the token',
    );
    assert.ok(
      ((await goodfin.control('tokens')) as { tokensIssued: number }).tokensIssued >= tokensBefore + 2,
      'a token was taken after the revocation and again after the expiry',
    );
    const refusedForToken = (
      (await goodfin.control('requests')) as { requests: Array<{ path: string; status: number | null }> }
    ).requests.filter((r) => r.path === GOODFIN_PATHS.inbound && r.status === 401);
    assert.equal(refusedForToken.length, 1, 'only the revoked token was refused; the expiring one was renewed before use');
  }));

test('a document Goodfin cannot serve: the download is retried, then the application waits for a person with an alert; RETRY fetches each document once and repeats no message', () =>
  withGoodfinHub(
    'goodfin-docs',
    async ({ client, goodfin }) => {
      // the failures open Goodfin's circuit; a short cooldown lets the RETRY below through without a long wait
      const policy = await client.call('PUT', '/admin/integrations/goodfin', { settings: { http: { breakerCooldownMs: 1_000 } } });
      assert.equal(policy.status, 200, JSON.stringify(policy.body));
      await goodfin.control('faults', { kind: 'status', status: 500, path: GOODFIN_PATHS.downloadDocument });
      const [deal] = await generate(client, { count: 1 });
      const id = deal!.dealApplicationId;
      const stuck = await waitForApplication(client, id, 'active.stuck');
      assert.ok(stuck.messages.sent.length >= 3, 'acknowledged and numbered before the documents');
      const alerts = await waitForAlerts(client, 'actor_needs_attention', (subject) => subject.includes(id));
      assert.ok(alerts.length >= 1);
      const tries = ((await goodfin.control('requests')) as { requests: Array<{ path: string }> }).requests.filter(
        (r) => r.path === GOODFIN_PATHS.downloadDocument,
      ).length;
      assert.ok(tries >= 2, `the download was retried (${tries} calls)`);

      assert.equal((await fetch(`${goodfin.url}/__sandbox/faults`, { method: 'DELETE' })).ok, true);
      await new Promise((resolve) => setTimeout(resolve, 1_200)); // the circuit lets a probe through again
      await staff(client, id, { type: 'RETRY' });
      const ready = await waitForApplication(client, id, 'active.readyForSigning');
      assert.equal(ready.number, stuck.number, 'the number stays');
      const downloads = (
        (await goodfin.control('requests')) as { requests: Array<{ path: string; query: string; status: number | null }> }
      ).requests.filter((r) => r.path === GOODFIN_PATHS.downloadDocument && r.status === 200);
      const listed = (await application(client, id)) as Application & { documents: Array<{ documentId: string; downloaded: boolean }> };
      assert.ok(listed.documents.length >= 2 && listed.documents.every((d) => d.downloaded));
      assert.deepEqual(
        downloads.map((r) => new URLSearchParams(r.query).get('documentId')).sort(),
        listed.documents.map((d) => d.documentId).sort(),
        'each document fetched once',
      );
      await expectStatusesAt(goodfin, id, ['RECEIVED', 'READY_FOR_SIGNING']);
      const numbers = (await goodfin.received(id)).filter((m) => m.payloadType === 'UpdateApplicationParams');
      assert.equal(numbers.length, 1, 'the number announced once');
    },
    { env: { HUB_EFFECT_MAX_ATTEMPTS: '2' } },
  ));
