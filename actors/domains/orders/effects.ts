import { randomBytes } from 'node:crypto';
import type { Logger } from 'winston';
import type {
  CancelRequest,
  DeliveryAnswer,
  DeliveryRequest,
  DocumentsRequest,
  NoticeRequest,
  StockAnswer,
  StockRequest,
} from '../../../machines/order.ts';
import orderModule from '../../../machines/order.ts';
import paymentModule, { type PaymentInput } from '../../../machines/payment.ts';
import shipmentModule from '../../../machines/shipment.ts';
import { isDuplicateKeyError } from '../../../persistence/collections.ts';
import { issueInvoice, type CommerceCollections } from '../../../persistence/commerce.ts';
import type { PersonalDataCipher } from '../../../persistence/personal-data-key.ts';
import type { ReferenceCollections } from '../../../persistence/reference.ts';
import type { AuditLog } from '../../platform/audit/audit-log.ts';
import type { Connectors } from '../../platform/connectors/kit/connectors.ts';
import { novaPoshtaConnector } from '../../platform/connectors/novaposhta/connector.ts';
import type { Mailer } from '../../platform/mail/mailer.ts';
import { renderNotice } from './notices.ts';
import type { FiscalPolicy } from '../../../common/fiscal-policy.ts';
import receiptModule from '../../../machines/receipt.ts';
import { orderReceiptInput, packingSlipIdOf, packingSlipJob, returnReceiptIdOf, saleReceiptIdOf } from '../fiscal/order-receipts.ts';
import printJobModule from '../../../machines/print-job.ts';
import { bindEffects, type BoundEffects, type EffectContext, type EffectHandler } from '../../runtime/effects.ts';
import { requestShipmentEffect } from '../shipments/effects.ts';
import { commitUnits, holdUnits, releaseUnits } from '../stock/holds.ts';

/**
 * What the order machine invokes: stock (through product actors, so that
 * reservations are serialised per product across processes), delivery
 * coverage (Nova Poshta's directory), the child payment actor, the invoice
 * and the customer's mail. Every handler is safe to run again with the same
 * idempotency key: that is how a crash in the middle is survived.
 */
export interface OrderEffectDeps {
  /** Nova Poshta's directory as last synced (empty until the first sync: then NP is asked directly) */
  reference: ReferenceCollections;
  connectors: Connectors;
  collections: CommerceCollections;
  mailer: Mailer;
  audit: AuditLog;
  publicBaseUrl: () => string;
  /** where an order paid online gets its fiscal receipt, and every confirmed order its packing slip (device names; null: none) */
  printing: { fiscalRegister: () => string | null; packingPrinter: () => string | null; policy: FiscalPolicy };
  logger: Logger;
  now?: () => number;
  /** seals the customer on the invoice kept for re-rendering */
  personalData: PersonalDataCipher;
}

export function orderEffects(deps: OrderEffectDeps): BoundEffects {
  const now = deps.now ?? Date.now;

  const reserveStock: EffectHandler<StockRequest, StockAnswer> = async (input, context) => {
    const held = await holdUnits(
      context,
      input.orderId,
      input.items.map((item) => ({ sku: item.sku, qty: item.qty, price: item.unitPrice })),
      { checkPrice: input.checkPrice !== false },
    );
    if (!held.ok) {
      const { code, message, index, field } = held.refusal;
      const path = `items.${index}.${field === 'price' ? 'unitPrice' : field}`;
      return { ok: false, errors: [{ code, message, path }] };
    }
    return { ok: true, lines: held.lines.map((line) => ({ sku: line.sku, name: line.name, qty: line.qty, unitPrice: line.price })) };
  };

  const releaseStock: EffectHandler<{ orderId: string; skus: string[] }, { released: number }> = async (input, context) => ({
    released: await releaseUnits(context, input.orderId, input.skus),
  });

  const commitStock: EffectHandler<{ orderId: string; skus: string[] }, { committed: number }> = async (input, context) => ({
    committed: await commitUnits(context, input.orderId, input.skus),
  });

  const checkDelivery: EffectHandler<DeliveryRequest, DeliveryAnswer> = async (input, context) => {
    // the marketplace's own logistics deliver wherever it sells
    if (input.carrier === 'marketplace') return { ok: true, cityName: input.service ?? 'marketplace logistics', warehouseName: null };
    if ((await deps.reference.cities.estimatedDocumentCount()) > 0) {
      const city = await deps.reference.cities.findOne({ _id: input.cityRef });
      if (!city)
        return { ok: false, errors: [{ code: 'invalid_city', message: 'Nova Poshta does not know this city', path: 'delivery.cityRef' }] };
      if (!input.warehouseRef) return { ok: true, cityName: city.name, warehouseName: null };
      const branch = await deps.reference.warehouses.findOne({ _id: input.warehouseRef });
      if (!branch || branch.cityRef !== input.cityRef)
        return {
          ok: false,
          errors: [{ code: 'invalid_warehouse', message: `no such Nova Poshta branch in ${city.name}`, path: 'delivery.warehouseRef' }],
        };
      if (branch.status && branch.status !== 'Working')
        return {
          ok: false,
          errors: [
            { code: 'carrier_not_delivering', message: `${branch.name} does not accept parcels now`, path: 'delivery.warehouseRef' },
          ],
        };
      return { ok: true, cityName: city.name, warehouseName: branch.name };
    }
    const client = deps.connectors.client(novaPoshtaConnector);
    const call = { signal: context.signal };
    const cities = await client.getCities({ ref: input.cityRef, limit: 1 }, call);
    const city = cities.items.find((c) => c.Ref === input.cityRef);
    if (!city)
      return { ok: false, errors: [{ code: 'invalid_city', message: 'Nova Poshta does not know this city', path: 'delivery.cityRef' }] };
    if (!input.warehouseRef) return { ok: true, cityName: city.Description, warehouseName: null };
    const warehouses = await client.getWarehouses({ cityRef: input.cityRef, limit: 500 }, call);
    const warehouse = warehouses.items.find((w) => w.Ref === input.warehouseRef);
    if (!warehouse)
      return {
        ok: false,
        errors: [
          { code: 'invalid_warehouse', message: `no such Nova Poshta branch in ${city.Description}`, path: 'delivery.warehouseRef' },
        ],
      };
    if (warehouse.WarehouseStatus && warehouse.WarehouseStatus !== 'Working') {
      return {
        ok: false,
        errors: [
          {
            code: 'carrier_not_delivering',
            message: `${warehouse.Description} does not accept parcels now`,
            path: 'delivery.warehouseRef',
          },
        ],
      };
    }
    return { ok: true, cityName: city.Description, warehouseName: warehouse.Description };
  };

  const startPayment: EffectHandler<PaymentInput, { paymentId: string }> = async (input, context) => {
    await context.actors.create(paymentModule, input.paymentId, input, { ifExists: 'skip' });
    return { paymentId: input.paymentId };
  };

  const surveyLink = async (orderId: string): Promise<string> => {
    const fresh = { _id: orderId, token: randomBytes(18).toString('base64url'), createdAt: new Date(now()) };
    let token = fresh.token;
    try {
      await deps.collections.surveyTokens.insertOne(fresh);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      token = (await deps.collections.surveyTokens.findOne({ _id: orderId }))?.token ?? token;
    }
    return `${deps.publicBaseUrl()}/orders/${encodeURIComponent(orderId)}/survey?token=${token}`;
  };

  const notifyCustomer: EffectHandler<NoticeRequest, { queued: boolean }> = async (input, context) => {
    if (!input.to) return { queued: false };
    const links = {
      order: `${deps.publicBaseUrl()}/orders/${encodeURIComponent(input.orderId)}`,
      survey: input.template === 'survey' ? await surveyLink(input.orderId) : null,
      payment: null,
    };
    const notice = renderNotice(input, links);
    await deps.mailer.send({
      id: context.idempotencyKey,
      to: input.to,
      subject: notice.subject,
      text: notice.text,
      template: input.template,
      orderId: input.orderId,
    });
    return { queued: true };
  };

  const issueDocuments: EffectHandler<DocumentsRequest, { invoiceNumber: number; issuedAt: string }> = async (input, context) => {
    const issuedAt = new Date(now());
    const invoice = await issueInvoice(
      deps.collections,
      input.orderId,
      {
        customer: input.customer,
        lines: input.lines,
        pricing: input.pricing,
        receipt: {
          paymentId: input.receipt.paymentId,
          method: input.receipt.method,
          amount: input.receipt.amount,
          paidAt: input.receipt.method === 'cod' ? null : issuedAt,
        },
        delivery: {
          carrier: input.delivery.carrier,
          cityName: input.delivery.cityName,
          warehouseName: input.delivery.warehouseName,
          ...(input.delivery.address ? { address: input.delivery.address } : {}),
        },
      },
      issuedAt,
      deps.personalData,
    );
    await deps.audit.recordChange({
      kind: 'business',
      operation: 'order.documents_issued',
      actor: `order/${input.orderId}`,
      principal: 'hub',
      details: { invoice: invoice.number, total: input.pricing.total, paymentId: input.receipt.paymentId, method: input.receipt.method },
    });
    // the fiscal receipt prints on its own (a sale never waits for a printer); created once whatever reruns
    const register = deps.printing.fiscalRegister();
    // a marketplace that took the money fiscalises it itself
    if (input.receipt.method !== 'cod' && input.receipt.method !== 'marketplace' && register) {
      await context.actors.create(
        receiptModule,
        saleReceiptIdOf(input.orderId),
        orderReceiptInput(input, register, deps.printing.policy, 'sale'),
        {
          key: 'fiscal-receipt',
          ifExists: 'skip',
        },
      );
    }
    // seed 001's "send for printing": the warehouse's packing slip, printed by a job of its own
    const packingPrinter = deps.printing.packingPrinter();
    if (packingPrinter) {
      await context.actors.create(
        printJobModule,
        packingSlipIdOf(input.orderId),
        packingSlipJob(input, packingPrinter, deps.printing.policy),
        {
          key: 'packing-slip',
          ifExists: 'skip',
        },
      );
    }
    if (input.receipt.method !== 'cod' && input.receipt.method !== 'marketplace' && input.customer.email) {
      const notice = renderNotice(
        { orderId: input.orderId, template: 'payment_received', to: input.customer.email, data: { amount: input.receipt.amount } },
        { order: '', survey: null, payment: null },
      );
      await deps.mailer.send({
        id: `${context.idempotencyKey}:receipt`,
        to: input.customer.email,
        subject: notice.subject,
        text: notice.text,
        template: 'payment_received',
        orderId: input.orderId,
        attachments: [{ kind: 'invoice', id: input.orderId, filename: `invoice-${String(invoice.number).padStart(6, '0')}.pdf` }],
      });
    }
    return { invoiceNumber: invoice.number, issuedAt: invoice.issuedAt.toISOString() };
  };

  /**
   * A refunded order's fiscal receipt is returned: a printed one by a return receipt of the same lines; one
   * still waiting for its register is voided (it never reached fiscal memory). One that is printing right
   * now can be neither: the effect fails and is retried, by when it is printed.
   */
  async function returnFiscalReceipt(orderId: string, context: EffectContext): Promise<void> {
    const sale = await context.actors.get(receiptModule, saleReceiptIdOf(orderId));
    if (!sale || sale.state === 'voided') return;
    if (sale.state === 'printed') {
      const c = sale.context;
      await context.actors.create(
        receiptModule,
        returnReceiptIdOf(orderId),
        { ...c, receiptId: returnReceiptIdOf(orderId), kind: 'return', returnOf: sale.id },
        { key: 'fiscal-return', ifExists: 'skip' },
      );
      return;
    }
    const voided = await context.actors.send(
      receiptModule,
      sale.id,
      { type: 'VOID', by: `order/${orderId}`, reason: 'the order was cancelled and refunded before its receipt printed' },
      { key: 'fiscal-void', ifGone: 'skip' },
    );
    if (!voided) throw new Error(`receipt ${sale.id} is printing: its return waits until it is printed`);
  }

  const cancelOrder: EffectHandler<CancelRequest, { refundRequested: boolean }> = async (input, context) => {
    await releaseUnits(context, input.orderId, input.skus);
    if (input.shipmentId) {
      // the parcel is called back (its waybill deleted) unless it has left already
      const called = await context.actors.send(
        shipmentModule,
        input.shipmentId,
        { type: 'CANCEL', reason: input.reason },
        { key: 'shipment', ifGone: 'skip' },
      );
      if (!called) deps.logger.warn('the shipment could not be called back', { orderId: input.orderId });
    }
    let refundRequested = false;
    if (input.refundPaymentId) {
      const refund = { type: 'REFUND', reason: input.reason, requestedBy: `order/${input.orderId}` } as const;
      refundRequested =
        (await context.actors.send(paymentModule, input.refundPaymentId, refund, { key: 'refund', ifGone: 'skip' })) !== null;
      if (!refundRequested) {
        deps.logger.warn('refund not requested: the payment does not accept it', {
          orderId: input.orderId,
          paymentId: input.refundPaymentId,
        });
      }
    }
    if (refundRequested) await returnFiscalReceipt(input.orderId, context);
    if (input.to) {
      const notice = renderNotice(
        { orderId: input.orderId, template: 'order_cancelled', to: input.to, data: { reason: input.reason, refund: refundRequested } },
        { order: '', survey: null, payment: null },
      );
      await deps.mailer.send({
        id: `${context.idempotencyKey}:mail`,
        to: input.to,
        subject: notice.subject,
        text: notice.text,
        template: 'order_cancelled',
        orderId: input.orderId,
      });
    }
    return { refundRequested };
  };

  return bindEffects(orderModule, {
    reserveStock,
    releaseStock,
    commitStock,
    checkDelivery,
    startPayment,
    notifyCustomer,
    issueDocuments,
    cancelOrder,
    requestShipment: requestShipmentEffect(deps),
  });
}
