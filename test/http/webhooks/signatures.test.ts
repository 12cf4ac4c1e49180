import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { addressList, clientAddress, listHas } from '../../../common/ip-addresses.ts';
import {
  constantTimeEqual,
  freshTimestamp,
  verifyBasicAuth,
  verifyHmac,
  verifyPublicKeySignature,
  verifySharedHeader,
} from '../../../http/webhooks/signatures.ts';

const body = Buffer.from('{"invoiceId":"p2_9ZgpZVsl3","status":"success"}');

test('HMAC signatures are checked over the exact bytes, in hex or base64, with an optional prefix', () => {
  const hex = createHmac('sha256', 'shh').update(body).digest('hex');
  assert.equal(
    verifyHmac({ algorithm: 'sha256', secret: 'shh', payload: body, signature: `sha256=${hex}`, encoding: 'hex', prefix: 'sha256=' }),
    true,
  );
  assert.equal(
    verifyHmac({
      algorithm: 'sha256',
      secret: 'shh',
      payload: body,
      signature: `sha256=${hex.toUpperCase()}`,
      encoding: 'hex',
      prefix: 'sha256=',
    }),
    true,
  );
  assert.equal(
    verifyHmac({ algorithm: 'sha256', secret: 'shh', payload: body, signature: hex, encoding: 'hex', prefix: 'sha256=' }),
    false,
    'prefix required',
  );
  assert.equal(
    verifyHmac({ algorithm: 'sha256', secret: 'other', payload: body, signature: `sha256=${hex}`, encoding: 'hex', prefix: 'sha256=' }),
    false,
  );
  const changed = Buffer.from(body.toString().replace('success', 'failure'));
  assert.equal(
    verifyHmac({ algorithm: 'sha256', secret: 'shh', payload: changed, signature: `sha256=${hex}`, encoding: 'hex', prefix: 'sha256=' }),
    false,
  );
  const b64 = createHmac('sha1', 'k').update(body).digest('base64');
  assert.equal(verifyHmac({ algorithm: 'sha1', secret: 'k', payload: body, signature: b64, encoding: 'base64' }), true);
  assert.equal(
    verifyHmac({ algorithm: 'sha1', secret: '', payload: body, signature: b64, encoding: 'base64' }),
    false,
    'no secret, no match',
  );
  assert.equal(verifyHmac({ algorithm: 'sha1', secret: 'k', payload: body, signature: undefined, encoding: 'base64' }), false);
});

test('ECDSA P-256 signatures over SHA-256 of the raw body (Monobank X-Sign) verify, and anything else fails without throwing', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const signature = sign('sha256', body, privateKey).toString('base64');
  assert.equal(verifyPublicKeySignature({ publicKeyPem: pem, payload: body, signatureBase64: signature }), true);
  assert.equal(
    verifyPublicKeySignature({ publicKeyPem: pem, payload: Buffer.from(`${body.toString()} `), signatureBase64: signature }),
    false,
  );
  assert.equal(verifyPublicKeySignature({ publicKeyPem: pem, payload: body, signatureBase64: 'bm90IGEgc2lnbmF0dXJl' }), false);
  assert.equal(verifyPublicKeySignature({ publicKeyPem: 'not a key', payload: body, signatureBase64: signature }), false);
});

test('shared header secrets and Basic credentials compare in constant time', () => {
  assert.equal(verifySharedHeader({ expected: 'token-1', sent: 'token-1' }), true);
  assert.equal(verifySharedHeader({ expected: 'token-1', sent: 'token-12' }), false);
  assert.equal(verifySharedHeader({ expected: 'token-1', sent: undefined }), false);
  const basic = `Basic ${Buffer.from('goodfin:p@ss:word').toString('base64')}`;
  assert.equal(verifyBasicAuth({ username: 'goodfin', password: 'p@ss:word', authorization: basic }), true);
  assert.equal(verifyBasicAuth({ username: 'goodfin', password: 'p@ss', authorization: basic }), false);
  assert.equal(verifyBasicAuth({ username: 'goodfin', password: 'p@ss:word', authorization: 'Bearer x' }), false);
  assert.equal(constantTimeEqual('a', 'a'), true);
  assert.equal(constantTimeEqual('a', 'b'), false);
});

test('a signed timestamp must be recent (seconds or milliseconds)', () => {
  const now = 1_790_000_000_000;
  assert.equal(freshTimestamp(String(now / 1000), 300, now), true);
  assert.equal(freshTimestamp(String(now - 299_000), 300, now), true);
  assert.equal(freshTimestamp(String(now / 1000 - 301), 300, now), false);
  assert.equal(freshTimestamp('yesterday', 300, now), false);
});

test('the caller address comes from X-Forwarded-For only when the peer is a trusted proxy', () => {
  const proxies = addressList(['10.0.0.0/8', '::1']);
  assert.equal(clientAddress('203.0.113.7', '198.51.100.1', proxies), '203.0.113.7', 'an untrusted peer cannot claim another address');
  assert.equal(clientAddress('10.1.2.3', '198.51.100.1, 10.9.9.9', proxies), '198.51.100.1');
  assert.equal(clientAddress('::ffff:10.1.2.3', '198.51.100.1', proxies), '198.51.100.1');
  assert.equal(clientAddress('::1', '203.0.113.9, 198.51.100.1', proxies), '198.51.100.1', 'the right-most untrusted hop is the caller');
  const allowed = addressList(['198.51.100.0/24', '2001:db8::/32']);
  assert.equal(listHas(allowed, '198.51.100.200'), true);
  assert.equal(listHas(allowed, '::ffff:198.51.100.200'), true);
  assert.equal(listHas(allowed, '198.51.101.1'), false);
  assert.equal(listHas(allowed, '2001:db8::5'), true);
  assert.throws(() => addressList(['300.1.1.1']), /not an IP address/);
  assert.throws(() => addressList(['10.0.0.0/40']), /prefix length/);
});
