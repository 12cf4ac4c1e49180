import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clickAmountToTiyin,
  clickPaymentUrl,
  clickRequestSchema,
  clickSignatureValid,
  clickSignString,
} from '../../../../actors/platform/connectors/click/protocol.ts';
import {
  idOf,
  parsePaymeCall,
  paymeAuthorized,
  paymeCheckoutUrl,
  PaymeError,
  paymeErrorBody,
} from '../../../../actors/platform/connectors/payme/protocol.ts';

test('Payme checkout link: the official example (T-PAYME-1) byte for byte; a separator in a value is refused', () => {
  assert.equal(
    paymeCheckoutUrl({ merchantId: '587f72c72cac0d162c722ae2', account: { order_id: '197' }, amount: 500 }),
    'https://checkout.paycom.uz/bT01ODdmNzJjNzJjYWMwZDE2MmM3MjJhZTI7YWMub3JkZXJfaWQ9MTk3O2E9NTAw',
  );
  const onTest = paymeCheckoutUrl({
    checkoutUrl: 'https://test.paycom.uz/',
    merchantId: 'm1',
    account: { order_id: 'S-1' },
    amount: 150_000,
    lang: 'uz',
  });
  assert.equal(Buffer.from(onTest.split('/').at(-1) ?? '', 'base64').toString(), 'm=m1;ac.order_id=S-1;a=150000;l=uz');
  assert.throws(() => paymeCheckoutUrl({ merchantId: 'm1', account: { order_id: 'a;a=1' }, amount: 1 }), /cannot contain ";"/);
  assert.throws(() => paymeCheckoutUrl({ merchantId: 'm1', account: { order_id: '1' }, amount: 1.5 }), /whole number of tiyin/);
});

test('Payme authorization: Basic "Paycom:<key>" only (T-PAYME-2); another login, key or scheme is refused', () => {
  assert.equal(paymeAuthorized('Basic UGF5Y29tOlRFU1RfS0VZ', 'TEST_KEY'), true);
  assert.equal(paymeAuthorized('Basic TG9naW46UGFzcw==', 'Pass'), false, 'the doc example’s login is not Paycom');
  assert.equal(paymeAuthorized('Basic UGF5Y29tOlRFU1RfS0VZ', 'OTHER_KEY'), false);
  assert.equal(paymeAuthorized('Bearer UGF5Y29tOlRFU1RfS0VZ', 'TEST_KEY'), false);
  assert.equal(paymeAuthorized(undefined, 'TEST_KEY'), false);
  assert.equal(paymeAuthorized('Basic UGF5Y29tOg==', ''), false, 'an unset key never matches');
});

test('Payme calls: the documented requests parse; bad JSON, a bad envelope or params, an unknown method get their codes', () => {
  const perform = parsePaymeCall('{"method":"PerformTransaction","params":{"id":"5305e3bab097f420a62ced0b"},"id":2032}');
  assert.deepEqual(perform, { id: 2032, method: 'PerformTransaction', params: { id: '5305e3bab097f420a62ced0b' } });
  const check = parsePaymeCall('{"method":"CheckPerformTransaction","params":{"amount":500000,"account":{"phone":"903595731"}},"id":1}');
  assert.deepEqual(check.params, { amount: 500000, account: { phone: '903595731' } });
  const statement = parsePaymeCall('{"method":"GetStatement","params":{"from":1399114284039,"to":1399120284000},"id":3}');
  assert.equal(statement.method, 'GetStatement');

  const codeOf = (raw: string) => {
    try {
      parsePaymeCall(raw);
      return null;
    } catch (error) {
      assert.ok(error instanceof PaymeError);
      return [error.code, error.data];
    }
  };
  assert.deepEqual(codeOf('{"method":'), [-32700, null]);
  assert.deepEqual(codeOf('[1,2]'), [-32600, null]);
  assert.deepEqual(codeOf('{"method":"PerformTransaction","id":1}'), [-32600, null], 'no params');
  assert.deepEqual(codeOf('{"method":"Refund","params":{},"id":1}'), [-32601, 'Refund']);
  assert.deepEqual(codeOf('{"method":"CreateTransaction","params":{"id":"x","time":1,"amount":-5,"account":{}},"id":1}'), [
    -32600,
    'amount',
  ]);
  assert.deepEqual(codeOf('{"method":"CreateTransaction","params":{"id":"x","time":1,"amount":10.5,"account":{}},"id":1}'), [
    -32600,
    'amount',
  ]);
  assert.equal(idOf('{"id":77,"method":'), null, 'an id in broken JSON cannot be read');
  assert.equal(idOf('{"id":77,"method":"Nope","params":{}}'), 77);
});

test('Payme error answers carry the code, the three languages and the account field', () => {
  assert.deepEqual(paymeErrorBody(5, new PaymeError('orderNotFound', 'order_id')), {
    id: 5,
    result: null,
    error: {
      code: -31050,
      message: { ru: 'Заказ не найден', uz: 'Buyurtma topilmadi', en: 'Order not found' },
      data: 'order_id',
    },
  });
  assert.equal(new PaymeError('orderBusy').code, -31051);
  assert.ok(
    new PaymeError('orderBusy').code <= -31050 && new PaymeError('orderNotPayable').code >= -31099,
    'account errors stay in Payme’s range',
  );
});

const prepare = {
  click_trans_id: '123456789',
  service_id: '12345',
  click_paydoc_id: '555',
  merchant_trans_id: 'ORDER-1',
  amount: '1000',
  action: '0',
  error: '0',
  error_note: 'Success',
  sign_time: '2024-01-15 10:30:00',
  sign_string: '4a6896e4f29a5895bae702dfd51bd843',
};

test('Click signatures: Prepare and Complete (T-CLICK-1/2) in their documented orders; a changed value or key fails', () => {
  assert.equal(clickSignString(prepare, 'TEST_SECRET'), '4a6896e4f29a5895bae702dfd51bd843');
  const complete = {
    ...prepare,
    merchant_prepare_id: '777',
    action: '1',
    sign_time: '2024-01-15 10:31:00',
    sign_string: 'a52d9a8a008abd07269dc491bec5efe0',
  };
  assert.equal(clickSignString(complete, 'TEST_SECRET'), 'a52d9a8a008abd07269dc491bec5efe0');
  assert.equal(clickSignatureValid(clickRequestSchema.parse(prepare), 'TEST_SECRET'), true);
  assert.equal(clickSignatureValid(clickRequestSchema.parse(complete), 'TEST_SECRET'), true);
  assert.equal(
    clickSignatureValid(clickRequestSchema.parse({ ...prepare, amount: '1000.00' }), 'TEST_SECRET'),
    false,
    'the raw value is signed',
  );
  assert.equal(clickSignatureValid(clickRequestSchema.parse(prepare), 'OTHER_SECRET'), false);
  assert.equal(
    clickSignatureValid(clickRequestSchema.parse({ ...prepare, sign_string: prepare.sign_string.toUpperCase() }), 'TEST_SECRET'),
    true,
  );
  assert.equal(clickRequestSchema.safeParse({ ...prepare, sign_string: 'nope' }).success, false);
  assert.equal(clickRequestSchema.safeParse({ ...prepare, click_trans_id: undefined }).success, false);
});

test('Click amounts: soums to tiyin without floating point, never more than two decimals', () => {
  assert.equal(clickAmountToTiyin('1000'), 100_000);
  assert.equal(clickAmountToTiyin('1000.5'), 100_050);
  assert.equal(clickAmountToTiyin('1000.50'), 100_050);
  assert.equal(clickAmountToTiyin('0.07'), 7);
  assert.equal(clickAmountToTiyin('19.990'), 1_999);
  assert.equal(clickAmountToTiyin('1.005'), null);
  assert.equal(clickAmountToTiyin('-5'), null);
  for (let tiyin = 1; tiyin <= 20_000; tiyin += 1) {
    const url = clickPaymentUrl({ serviceId: '1', merchantId: '2', amountTiyin: tiyin, transactionParam: 'S-1' });
    assert.equal(clickAmountToTiyin(new URL(url).searchParams.get('amount') ?? ''), tiyin);
  }
  const link = new URL(
    clickPaymentUrl({
      serviceId: '12345',
      merchantId: '678',
      amountTiyin: 1_500_000,
      transactionParam: 'S-7',
      returnUrl: 'https://shop.uz/thanks',
    }),
  );
  assert.deepEqual(Object.fromEntries(link.searchParams), {
    service_id: '12345',
    merchant_id: '678',
    amount: '15000.00',
    transaction_param: 'S-7',
    return_url: 'https://shop.uz/thanks',
  });
});
