import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccrualInput } from '../../../../actors/domains/loyalty/accruals.ts';
import { withLoyalty } from './support.ts';

const saleOf = (saleId: string, extra: Partial<AccrualInput> = {}): AccrualInput => ({
  saleId,
  customerId: 'c-1001',
  amount: 14_250_000,
  discount: 750_000,
  bonusSpent: 0,
  items: [{ name: 'Чай', qty: 2, price: 7_500_000 }],
  createdAt: '2026-12-02T05:15:00Z',
  ...extra,
});

test('an accrual is queued once per sale: a repeat changes nothing and answers the first', () =>
  withLoyalty(async ({ accruals, collections }) => {
    const first = await accruals.enqueue(saleOf('S-1'));
    assert.equal(first.queued, true);
    assert.equal(first.accrual.status, 'pending');
    const again = await accruals.enqueue(saleOf('S-1', { amount: 1 }));
    assert.equal(again.queued, false);
    assert.equal((await collections.outbox.findOne({ _id: 'accrual:S-1' }))?.amount, 14_250_000, 'the first stands');
    assert.equal(await collections.outbox.countDocuments({ saleId: 'S-1' }), 1);
    await assert.rejects(accruals.enqueue(saleOf('S-2', { customerId: null })), /customer/);
    await assert.rejects(accruals.enqueue(saleOf('S-3', { amount: 1.5 })), /integers/);
  }));

test('delivered until JOWi answers, with doubling pauses on the injected clock; the result is recorded; one accrual at JOWi', () =>
  withLoyalty(
    async ({ accruals, jowi, clock, cache }) => {
      await accruals.enqueue(saleOf('S-10'));
      jowi.mode('refusing');
      assert.deepEqual(await accruals.deliver(), { delivered: 0, failed: 1, refused: 0 });
      let view = await accruals.accrualOf('S-10');
      assert.equal(view?.attempts, 1);
      assert.equal(view?.nextAttemptAt, new Date(clock.now + 1_000).toISOString());
      assert.match(view?.lastError ?? '', /^500: /);

      // not due yet: nothing is sent
      const sent = jowi.requests({ path: '/v3/club/transactions' }).length;
      assert.deepEqual(await accruals.deliver(), { delivered: 0, failed: 0, refused: 0 });
      assert.equal(jowi.requests({ path: '/v3/club/transactions' }).length, sent);

      clock.now += 1_000;
      jowi.mode('down');
      assert.deepEqual(await accruals.deliver(), { delivered: 0, failed: 1, refused: 0 });
      view = await accruals.accrualOf('S-10');
      assert.equal(view?.nextAttemptAt, new Date(clock.now + 2_000).toISOString(), 'the pause doubled');

      clock.now += 2_000;
      jowi.mode('hang');
      await accruals.deliver();
      view = await accruals.accrualOf('S-10');
      assert.equal(view?.attempts, 3);
      assert.equal(view?.nextAttemptAt, new Date(clock.now + 4_000).toISOString());

      clock.now += 3_000;
      jowi.mode('up');
      assert.equal((await accruals.deliver()).delivered, 0, 'still waiting its pause');
      clock.now += 1_000;
      assert.deepEqual(await accruals.deliver(), { delivered: 1, failed: 0, refused: 0 });
      view = await accruals.accrualOf('S-10');
      assert.equal(view?.status, 'delivered');
      assert.equal(view?.result?.bonusEarned, 142_500);
      assert.equal(view?.result?.bonusBalance, 1_342_500);
      assert.equal(jowi.transactions().filter((t) => t.externalId === 'S-10').length, 1);
      assert.equal(await cache.get('c-1001'), null, 'only a cached customer gets a new balance');

      // delivered: a later run sends nothing more
      const before = jowi.requests({ path: '/v3/club/transactions' }).length;
      clock.now += 60_000;
      await accruals.deliver();
      assert.equal(jowi.requests({ path: '/v3/club/transactions' }).length, before);
      assert.deepEqual(jowi.violations(), []);
    },
    { settings: { accrualRetryBaseMs: 1_000, accrualRetryMaxMs: 4_000 }, policy: { timeoutMs: 300, retries: 0 } },
  ));

test('an answer lost after JOWi recorded the sale: the next attempt gets the same transaction, never a second accrual', () =>
  withLoyalty(
    async ({ accruals, jowi, clock }) => {
      await accruals.enqueue(saleOf('S-20'));
      jowi.faults.inject({ kind: 'lost', path: '/v3/club/transactions', count: 1 });
      assert.equal((await accruals.deliver()).failed, 1);
      assert.equal(jowi.transactions().length, 1, 'JOWi recorded it');
      clock.now += 10_000;
      assert.equal((await accruals.deliver()).delivered, 1);
      assert.equal(jowi.transactions().length, 1);
      assert.equal((await accruals.accrualOf('S-20'))?.result?.transactionId, jowi.transactions()[0]?.id);
      assert.equal(jowi.customer('c-1001')?.bonusBalance, 1_342_500, 'earned once');
      assert.deepEqual(jowi.violations(), []);
    },
    { policy: { timeoutMs: 300, retries: 0 } },
  ));

test('a customer known only by phone (a sale made offline) is looked up at delivery; an unknown one is refused for good', () =>
  withLoyalty(async ({ accruals, jowi }) => {
    await accruals.enqueue(saleOf('S-30', { customerId: null, phone: '+998 93 555 11 22' }));
    await accruals.enqueue(saleOf('S-31', { customerId: null, card: 'JC-NOBODY' }));
    await accruals.enqueue(saleOf('S-32', { customerId: null, card: 'JC-0003-0003' }));
    assert.deepEqual(await accruals.deliver(), { delivered: 1, failed: 0, refused: 2 });
    const resolved = await accruals.accrualOf('S-30');
    assert.equal(resolved?.customerId, 'c-1002');
    // gold earns 3%
    assert.equal(resolved?.result?.bonusEarned, 427_500);
    assert.equal(jowi.transactions()[0]?.customerId, 'c-1002');
    assert.equal((await accruals.accrualOf('S-31'))?.status, 'refused');
    assert.match((await accruals.accrualOf('S-32'))?.lastError ?? '', /41/);
  }));

test('bonus spent beyond the balance is refused for good', () =>
  withLoyalty(async ({ accruals, collections }) => {
    await accruals.enqueue(saleOf('S-40', { bonusSpent: 99_000_000 }));
    assert.deepEqual(await accruals.deliver(), { delivered: 0, failed: 0, refused: 1 });
    assert.match((await accruals.accrualOf('S-40'))?.lastError ?? '', /^50: /);
    assert.equal(await collections.outbox.countDocuments({ status: 'pending' }), 0);
  }));

test('our credentials refused (error 1) keep the accrual waiting for an operator, not refused', () =>
  withLoyalty(
    async ({ accruals, jowi }) => {
      await accruals.enqueue(saleOf('S-41'));
      assert.deepEqual(await accruals.deliver(), { delivered: 0, failed: 1, refused: 0 });
      const view = await accruals.accrualOf('S-41');
      assert.equal(view?.status, 'pending');
      assert.match(view?.lastError ?? '', /^1: /);
      assert.equal(jowi.transactions().length, 0);
    },
    { credentials: { apiKey: 'jowi-sandbox-key', apiSecret: 'a-wrong-secret', restaurantId: 'r-sandbox-1' } },
  ));

test('a refund waits for its sale’s accrual, then gives the bonus back once; a refund of a refused accrual ends refused', () =>
  withLoyalty(
    async ({ accruals, jowi, clock }) => {
      await accruals.enqueue(saleOf('S-50', { bonusSpent: 200_000 }));
      jowi.mode('down');
      await accruals.deliver();
      await accruals.refund('S-50', 'R-50');
      assert.equal((await accruals.refund('S-50', 'R-50')).queued, false);
      clock.now += 1_000;
      jowi.mode('up');
      // the accrual goes first, the refund after it (queued later), in the same run
      assert.deepEqual(await accruals.deliver(), { delivered: 2, failed: 0, refused: 0 });
      const [accrual, refund] = await accruals.deliveriesOf('S-50');
      assert.equal(accrual?.kind, 'accrual');
      assert.equal(refund?.kind, 'refund');
      assert.equal(refund?.status, 'delivered');
      assert.equal(refund?.result?.refunded, true);
      assert.equal(refund?.result?.bonusBalance, 1_200_000);
      assert.equal(jowi.customer('c-1001')?.bonusBalance, 1_200_000);
      assert.equal(jowi.transactions()[0]?.refundExternalId, 'R-50');

      await accruals.enqueue(saleOf('S-51', { customerId: null, card: 'JC-NOBODY' }));
      await accruals.refund('S-51', 'R-51');
      assert.deepEqual(await accruals.deliver(), { delivered: 0, failed: 0, refused: 2 });
    },
    { settings: { accrualRetryBaseMs: 1_000 }, policy: { timeoutMs: 300, retries: 0 } },
  ));

test('a refund whose accrual is still waiting waits too, without counting an attempt', () =>
  withLoyalty(
    async ({ accruals, jowi, clock }) => {
      await accruals.enqueue(saleOf('S-60'));
      await accruals.refund('S-60', 'R-60');
      jowi.mode('refusing');
      assert.deepEqual(await accruals.deliver(), { delivered: 0, failed: 1, refused: 0 });
      const refund = (await accruals.deliveriesOf('S-60'))[1];
      assert.equal(refund?.status, 'pending');
      assert.equal(refund?.attempts, 0);
      assert.match(refund?.lastError ?? '', /waits/);
      assert.equal(jowi.requests().filter((r) => r.path.endsWith('/refund')).length, 0);
      clock.now += 1_000;
      jowi.mode('up');
      assert.equal((await accruals.deliver()).delivered, 2);
    },
    { settings: { accrualRetryBaseMs: 1_000 }, policy: { timeoutMs: 300, retries: 0 } },
  ));
