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
import { migrateSnapshot, restoreSnapshot, workOf } from '../../actors/runtime/machine-glue.ts';
import type { PersistedSnapshotJson } from '../../machines/machine-module.ts';

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

// Rework is not a dead end: a corrected AddDealApplication (RESUBMITTED) or staff (RESUBMIT_FOR_CHECKS) bring it back to the checks.
const withoutInn: ApplicationInput = { ...input, client: { inn: null, name: 'ООО Ромашка' } };

function toRework(from: ApplicationInput = withoutInn): SnapshotFrom<typeof machine> {
  let [s] = initialTransition(machine, from);
  s = done(s, 'acknowledge')[0];
  s = done(s, 'number', { number: 'BG-2026-000004' })[0];
  s = done(s, 'announceNumber')[0];
  assert.deepEqual(s.value, { active: 'returnedForRework' });
  return s;
}

const corrected = (): Extract<ApplicationEvent, { type: 'RESUBMITTED' }> => ({
  type: 'RESUBMITTED',
  msgId: 'msg-2',
  at: '2026-11-23T09:00:00.000',
  data: {
    productType: 'BankGuarantee',
    amount: 1_000_000,
    currency: 'RUB',
    client: { inn: '7701234560', name: 'ООО Ромашка' },
    documents: [{ documentId: 'd2', documentType: 'CHARTER', fileName: 'устав (новая редакция).pdf' }],
  },
  policy: input.policy,
});

test('a corrected AddDealApplication brings a returned application back: its data replaced, the change kept, its message answered, RECEIVED announced, then the checks', () => {
  const rework = toRework();
  assert.equal(rework.can(corrected()), true);
  const [back, actions] = step(rework, corrected());
  assert.deepEqual(back.value, { active: 'resubmitted' });
  const c = ctx(back);
  assert.deepEqual(c.client, { inn: '7701234560', name: 'ООО Ромашка' });
  assert.deepEqual(c.documents, corrected().data.documents);
  assert.deepEqual(c.checkErrors, [], 'the checks are computed again from the corrected data');
  assert.equal(c.receivedMsgId, 'msg-1', 'the first message stays the one that created it');
  assert.deepEqual(c.resubmissions, [
    {
      at: '2026-11-23T09:00:00.000',
      by: 'goodfin',
      msgId: 'msg-2',
      comment: null,
      changes: [
        { field: 'client', from: { inn: null, name: 'ООО Ромашка' }, to: { inn: '7701234560', name: 'ООО Ромашка' } },
        { field: 'documents', from: input.documents, to: corrected().data.documents },
      ],
    },
  ]);
  assert.deepEqual(
    queued(actions).map((m) => [m.id, m.payloadType, m.payload.status ?? m.payload.originalMsgId]),
    [
      ['a1b2:ack:msg-2', 'CommonResponse', 'msg-2'],
      ['a1b2:status:1', 'ChangeDealApplicationStatusEvent', 'RECEIVED'],
      ['a1b2:status:2', 'ChangeDealApplicationStatusEvent', 'REWORK'],
      ['a1b2:status:3', 'ChangeDealApplicationStatusEvent', 'RECEIVED'],
    ],
  );
  assert.equal(queued(actions)[0]?.payload.success, true);

  const [checked, download] = done(back, 'resubmitted');
  assert.deepEqual(checked.value, { active: 'downloadingDocuments' });
  assert.deepEqual(
    workOf(download).spawns.map((x) => [x.src, (x.input as { documents: unknown }).documents]),
    [['downloadDocuments', corrected().data.documents]],
    'the corrected documents are fetched (the effect skips those it holds already)',
  );
  const [ready, readyActions] = done(checked, 'documents', { downloaded: ['d2'] });
  assert.deepEqual(ready.value, { active: 'readyForSigning' });
  assert.deepEqual(
    outbox(queued(readyActions)).map((m) => m.payload.status),
    ['RECEIVED', 'REWORK', 'RECEIVED', 'READY_FOR_SIGNING'],
  );
  assert.equal(ctx(ready).number, 'BG-2026-000004', 'numbered once: the number stays');

  // details are replaced too, not merged: a correction without them has none
  const detailed = toRework({ ...withoutInn, details: { term: 12 } });
  const [replaced] = step(detailed, corrected());
  assert.equal(ctx(replaced).details, undefined);
  assert.deepEqual(ctx(replaced).resubmissions[0]?.changes.at(-1), { field: 'details', from: { term: 12 }, to: null });
});

test('a correction that still fails the checks returns it for rework again with the new reasons, and it can be corrected again', () => {
  const stillWrong = { ...corrected(), data: { ...corrected().data, client: { inn: '7701234567', name: 'ООО Ромашка' } } };
  const [back] = step(toRework(), stillWrong);
  const [rework, actions] = done(back, 'resubmitted');
  assert.deepEqual(rework.value, { active: 'returnedForRework' });
  assert.deepEqual(
    outbox(queued(actions)).map((m) => [m.id, m.payload.status, m.payload.errorCode ?? null]),
    [
      ['a1b2:status:1', 'RECEIVED', null],
      ['a1b2:status:2', 'REWORK', 'CLIENT_INN_MISSING'],
      ['a1b2:status:3', 'RECEIVED', null],
      ['a1b2:status:4', 'REWORK', 'CLIENT_INN_INVALID'],
    ],
    'each REWORK keeps the reasons it was sent with',
  );
  const [again] = step(rework, { ...corrected(), msgId: 'msg-3' });
  assert.deepEqual(again.value, { active: 'resubmitted' });
  assert.deepEqual(
    ctx(again).resubmissions.map((r) => [r.msgId, r.changes.map((change) => change.field)]),
    [
      ['msg-2', ['client', 'documents']],
      ['msg-3', ['client']],
    ],
  );
});

test('staff send a returned application back to the checks (RESUBMIT_FOR_CHECKS) under the current policy: their reason is kept and announced, no CommonResponse', () => {
  const tooSmall = toRework({ ...input, amount: 50_000 });
  assert.deepEqual(
    ctx(tooSmall).checkErrors.map((e) => e.code),
    ['AMOUNT_OUT_OF_LIMITS'],
  );
  const relaxed = { ...input.policy, limits: { BankGuarantee: { min: 10_000, max: 50_000_000 } } };
  const event: ApplicationEvent = {
    type: 'RESUBMIT_FOR_CHECKS',
    at: '2026-11-23T10:00:00.000',
    comment: 'лимиты снижены',
    policy: relaxed,
  };
  assert.equal(tooSmall.can(event), true);
  const [back, actions] = step(tooSmall, event);
  assert.deepEqual(back.value, { active: 'resubmitted' });
  assert.deepEqual(ctx(back).resubmissions, [
    {
      at: '2026-11-23T10:00:00.000',
      by: 'staff',
      msgId: null,
      comment: 'лимиты снижены',
      changes: [{ field: 'policy', from: input.policy, to: relaxed }],
    },
  ]);
  assert.deepEqual(
    queued(actions).map((m) => [m.payloadType, m.payload.status, m.payload.comment]),
    [
      ['ChangeDealApplicationStatusEvent', 'RECEIVED', null],
      ['ChangeDealApplicationStatusEvent', 'REWORK', '50000 is outside 100000…50000000'],
      ['ChangeDealApplicationStatusEvent', 'RECEIVED', 'лимиты снижены'],
    ],
  );
  assert.deepEqual(done(back, 'resubmitted')[0].value, { active: 'downloadingDocuments' });

  // unchanged data under an unchanged policy fails the same way: back to rework, the attempt recorded with no changes
  const [same] = step(tooSmall, { ...event, policy: input.policy });
  assert.deepEqual(ctx(same).resubmissions[0]?.changes, []);
  assert.deepEqual(done(same, 'resubmitted')[0].value, { active: 'returnedForRework' });
});

test('a refused withdrawal of a returned application leaves it in rework (nothing announced again), and a correction still brings it back', () => {
  const rework = toRework();
  const [asked] = step(rework, { ...withdrawal, msgId: 'msg-8' });
  assert.equal(asked.can(corrected()), false, 'not while the bank decides on the withdrawal');
  const [back, actions] = done(step(asked, { type: 'REFUSE_WITHDRAWAL' })[0], 'refuseWithdrawal');
  assert.deepEqual(back.value, { active: 'returnedForRework' });
  assert.equal(ctx(back).statusSeq, 2);
  assert.deepEqual(
    queued(actions).map((m) => m.id),
    ['a1b2:status:1', 'a1b2:status:2'],
  );
  assert.deepEqual(step(back, corrected())[0].value, { active: 'resubmitted' });
});

test('outside rework a resubmission is refused as not_returned_for_rework, naming the status, in every other state', () => {
  const { snapshot: ready } = toReadyForSigning();
  const [acknowledging] = initialTransition(machine, withoutInn);
  const review = step(ready, { type: 'SET_STATUS', code: 'UNDER_REVIEW' })[0];
  const resubmittedOnce = step(toRework(), corrected())[0];
  const asked = step(toRework(), { ...withdrawal, msgId: 'msg-8' })[0];
  const withdrawn = step(asked, { type: 'ACCEPT_WITHDRAWAL' })[0];
  const rejected = step(toRework(), { type: 'REJECT', comment: 'нет' })[0];
  let stuck = done(step(toRework(), corrected())[0], 'resubmitted')[0];
  stuck = step(stuck, { type: 'xstate.error.actor.documents', error: { code: 'timeout', message: 'down', retryable: true } })[0];
  assert.deepEqual(stuck.value, { active: 'stuck' });
  const staffEvent: ApplicationEvent = { type: 'RESUBMIT_FOR_CHECKS', at: '2026-11-23T10:00:00.000', comment: 'x', policy: input.policy };
  for (const [s, status] of [
    [acknowledging, 'RECEIVED'],
    [ready, 'READY_FOR_SIGNING'],
    [review, 'UNDER_REVIEW'],
    [resubmittedOnce, 'RECEIVED'],
    [asked, 'REWORK'],
    [stuck, 'RECEIVED'],
    [withdrawn, 'WITHDRAWN'],
    [rejected, 'REJECTED'],
  ] as const) {
    for (const event of [corrected(), staffEvent]) {
      assert.equal(s.can(event), false, `${event.type} in ${JSON.stringify(s.value)}`);
      assert.deepEqual(applicationRefusal(s, event), {
        code: APPLICATION_REFUSALS.notReturnedForRework,
        message: `only an application returned for rework goes back to the checks; this one is ${status}`,
        details: { status },
      });
    }
  }
});

test('a version 1 snapshot returned for rework migrates to version 2: no resubmissions yet, its REWORK keeps what was sent, and it can be corrected', () => {
  assert.equal(application.version, 2);
  const [, v2Actions] = done(
    done(done(initialTransition(machine, withoutInn)[0], 'acknowledge')[0], 'number', { number: 'BG-2026-000005' })[0],
    'announceNumber',
  );
  const sentByV2 = queued(v2Actions);
  // what version 1 stored: no `resubmissions`, REWORK without its reasons (they were derived when queueing)
  const current = machine.getPersistedSnapshot(toRework()) as unknown as PersistedSnapshotJson & { context: Record<string, unknown> };
  const { resubmissions: _none, ...v1Context } = current.context;
  const v1: PersistedSnapshotJson = {
    ...current,
    context: {
      ...v1Context,
      statusHistory: [
        { code: 'RECEIVED', comment: null },
        { code: 'REWORK', comment: null },
      ],
    },
  };
  const migrated = migrateSnapshot(application, 1, v1);
  assert.deepEqual((migrated.context as { resubmissions: unknown }).resubmissions, []);
  const restored = restoreSnapshot(application, 1, v1) as SnapshotFrom<typeof machine>;
  assert.deepEqual(restored.value, { active: 'returnedForRework' });
  assert.deepEqual(
    currentStatusesOf(restored),
    sentByV2.map((m) => m.payload),
    'the REWORK message is the one version 1 sent (same code and reasons)',
  );
  const [back] = step(restored, corrected());
  assert.deepEqual(back.value, { active: 'resubmitted' });
  assert.equal(ctx(back).resubmissions.length, 1);
  assert.throws(() => migrateSnapshot(application, 3, v1), /cannot load snapshots of version 3/);
});

/** The status payloads an application queues again when it re-enters its state (here after a refused withdrawal without a msgId). */
function currentStatusesOf(s: SnapshotFrom<typeof machine>) {
  const [refusing] = step(step(s, { type: 'WITHDRAWAL_REQUESTED', msgId: null, origin: 'system', reason: '' })[0], {
    type: 'REFUSE_WITHDRAWAL',
  });
  return queued(done(refusing, 'refuseWithdrawal')[1]).map((m) => m.payload);
}
