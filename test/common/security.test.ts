import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  basicAuthorization,
  constantTimeEqual,
  freshTimestamp,
  hmac,
  parseBasicAuthorization,
  verifyBasicAuth,
  verifyHmac,
  verifySharedHeader,
} from '../../common/security.ts';

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

test('constant-time equality compares bytes of any lengths, strings as UTF-8', () => {
  assert.equal(constantTimeEqual('secret', 'secret'), true);
  assert.equal(constantTimeEqual('secret', 'Secret'), false);
  assert.equal(constantTimeEqual('secret', 'secret-but-longer'), false, 'a longer value is not equal (and does not throw)');
  assert.equal(constantTimeEqual('secret-but-longer', 'secret'), false);
  assert.equal(constantTimeEqual('', ''), true);
  assert.equal(constantTimeEqual('', 'x'), false);
  assert.equal(constantTimeEqual('ключ-🔑', 'ключ-🔑'), true);
  assert.equal(constantTimeEqual('ключ-🔑', 'ключ-🔒'), false);
  assert.equal(constantTimeEqual('caf\u00e9', 'cafe\u0301'), false, 'no Unicode normalisation: composed and decomposed é differ');
  assert.equal(constantTimeEqual('ключ', Buffer.from('ключ', 'utf8')), true, 'a string equals its UTF-8 bytes');
  assert.equal(constantTimeEqual(Buffer.from([0, 1, 2]), Buffer.from([0, 1, 2])), true);
  assert.equal(constantTimeEqual(Buffer.from([0, 1, 2]), Buffer.from([0, 1])), false);
  assert.equal(constantTimeEqual(Buffer.alloc(0), ''), true);
});

// Test vectors published in RFC 4231 (HMAC-SHA-256, test cases 1, 2 and 6) and RFC 2202 (HMAC-SHA-1, test cases 1 and 2).
test('HMAC matches the published test vectors of RFC 4231 (SHA-256) and RFC 2202 (SHA-1)', () => {
  const twentyBytesOf0b = Buffer.alloc(20, 0x0b);
  assert.equal(hmac('sha256', twentyBytesOf0b, 'Hi There', 'hex'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
  assert.equal(
    hmac('sha256', 'Jefe', 'what do ya want for nothing?', 'hex'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  );
  assert.equal(
    hmac('sha256', Buffer.alloc(131, 0xaa), 'Test Using Larger Than Block-Size Key - Hash Key First', 'hex'),
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    'a key longer than the block is hashed first',
  );
  assert.equal(hmac('sha1', twentyBytesOf0b, 'Hi There', 'hex'), 'b617318655057264e28bc0b6fb378c8ef146be00');
  assert.equal(hmac('sha1', 'Jefe', 'what do ya want for nothing?', 'hex'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  const digest = Buffer.from('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79', 'hex');
  assert.equal(hmac('sha1', 'Jefe', Buffer.from('what do ya want for nothing?'), 'base64'), digest.toString('base64'));
  assert.equal(hmac('sha1', 'Jefe', 'what do ya want for nothing?', 'base64url'), digest.toString('base64url'));
});

test('an HMAC verifies against the RFC 4231 vector in hex and base64url, and not under another key', () => {
  const signature = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';
  const payload = 'what do ya want for nothing?';
  assert.equal(verifyHmac({ algorithm: 'sha256', secret: 'Jefe', payload, signature, encoding: 'hex' }), true);
  const base64url = Buffer.from(signature, 'hex').toString('base64url');
  assert.equal(verifyHmac({ algorithm: 'sha256', secret: 'Jefe', payload, signature: base64url, encoding: 'base64url' }), true);
  assert.equal(verifyHmac({ algorithm: 'sha256', secret: 'jefe', payload, signature, encoding: 'hex' }), false);
  assert.equal(verifyHmac({ algorithm: 'sha256', secret: 'Jefe', payload, signature: signature.slice(0, 32), encoding: 'hex' }), false);
  assert.equal(verifyHmac({ algorithm: 'sha256', secret: Buffer.alloc(0), payload, signature, encoding: 'hex' }), false);
});

test('an empty shared secret admits no one, not even an empty header', () => {
  assert.equal(verifySharedHeader({ expected: '', sent: '' }), false);
  assert.equal(verifySharedHeader({ expected: '', sent: 'anything' }), false);
  assert.equal(verifySharedHeader({ expected: 'token-1', sent: '' }), false);
  assert.equal(verifySharedHeader({ expected: 'токен', sent: 'токен' }), true);
});

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

test('a Basic header gives its user name and password, the password keeping any further colons', () => {
  assert.deepEqual(parseBasicAuthorization(basic('Paycom:key-123')), { username: 'Paycom', password: 'key-123' });
  assert.deepEqual(parseBasicAuthorization(basic('Paycom:a:b::c')), { username: 'Paycom', password: 'a:b::c' });
  assert.deepEqual(parseBasicAuthorization(basic(':')), { username: '', password: '' });
  assert.deepEqual(parseBasicAuthorization(basic('Paycom:')), { username: 'Paycom', password: '' });
  assert.deepEqual(parseBasicAuthorization(basic('користувач:пароль')), { username: 'користувач', password: 'пароль' });
  assert.deepEqual(parseBasicAuthorization(basicAuthorization({ username: 'Paycom', password: 'p@ss:word' })), {
    username: 'Paycom',
    password: 'p@ss:word',
  });
});

test('the Basic scheme is matched in any case, with any spacing, the base64 padded or not', () => {
  const token = Buffer.from('Paycom:k').toString('base64');
  assert.equal(token.endsWith('='), true, 'this token is padded');
  for (const header of [`Basic ${token}`, `basic ${token}`, `BASIC ${token}`, `Basic   ${token}  `, `Basic ${token.replace(/=+$/, '')}`])
    assert.deepEqual(parseBasicAuthorization(header), { username: 'Paycom', password: 'k' }, header);
});

test('a Basic header that is missing, of another scheme, not base64, not UTF-8 or without a colon gives nothing', () => {
  const token = Buffer.from('Paycom:k').toString('base64');
  assert.equal(parseBasicAuthorization(undefined), null);
  assert.equal(parseBasicAuthorization(''), null);
  assert.equal(parseBasicAuthorization(token), null, 'no scheme');
  assert.equal(parseBasicAuthorization(`Bearer ${token}`), null);
  assert.equal(parseBasicAuthorization(`Basic${token}`), null, 'no space after the scheme');
  assert.equal(parseBasicAuthorization('Basic '), null);
  assert.equal(parseBasicAuthorization('Basic not base64!'), null);
  assert.equal(parseBasicAuthorization('Basic UGF5=Y29t'), null, 'padding in the middle');
  assert.equal(parseBasicAuthorization('Basic UGF5Y29tOmt='), null, 'not canonical: spare bits set (lenient decoders read "Paycom:k")');
  assert.equal(parseBasicAuthorization('Basic Q'), null, 'a single base64 character is no byte');
  assert.equal(parseBasicAuthorization(`Basic ${Buffer.from([0x50, 0x3a, 0xff, 0xfe]).toString('base64')}`), null, 'not UTF-8');
  assert.equal(parseBasicAuthorization(basic('Paycom')), null, 'no colon');
});

test('Basic credentials must match in both halves, and an unset password admits no one', () => {
  const header = basicAuthorization({ username: 'Paycom', password: 'key-123' });
  assert.equal(verifyBasicAuth({ username: 'Paycom', password: 'key-123', authorization: header }), true);
  assert.equal(verifyBasicAuth({ username: 'paycom', password: 'key-123', authorization: header }), false);
  assert.equal(verifyBasicAuth({ username: 'Paycom', password: 'key-1234', authorization: header }), false);
  assert.equal(verifyBasicAuth({ username: 'Paycom', password: 'key-123', authorization: undefined }), false);
  assert.equal(verifyBasicAuth({ username: 'Paycom', password: '', authorization: basic('Paycom:') }), false);
  assert.throws(() => basicAuthorization({ username: 'a:b', password: 'c' }), /cannot contain a colon/);
});
