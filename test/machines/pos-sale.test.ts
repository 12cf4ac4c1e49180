import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialTransition, type SnapshotFrom } from 'xstate';
import { stepper } from '../support/machines.ts';
import posSale, { chargedLines, returnOf, type PosSaleInput } from '../../machines/pos-sale.ts';
import { priceSale, receiptLinesOf, type LoyaltyAnswer } from '../../machines/pos-sale-rules.ts';
import { acceptedEvents, tagsOf, workOf } from '../../actors/runtime/machine-glue.ts';

const { machine } = posSale;
const step = stepper(machine);
type Snapshot = SnapshotFrom<typeof machine>;
const spawned = (actions: Parameters<typeof workOf>[0]) => workOf(actions).spawns.map((s) => s.src);
const AT = '2026-12-02T10:15:00.000Z';

const live: LoyaltyAnswer = {
  status: 'applied',
  customer: { id: 'c-1', name: 'Dilnoza', level: 'silver', discountPercent: 5, bonusBalance: 1_200_000 },
  source: 'live',
  warning: null,
};
const offline: LoyaltyAnswer = { status: 'offline', customer: null, source: null, warning: 'JOWi did not answer in 1500 ms' };

function saleInput(overrides: Partial<PosSaleInput> = {}): PosSaleInput {
  return {
    saleId: 'S-1',
    store: 'main',
    register: 'till-1',
    cashier: 'Олена',
    currency: 'UZS',
    customer: { phone: '+998901234567' },
    items: [
      { sku: 'TEA-1', name: 'Чай', qty: 2, price: 1_500_000 },
      { sku: 'CUP-1', name: 'Пиала', qty: 3, price: 1_000_001 },
    ],
    method: 'cash',
    useBonus: 0,
    loyalty: live,
    acceptedAt: AT,
    policy: {
      fiscalRegister: 'main',
      receiptPrinter: 'slips',
      maxBonusSharePercent: 50,
      paymentValiditySeconds: 900,
      paymentGraceSeconds: 60,
    },
    ...overrides,
  };
}

function reserved(input = saleInput()): Snapshot {
  const [start, actions] = initialTransition(machine, input);
  assert.equal(start.value, 'reservingStock');
  assert.deepEqual(spawned(actions), ['reserveStock']);
  const [paying] = step(start, { type: 'xstate.done.actor.reserve', output: { ok: true, errors: [] } });
  return paying;
}

/** From paid to completed: each step's effect answers. */
function throughToCompleted(paid: Snapshot): Snapshot {
  assert.equal(paid.value, 'committingStock');
  const [fiscal, fiscalWork] = step(paid, { type: 'xstate.done.actor.commit', output: { committed: 2 } });
  assert.deepEqual(spawned(fiscalWork), ['issueReceipt']);
  const [accruing, accrualWork] = step(fiscal, { type: 'xstate.done.actor.receipt', output: { receiptId: 'R-S-S-1' } });
  assert.deepEqual(spawned(accrualWork), ['accrueBonus']);
  const [slip, slipWork] = step(accruing, {
    type: 'xstate.done.actor.accrual',
    output: { status: 'delivered', bonusEarned: 70_000, bonusBalance: 1_270_000 },
  });
  assert.deepEqual(spawned(slipWork), ['printSlip']);
  const [completed] = step(slip, { type: 'xstate.done.actor.slip', output: { jobId: 'P-S-S-1-slip' } });
  assert.equal(completed.value, 'completed');
  return completed;
}

test('pricing: a live answer gives the level discount and bonuses within balance, share and request; offline or cached gives neither', () => {
  const items = [{ qty: 2, price: 1_000_000 }];
  assert.deepEqual(priceSale(items, live, 0, 50), { subtotal: 2_000_000, discount: 100_000, bonusSpent: 0, total: 1_900_000 });
  assert.deepEqual(priceSale(items, live, 5_000_000, 50).bonusSpent, 950_000, 'capped at half of the discounted amount');
  assert.deepEqual(priceSale(items, live, 5_000_000, 100).bonusSpent, 1_200_000, 'capped at the balance');
  assert.deepEqual(priceSale(items, live, 300_000, 100).bonusSpent, 300_000, 'what was asked');
  assert.deepEqual(priceSale(items, offline, 300_000, 100), { subtotal: 2_000_000, discount: 0, bonusSpent: 0, total: 2_000_000 });
  const cached: LoyaltyAnswer = { ...live, source: 'cache', warning: 'JOWi is offline; the customer is from the cache' };
  assert.equal(priceSale(items, cached, 300_000, 100).total, 2_000_000, 'a cached customer is identified, never discounted');
  assert.equal(priceSale(items, { ...live, status: 'refused' }, 0, 50).discount, 0);
});

test('receipt lines: the reduction is shared over the lines and adds up to the tiyin; an uneven share splits a line', () => {
  const items = [
    { name: 'Чай', qty: 2, price: 1_500_000 },
    { name: 'Пиала', qty: 3, price: 1_000_001 },
    { name: 'Сахар', qty: 1, price: 7 },
  ];
  const subtotal = 2 * 1_500_000 + 3 * 1_000_001 + 7;
  for (const reduction of [0, 1, 7, 150_001, 333_333, subtotal - 1, subtotal]) {
    const lines = receiptLinesOf(items, reduction);
    assert.equal(
      lines.reduce((sum, line) => sum + line.qty * line.price, 0),
      subtotal - reduction,
      `reduction ${reduction}`,
    );
    assert.ok(lines.every((line) => Number.isInteger(line.price) && line.price >= 0 && line.qty > 0));
    assert.ok(lines.length <= items.length * 2);
  }
  assert.deepEqual(receiptLinesOf([{ name: 'Пиала', qty: 3, price: 100 }], 1), [
    { name: 'Пиала', qty: 2, price: 99 },
    { name: 'Пиала', qty: 1, price: 101 },
  ]);
  assert.throws(() => receiptLinesOf(items, subtotal + 1), RangeError);
});

test('cash: stock reserved, the cashier confirms the money (tendered at least the total), then commit → receipt → accrual → slip', () => {
  const paying = reserved();
  assert.deepEqual(paying.value, { paying: 'atCounter' });
  assert.ok(paying.hasTag('awaiting-cashier'));
  assert.equal(paying.context.pricing.total, 2 * 1_500_000 + 3 * 1_000_001 - Math.floor(((2 * 1_500_000 + 3 * 1_000_001) * 5) / 100));
  const [short] = step(paying, { type: 'PAID_AT_COUNTER', by: 'Олена', tendered: 100, at: AT });
  assert.deepEqual(short.value, { paying: 'atCounter' }, 'less cash than the total is refused');
  const [paid] = step(paying, { type: 'PAID_AT_COUNTER', by: 'Олена', tendered: 6_000_000, at: AT });
  assert.deepEqual(paid.context.paid, { method: 'cash', paymentId: null, tendered: 6_000_000, by: 'Олена', at: AT });
  const completed = throughToCompleted(paid);
  assert.equal(completed.context.receiptId, 'R-S-S-1');
  assert.deepEqual(completed.context.accrual, { status: 'delivered', bonusEarned: 70_000, bonusBalance: 1_270_000 });
  assert.ok(acceptedEvents(completed).includes('RETURN'));
});

test('Payme: a payment actor under the sale; a failure lets the cashier choose another way, and a late result of the old one changes nothing', () => {
  const paying = reserved(saleInput({ method: 'payme' }));
  assert.deepEqual(paying.value, { paying: 'online' });
  assert.ok(paying.hasTag('awaiting-customer'));
  assert.deepEqual(paying.context.payment, { id: 'S-1-P1', attempt: 1, method: 'payme', outcome: 'pending' });
  const [failed] = step(paying, {
    type: 'PAYMENT_RESULT',
    paymentId: 'S-1-P1',
    outcome: 'failed',
    failure: { code: 'expired', message: 'the customer did not pay in time' },
  });
  assert.equal(failed.value, 'paymentFailed');
  const [again, work] = step(failed, { type: 'CHANGE_PAYMENT', method: 'click', by: 'Олена' });
  assert.deepEqual(again.value, { paying: 'online' });
  const payment = workOf(work).spawns.find((s) => s.src === 'startPayment')?.input as Record<string, unknown>;
  assert.equal(payment.paymentId, 'S-1-P2');
  assert.equal(payment.provider, 'click');
  assert.equal(payment.owner, 'pos-sale');
  assert.equal(payment.currency, 'UZS');
  assert.equal(payment.amount, again.context.pricing.total);
  const basket = payment.basket as Array<{ qty: number; price: number }>;
  assert.equal(
    basket.reduce((sum, line) => sum + line.qty * line.price, 0),
    again.context.pricing.total,
  );
  const [stale] = step(again, { type: 'PAYMENT_RESULT', paymentId: 'S-1-P1', outcome: 'succeeded', failure: null });
  assert.deepEqual(stale.value, { paying: 'online' }, 'the first attempt is not the sale’s payment any more');
  const [paid] = step(again, { type: 'PAYMENT_RESULT', paymentId: 'S-1-P2', outcome: 'succeeded', failure: null });
  assert.equal(paid.value, 'committingStock');
  assert.equal(paid.context.paid?.paymentId, 'S-1-P2');
});

test('stock refused: the sale is rejected with the reasons (the hold gave back what it held); a failed check releases everything; a cancel before payment releases the stock', () => {
  const [start] = initialTransition(machine, saleInput());
  const [rejected, none] = step(start, {
    type: 'xstate.done.actor.reserve',
    output: { ok: false, errors: [{ code: 'out_of_stock', message: 'TEA-1: 0 left', path: 'items.0.sku' }] },
  });
  assert.equal(rejected.value, 'rejected');
  assert.deepEqual(spawned(none), []);
  assert.equal(rejected.context.errors[0]?.code, 'out_of_stock');

  const [releasing, work] = step(start, {
    type: 'xstate.error.actor.reserve',
    error: { code: 'db_down', message: 'database unreachable' },
  });
  assert.equal(releasing.value, 'releasingRejected');
  assert.deepEqual(workOf(work).spawns[0]?.input, { holderId: 'S-1', skus: ['TEA-1', 'CUP-1'] });
  const [failed] = step(releasing, { type: 'xstate.done.actor.releaseRejected', output: { released: 1 } });
  assert.equal(failed.value, 'rejected');
  assert.equal(failed.context.errors[0]?.code, 'stock_check_failed');

  const [cancelling, release] = step(reserved(), { type: 'CANCEL', reason: 'покупатель передумал', by: 'Олена' });
  assert.equal(cancelling.value, 'cancelling');
  assert.deepEqual(spawned(release), ['releaseStock']);
  const [cancelled] = step(cancelling, { type: 'xstate.done.actor.release', output: { released: 2 } });
  assert.equal(cancelled.value, 'cancelled');
  assert.deepEqual(cancelled.context.cancellation, { reason: 'покупатель передумал', by: 'Олена' });
});

test('returns: lines at the prices charged, never more units than kept; the last unit back ends the sale; online money goes back through the provider only for a whole return', () => {
  const [paid] = step(reserved(saleInput({ method: 'payme' })), {
    type: 'PAYMENT_RESULT',
    paymentId: 'S-1-P1',
    outcome: 'succeeded',
    failure: null,
  });
  const completed = throughToCompleted(paid);
  const charged = chargedLines(completed.context);
  assert.equal(
    charged.reduce((sum, line) => sum + line.qty * line.price, 0),
    completed.context.pricing.total,
  );

  const [tooMany] = step(completed, {
    type: 'RETURN',
    returnId: 'RET-1',
    lines: [{ sku: 'TEA-1', qty: 3 }],
    by: 'Олена',
    reason: 'брак',
    at: AT,
  });
  assert.equal(tooMany.value, 'completed', 'three teas back from two sold is refused');
  assert.equal(returnOf(completed.context, [{ sku: 'NOPE', qty: 1 }]).ok, false);

  const [returning, work] = step(completed, {
    type: 'RETURN',
    returnId: 'RET-1',
    lines: [{ sku: 'CUP-1', qty: 1 }],
    by: 'Олена',
    reason: 'брак',
    at: AT,
  });
  assert.equal(returning.value, 'returning');
  const returnWork = workOf(work).spawns[0]?.input as { amount: number; refundVia: string; lines: Array<{ price: number }> };
  assert.equal(returnWork.refundVia, 'counter', 'part of a Payme sale goes back at the till');
  assert.equal(returnWork.amount, Math.min(...charged.filter((l) => l.sku === 'CUP-1').map((l) => l.price)));
  const [partly] = step(returning, { type: 'xstate.done.actor.return', output: { receiptId: 'R-S-S-1-RET-1' } });
  assert.equal(partly.value, 'completed');
  assert.equal(partly.context.returns[0]?.receiptId, 'R-S-S-1-RET-1');
  const [repeat] = step(partly, { type: 'RETURN', returnId: 'RET-1', lines: [{ sku: 'TEA-1', qty: 1 }], by: 'Олена', reason: 'x', at: AT });
  assert.equal(repeat.value, 'completed', 'a return id is used once');

  const [rest, restWork] = step(partly, {
    type: 'RETURN',
    returnId: 'RET-2',
    lines: [
      { sku: 'TEA-1', qty: 2 },
      { sku: 'CUP-1', qty: 2 },
    ],
    by: 'Олена',
    reason: 'передумал',
    at: AT,
  });
  const restInput = workOf(restWork).spawns[0]?.input as { amount: number; refundVia: string };
  assert.equal(restInput.refundVia, 'counter', 'after a partial return the rest is not the whole payment either');
  assert.equal(returnWork.amount + restInput.amount, completed.context.pricing.total, 'everything back is exactly what was paid');
  const [returned] = step(rest, { type: 'xstate.done.actor.return', output: { receiptId: 'R-S-S-1-RET-2' } });
  assert.equal(returned.value, 'returned');

  const [whole, wholeWork] = step(completed, {
    type: 'RETURN',
    returnId: 'RET-9',
    lines: [
      { sku: 'TEA-1', qty: 2 },
      { sku: 'CUP-1', qty: 3 },
    ],
    by: 'Олена',
    reason: 'всё',
    at: AT,
  });
  assert.equal(whole.value, 'returning');
  assert.equal((workOf(wholeWork).spawns[0]?.input as { refundVia: string }).refundVia, 'provider');
});

test('a sale made while the loyalty program was offline is labelled so the console can list them', () => {
  const [offlineSale] = initialTransition(machine, saleInput({ loyalty: offline }));
  assert.deepEqual(posSale.labels?.(offlineSale.context), ['loyalty-offline']);
  const [liveSale] = initialTransition(machine, saleInput());
  assert.deepEqual(posSale.labels?.(liveSale.context), []);
  assert.deepEqual(tagsOf(offlineSale, posSale), ['loyalty-offline']);
});
