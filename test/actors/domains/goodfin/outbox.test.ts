import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { Alerts } from '../../../../actors/platform/alerts/alerts.ts';
import type { GoodfinClient } from '../../../../actors/platform/connectors/goodfin/client.ts';
import { goodfinConnector } from '../../../../actors/platform/connectors/goodfin/connector.ts';
import { GOODFIN_PATHS } from '../../../../actors/platform/connectors/goodfin/protocol.ts';
import { GOODFIN_SANDBOX_CREDENTIALS, type GoodfinSandbox } from '../../../../actors/platform/connectors/goodfin/sandbox.ts';
import { GoodfinOutbox, msgIdOf } from '../../../../actors/domains/goodfin/outbox.ts';
import type { OutgoingMessage } from '../../../../machines/goodfin-application.ts';
import { alertsCollection } from '../../../../persistence/alerts.ts';
import { ensureGoodfinIndexes, goodfinCollections } from '../../../../persistence/goodfin.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../../../support/database.ts';
import { withSandboxClient } from '../../../support/connectors.ts';
import { quietLogger } from '../../../support/runtime-harness.ts';

const status = (applicationId: string, seq: number, code: string): OutgoingMessage => ({
  id: `${applicationId}:status:${seq}`,
  payloadType: 'ChangeDealApplicationStatusEvent',
  payload: { dealApplicationId: applicationId, status: code, comment: null },
});

/** An outbox on a real database, sending to the Goodfin sandbox over loopback, on a clock the test moves. */
async function withOutbox(
  run: (setup: {
    outbox: GoodfinOutbox;
    goodfin: GoodfinSandbox;
    alerts: Alerts;
    advance(ms: number): void;
    delivered(): string[];
  }) => Promise<void>,
) {
  const mongo = await new MongoClient(databaseUri()).connect();
  const db = mongo.db(uniqueDatabaseName('goodfin-outbox'));
  try {
    await ensureGoodfinIndexes(db);
    await withSandboxClient<GoodfinClient>(
      goodfinConnector,
      async ({ client, sandbox }) => {
        let now = Date.parse('2026-11-22T10:00:00Z');
        const alerts = new Alerts({ collection: alertsCollection.open(db), channels: [], logger: quietLogger, now: () => now });
        // retries are the outbox's business: one HTTP attempt per delivery, so the test counts them exactly
        const outbox = new GoodfinOutbox({
          collection: goodfinCollections(db).outbox,
          answers: goodfinCollections(db).answers,
          client: () => client,
          logger: quietLogger,
          alerts,
          now: () => now,
          baseDelayMs: 1_000,
          maxDelayMs: 8_000,
          alertAfter: 3,
        });
        const goodfin = sandbox as GoodfinSandbox;
        await run({
          outbox,
          goodfin,
          alerts,
          advance: (ms) => (now += ms),
          delivered: () =>
            (goodfin.service(GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName)?.received ?? []).map(
              (m) => `${String(m.payload.dealApplicationId)}:${String(m.payload.status)}`,
            ),
        });
      },
      { policy: { retries: 0, breakerFailureThreshold: 100, timeoutMs: 1_000 } },
    );
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await mongo.close();
  }
}

test('queued messages reach Goodfin in order; queueing the same ids again sends nothing more', () =>
  withOutbox(async ({ outbox, delivered }) => {
    assert.equal(await outbox.enqueue('a-1', [status('a-1', 1, 'RECEIVED'), status('a-1', 2, 'READY_FOR_SIGNING')]), 2);
    await outbox.deliver();
    assert.equal(
      await outbox.enqueue('a-1', [status('a-1', 1, 'RECEIVED'), status('a-1', 2, 'READY_FOR_SIGNING'), status('a-1', 3, 'UNDER_REVIEW')]),
      1,
      'only the new one is queued',
    );
    await outbox.deliver();
    await outbox.deliver();
    assert.deepEqual(delivered(), ['a-1:RECEIVED', 'a-1:READY_FOR_SIGNING', 'a-1:UNDER_REVIEW']);
    const stored = await outbox.messagesOf('a-1');
    assert.deepEqual(
      stored.map((m) => [m.status, m.attempts, m.msgId]),
      stored.map((m) => ['sent', 1, msgIdOf(m._id)]),
    );
  }));

test("Goodfin down: an application's later messages wait behind the first, retries grow, an alert after the third failure; all arrive in order on return", () =>
  withOutbox(async ({ outbox, goodfin, alerts, advance, delivered }) => {
    goodfin.faults.inject({ kind: 'status', status: 503, count: 4, path: GOODFIN_PATHS.inbound });
    await outbox.enqueue('b-1', [status('b-1', 1, 'RECEIVED'), status('b-1', 2, 'READY_FOR_SIGNING')]);
    await outbox.deliver();
    assert.deepEqual(await outbox.deliver(), { sent: 0, failed: 0 }, 'not due again before its pause');
    const waits: number[] = [];
    for (let failure = 2; failure <= 4; failure += 1) {
      const [first] = await outbox.messagesOf('b-1');
      waits.push((first?.nextAttemptAt.getTime() ?? 0) - Date.parse('2026-11-22T10:00:00Z'));
      advance(8_000);
      assert.deepEqual(await outbox.deliver(), { sent: 0, failed: 1 }, `failure ${failure}: the second message was not tried`);
    }
    assert.deepEqual(waits, [1_000, 8_000 + 2_000, 16_000 + 4_000], 'the pause doubles');
    const { alerts: raised } = await alerts.list({});
    assert.equal(raised.length, 1);
    assert.equal(raised[0]?.kind, 'goodfin_delivery_failing');
    assert.match(raised[0]?.message ?? '', /ChangeDealApplicationStatusEvent to Goodfin failed 3 times/);
    const [first] = await outbox.messagesOf('b-1');
    assert.match(first?.lastError ?? '', /503/);

    advance(8_000);
    assert.deepEqual(await outbox.deliver(), { sent: 2, failed: 0 });
    assert.deepEqual(delivered(), ['b-1:RECEIVED', 'b-1:READY_FOR_SIGNING']);
    assert.equal(goodfin.requests({ path: GOODFIN_PATHS.inbound }).filter((r) => r.status === 200).length, 2, 'each delivered once');
  }));

test('Goodfin not answering in time, or taking a message and losing its answer: the message goes again with its msgId, Goodfin keeps it once, the next one waits behind it', () =>
  withOutbox(async ({ outbox, goodfin, advance, delivered }) => {
    goodfin.faults.inject({ kind: 'timeout', count: 1, path: GOODFIN_PATHS.inbound });
    await outbox.enqueue('t-1', [status('t-1', 1, 'RECEIVED'), status('t-1', 2, 'READY_FOR_SIGNING')]);
    await outbox.deliver();
    const [timedOut, behind] = await outbox.messagesOf('t-1');
    assert.deepEqual([timedOut?.status, timedOut?.attempts, behind?.attempts], ['pending', 1, 0]);
    assert.match(timedOut?.lastError ?? '', /no answer within 1000 ms/);

    goodfin.faults.inject({ kind: 'lost', count: 1, path: GOODFIN_PATHS.inbound });
    advance(1_000);
    await outbox.deliver();
    assert.deepEqual(delivered(), ['t-1:RECEIVED'], 'Goodfin took it, the hub never heard');
    assert.equal((await outbox.messagesOf('t-1'))[0]?.status, 'pending');

    advance(2_000);
    await outbox.deliver();
    assert.deepEqual(delivered(), ['t-1:RECEIVED', 't-1:READY_FOR_SIGNING'], 'in order, each kept once');
    assert.equal(goodfin.service(GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName)?.duplicates, 1, 'the resend carried the same msgId');
    assert.ok((await outbox.messagesOf('t-1')).every((m) => m.status === 'sent'));
  }));

test('one application failing does not hold up another', () =>
  withOutbox(async ({ outbox, goodfin, delivered }) => {
    goodfin.faults.inject({ kind: 'status', status: 500, count: 1, path: GOODFIN_PATHS.inbound });
    await outbox.enqueue('c-1', [status('c-1', 1, 'RECEIVED')]); // queueing starts a delivery: it fails
    await outbox.deliver();
    await outbox.enqueue('c-2', [status('c-2', 1, 'RECEIVED')]);
    await outbox.deliver();
    assert.deepEqual(delivered(), ['c-2:RECEIVED']);
    const [waiting] = await outbox.messagesOf('c-1');
    assert.deepEqual([waiting?.status, waiting?.attempts], ['pending', 1]);
  }));

test('a CommonResponse is matched to our message by msgId; sendAgain re-sends a sent message with the same msgId', () =>
  withOutbox(async ({ outbox, goodfin }) => {
    await outbox.enqueue('d-1', [status('d-1', 1, 'RECEIVED')]);
    await outbox.deliver();
    const [sent] = await outbox.messagesOf('d-1');
    assert.ok(sent);
    assert.equal(await outbox.recordAnswer('no-such-msg', { msgId: 'answer-0', success: true, errorCode: null, errorMessage: null }), null);
    const matched = await outbox.recordAnswer(sent.msgId, {
      msgId: 'answer-1',
      success: false,
      errorCode: 'UNKNOWN_STATUS',
      errorMessage: 'no such status',
    });
    assert.equal(matched?._id, sent._id);
    assert.equal((await outbox.messagesOf('d-1'))[0]?.answer?.errorCode, 'UNKNOWN_STATUS');

    assert.deepEqual(await outbox.sendAgain([sent._id, 'd-1:status:99']), [sent._id]);
    await outbox.deliver();
    const inbound = goodfin.requests({ path: GOODFIN_PATHS.inbound }).map((r) => (JSON.parse(r.body) as { msgId: string }).msgId);
    assert.deepEqual(inbound, [sent.msgId, sent.msgId]);
    assert.equal(goodfin.service(GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName)?.duplicates, 1, 'Goodfin sees it as a repeat');
  }));

test('answers arriving while messages are being marked sent never make one go out twice', () =>
  withOutbox(async ({ outbox, goodfin }) => {
    // Goodfin answers each message the moment it takes it, as the real one may; FerretDB rewrites whole
    // documents, so an answer written onto a message could undo its "sent" mark
    const count = 40;
    const answered = new Set<string>();
    const recorded = new Set<string>();
    let stop = false;
    const answering = (async () => {
      while (!stop) {
        const received = goodfin.service(GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName)?.received ?? [];
        await Promise.all(
          received
            .filter((m) => !answered.has(m.msgId))
            .map(async (m) => {
              answered.add(m.msgId);
              await outbox.recordAnswer(m.msgId, { msgId: `answer-${m.msgId}`, success: true, errorCode: null, errorMessage: null });
              recorded.add(m.msgId);
            }),
        );
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let seq = 1; seq <= count; seq += 1) {
      await outbox.enqueue('e-1', [status('e-1', seq, `S${seq}`)]);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    for (let round = 0; round < 200 && (await outbox.messagesOf('e-1')).some((m) => m.status === 'pending'); round += 1)
      await outbox.deliver();
    // the last answers land after their messages were marked sent: one more delivery once all are in
    await eventually(() => recorded.size >= count, 10_000, `answers to all ${count} messages`);
    await outbox.deliver();
    stop = true;
    await answering;
    const sentIds = goodfin.requests({ path: GOODFIN_PATHS.inbound }).map((r) => (JSON.parse(r.body) as { msgId: string }).msgId);
    assert.equal(sentIds.length, count, `${sentIds.length - new Set(sentIds).size} sent twice`);
    const stored = await outbox.messagesOf('e-1');
    assert.ok(stored.every((m) => m.status === 'sent' && m.answer?.success === true));
  }));
