import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goodfinConnector } from '../../../../actors/platform/connectors/goodfin/connector.ts';
import type { GoodfinClient } from '../../../../actors/platform/connectors/goodfin/client.ts';
import {
  GOODFIN_PATHS,
  jwtExpiry,
  registeredServiceSchema,
  type GoodfinEnvelope,
} from '../../../../actors/platform/connectors/goodfin/protocol.ts';
import { GOODFIN_SANDBOX_CREDENTIALS, samplePdf, type GoodfinSandbox } from '../../../../actors/platform/connectors/goodfin/sandbox.ts';
import { withSandboxClient, rejection } from '../../../support/connectors.ts';

type Setup = Parameters<Parameters<typeof withSandboxClient<GoodfinClient>>[1]>[0] & { goodfin: GoodfinSandbox };

const withGoodfin = (run: (setup: Setup) => Promise<void>) =>
  withSandboxClient<GoodfinClient>(goodfinConnector, (setup) => run({ ...setup, goodfin: setup.sandbox as GoodfinSandbox }));

const statusEvent = (msgId: string): GoodfinEnvelope => ({
  payloadType: 'ChangeDealApplicationStatusEvent',
  originator: GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName,
  receiver: 'Shb',
  msgId,
  msgDateTime: '2026-11-22T10:00:00.000',
  payload: { dealApplicationId: 'a1b2', status: 'UNDER_REVIEW', statusDateTime: '2026-11-22T10:00:00.000', comment: 'На рассмотрении' },
});

test('the connection test takes a password-grant token: form-encoded, client shboauthclient, a JWT whose exp is about an hour away', () =>
  withGoodfin(async ({ client, goodfin }) => {
    assert.equal(await goodfinConnector.test(client), `authenticated as service ${GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName}`);
    const [request] = goodfin.requests({ path: GOODFIN_PATHS.token });
    assert.match(request?.headers['content-type'] ?? '', /application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(request?.body ?? '');
    assert.deepEqual(Object.fromEntries(form), {
      grant_type: 'password',
      client_id: 'shboauthclient',
      username: GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName,
      password: GOODFIN_SANDBOX_CREDENTIALS.password,
    });
    const exp = jwtExpiry(client.session.token ?? '');
    assert.ok(exp !== null && Math.abs(exp - (Date.now() / 1000 + 3599)) < 5, `exp ${exp}`);
  }));

test('a wrong password is invalid_grant (400, not retryable) and is never recorded', () =>
  withGoodfin(async ({ clientWith, calls }) => {
    const error = await rejection(
      goodfinConnector.test(clientWith({ serviceSystemName: GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName, password: 'guessed-pass-31' })),
    );
    assert.deepEqual([error.code, error.message, error.status, error.retryable], ['invalid_grant', 'Bad credentials', 400, false]);
    assert.ok(!JSON.stringify(calls).includes('guessed-pass-31'));
  }));

test('a service registered in the sandbox signs in with the login and password it was given', () =>
  withGoodfin(async ({ goodfin, clientWith }) => {
    const answer = await fetch(`${goodfin.url}${GOODFIN_PATHS.registerService}`, { method: 'POST' });
    const service = registeredServiceSchema.parse(await answer.json());
    assert.match(service.serviceSystemName, /^[A-Za-z0-9]{10}$/);
    const client = clientWith(service);
    await client.signIn();
    await client.declareStatuses({ statuses: [{ code: 'RECEIVED', name: 'Получена', final: false }] });
    assert.deepEqual(
      goodfin.service(service.serviceSystemName)?.statuses?.statuses.map((s) => s.code),
      ['RECEIVED'],
    );
  }));

test('declarations reach the sandbox with the bearer token; a malformed one is refused before any call', () =>
  withGoodfin(async ({ client, goodfin }) => {
    await client.declareEndpoint({
      url: 'https://bank.example/goodfin/in',
      deliveryMode: 'full',
      auth: { type: 'header', name: 'X-Goodfin-Token', value: 'shared-secret-1' },
    });
    await client.declareStatuses({
      statuses: [
        { code: 'UNDER_REVIEW', name: 'На рассмотрении', final: false },
        { code: 'ISSUED', name: 'Выдана', final: true },
      ],
    });
    await client.declareErrors({ errors: [{ code: 'DOCS_MISSING', message: 'Не хватает документов' }] });
    const service = goodfin.service(GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName);
    assert.equal(service?.endpoint?.url, 'https://bank.example/goodfin/in');
    assert.equal(service?.statuses?.statuses.length, 2);
    assert.deepEqual(
      service?.errors?.errors.map((e) => e.code),
      ['DOCS_MISSING'],
    );
    assert.match(goodfin.requests({ path: GOODFIN_PATHS.integrationEndpoint })[0]?.headers.authorization ?? '', /^Bearer ey/);

    const before = goodfin.requests().length;
    assert.throws(
      () => client.declareEndpoint({ url: 'not a url', deliveryMode: 'full', auth: { type: 'header', name: 'X', value: 'v' } }),
      /url/i,
    );
    assert.equal(goodfin.requests().length, before);
  }));

test('an outbound message is delivered in the envelope; a revoked token is renewed once and the message sent once', () =>
  withGoodfin(async ({ client, goodfin }) => {
    await client.send(statusEvent('m-1'));
    goodfin.revokeTokens();
    await client.send(statusEvent('m-2'));
    const received = goodfin.service(GOODFIN_SANDBOX_CREDENTIALS.serviceSystemName)?.received ?? [];
    assert.deepEqual(
      received.map((m) => m.msgId),
      ['m-1', 'm-2'],
    );
    assert.equal(goodfin.tokensIssued(), 2);
    assert.equal(goodfin.requests({ path: GOODFIN_PATHS.inbound }).length, 3, 'one refused with 401, then one delivered');
  }));

test('a token is renewed before it expires, not after a refusal', () =>
  withGoodfin(async ({ client, goodfin }) => {
    goodfin.setTokenLifetime(61); // inside the 60 s renewal margin after one second
    await client.send(statusEvent('r-1'));
    // the point is the passing of time: lifetimes are whole seconds, so one second and a little more
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await client.send(statusEvent('r-2'));
    assert.equal(goodfin.tokensIssued(), 2);
    assert.ok(
      goodfin.requests({ path: GOODFIN_PATHS.inbound }).every((r) => r.status === 200),
      'a call was refused',
    );
  }));

test('a document downloads as the exact bytes; an unknown one is not_found', () =>
  withGoodfin(async ({ client }) => {
    const bytes = await client.downloadDocument('doc-sample-0001');
    assert.ok(bytes.equals(samplePdf('Goodfin sandbox document')));
    assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    const missing = await rejection(client.downloadDocument('doc-missing'));
    assert.deepEqual([missing.code, missing.status], ['not_found', 404]);
  }));

test('a Goodfin that serves documents only at getdocumentfile (seed 002) still gives them: a 404 from downloaddocumentfile is asked there', () =>
  withGoodfin(async ({ client, goodfin }) => {
    goodfin.faults.inject({ kind: 'status', status: 404, count: 1, path: GOODFIN_PATHS.downloadDocument });
    const bytes = await client.downloadDocument('doc-sample-0001');
    assert.ok(bytes.equals(samplePdf('Goodfin sandbox document')));
    const paths = goodfin
      .requests()
      .map((r) => r.path)
      .filter((path) => path.includes('/document/'));
    assert.deepEqual(paths, [GOODFIN_PATHS.downloadDocument, GOODFIN_PATHS.getDocumentFile]);
  }));

test('declarations are retried through a 503; a message is not repeated by the pipeline', () =>
  withGoodfin(async ({ client, goodfin, calls }) => {
    await client.signIn();
    goodfin.faults.inject({ kind: 'status', status: 503, count: 1, path: GOODFIN_PATHS.statusMapping });
    await client.declareStatuses({ statuses: [{ code: 'X', name: 'X', final: true }] });
    assert.equal(calls.at(-1)?.attempts, 2);
    goodfin.faults.inject({ kind: 'status', status: 503, count: 1, path: GOODFIN_PATHS.inbound });
    const error = await rejection(client.send(statusEvent('n-1')));
    assert.deepEqual([error.code, error.retryable], ['http_503', true]);
    assert.equal(goodfin.requests({ path: GOODFIN_PATHS.inbound }).length, 1);
  }));
