import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMinorUnits, hasAtMostTwoDecimals, majorToMinorUnits, minorToMajorNumber } from '../../common/money.ts';
import { checkoutSchema } from '../../actors/platform/connectors/liqpay/protocol.ts';

test('every amount from 1 to 99 999 kopiykas goes to LiqPay and back unchanged, through the checkout schema and JSON', () => {
  const lost: number[] = [];
  let refusedByFloatArithmetic = 0;
  for (let minor = 1; minor <= 99_999; minor += 1) {
    const major = minorToMajorNumber(minor);
    // the old check (n * 100 must be a whole number) refused about one amount in eleven
    if (Math.round(major * 100) !== major * 100) refusedByFloatArithmetic += 1;
    const checkout = checkoutSchema.safeParse({ amount: major, currency: 'UAH', description: 'x', order_id: 'o' });
    const back = checkout.success ? majorToMinorUnits((JSON.parse(JSON.stringify(checkout.data)) as { amount: number }).amount) : null;
    if (back !== minor) lost.push(minor);
  }
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} amounts did not survive`);
  assert.ok(refusedByFloatArithmetic > 5_000, `floating-point checking would have refused ${refusedByFloatArithmetic} of them`);
});

test('amounts are formatted from the integer and read by their digits', () => {
  assert.deepEqual([1999, 57, 1005, 5, 300, 0].map(formatMinorUnits), ['19.99', '0.57', '10.05', '0.05', '3.00', '0.00']);
  assert.deepEqual(['19.99', '0.5', '3', ' 10.05 ', '0.07'].map(majorToMinorUnits), [1999, 50, 300, 1005, 7]);
  assert.deepEqual([19.99, 0.57, 10.05, 1e-7, 1.005].map(majorToMinorUnits), [1999, 57, 1005, null, null]);
  for (const bad of ['1.999', '-1', 'abc', '1,50', '', '1e3']) assert.equal(majorToMinorUnits(bad), null, bad);
  assert.equal(hasAtMostTwoDecimals(1.005), false);
  assert.equal(hasAtMostTwoDecimals(19.99), true);
  for (const bad of [1.5, -1, Number.NaN]) assert.throws(() => formatMinorUnits(bad), RangeError);
});
