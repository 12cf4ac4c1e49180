import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressList, clientAddress, listHas } from '../../common/ip-addresses.ts';

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
