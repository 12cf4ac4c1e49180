import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { goodfinConnector } from '../../../../actors/platform/connectors/goodfin/connector.ts';
import type { GoodfinClient } from '../../../../actors/platform/connectors/goodfin/client.ts';
import {
  addDealApplicationSchema,
  envelopeSchema,
  GOODFIN_PATHS,
  INBOUND_TOKEN_HEADER,
  type GoodfinEnvelope,
} from '../../../../actors/platform/connectors/goodfin/protocol.ts';
import {
  GOODFIN_SANDBOX_CREDENTIALS,
  startGoodfinSandbox,
  type GoodfinSandbox,
} from '../../../../actors/platform/connectors/goodfin/sandbox.ts';
import { withSandboxClient } from '../../../support/connectors.ts';
import { startReceiver, type Receiver } from '../../../support/receiver.ts';

const SERVICE = GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName;
const SECRET = 'bank-secret-7f3a';

interface Pushed {
  msgId: string;
  payloadType: string;
  dealApplicationId: string | null;
  pushes: number;
  answered: Record<string, unknown> | null;
  lastStatus: number | null;
}
interface Messages {
  pushed: Pushed[];
  received: GoodfinEnvelope[];
  duplicates: number;
}

/** Checks a legal entity's INN by the tax service's rule (weights 2 4 10 3 5 9 4 6 8, mod 11, mod 10). */
function validLegalEntityInn(inn: unknown): boolean {
  if (typeof inn !== 'string' || !/^\d{10}$/.test(inn)) return false;
  const sum = [2, 4, 10, 3, 5, 9, 4, 6, 8].reduce((total, weight, i) => total + weight * Number(inn[i]), 0);
  return (sum % 11) % 10 === Number(inn[9]);
}

const envelopeOf = (body: Buffer) => envelopeSchema.parse(JSON.parse(body.toString('utf8')));

interface Setup {
  goodfin: GoodfinSandbox;
  bank: Receiver;
  token: string;
  /** a call of Goodfin's API with the bearer token (or another, or none) */
  api(path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: Record<string, unknown> }>;
  /** POST (with a body) or GET /__sandbox/<what> */
  control(what: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  messages(): Promise<Messages>;
  /** a message of the bank's to openapi/in */
  send(
    payloadType: GoodfinEnvelope['payloadType'],
    payload: Record<string, unknown>,
    msgId: string,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

async function answerOf(response: Response) {
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** The sandbox, a bank endpoint on loopback, a token of the preregistered service, and (unless told not to) the endpoint declared. */
async function withGoodfin(run: (setup: Setup) => Promise<void>, options: { declare?: boolean } = {}): Promise<void> {
  const goodfin = await startGoodfinSandbox();
  const bank = await startReceiver();
  try {
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: 'shboauthclient',
      username: SERVICE,
      password: GOODFIN_SANDBOX_CREDENTIALS.password,
    });
    const issued = await fetch(`${goodfin.url}${GOODFIN_PATHS.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const token = String(((await issued.json()) as { access_token: string }).access_token);
    const api: Setup['api'] = async (path, body, as = token) =>
      answerOf(
        await fetch(`${goodfin.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(as === null ? {} : { authorization: `Bearer ${as}` }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    const control: Setup['control'] = async (what, body) =>
      answerOf(
        await fetch(
          `${goodfin.url}/__sandbox/${what}`,
          body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
        ),
      );
    if (options.declare !== false) {
      const declared = await api(GOODFIN_PATHS.integrationEndpoint, {
        url: `${bank.url}/goodfin/in`,
        deliveryMode: 'full',
        auth: { type: 'header', name: INBOUND_TOKEN_HEADER, value: SECRET },
      });
      assert.equal(declared.status, 200);
    }
    await run({
      goodfin,
      bank,
      token,
      api,
      control,
      messages: async () => (await control('messages')).body as unknown as Messages,
      send: (payloadType, payload, msgId) =>
        api(GOODFIN_PATHS.inbound, {
          payloadType,
          originator: SERVICE,
          receiver: 'Shb',
          msgId,
          msgDateTime: '2026-11-22T10:00:00.000',
          payload,
        }),
    });
  } finally {
    await goodfin.close();
    await bank.close();
  }
}

const statusEvent = (dealApplicationId: string) => ({
  dealApplicationId,
  status: 'UNDER_REVIEW',
  statusDateTime: '2026-11-22T10:00:00.000',
  comment: 'На рассмотрении',
});

test('generatedeals pushes one valid AddDealApplication per deal to the declared endpoint with the declared header; INNs are valid and every listed document downloads', () =>
  withSandboxClient<GoodfinClient>(goodfinConnector, async ({ sandbox, client }) => {
    const bank = await startReceiver();
    try {
      await client.declareEndpoint({
        url: `${bank.url}/goodfin/in`,
        deliveryMode: 'full',
        auth: { type: 'header', name: INBOUND_TOKEN_HEADER, value: SECRET },
      });
      const generated = await client.generateDeals({ count: 4 });
      assert.equal(generated.success, true);
      assert.deepEqual(
        generated.deals.map((d) => d.productType),
        ['BankGuarantee', 'Loan', 'BankGuarantee', 'Loan'],
        'the products alternate',
      );
      const received = await bank.waitFor(4);
      // nothing more comes: a second push of a deal would follow at once (a resend waits 30 s)
      await sleep(100);
      assert.equal(received.length, 4, 'each deal pushed once');

      for (const [i, request] of received.entries()) {
        const deal = generated.deals[i];
        assert.ok(deal);
        assert.equal(request.method, 'POST');
        assert.equal(request.path, '/goodfin/in');
        assert.equal(request.headers[INBOUND_TOKEN_HEADER.toLowerCase()], SECRET);
        assert.match(String(request.headers['content-type']), /^application\/json/);
        const envelope = envelopeOf(request.body);
        assert.deepEqual(
          [envelope.payloadType, envelope.originator, envelope.receiver, envelope.msgId],
          ['AddDealApplication', 'Shb', SERVICE, deal.msgId],
          'pushed in the order generated',
        );
        assert.match(envelope.msgId, /^[0-9a-f-]{36}$/);
        assert.match(envelope.msgDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
        const payload = addDealApplicationSchema.parse(envelope.payload);
        assert.equal(payload.dealApplicationId, deal.dealApplicationId);
        assert.match(payload.dealApplicationId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.equal(payload.productType, deal.productType);

        const data = payload.requestData as Record<string, unknown> & { amount: number; term: number; client: Record<string, unknown> };
        assert.equal(data.currency, 'RUB');
        assert.ok(Number.isInteger(data.amount) && data.amount >= 150_000 && data.amount <= 30_000_000, `amount ${data.amount}`);
        assert.ok(Number.isInteger(data.term) && data.term >= 1 && data.term <= 60, `term ${data.term}`);
        assert.ok(validLegalEntityInn(data.client.inn), `client INN ${String(data.client.inn)}`);
        assert.match(String(data.client.name), /^(ООО|АО) «.+»$/);
        if (payload.productType === 'BankGuarantee') {
          assert.ok(['PARTICIPATION', 'CONTRACT_EXECUTION', 'ADVANCE_RETURN', 'WARRANTY_OBLIGATIONS'].includes(String(data.guaranteeType)));
          assert.match(String(data.purchaseNumber), /^\d{19}$/);
          const beneficiary = data.beneficiary as { inn: string; name: string };
          assert.ok(validLegalEntityInn(beneficiary.inn), `beneficiary INN ${beneficiary.inn}`);
          assert.ok(beneficiary.name.length > 3);
        } else {
          assert.ok(String(data.purpose).length > 3);
        }

        const types = payload.documents.map((d) => d.documentType);
        assert.ok(types.includes('CHARTER') && types.includes('FINANCIAL_STATEMENT'), types.join());
        assert.equal(new Set(payload.documents.map((d) => d.documentId)).size, payload.documents.length, 'one id per document');
        for (const document of payload.documents) {
          const bytes = await client.downloadDocument(document.documentId);
          assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
          assert.ok(bytes.toString('latin1').includes(document.documentType), 'the PDF names its document');
        }
      }
      const goodfin = sandbox as GoodfinSandbox;
      assert.deepEqual(
        goodfin.pushed().map((p) => [p.msgId, p.pushes, p.lastStatus, p.answered]),
        generated.deals.map((d) => [d.msgId, 1, 200, null]),
      );
    } finally {
      await bank.close();
    }
  }));

test('generatedeals needs a token (401) and a declared endpoint (400 endpoint_not_declared); a count over 50 is a validation_error', () =>
  withGoodfin(
    async ({ api, control, bank, goodfin }) => {
      const anonymous = await api(GOODFIN_PATHS.generateDeals, { count: 1 }, null);
      assert.equal(anonymous.status, 401);
      const forged = await api(GOODFIN_PATHS.generateDeals, { count: 1 }, 'eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX25hbWUiOiJ4In0.c2lnbmF0dXJl');
      assert.equal(forged.status, 401);

      const undeclared = await api(GOODFIN_PATHS.generateDeals, { count: 1 });
      assert.equal(undeclared.status, 400);
      assert.equal(undeclared.body.error, 'endpoint_not_declared');
      assert.equal(typeof undeclared.body.error_description, 'string');
      assert.equal((await control('generatedeals', {})).body.error, 'endpoint_not_declared', 'the control checks it too');

      await api(GOODFIN_PATHS.integrationEndpoint, {
        url: `${bank.url}/goodfin/in`,
        deliveryMode: 'full',
        auth: { type: 'header', name: INBOUND_TOKEN_HEADER, value: SECRET },
      });
      const tooMany = await api(GOODFIN_PATHS.generateDeals, { count: 51 });
      assert.deepEqual([tooMany.status, tooMany.body.error], [400, 'validation_error']);
      assert.deepEqual(goodfin.pushed(), [], 'nothing was pushed');

      // with no body at all: three deals
      const defaults = await api(GOODFIN_PATHS.generateDeals);
      assert.equal(defaults.status, 200);
      assert.equal((defaults.body.deals as unknown[]).length, 3);
      await bank.waitFor(3);
    },
    { declare: false },
  ));

test('invalid:true makes the first deal lack the client INN, and productType fixes the product', () =>
  withGoodfin(async ({ control, bank }) => {
    const generated = await control('generatedeals', { count: 2, invalid: true, productType: 'Loan' });
    assert.equal(generated.status, 200);
    assert.deepEqual(
      (generated.body.deals as Array<{ productType: string }>).map((d) => d.productType),
      ['Loan', 'Loan'],
    );
    const [first, second] = (await bank.waitFor(2)).map((r) => addDealApplicationSchema.parse(envelopeOf(r.body).payload));
    assert.equal(first?.requestData.client?.inn, undefined);
    assert.ok(validLegalEntityInn(second?.requestData.client?.inn));
  }));

test('a pushed message without a CommonResponse is resent with the same msgId after resendAfterMs, and no more after maxResends', () =>
  withGoodfin(async ({ control, bank, messages }) => {
    assert.deepEqual((await control('resend-policy', { resendAfterMs: 200, maxResends: 2 })).body, { resendAfterMs: 200, maxResends: 2 });
    const generated = await control('generatedeals', { count: 1 });
    const [deal] = generated.body.deals as Array<{ msgId: string }>;
    const started = Date.now();
    const received = await bank.waitFor(3, 5_000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 350, `two resends 200 ms apart took ${elapsed} ms`);
    // a third resend would come 200 ms after the second: wait out two such intervals
    await sleep(400);
    assert.equal(received.length, 3, 'the first push and two resends, then Goodfin gives up');
    assert.deepEqual(
      received.map((r) => envelopeOf(r.body).msgId),
      [deal?.msgId, deal?.msgId, deal?.msgId],
    );
    assert.ok(
      received.every((r) => r.body.equals(received[0]?.body ?? Buffer.alloc(0))),
      'the same envelope each time',
    );
    const [pushed] = (await messages()).pushed;
    assert.deepEqual([pushed?.msgId, pushed?.pushes, pushed?.answered, pushed?.lastStatus], [deal?.msgId, 3, null, 200]);
  }));

test('a CommonResponse to openapi/in stops the resends, is recorded as the answer and is not answered itself', () =>
  withGoodfin(async ({ control, bank, send, messages, goodfin }) => {
    goodfin.setResendPolicy({ resendAfterMs: 500, maxResends: 5 });
    const [deal] = (await control('generatedeals', { count: 1 })).body.deals as Array<{ msgId: string; dealApplicationId: string }>;
    assert.ok(deal);
    await bank.waitFor(1);
    const answer = { originalMsgId: deal.msgId, dealApplicationId: deal.dealApplicationId, success: true };
    const reply = await send('CommonResponse', answer, 'bank-ack-1');
    assert.deepEqual([reply.status, reply.body], [200, { success: true }]);
    // a resend would come 500 ms after the push, which came before the answer: wait past it
    await sleep(700);
    assert.equal(bank.received.length, 1, 'neither resent nor answered');
    const got = await messages();
    assert.deepEqual(
      got.pushed.map((p) => [p.msgId, p.pushes, p.answered]),
      [[deal.msgId, 1, answer]],
    );
    assert.deepEqual(
      got.received.map((m) => m.msgId),
      ['bank-ack-1'],
    );
  }));

test('a status event is answered with a CommonResponse at the endpoint; a repeat of its msgId is recorded once and answered again with the same answer msgId', () =>
  withGoodfin(async ({ bank, send, messages, goodfin, control }) => {
    goodfin.setResendPolicy({ resendAfterMs: 150, maxResends: 5 });
    const first = await send('ChangeDealApplicationStatusEvent', statusEvent('deal-17'), 'bank-status-1');
    assert.deepEqual([first.status, first.body], [200, { success: true }]);
    const [answered] = await bank.waitFor(1);
    assert.equal(answered?.headers[INBOUND_TOKEN_HEADER.toLowerCase()], SECRET);
    const answer = envelopeOf(answered?.body ?? Buffer.alloc(0));
    assert.deepEqual([answer.payloadType, answer.originator, answer.receiver], ['CommonResponse', 'Shb', SERVICE]);
    assert.deepEqual(answer.payload, { originalMsgId: 'bank-status-1', dealApplicationId: 'deal-17', success: true });

    const repeat = await send('ChangeDealApplicationStatusEvent', statusEvent('deal-17'), 'bank-status-1');
    assert.equal(repeat.status, 200);
    const [, again] = await bank.waitFor(2);
    assert.equal(envelopeOf(again?.body ?? Buffer.alloc(0)).msgId, answer.msgId, 'the same answer message');
    // a resend of the answer would come 150 ms after its push: wait out two such intervals
    await sleep(300);
    assert.equal(bank.received.length, 2, 'an answer is never resent: nobody answers it');

    const got = await messages();
    assert.deepEqual(
      got.received.map((m) => m.msgId),
      ['bank-status-1'],
    );
    assert.equal(got.duplicates, 1);
    assert.deepEqual(goodfin.service(SERVICE)?.received.length, 1);
    assert.deepEqual(
      got.pushed.map((p) => [p.msgId, p.payloadType, p.dealApplicationId, p.pushes]),
      [[answer.msgId, 'CommonResponse', 'deal-17', 2]],
    );
    const state = (await control('state')).body.state as {
      services: Array<{ serviceSystemName: string; received: number; duplicates: number; pushed: number; unanswered: number }>;
    };
    assert.deepEqual(
      state.services.find((s) => s.serviceSystemName === SERVICE),
      {
        serviceSystemName: SERVICE,
        endpoint: `${bank.url}/goodfin/in`,
        statuses: [],
        errors: [],
        received: 1,
        duplicates: 1,
        pushed: 1,
        unanswered: 0,
      },
    );

    // UpdateApplicationParams is answered the same way, with its own answer
    await send('UpdateApplicationParams', { dealApplicationId: 'deal-17', serviceApplicationNumber: 'BG-2026-000017' }, 'bank-number-1');
    const [, , third] = await bank.waitFor(3);
    const numberAnswer = envelopeOf(third?.body ?? Buffer.alloc(0));
    assert.equal(numberAnswer.payload.originalMsgId, 'bank-number-1');
    assert.notEqual(numberAnswer.msgId, answer.msgId);
  }));

test("the bank's invalid messages are refused with 400 and recorded nowhere: bad envelope, bad payload, Goodfin's own types, another originator, no token", () =>
  withGoodfin(async ({ api, send, bank, messages }) => {
    const cases = [
      await api(GOODFIN_PATHS.inbound, {
        payloadType: 'ChangeDealApplicationStatusEvent',
        originator: SERVICE,
        receiver: 'Shb',
        payload: statusEvent('d-1'),
      }),
      await send('ChangeDealApplicationStatusEvent', { dealApplicationId: 'd-1' }, 'bad-1'),
      await send('CommonResponse', { success: true }, 'bad-2'),
      await send('UpdateApplicationParams', { dealApplicationId: 'd-1', serviceApplicationNumber: '' }, 'bad-3'),
      await send(
        'AddDealApplication',
        {
          dealApplicationId: 'd-1',
          createApplicationDateTime: '2026-11-22T10:00:00.000',
          productType: 'Loan',
          requestData: {},
          documents: [],
        },
        'bad-4',
      ),
      await send('CancelDealApplication', { dealApplicationId: 'd-1' }, 'bad-5'),
      await api(GOODFIN_PATHS.inbound, {
        payloadType: 'ChangeDealApplicationStatusEvent',
        originator: 'otherBank1',
        receiver: 'Shb',
        msgId: 'bad-6',
        msgDateTime: '2026-11-22T10:00:00.000',
        payload: statusEvent('d-1'),
      }),
    ];
    assert.deepEqual(
      cases.map((c) => [c.status, c.body.error]),
      Array.from({ length: cases.length }, () => [400, 'validation_error']),
    );
    assert.match(String(cases[1]?.body.error_description), /status/);
    assert.match(String(cases[6]?.body.error_description), /otherBank1/);
    const anonymous = await api(
      GOODFIN_PATHS.inbound,
      {
        payloadType: 'CommonResponse',
        originator: SERVICE,
        receiver: 'Shb',
        msgId: 'bad-7',
        msgDateTime: '2026-11-22T10:00:00.000',
        payload: { originalMsgId: 'x', success: true },
      },
      null,
    );
    assert.equal(anonymous.status, 401);

    // an answer to any of them would be pushed at once: give it a moment to show
    await sleep(200);
    const got = await messages();
    assert.deepEqual([got.received, got.duplicates, got.pushed, bank.received.length], [[], 0, [], 0]);
  }));

test('the cancel control pushes a CancelDealApplication; repush delivers an earlier envelope again as is; an unknown msgId is 404', () =>
  withGoodfin(async ({ control, bank, messages }) => {
    const cancelled = await control('cancel', { dealApplicationId: 'deal-42', reason: 'Клиент передумал' });
    assert.equal(cancelled.status, 200);
    const msgId = String(cancelled.body.msgId);
    const [delivered] = await bank.waitFor(1);
    const envelope = envelopeOf(delivered?.body ?? Buffer.alloc(0));
    assert.deepEqual([envelope.payloadType, envelope.msgId, envelope.receiver], ['CancelDealApplication', msgId, SERVICE]);
    assert.deepEqual(envelope.payload, { dealApplicationId: 'deal-42', reason: 'Клиент передумал', initiator: 'CLIENT' });

    const repushed = await control('repush', { msgId });
    assert.deepEqual([repushed.status, repushed.body], [200, { msgId }]);
    const [, again] = await bank.waitFor(2);
    assert.ok(again?.body.equals(delivered?.body ?? Buffer.alloc(0)), 'the same envelope, byte for byte');
    const [pushed] = (await messages()).pushed;
    assert.deepEqual(
      [pushed?.payloadType, pushed?.dealApplicationId, pushed?.pushes, pushed?.answered],
      ['CancelDealApplication', 'deal-42', 2, null],
    );

    assert.equal((await control('repush', { msgId: 'never-pushed' })).status, 404);
    assert.equal((await control('cancel', {})).body.error, 'validation_error');
    assert.equal((await control('messages?serviceSystemName=nobody')).status, 404);
  }));

test('the resubmit control resends a pushed deal corrected, as Goodfin does after a rework: same id, a new msgId, a valid INN, the charter as a new file that downloads; an unknown deal is 404', () =>
  withGoodfin(async ({ control, bank, token, goodfin }) => {
    const generated = await control('generatedeals', { count: 1, invalid: true });
    const [deal] = generated.body.deals as Array<{ dealApplicationId: string; msgId: string }>;
    const [first] = await bank.waitFor(1);
    const original = addDealApplicationSchema.parse(envelopeOf(first?.body ?? Buffer.alloc(0)).payload);
    assert.equal(original.requestData.client?.inn, undefined);

    const resubmitted = await control('resubmit', { dealApplicationId: deal?.dealApplicationId });
    assert.equal(resubmitted.status, 200, JSON.stringify(resubmitted.body));
    const [, second] = await bank.waitFor(2);
    const envelope = envelopeOf(second?.body ?? Buffer.alloc(0));
    assert.equal(envelope.payloadType, 'AddDealApplication');
    assert.equal(envelope.msgId, resubmitted.body.msgId);
    assert.notEqual(envelope.msgId, deal?.msgId, 'a new message');
    const corrected = addDealApplicationSchema.parse(envelope.payload);
    assert.equal(corrected.dealApplicationId, original.dealApplicationId);
    assert.ok(validLegalEntityInn(corrected.requestData.client?.inn), 'the INN the client added is valid');
    assert.deepEqual(corrected.requestData.amount, original.requestData.amount, 'the rest as it was');
    assert.equal(corrected.documents.length, original.documents.length);
    assert.notEqual(corrected.documents[0]?.documentId, original.documents[0]?.documentId, 'the charter uploaded again');
    assert.deepEqual(corrected.documents.slice(1), original.documents.slice(1));
    const download = await fetch(`${goodfin.url}${GOODFIN_PATHS.downloadDocument}?documentId=${corrected.documents[0]?.documentId ?? ''}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(download.status, 200);
    assert.equal(
      Buffer.from(await download.arrayBuffer())
        .subarray(0, 5)
        .toString(),
      '%PDF-',
    );

    assert.equal((await control('resubmit', { dealApplicationId: 'never-pushed' })).status, 404);
    assert.equal((await control('resubmit', {})).body.error, 'validation_error');
  }));

test("answering:false stops the CommonResponses to the bank's messages; turned on again, they come back", () =>
  withGoodfin(async ({ control, send, bank, messages }) => {
    assert.deepEqual((await control('answering', { enabled: false })).body, { enabled: false });
    assert.equal((await send('ChangeDealApplicationStatusEvent', statusEvent('deal-5'), 'quiet-1')).status, 200);
    // an answer would be pushed at once: give it a moment to show
    await sleep(200);
    assert.equal(bank.received.length, 0);
    assert.deepEqual(
      (await messages()).received.map((m) => m.msgId),
      ['quiet-1'],
      'still recorded',
    );

    await control('answering', { enabled: true });
    await send('ChangeDealApplicationStatusEvent', statusEvent('deal-5'), 'loud-1');
    const [answered] = await bank.waitFor(1);
    assert.equal(envelopeOf(answered?.body ?? Buffer.alloc(0)).payload.originalMsgId, 'loud-1');
  }));

test('pushes go out one at a time in order: a 503 is retried before the next message, and any 2xx counts as delivered', () =>
  withGoodfin(async ({ control, bank, goodfin }) => {
    bank.answerWith(503);
    const deals = (await control('generatedeals', { count: 2 })).body.deals as Array<{ msgId: string }>;
    await bank.waitFor(1);
    bank.answerWith(202);
    const received = await bank.waitFor(3);
    // nothing more: a further attempt at a delivered push would follow within its 100 ms pause
    await sleep(300);
    assert.deepEqual(
      received.map((r) => envelopeOf(r.body).msgId),
      [deals[0]?.msgId, deals[0]?.msgId, deals[1]?.msgId],
      'the second waited for the first',
    );
    assert.deepEqual(
      goodfin.pushed().map((p) => [p.pushes, p.lastStatus]),
      [
        [1, 202],
        [1, 202],
      ],
    );
  }));

test('reset forgets what was pushed and the resends waiting', () =>
  withGoodfin(async ({ control, bank, goodfin }) => {
    goodfin.setResendPolicy({ resendAfterMs: 200, maxResends: 5 });
    await control('generatedeals', { count: 1 });
    await bank.waitFor(1);
    assert.equal((await fetch(`${goodfin.url}/__sandbox/reset`, { method: 'POST' })).status, 204);
    // declared again at once, so that a resend left behind would have somewhere to go
    const issued = await fetch(`${goodfin.url}${GOODFIN_PATHS.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'shboauthclient',
        username: SERVICE,
        password: GOODFIN_SANDBOX_CREDENTIALS.password,
      }).toString(),
    });
    const token = ((await issued.json()) as { access_token: string }).access_token;
    await fetch(`${goodfin.url}${GOODFIN_PATHS.integrationEndpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        url: `${bank.url}/goodfin/in`,
        deliveryMode: 'full',
        auth: { type: 'header', name: INBOUND_TOKEN_HEADER, value: SECRET },
      }),
    });
    // a resend left behind would come 200 ms after the push: wait out two such intervals
    await sleep(400);
    assert.equal(bank.received.length, 1, 'no resend after the reset');
    assert.deepEqual(goodfin.pushed(), []);
    const state = (await control('state')).body.state as { resendPolicy: unknown; answering: boolean };
    assert.deepEqual([state.resendPolicy, state.answering], [{ resendAfterMs: 30_000, maxResends: 5 }, true]);
  }));
