import { createHash } from 'node:crypto';
import { formatMinorUnits } from '../../../common/money.ts';
import type { Logger } from 'winston';
import orderModule from '../../../machines/order.ts';
import paymentModule from '../../../machines/payment.ts';
import { isDuplicateKeyError } from '../../../persistence/collections.ts';
import type { CommerceCollections, ReportDoc } from '../../../persistence/commerce.ts';
import type { PaymentGateways } from '../../platform/connectors/payment-gateways.ts';
import type { ProviderRecord } from '../../platform/connectors/ports/payment-gateway.ts';
import type { JobDefinition } from '../../platform/jobs/registry.ts';
import type { ActorQueries } from '../../runtime/queries.ts';
import type { Mailer } from '../../platform/mail/mailer.ts';

/**
 * The daily report (seed 001's closing steps): every order the day touched,
 * each paid one reconciled against the provider's own record (paid, same
 * amount), matches marked `processed` in the ledger, mismatches listed; the
 * report is stored (`GET /admin/reports`) and mailed to management.
 */
export interface DailyReportDeps {
  queries: ActorQueries;
  commerce: CommerceCollections;
  gateways: PaymentGateways;
  mailer: Mailer;
  reportTo: string[];
  logger: Logger;
  now?: () => number;
}

const DAY_MS = 24 * 3600 * 1000;
/** The payment machine tags `paid` every state in which the money is the shop's (paid, a refund not done yet). */
const PAID_TAG = 'paid';

export async function buildDailyReport(deps: DailyReportDeps, day: string): Promise<ReportDoc> {
  const start = new Date(`${day}T00:00:00.000Z`);
  const end = new Date(start.getTime() + DAY_MS);
  const docs = await deps.queries.views(orderModule, { updatedFrom: start, updatedBefore: end }, { order: 'oldestCreated' });
  const report: ReportDoc = {
    _id: day,
    day,
    generatedAt: new Date((deps.now ?? Date.now)()),
    orders: [],
    totals: { orders: docs.length, paid: 0, amountPaid: 0, amountPaidByCurrency: {}, cancelled: 0, rejected: 0, blocked: 0 },
    reconciliation: { checked: 0, matched: 0, mismatches: [] },
    emailedTo: [],
  };
  for (const doc of docs) {
    const order = doc.context;
    const paymentId = order.receipt?.paymentId ?? null;
    report.orders.push({
      orderId: doc.id,
      state: doc.state,
      total: order.pricing?.total ?? order.total,
      currency: order.currency,
      method: order.payment.method,
      paymentId,
    });
    if (doc.state === 'cancelled') report.totals.cancelled += 1;
    if (doc.state === 'rejected') report.totals.rejected += 1;
    if (doc.state === 'blocked') report.totals.blocked += 1;
    if (!paymentId) continue;
    const paymentView = await deps.queries.find(paymentModule, paymentId);
    if (!paymentView) continue;
    const payment = paymentView.context;
    const ours = paymentView.state;
    const weSayPaid = paymentView.tags.includes(PAID_TAG);
    if (weSayPaid) {
      report.totals.paid += 1;
      if (payment.currency === 'UAH') report.totals.amountPaid += payment.amount;
      const byCurrency = (report.totals.amountPaidByCurrency ??= {});
      byCurrency[payment.currency] = (byCurrency[payment.currency] ?? 0) + payment.amount;
    }
    report.reconciliation.checked += 1;
    let record: ProviderRecord;
    try {
      record = await deps.gateways.of(payment.provider).record({ paymentId: payment.paymentId, providerId: payment.providerId ?? '' });
    } catch (error) {
      report.reconciliation.mismatches.push({
        paymentId,
        orderId: doc.id,
        ours,
        provider: 'unreachable',
        detail: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    const problems: string[] = [];
    if (weSayPaid !== record.paid)
      problems.push(
        weSayPaid
          ? `we record it paid, ${payment.provider} says ${record.status}`
          : `${payment.provider} says ${record.status}, we record ${ours}`,
      );
    if (weSayPaid && record.paid && record.amount !== null && record.amount !== payment.amount)
      problems.push(`amount ${payment.amount} here, ${record.amount} at ${payment.provider}`);
    if (problems.length > 0) {
      report.reconciliation.mismatches.push({ paymentId, orderId: doc.id, ours, provider: record.status, detail: problems.join('; ') });
      continue;
    }
    report.reconciliation.matched += 1;
    if (weSayPaid) {
      await deps.commerce.ledger
        .insertOne({
          _id: paymentId,
          orderId: doc.id,
          provider: payment.provider,
          amount: payment.amount,
          processedAt: report.generatedAt,
          report: day,
        })
        .catch((error: unknown) => {
          if (!isDuplicateKeyError(error)) throw error;
        });
    }
  }
  return report;
}

function reportText(report: ReportDoc): string {
  const money = (minor: number, currency = 'UAH') => `${formatMinorUnits(minor)} ${currency}`;
  const paidByCurrency = Object.entries(report.totals.amountPaidByCurrency ?? { UAH: report.totals.amountPaid });
  const lines = [
    `Daily report ${report.day}`,
    '',
    `Orders: ${report.totals.orders} (paid ${report.totals.paid}, cancelled ${report.totals.cancelled}, rejected ${report.totals.rejected}, blocked ${report.totals.blocked})`,
    `Paid: ${paidByCurrency.length > 0 ? paidByCurrency.map(([currency, amount]) => money(amount, currency)).join(', ') : money(0)}`,
    `Reconciliation: ${report.reconciliation.matched} of ${report.reconciliation.checked} payments match the providers' records.`,
  ];
  if (report.reconciliation.mismatches.length > 0) {
    lines.push('', 'MISMATCHES:');
    for (const m of report.reconciliation.mismatches) lines.push(`- order ${m.orderId}, payment ${m.paymentId}: ${m.detail}`);
  }
  lines.push('', 'Orders:');
  for (const o of report.orders)
    lines.push(`- ${o.orderId}  ${o.state}  ${money(o.total, o.currency)}  ${o.method}${o.paymentId ? `  ${o.paymentId}` : ''}`);
  return lines.join('\n');
}

export function dailyReportJob(deps: DailyReportDeps): JobDefinition {
  const now = deps.now ?? Date.now;
  return {
    name: 'daily-report',
    description:
      'reports the orders of a day with payment reconciliation, marks matched payments processed, mails management (a manual run reports today so far)',
    every: '5 0 * * *',
    async run({ trigger }) {
      // at 00:05 the day that just ended; by hand, today so far
      const day = new Date(now() - (trigger === 'manual' ? 0 : DAY_MS)).toISOString().slice(0, 10);
      const report = await buildDailyReport(deps, day);
      const text = reportText(report);
      for (const to of deps.reportTo) {
        // one mail per recipient per distinct content: a rerun with nothing new sends nothing
        const digest = createHash('sha256')
          .update(text.replace(/^Daily report.*$/m, ''))
          .digest('hex')
          .slice(0, 16);
        await deps.mailer.send({
          id: `report:${day}:${to}:${digest}`,
          to,
          subject: `Daily report ${day}: ${report.totals.orders} orders, ${report.reconciliation.mismatches.length} mismatches`,
          text,
          template: 'daily_report',
          orderId: null,
        });
        report.emailedTo.push(to);
      }
      await deps.commerce.reports.replaceOne({ _id: day }, report, { upsert: true });
      return {
        day,
        orders: report.totals.orders,
        checked: report.reconciliation.checked,
        mismatches: report.reconciliation.mismatches.length,
      };
    },
  };
}
