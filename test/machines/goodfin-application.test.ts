import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, type SnapshotFrom } from 'xstate';
import { stepper } from '../support/machines.ts';
import application, {
  APPLICATION_REFUSALS,
  applicationRefusal,
  checkApplication,
  type ApplicationEvent,
  type ApplicationInput,
  type OutgoingMessage,
} from '../../machines/goodfin-application.ts';
import { workOf } from '../../actors/runtime/machine-glue.ts';

const { machine } = application;
type Actions = Parameters<typeof workOf>[0];
const input: ApplicationInput = {
  applicationId: 'a1b2',
  receivedMsgId: 'msg-1',
  receivedAt: '2026-11-22T10:00:00.000',
  productType: 'BankGuarantee',
  amount: 1_000_000,
  currency: 'RUB',
  client: { inn: '7701234560', name: 'ООО Ромашка' },
  documents: [{ documentId: 'd1', documentType: 'CHARTER', fileName: 'устав.pdf' }],
  policy: {
    limits: { BankGuarantee: { min: 100_000, max: 50_000_000 } },
    requiredDocuments: ['CHARTER'],
    reviewStatuses: ['UNDER_REVIEW', 'CLIENT_INFO_REQUESTED', 'CHECKING_DOCUMENTS'],
  },
};
const step = stepper(machine);
const ctx = (s: SnapshotFrom<typeof machine>) => s.context;
const queued = (actions: Actions): OutgoingMessage[] =>
  workOf(actions)
    .spawns.filter((x) => x.src === 'queueMessages')
    .flatMap((x) => (x.input as { messages: OutgoingMessage[] }).messages);
/** What the outbox ends up with: each id once, in the order first queued. */
const outbox = (messages: OutgoingMessage[]) => [...new Map(messages.map((m) => [m.id, m])).values()];
const done = (s: SnapshotFrom<typeof machine>, id: string, output: unknown = { queued: 1 }) =>
  step(s, { type: `xstate.done.actor.${id}`, output });

function toReadyForSigning(): { snapshot: SnapshotFrom<typeof machine>; messages: OutgoingMessage[] } {
  const messages: OutgoingMessage[] = [];
  let [s, actions] = initialTransition(machine, input);
  messages.push(...queued(actions));
  assert.deepEqual(s.value, { active: 'acknowledging' });
  [s, actions] = done(s, 'acknowledge');
  assert.deepEqual(s.value, { active: 'numbering' });
  assert.deepEqual(
    workOf(actions).spawns.map((x) => x.src),
    ['assignNumber'],
  );
  [s, actions] = done(s, 'number', { number: 'BG-2026-000001' });
  messages.push(...queued(actions));
  [s, actions] = done(s, 'announceNumber');
  assert.deepEqual(s.value, { active: 'downloadingDocuments' });
  assert.deepEqual(
    workOf(actions).spawns.map((x) => x.src),
    ['downloadDocuments'],
  );
  [s, actions] = done(s, 'documents', { downloaded: ['d1'] });
  messages.push(...queued(actions));
  assert.deepEqual(s.value, { active: 'readyForSigning' });
  return { snapshot: s, messages };
}

test('acknowledged, numbered, checked, documents downloaded, ready for signing: each message queued once, in order', () => {
  const { snapshot, messages } = toReadyForSigning();
  assert.deepEqual(
    outbox(messages).map((m) => `${m.payloadType}:${m.id}`),
    [
      'CommonResponse:a1b2:ack:msg-1',
      'ChangeDealApplicationStatusEvent:a1b2:status:1',
      'UpdateApplicationParams:a1b2:number',
      'ChangeDealApplicationStatusEvent:a1b2:status:2',
    ],
  );
  assert.deepEqual(messages[0]?.payload, { originalMsgId: 'msg-1', dealApplicationId: 'a1b2', success: true });
  assert.equal(messages[2]?.payload.serviceApplicationNumber, 'BG-2026-000001');
  assert.equal(ctx(snapshot).status, 'READY_FOR_SIGNING');
});

test('a status whose state was left before its queueing ran is carried by the next one, in order', () => {
  const { snapshot } = toReadyForSigning();
  const [review] = step(snapshot, { type: 'SET_STATUS', code: 'UNDER_REVIEW' });
  // OFFER_ACCEPTED arrives before the review's queueing effect ran: its queue still carries UNDER_REVIEW
  const [accepted, actions] = step(review, { type: 'OFFER_ACCEPTED' });
  assert.deepEqual(accepted.value, { active: 'offerAccepted' });
  assert.deepEqual(
    queued(actions).map((m) => m.payload.status),
    ['RECEIVED', 'READY_FOR_SIGNING', 'UNDER_REVIEW', 'OFFER_ACCEPTED'],
  );
});

test('staff drive the review with configured statuses, then offer accepted → paid → issued; unknown statuses are refused', () => {
  let { snapshot: s } = toReadyForSigning();
  assert.equal(s.can({ type: 'SET_STATUS', code: 'MADE_UP' }), false);
  const sent: OutgoingMessage[] = [];
  let actions;
  for (const event of [
    { type: 'SET_STATUS', code: 'UNDER_REVIEW' },
    { type: 'SET_STATUS', code: 'CHECKING_DOCUMENTS', comment: 'паспорт' },
    { type: 'OFFER_ACCEPTED' },
    { type: 'OFFER_PAID' },
    { type: 'ISSUE' },
  ] satisfies ApplicationEvent[]) {
    [s, actions] = step(s, event);
    sent.push(...queued(actions));
  }
  assert.equal(s.value, 'issued');
  assert.deepEqual(
    outbox(sent)
      .map((m) => `${m.id}=${String(m.payload.status)}`)
      .slice(2),
    [
      'a1b2:status:3=UNDER_REVIEW',
      'a1b2:status:4=CHECKING_DOCUMENTS',
      'a1b2:status:5=OFFER_ACCEPTED',
      'a1b2:status:6=OFFER_PAID',
      'a1b2:status:7=ISSUED',
    ],
  );
  assert.equal(s.can({ type: 'REJECT', comment: 'x' }), false, 'an issued application cannot be rejected');
});

test('failing automatic checks return the application for rework with the error code', () => {
  const bad = { ...input, amount: 10, documents: [] };
  assert.deepEqual(
    checkApplication(bad).map((e) => e.code),
    ['AMOUNT_OUT_OF_LIMITS', 'DOCS_MISSING'],
  );
  assert.deepEqual(
    checkApplication({ ...input, client: { inn: '7701234567', name: 'ООО Ромашка' } }).map((e) => e.code),
    ['CLIENT_INN_INVALID'],
    'an INN whose check digit does not match is not an INN',
  );
  let [s] = initialTransition(machine, bad);
  s = done(s, 'acknowledge')[0];
  s = done(s, 'number', { number: 'BG-2026-000002' })[0];
  const [rework, actions] = done(s, 'announceNumber');
  assert.deepEqual(rework.value, { active: 'returnedForRework' });
  assert.deepEqual(
    queued(actions).map((m) => [m.payload.status, m.payload.errorCode ?? null]),
    [
      ['RECEIVED', null],
      ['REWORK', 'AMOUNT_OUT_OF_LIMITS'],
    ],
  );
});

test('a refused withdrawal returns to the exact state, says so to Goodfin, and announces no status again', () => {
  let { snapshot: s } = toReadyForSigning();
  s = step(s, { type: 'SET_STATUS', code: 'UNDER_REVIEW' })[0];
  const [asked, none] = step(s, { type: 'WITHDRAWAL_REQUESTED', msgId: 'msg-9', origin: 'client', reason: 'передумали' });
  assert.equal(asked.value, 'withdrawalRequested');
  assert.deepEqual(queued(none), []);
  const [refusing, refusal] = step(asked, { type: 'REFUSE_WITHDRAWAL' });
  assert.deepEqual(
    queued(refusal).map((m) => [m.id, m.payload.success, m.payload.errorCode]),
    [['a1b2:withdrawal:msg-9', false, 'WITHDRAWAL_REFUSED']],
  );
  const [back, reentered] = done(refusing, 'refuseWithdrawal');
  assert.deepEqual(back.value, { active: 'underReview' });
  assert.deepEqual(
    queued(reentered).map((m) => m.id),
    ['a1b2:status:1', 'a1b2:status:2', 'a1b2:status:3'],
    'the same message ids: the outbox keeps the first of each',
  );
  assert.equal(ctx(back).statusSeq, 3);
});

test('an accepted withdrawal (client or system) ends withdrawn with a CommonResponse and the status', () => {
  const { snapshot } = toReadyForSigning();
  const [asked] = step(snapshot, { type: 'WITHDRAWAL_REQUESTED', msgId: null, origin: 'system', reason: 'срок истёк' });
  const [withdrawn, actions] = step(asked, { type: 'ACCEPT_WITHDRAWAL' });
  assert.equal(withdrawn.value, 'withdrawn');
  assert.deepEqual(
    queued(actions)
      .map((m) => `${m.payloadType}:${String(m.payload.status ?? '')}`)
      .at(-1),
    'ChangeDealApplicationStatusEvent:WITHDRAWN',
  );
  const [clientAsked] = step(snapshot, { type: 'WITHDRAWAL_REQUESTED', msgId: 'msg-7', origin: 'client', reason: '' });
  assert.deepEqual(queued(step(clientAsked, { type: 'ACCEPT_WITHDRAWAL' })[1]).map((m) => m.payloadType)[0], 'CommonResponse');
});

test('a document download that fails after its retries waits for a person (alert); RETRY goes again without new messages', () => {
  let [s] = initialTransition(machine, input);
  s = done(s, 'acknowledge')[0];
  s = done(s, 'number', { number: 'BG-2026-000003' })[0];
  s = done(s, 'announceNumber')[0];
  const [stuck] = step(s, {
    type: 'xstate.error.actor.documents',
    error: { code: 'timeout', message: 'goodfin down', retryable: true, attempts: 5 },
  });
  assert.deepEqual(stuck.value, { active: 'stuck' });
  assert.ok(stuck.hasTag('alert'));
  const [again, actions] = step(stuck, { type: 'RETRY' });
  assert.deepEqual(again.value, { active: 'acknowledging' });
  assert.deepEqual(
    queued(actions).map((m) => m.id),
    ['a1b2:ack:msg-1', 'a1b2:status:1'],
    'the same ids: nothing is sent twice',
  );
});

// Refusals: why an application turns an event down (the runtime answers them in event_not_accepted's details.reason).
const withdrawal: ApplicationEvent = { type: 'WITHDRAWAL_REQUESTED', msgId: 'msg-5', origin: 'client', reason: 'передумали' };

test("a status outside the application's review statuses is refused as not_a_review_status, listing them, in any state", () => {
  const { snapshot: ready } = toReadyForSigning();
  const review = step(ready, { type: 'SET_STATUS', code: 'UNDER_REVIEW' })[0];
  const issued = ([{ type: 'OFFER_ACCEPTED' }, { type: 'OFFER_PAID' }, { type: 'ISSUE' }] satisfies ApplicationEvent[]).reduce(
    (s, event) => step(s, event)[0],
    review,
  );
  assert.equal(issued.value, 'issued');
  const madeUp: ApplicationEvent = { type: 'SET_STATUS', code: 'MADE_UP' };
  for (const s of [ready, review, issued]) {
    assert.equal(s.can(madeUp), false);
    assert.deepEqual(applicationRefusal(s, madeUp), {
      code: APPLICATION_REFUSALS.notAReviewStatus,
      message: 'MADE_UP is not a review status of this application: one of UNDER_REVIEW, CLIENT_INFO_REQUESTED, CHECKING_DOCUMENTS',
      details: { code: 'MADE_UP', reviewStatuses: ['UNDER_REVIEW', 'CLIENT_INFO_REQUESTED', 'CHECKING_DOCUMENTS'] },
    });
  }
  assert.equal(application.refusal, applicationRefusal, 'the module hands the runtime its refusal');
  assert.equal(
    applicationRefusal(issued, { type: 'SET_STATUS', code: 'UNDER_REVIEW' }),
    null,
    'a known status late has no reason but the state',
  );
});

test('a withdrawal while the bank decides on another is refused as withdrawal_pending, in both steps of the decision', () => {
  const { snapshot } = toReadyForSigning();
  const [asked] = step(snapshot, { ...withdrawal, msgId: 'msg-4' });
  const [refusing] = step(asked, { type: 'REFUSE_WITHDRAWAL' });
  for (const s of [asked, refusing]) {
    assert.equal(s.can(withdrawal), false);
    assert.deepEqual(applicationRefusal(s, withdrawal), {
      code: APPLICATION_REFUSALS.withdrawalPending,
      message: 'the bank is deciding on an earlier withdrawal request',
    });
  }
});

test('a withdrawal of a withdrawn, issued or rejected application is refused as application_closed, naming its status', () => {
  const { snapshot } = toReadyForSigning();
  const withdrawn = step(step(snapshot, { ...withdrawal, msgId: 'msg-4' })[0], { type: 'ACCEPT_WITHDRAWAL' })[0];
  const rejected = step(snapshot, { type: 'REJECT', comment: 'нет' })[0];
  for (const [s, status] of [
    [withdrawn, 'WITHDRAWN'],
    [rejected, 'REJECTED'],
  ] as const) {
    assert.equal(s.can(withdrawal), false);
    assert.deepEqual(applicationRefusal(s, withdrawal), {
      code: APPLICATION_REFUSALS.applicationClosed,
      message: `the application is closed (${status})`,
      details: { status },
    });
  }
});
