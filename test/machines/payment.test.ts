import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, type SnapshotFrom } from 'xstate';
import { stepper } from '../support/machines.ts';
import payment, {
  type PaymentEvent,
  type PaymentInput,
  type ProviderStatus,
  type RefundWork,
  type StatusUpdate,
} from '../../machines/payment.ts';
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

test("at the end of the customer's time the provider is asked once more: unpaid → expired, paid meanwhile → succeeded, unanswered → lapsed", () => {
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
  assert.deepEqual(
    step(closingSnapshot(), {
      type: 'xstate.error.actor.checkAtEnd',
      error: { code: 'timeout', message: 'x', retryable: true, attempts: 5 },
    })[0].value,
    { lapsed: 'waiting' },
    'the provider could not be asked: the time is up, and it is asked again later',
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
  const [refunded, told] = step(refunding, { type: 'xstate.done.actor.refund', output: { outcome: 'success', providerStatus: 'success' } });
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

const refundRequested = () =>
  step(step(pending(), status('success', '2026-11-22T10:00:03Z'))[0], { type: 'REFUND', reason: 'cancelled', requestedBy: 'order/o-1' });
const refundAnswer = (outcome: 'processing' | 'success' | 'failure', providerStatus: string = outcome) => ({
  type: 'xstate.done.actor.refund' as const,
  output: { outcome, providerStatus, reason: outcome === 'failure' ? 'card closed' : null },
});

test('each refund attempt has its own reference and carries the basket the payment was for', () => {
  const [refunding, actions] = refundRequested();
  const [work] = workOf(actions).spawns;
  assert.equal(work?.src, 'refundAtProvider');
  assert.deepEqual(work?.input as RefundWork, {
    provider: 'monobank',
    paymentId: 'o-1-P1',
    providerId: 'p2_x',
    amount: 50_000,
    refundReference: 'o-1-P1-R1',
    basket: input.basket,
  });
  assert.ok(refunding.hasTag('paid'), "the money is the shop's until the refund is done");
});

test('a refund the provider is processing is polled until final; a reversed webhook settles it too', () => {
  const [pendingRefund] = step(refundRequested()[0], refundAnswer('processing'));
  assert.deepEqual(pendingRefund.value, { refundPending: 'waiting' });
  assert.equal(ctx(pendingRefund).refundStatus, 'processing');
  assert.ok(pendingRefund.hasTag('paid'));
  const [checking, asked] = step(pendingRefund, { type: 'POLL' });
  assert.deepEqual(checking.value, { refundPending: 'checking' });
  assert.deepEqual(
    workOf(asked).spawns.map((x) => [x.src, (x.input as RefundWork).refundReference]),
    [['checkRefundAtProvider', 'o-1-P1-R1']],
  );
  const [still] = step(checking, {
    type: 'xstate.done.actor.checkRefund',
    output: { outcome: 'processing', providerStatus: 'refund processing' },
  });
  assert.deepEqual(still.value, { refundPending: 'waiting' });
  const [unreachable] = step(step(still, { type: 'POLL' })[0], {
    type: 'xstate.error.actor.checkRefund',
    error: { code: 'timeout', message: 'x', retryable: true, attempts: 5 },
  });
  assert.deepEqual(unreachable.value, { refundPending: 'waiting' }, 'a failed check asks again at the next poll');
  const [done, told] = step(step(unreachable, { type: 'POLL' })[0], {
    type: 'xstate.done.actor.checkRefund',
    output: { outcome: 'success', providerStatus: 'reversed' },
  });
  assert.equal(done.value, 'refunded');
  assert.deepEqual(
    workOf(told).spawns.map((x) => (x.input as { outcome: string }).outcome),
    ['refunded'],
  );
  const [byWebhook] = step(pendingRefund, status('reversed', '2026-11-22T11:00:00Z'));
  assert.equal(byWebhook.value, 'refunded');
  const [refusedLater] = step(step(pendingRefund, { type: 'POLL' })[0], {
    type: 'xstate.done.actor.checkRefund',
    output: { outcome: 'failure', providerStatus: 'refund failure' },
  });
  assert.equal(refusedLater.value, 'refundFailed');
  assert.equal(ctx(refusedLater).incident?.code, 'refund_failed');
});

test('a refused refund leaves the payment paid with a refund_failed incident (alert) until an operator retries it', () => {
  const [refused, actions] = step(refundRequested()[0], refundAnswer('failure'));
  assert.equal(refused.value, 'refundFailed');
  assert.ok(refused.hasTag('alert') && refused.hasTag('paid'));
  assert.deepEqual(ctx(refused).incident, {
    code: 'refund_failed',
    message: 'the provider refused the refund (failure): card closed',
    attempt: 1,
  });
  assert.deepEqual(workOf(actions).spawns, [], 'the order is not told of a refund that did not happen');
  assert.equal(step(refused, { type: 'REFUND', reason: 'again', requestedBy: 'x' })[0].value, 'refundFailed', 'only RETRY_REFUND retries');
  const [retrying, retried] = step(refused, { type: 'RETRY_REFUND', by: 'operator-1' });
  assert.equal(retrying.value, 'refunding');
  assert.equal(ctx(retrying).incident, null);
  assert.deepEqual(
    workOf(retried).spawns.map((x) => (x.input as RefundWork).refundReference),
    ['o-1-P1-R2'],
  );
  const [unreachable] = step(retrying, {
    type: 'xstate.error.actor.refund',
    error: { code: 'http_500', message: 'internal server error', retryable: true, attempts: 5 },
  });
  assert.equal(unreachable.value, 'refundFailed');
  assert.deepEqual(ctx(unreachable).incident, {
    code: 'refund_failed',
    message: 'the refund could not be made: internal server error',
    attempt: 2,
  });
  assert.equal(step(retrying, refundAnswer('success'))[0].value, 'refunded');
});

const closedWith = (checked: ProviderStatus) =>
  step(step(pending(), { type: 'xstate.after.validity.payment.pending' })[0], {
    type: 'xstate.done.actor.checkAtEnd',
    output: { status: checked, providerStatus: checked, at: '2026-11-22T10:11:00Z', source: 'poll' },
  });

test('time up while the provider is still processing: lapsed — the order is told it failed, the provider is still polled until its last word', () => {
  const [lapsed, told] = closedWith('processing');
  assert.deepEqual(lapsed.value, { lapsed: 'waiting' });
  assert.deepEqual(
    workOf(told).spawns.map((x) => [x.src, (x.input as { outcome: string; failure: { code: string } }).failure.code]),
    [['notifyOrder', 'expired']],
  );
  const [checking, asked] = step(lapsed, { type: 'POLL' });
  assert.deepEqual(checking.value, { lapsed: 'checking' });
  assert.deepEqual(
    workOf(asked).spawns.map((x) => [x.src, (x.input as { expireIfUnpaid: boolean }).expireIfUnpaid]),
    [['checkAtProvider', true]],
  );
  const checked = (output: ProviderStatus) =>
    step(checking, {
      type: 'xstate.done.actor.checkLapsed',
      output: { status: output, providerStatus: output, at: '2026-11-22T10:15:00Z', source: 'poll' },
    });
  assert.deepEqual(checked('processing')[0].value, { lapsed: 'waiting' });
  assert.deepEqual(checked('expired')[0].value, { lapsed: 'settled' });
  assert.deepEqual(checked('failure')[0].value, { lapsed: 'settled' });
  const [paidLate, notice] = checked('success');
  assert.equal(paidLate.value, 'succeeded', 'a poll finds the late success');
  assert.deepEqual(
    workOf(notice).spawns.map((x) => (x.input as { outcome: string }).outcome),
    ['succeeded'],
  );
  assert.equal(step(lapsed, status('success', '2026-11-22T10:12:00Z'))[0].value, 'succeeded', 'so does a webhook');
  assert.deepEqual(step(lapsed, status('failure', '2026-11-22T10:12:00Z'))[0].value, { lapsed: 'settled' });
  const [settled] = step(lapsed, status('expired', '2026-11-22T10:12:00Z'));
  assert.deepEqual(settled.value, { lapsed: 'settled' });
  assert.ok(!settled.can({ type: 'POLL' }), 'a settled payment is asked no more');
});

test('an expired payment that the provider reports paid after all is a success again, and the order is told', () => {
  const [expired] = closedWith('expired');
  assert.equal(expired.value, 'expired');
  assert.equal(step(expired, status('success', '2026-11-22T10:10:00Z'))[0].value, 'expired', 'an older status changes nothing');
  assert.equal(step(expired, status('failure', '2026-11-22T10:12:00Z'))[0].value, 'expired');
  const [paid, told] = step(expired, status('success', '2026-11-22T10:12:00Z'));
  assert.equal(paid.value, 'succeeded');
  assert.deepEqual(
    workOf(told).spawns.map((x) => [x.src, (x.input as { outcome: string }).outcome]),
    [['notifyOrder', 'succeeded']],
  );
});

test('a success the order does not take is refunded at once; one it takes stays paid', () => {
  const [paid] = step(pending(), status('success', '2026-11-22T10:00:03Z'));
  const [kept] = step(paid, { type: 'xstate.done.actor.notifySucceeded', output: { delivered: true, credited: true } });
  assert.equal(kept.value, 'succeeded');
  const [refunding, actions] = step(paid, { type: 'xstate.done.actor.notifySucceeded', output: { delivered: false, credited: false } });
  assert.equal(refunding.value, 'refunding');
  assert.deepEqual(ctx(refunding).refund, {
    amount: 50_000,
    reason: 'paid after the order stopped waiting for this payment',
    requestedBy: 'payment/o-1-P1',
  });
  assert.deepEqual(
    workOf(actions).spawns.map((x) => x.src),
    ['refundAtProvider'],
  );
});

test('version 1 snapshots migrate: a refund that had failed becomes a refund_failed incident', () => {
  const migrate = payment.migrations[1];
  assert.ok(migrate);
  const v1 = {
    status: 'active',
    value: 'refundFailed',
    context: { paymentId: 'o-1-P1', refund: { amount: 1 }, refundFailure: { message: 'boom' } },
  };
  assert.deepEqual((migrate(v1).context as Record<string, unknown>).incident, {
    code: 'refund_failed',
    message: 'the refund could not be made: boom',
    attempt: 1,
  });
  const quiet = migrate({ status: 'active', value: 'succeeded', context: { paymentId: 'o-1-P1', refund: null } }).context as Record<
    string,
    unknown
  >;
  assert.deepEqual([quiet.refundAttempts, quiet.refundStatus, quiet.incident], [0, null, null]);
  assert.equal(payment.version, 2);
});
