import type { FiscalPolicy } from '../../../common/fiscal-policy.ts';
import { formatMoney } from '../../../common/money.ts';
import paymentModule, { type PaymentInput } from '../../../machines/payment.ts';
import posSaleModule, {
  chargedLines,
  returnReceiptIdOf,
  saleReceiptIdOf,
  saleSlipIdOf,
  type PosSaleContext,
  type ReturnWork,
} from '../../../machines/pos-sale.ts';
import printJobModule, { type Slip } from '../../../machines/print-job.ts';
import productModule from '../../../machines/product.ts';
import receiptModule, { type ReceiptInput, type ReceiptPayments } from '../../../machines/receipt.ts';
import { bindEffects, type BoundEffects, type EffectContext } from '../../runtime/effects.ts';
import type { LoyaltyAccruals } from '../loyalty/accruals.ts';
import { commitUnits, holdUnits, releaseUnits } from '../stock/holds.ts';

/**
 * What a sale at the till invokes: stock through the product actors (the same holds as orders), the payment
 * actor of a Payme or Click sale, the fiscal receipt actor on the store's register, the accrual in the
 * loyalty outbox, the customer's slip, and a return (money through the provider when whole, stock back, a
 * return receipt, the bonuses taken back). Every step is safe to run again after a crash: actors are created
 * under ids derived from the sale, the outbox stores a sale's accrual once.
 */
export interface PosEffectDeps {
  accruals: LoyaltyAccruals;
  fiscalPolicy: FiscalPolicy;
  /** how long the accrual step waits for JOWi's answer so the slip can show the new balance (then: "later") */
  accrualWaitMs: number;
}

const CASHLESS: ReadonlySet<string> = new Set(['card', 'payme', 'click']);

/** The register's payment of a sale: cash (with what was tendered: the register gives the change) or cashless. */
function paymentsOf(context: PosSaleContext): ReceiptPayments {
  const total = context.pricing.total;
  if (CASHLESS.has(context.method)) return { cash: 0, card: total };
  return { cash: Math.max(total, context.paid?.tendered ?? total), card: 0 };
}

function receiptOf(
  context: Pick<PosSaleContext, 'saleId' | 'cashier'>,
  register: string,
  policy: FiscalPolicy,
  lines: Array<{ name: string; qty: number; price: number }>,
  payments: ReceiptPayments,
  kind: { receiptId: string; kind: 'sale' } | { receiptId: string; kind: 'return'; returnOf: string },
): ReceiptInput {
  return {
    receiptId: kind.receiptId,
    register,
    kind: kind.kind,
    items: lines.map((line) => ({ name: line.name, qty: line.qty, price: line.price, taxGroup: 1, department: 1 })),
    payments,
    cashier: context.cashier,
    source: { type: 'pos-sale', id: context.saleId },
    returnOf: kind.kind === 'return' ? kind.returnOf : null,
    autoZReport: policy.autoZReport,
    retryDelayMs: policy.retryDelayMs,
    maxRetryDelayMs: policy.maxRetryDelayMs,
    alertAfterMs: policy.alertAfterMs,
  };
}

/** The customer's slip: what was bought, the discount, and the bonuses (earned and the balance, or "later"). */
export function customerSlip(context: PosSaleContext, title: string): Slip {
  const money = (minor: number) => formatMoney(minor, context.currency);
  const loyalty = context.loyalty;
  const footer: string[] = [];
  if (context.pricing.discount > 0) footer.push(`Скидка: ${money(context.pricing.discount)}`);
  if (context.pricing.bonusSpent > 0) footer.push(`Оплачено бонусами: ${money(context.pricing.bonusSpent)}`);
  footer.push(`Итого: ${money(context.pricing.total)}`);
  if (loyalty.customer)
    footer.push(`Клиент: ${loyalty.customer.name ?? loyalty.customer.id}${loyalty.customer.level ? ` (${loyalty.customer.level})` : ''}`);
  const accrual = context.accrual;
  if (accrual?.status === 'delivered' && accrual.bonusBalance !== null) {
    footer.push(`Начислено бонусов: ${money(accrual.bonusEarned ?? 0)}`, `Баланс бонусов: ${money(accrual.bonusBalance)}`);
  } else if (accrual?.status === 'queued') {
    footer.push('Бонусы будут начислены позже');
  }
  if (loyalty.warning) footer.push(loyalty.warning.slice(0, 64));
  return {
    shop: { name: title.slice(0, 64) },
    title: `Покупка ${context.saleId}`.slice(0, 64),
    lines: chargedLines(context).map((line) => ({ name: line.name, qty: line.qty, price: line.price })),
    footer: footer.map((line) => line.slice(0, 64)).slice(0, 10),
  };
}

/** The customer a sale's bonuses go to: JOWi's id when the look-up named one, else what the cashier entered. */
function accrualCustomer(context: PosSaleContext): { customerId: string | null; phone: string | null; card: string | null } | null {
  const status = context.loyalty.status;
  // a card JOWi refused, or a customer it does not know, earns nothing; offline, the customer is resolved later
  if (status === 'refused' || status === 'not_found' || status === 'none' || !context.customer) return null;
  return {
    customerId: context.loyalty.customer?.id ?? null,
    phone: 'phone' in context.customer ? context.customer.phone : null,
    card: 'card' in context.customer ? context.customer.card : null,
  };
}

export function posSaleEffects(deps: PosEffectDeps & { storeTitle: (store: string) => string }): BoundEffects {
  return bindEffects(posSaleModule, {
    reserveStock: async (input, context) => {
      const held = await holdUnits(context, input.holderId, input.items);
      if (held.ok) return { ok: true, errors: [] };
      const { code, message, index, field } = held.refusal;
      return { ok: false, errors: [{ code, message, path: `items.${index}.${field}` }] };
    },

    releaseStock: async (input, context) => ({ released: await releaseUnits(context, input.holderId, input.skus) }),

    commitStock: async (input, context) => ({ committed: await commitUnits(context, input.holderId, input.skus) }),

    startPayment: async (input: PaymentInput, context) => {
      await context.actors.create(paymentModule, input.paymentId, input, { ifExists: 'skip' });
      return { paymentId: input.paymentId };
    },

    issueReceipt: async ({ context: sale }, context) => {
      const register = sale.policy.fiscalRegister;
      if (!register) return { receiptId: null };
      const receiptId = saleReceiptIdOf(sale.saleId);
      await context.actors.create(
        receiptModule,
        receiptId,
        receiptOf(sale, register, deps.fiscalPolicy, chargedLines(sale), paymentsOf(sale), { receiptId, kind: 'sale' }),
        { key: 'fiscal-receipt', ifExists: 'skip' },
      );
      return { receiptId };
    },

    accrueBonus: async ({ context: sale }) => {
      const customer = accrualCustomer(sale);
      if (!customer) return { status: 'none' as const, bonusEarned: null, bonusBalance: null };
      await deps.accruals.enqueue(
        {
          saleId: sale.saleId,
          ...customer,
          amount: sale.pricing.total,
          discount: sale.pricing.discount,
          bonusSpent: sale.pricing.bonusSpent,
          items: chargedLines(sale).map((line) => ({ name: line.name, qty: line.qty, price: line.price })),
          createdAt: sale.acceptedAt,
        },
        { deliverInBackground: false },
      );
      // delivered now when JOWi answers within the wait (the slip shows the new balance); otherwise the outbox goes on
      const view = await deps.accruals.deliverNow(sale.saleId, deps.accrualWaitMs);
      if (view?.status === 'delivered' && view.result)
        return { status: 'delivered' as const, bonusEarned: view.result.bonusEarned, bonusBalance: view.result.bonusBalance };
      return { status: 'queued' as const, bonusEarned: null, bonusBalance: null };
    },

    printSlip: async ({ context: sale }, context) => {
      const printer = sale.policy.receiptPrinter;
      if (!printer) return { jobId: null };
      const jobId = saleSlipIdOf(sale.saleId);
      await context.actors.create(
        printJobModule,
        jobId,
        {
          jobId,
          printer,
          slip: customerSlip(sale, deps.storeTitle(sale.store)),
          source: { type: 'pos-sale', id: sale.saleId },
          retryDelayMs: deps.fiscalPolicy.retryDelayMs,
          maxRetryDelayMs: deps.fiscalPolicy.maxRetryDelayMs,
          alertAfterMs: deps.fiscalPolicy.alertAfterMs,
        },
        { key: 'slip', ifExists: 'skip' },
      );
      return { jobId };
    },

    processReturn: async (input, context) => processReturn(input, context, deps),
  });
}

/** A return: the money back (through the provider when it is the whole payment), stock back, a return receipt, bonuses back. */
async function processReturn(input: ReturnWork, context: EffectContext, deps: PosEffectDeps): Promise<{ receiptId: string | null }> {
  if (input.refundVia === 'provider' && input.paymentId) {
    await context.actors.send(
      paymentModule,
      input.paymentId,
      { type: 'REFUND', reason: `return ${input.returnId} at the till`, requestedBy: `pos-sale/${input.saleId}` },
      { key: 'refund', ifGone: 'skip' },
    );
  }
  for (const line of input.lines)
    await context.actors.send(
      productModule,
      line.sku,
      { type: 'RESTOCK', returnId: input.returnId, qty: line.qty },
      { key: `restock:${line.sku}:${line.price}`, ifGone: 'skip' },
    );

  let receiptId: string | null = null;
  if (input.fiscalRegister && input.saleReceiptId) {
    const sale = await context.actors.get(receiptModule, input.saleReceiptId);
    if (sale && sale.state !== 'voided') {
      // a return receipt names a printed sale: a sale receipt still printing makes this step wait (it is retried)
      if (sale.state !== 'printed') throw new Error(`receipt ${sale.id} is still printing: its return waits until it is printed`);
      receiptId = returnReceiptIdOf(input.saleId, input.returnId);
      // money back in cash at the till (a cash sale, or part of a Payme/Click sale); to the card otherwise
      const inCash = input.method === 'cash' || (input.refundVia === 'counter' && input.method !== 'card');
      const payments: ReceiptPayments = inCash ? { cash: input.amount, card: 0 } : { cash: 0, card: input.amount };
      await context.actors.create(
        receiptModule,
        receiptId,
        receiptOf({ saleId: input.saleId, cashier: input.cashier }, input.fiscalRegister, deps.fiscalPolicy, input.lines, payments, {
          receiptId,
          kind: 'return',
          returnOf: sale.id,
        }),
        { key: 'fiscal-return', ifExists: 'skip' },
      );
    }
  }
  // the bonuses of the goods come back with them: only a sale that queued an accrual has any
  if (await deps.accruals.accrualOf(input.saleId)) await deps.accruals.refund(input.saleId, input.returnId);
  return { receiptId };
}
