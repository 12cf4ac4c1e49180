import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { startHubProcess, TEST_ADMIN_KEY, type HubProcess } from '../support/hub-process.ts';

/**
 * HTTPS served by the hub itself (HUB_TLS_CERT, HUB_TLS_KEY), with
 * certificates this test makes with openssl: TLS 1.2 at least, modern ciphers
 * only, and a renewed certificate taken on SIGHUP without dropping a connection.
 */

const run = promisify(execFile);

interface Pair {
  cert: string;
  key: string;
  pem: Buffer;
  fingerprint: string;
}

let dir: string;
let first: Pair;
let second: Pair;
let hub: HubProcess;
let certFile: string;
let keyFile: string;

/** A self-signed P-256 certificate for 127.0.0.1. */
async function makeCertificate(name: string): Promise<Pair> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  const pem = await readFile(cert);
  return { cert, key, pem, fingerprint: new X509Certificate(pem).fingerprint256 };
}

/** A GET over HTTPS trusting `ca`; answers status, body, the certificate served and whether the socket was reused. */
function get(pathname: string, options: { ca: Buffer[]; agent?: Agent; apiKey?: string }) {
  return new Promise<{ status: number; body: string; fingerprint: string; protocol: string | null; reused: boolean }>((resolve, reject) => {
    const req = request(
      `${hub.url}${pathname}`,
      { ca: options.ca, agent: options.agent ?? false, headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {} },
      (res) => {
        const socket = res.socket as TLSSocket;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            fingerprint: socket.getPeerCertificate().fingerprint256,
            protocol: socket.getProtocol(),
            reused: req.reusedSocket,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A bare TLS handshake with these client limits: the protocol agreed, or the error. */
function handshake(options: { maxVersion?: 'TLSv1.1' | 'TLSv1.2'; minVersion?: 'TLSv1' | 'TLSv1.2'; ciphers?: string }) {
  const port = Number(new URL(hub.url).port);
  return new Promise<{ protocol: string | null; cipher: string } | { error: string }>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: [first.pem, second.pem], ...options }, () => {
      resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().name });
      socket.end();
    });
    socket.on('error', (error) => resolve({ error: error.message }));
  });
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hub-tls-'));
  first = await makeCertificate('hub-first');
  second = await makeCertificate('hub-second');
  certFile = path.join(dir, 'served.crt');
  keyFile = path.join(dir, 'served.key');
  await copyFile(first.cert, certFile);
  await copyFile(first.key, keyFile);
  hub = await startHubProcess({
    dbName: uniqueDatabaseName('tls'),
    env: { HUB_TLS_CERT: certFile, HUB_TLS_KEY: keyFile, LOG_LEVEL: 'info' },
  });
});

after(async () => {
  await hub?.terminate();
});

test('with HUB_TLS_CERT and HUB_TLS_KEY the hub serves HTTPS only, its API included', async () => {
  assert.match(hub.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const health = await get('/health/live', { ca: [first.pem] });
  assert.equal(health.status, 200);
  assert.equal(health.fingerprint, first.fingerprint);
  assert.equal(health.protocol, 'TLSv1.3');
  const jobs = await get('/admin/jobs', { ca: [first.pem], apiKey: TEST_ADMIN_KEY });
  assert.equal(jobs.status, 200, jobs.body);
  // plain HTTP to the same port is not served
  await assert.rejects(fetch(hub.url.replace('https:', 'http:') + '/health/live', { signal: AbortSignal.timeout(5_000) }));
  // a client that does not trust the certificate does not talk to it
  await assert.rejects(get('/health/live', { ca: [second.pem] }), /self[- ]signed|unable to verify|certificate/i);
});

test('TLS 1.2 is the least it speaks, with forward-secret AEAD ciphers only', async () => {
  const tls12 = await handshake({ maxVersion: 'TLSv1.2' });
  assert.ok('protocol' in tls12, JSON.stringify(tls12));
  assert.equal(tls12.protocol, 'TLSv1.2');
  assert.match(tls12.cipher, /^ECDHE-ECDSA-(AES\d+-GCM|CHACHA20-POLY1305)/);
  // a client that offers TLS 1.1 at most (its own security level lowered so that it does offer it)
  const tls11 = await handshake({ maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  assert.ok('error' in tls11, `TLS 1.1 was accepted: ${JSON.stringify(tls11)}`);
  // TLS 1.2 offering only CBC ciphers without forward secrecy
  const weak = await handshake({ maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA:AES128-SHA256' });
  assert.ok('error' in weak, `a weak cipher was accepted: ${JSON.stringify(weak)}`);
});

test('SIGHUP takes a renewed certificate for new connections while an open one goes on; files that do not load change nothing', async () => {
  const keptOpen = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const before = await get('/health/live', { ca: [first.pem], agent: keptOpen });
    assert.equal(before.fingerprint, first.fingerprint);

    await copyFile(second.cert, certFile);
    await copyFile(second.key, keyFile);
    const reloads = (hub.output().match(/TLS certificate reloaded/g) ?? []).length;
    process.kill(hub.pid, 'SIGHUP');
    await eventually(() => (hub.output().match(/TLS certificate reloaded/g) ?? []).length > reloads, 10_000, 'the reload');

    const onOpenConnection = await get('/health/live', { ca: [first.pem], agent: keptOpen });
    assert.equal(onOpenConnection.status, 200);
    assert.equal(onOpenConnection.reused, true, 'the connection opened before the reload is still served');
    assert.equal(onOpenConnection.fingerprint, first.fingerprint);
    const fresh = await get('/health/live', { ca: [second.pem] });
    assert.equal(fresh.fingerprint, second.fingerprint);

    // a key that is not the certificate's (a half-copied renewal): the reload is refused, the served one stays
    await copyFile(first.key, keyFile);
    process.kill(hub.pid, 'SIGHUP');
    await eventually(() => /TLS certificate not reloaded/.test(hub.output()), 10_000, 'the refused reload');
    assert.match(hub.output(), /HUB_TLS_KEY \S+served\.key does not belong to the certificate/);
    assert.doesNotMatch(hub.output(), /BEGIN (EC )?PRIVATE KEY/);
    const still = await get('/health/live', { ca: [second.pem] });
    assert.equal(still.fingerprint, second.fingerprint);

    await writeFile(certFile, 'not a certificate');
    process.kill(hub.pid, 'SIGHUP');
    await eventually(() => /HUB_TLS_CERT \S+served\.crt is not a PEM certificate/.test(hub.output()), 10_000, 'the second refused reload');
    assert.equal((await get('/health/live', { ca: [second.pem] })).status, 200);
  } finally {
    keptOpen.destroy();
  }
});

test('a key that does not belong to the certificate stops the start with a message naming the file', async () => {
  const mismatched = await startHubProcess({
    dbName: uniqueDatabaseName('tls-bad'),
    env: { HUB_TLS_CERT: first.cert, HUB_TLS_KEY: second.key },
  }).then(
    async (started) => {
      await started.terminate();
      return null;
    },
    (error: unknown) => String(error),
  );
  assert.ok(mismatched, 'the hub started with a key of another certificate');
  assert.match(mismatched, /HUB_TLS_KEY \S+hub-second\.key does not belong to the certificate/);
  assert.doesNotMatch(mismatched, /BEGIN (EC )?PRIVATE KEY/);
});
