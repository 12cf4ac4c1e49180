import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, type SnapshotFrom } from 'xstate';
import { stepper } from '../support/machines.ts';
import payment, { type PaymentEvent, type PaymentInput, type ProviderStatus, type StatusUpdate } from '../../machines/payment.ts';
import { workOf } from '../../actors/runtime/machine-glue.ts';

const { machine } = payment;
const input: PaymentInput = {
  paymentId: 'o-1-P1',
  orderId: 'o-1',
  attempt: 1,
  provider: 'monobank',
  amount: 50_000,
  currency: 'UAH',
  description: 'Замовлення',
  customerEmail: 'olena@example.com',
  basket: [{ name: 'Чашка', qty: 2, price: 25_000, sku: 'CUP-1' }],
  validitySeconds: 600,
  graceSeconds: 60,
};
const step = stepper(machine);
const ctx = (snapshot: SnapshotFrom<typeof machine>) => snapshot.context;
const status = (s: ProviderStatus, at: string, extra: Partial<StatusUpdate> = {}): PaymentEvent => ({
  type: 'PROVIDER_STATUS',
  status: s,
  providerStatus: s,
  at,
  source: 'webhook',
  ...extra,
});

function pending(): SnapshotFrom<typeof machine> {
  const [created, actions] = initialTransition(machine, input);
  assert.equal(created.value, 'initiating');
  assert.deepEqual(
    workOf(actions).spawns.map((s) => s.src),
    ['createAtProvider'],
  );
  return step(created, { type: 'xstate.done.actor.create', output: { providerId: 'p2_x', pageUrl: 'https://pay/p2_x' } })[0];
}

test("created at the provider → pending with the page URL, and the customer's time is a durable timer", () => {
  const [created, actions] = initialTransition(machine, input);
  const [s, after] = step(created, { type: 'xstate.done.actor.create', output: { providerId: 'p2_x', pageUrl: 'https://pay/p2_x' } });
  assert.deepEqual(s.value, { pending: 'waiting' });
  assert.equal(ctx(s).pageUrl, 'https://pay/p2_x');
  assert.ok(workOf(actions).spawns.length === 1);
  assert.deepEqual(
    workOf(after).delays.map((d) => [d.delayMs, d.event.type]),
    [[660_000, 'xstate.after.validity.payment.pending']],
  );
});

test('a failure to create the invoice fails the payment and tells the order', () => {
  const [created] = initialTransition(machine, input);
  const [s, actions] = step(created, {
    type: 'xstate.error.actor.create',
    error: { code: 'BAD_REQUEST', message: 'amount', retryable: false, attempts: 1 },
  });
  assert.equal(s.value, 'failed');
  assert.deepEqual(ctx(s).failure, { code: 'BAD_REQUEST', message: 'amount' });
  assert.deepEqual(
    workOf(actions).spawns.map((x) => [x.src, (x.input as { outcome: string }).outcome]),
    [['notifyOrder', 'failed']],
  );
});

test("webhooks apply in the provider's order: an older one is recorded and changes nothing", () => {
  let s = step(pending(), status('processing', '2026-11-22T10:00:02Z'))[0];
  s = step(s, status('created', '2026-11-22T10:00:01Z'))[0];
  assert.equal(ctx(s).providerStatus, 'processing');
  assert.deepEqual(
    ctx(s).history.map((h) => h.applied),
    [true, false],
  );
  const [paid, actions] = step(s, status('success', '2026-11-22T10:00:03Z'));
  assert.equal(paid.value, 'succeeded');
  assert.deepEqual(
    workOf(actions).spawns.map((x) => [x.src, (x.input as { outcome: string }).outcome]),
    [['notifyOrder', 'succeeded']],
  );
});

test('a final payment never goes back: a later failure or a repeat is recorded only', () => {
  let s = step(pending(), status('success', '2026-11-22T10:00:03Z'))[0];
  s = step(s, status('failure', '2026-11-22T10:00:09Z'))[0];
  s = step(s, status('success', '2026-11-22T10:00:03Z'))[0];
  assert.equal(s.value, 'succeeded');
  assert.deepEqual(
    ctx(s).history.map((h) => `${h.status}:${h.applied}`),
    ['success:true', 'failure:false', 'success:false'],
  );
});

test("a declined payment fails with the provider's reason", () => {
  const [s] = step(pending(), status('failure', '2026-11-22T10:00:03Z', { reason: 'Недостатньо коштів' }));
  assert.equal(s.value, 'failed');
  assert.equal(ctx(s).failure?.message, 'Недостатньо коштів');
});

test('a poll asks the provider; its answer is applied like a webhook; an unchanged answer goes back to waiting', () => {
  const [checking, actions] = step(pending(), { type: 'POLL' });
  assert.deepEqual(checking.value, { pending: 'checking' });
  assert.deepEqual(
    workOf(actions).spawns.map((x) => [x.src, (x.input as { expireIfUnpaid: boolean }).expireIfUnpaid]),
    [['checkAtProvider', false]],
  );
  const [waiting] = step(checking, {
    type: 'xstate.done.actor.check',
    output: { status: 'created', providerStatus: 'created', at: '2026-11-22T10:00:00Z', source: 'poll' },
  });
  assert.deepEqual(waiting.value, { pending: 'waiting' });
  const [paid] = step(step(waiting, { type: 'POLL' })[0], {
    type: 'xstate.done.actor.check',
    output: { status: 'success', providerStatus: 'success', at: '2026-11-22T10:05:00Z', source: 'poll' },
  });
  assert.equal(paid.value, 'succeeded');
});

test("at the end of the customer's time the provider is asked once more: unpaid → expired, paid meanwhile → succeeded", () => {
  const closingSnapshot = (): SnapshotFrom<typeof machine> => {
    const [s, actions] = step(pending(), { type: 'xstate.after.validity.payment.pending' });
    assert.equal(s.value, 'closing');
    assert.deepEqual(
      workOf(actions).spawns.map((x) => (x.input as { expireIfUnpaid: boolean }).expireIfUnpaid),
      [true],
    );
    return s;
  };
  assert.equal(
    step(closingSnapshot(), {
      type: 'xstate.done.actor.checkAtEnd',
      output: { status: 'expired', providerStatus: 'expired', at: '2026-11-23T10:00:00Z', source: 'poll' },
    })[0].value,
    'expired',
  );
  assert.equal(
    step(closingSnapshot(), {
      type: 'xstate.done.actor.checkAtEnd',
      output: { status: 'success', providerStatus: 'success', at: '2026-11-23T10:00:00Z', source: 'poll' },
    })[0].value,
    'succeeded',
  );
  assert.equal(
    step(closingSnapshot(), {
      type: 'xstate.error.actor.checkAtEnd',
      error: { code: 'timeout', message: 'x', retryable: true, attempts: 5 },
    })[0].value,
    'expired',
  );
});

test('a refund of a succeeded payment goes through refunding to refunded and tells the order; a failed refund waits for a person', () => {
  const paid = step(pending(), status('success', '2026-11-22T10:00:03Z'))[0];
  const [refunding, actions] = step(paid, { type: 'REFUND', reason: 'cancelled', requestedBy: 'order' });
  assert.equal(refunding.value, 'refunding');
  assert.deepEqual(
    workOf(actions).spawns.map((x) => x.src),
    ['refundAtProvider'],
  );
  const [refunded, told] = step(refunding, { type: 'xstate.done.actor.refund', output: { providerStatus: 'reversed' } });
  assert.equal(refunded.value, 'refunded');
  assert.deepEqual(
    workOf(told).spawns.map((x) => (x.input as { outcome: string }).outcome),
    ['refunded'],
  );
  const [stuck] = step(refunding, {
    type: 'xstate.error.actor.refund',
    error: { code: 'http_500', message: 'x', retryable: true, attempts: 5 },
  });
  assert.equal(stuck.value, 'refundFailed');
  assert.ok(stuck.hasTag('alert'));
});
