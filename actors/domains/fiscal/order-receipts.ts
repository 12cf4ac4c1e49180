import type { FiscalPolicy } from '../../../common/fiscal-policy.ts';
import { paymentBasket, type DocumentsRequest } from '../../../machines/order.ts';
import type { ReceiptInput } from '../../../machines/receipt.ts';
import type { PrintJobInput } from '../../../machines/print-job.ts';

/**
 * The fiscal receipts of an order paid online: the sale once the payment is
 * in (card: the money came through the acquirer), and its return when a
 * cancelled order's payment is refunded. One id each, derived from the
 * order, so that creating them again after a crash changes nothing.
 * Orders paid on delivery get no receipt here: the carrier collects and
 * fiscalises that money.
 */

export const saleReceiptIdOf = (orderId: string) => `R-O-${orderId}`.slice(0, 120);
export const returnReceiptIdOf = (orderId: string) => `R-O-${orderId}-return`.slice(0, 128);

export function orderReceiptInput(
  order: Pick<DocumentsRequest, 'orderId' | 'lines' | 'pricing'>,
  register: string,
  policy: FiscalPolicy,
  kind: 'sale' | 'return',
): ReceiptInput {
  // the lines the customer paid for, adding up to the amount (delivery, fees, VAT on top are lines too)
  const items = paymentBasket({ lines: order.lines, pricing: order.pricing }).map((line) => ({
    name: line.name,
    qty: line.qty,
    price: line.price,
    taxGroup: 1,
    department: 1,
  }));
  return {
    receiptId: kind === 'sale' ? saleReceiptIdOf(order.orderId) : returnReceiptIdOf(order.orderId),
    register,
    kind,
    items,
    payments: { cash: 0, card: order.pricing.total },
    cashier: 'інтернет-магазин',
    source: { type: 'order', id: order.orderId },
    returnOf: kind === 'return' ? saleReceiptIdOf(order.orderId) : null,
    autoZReport: policy.autoZReport,
    retryDelayMs: policy.retryDelayMs,
    maxRetryDelayMs: policy.maxRetryDelayMs,
    alertAfterMs: policy.alertAfterMs,
  };
}

export const packingSlipIdOf = (orderId: string) => `P-O-${orderId}-packing`.slice(0, 128);

/** The warehouse's packing slip of a confirmed order: what to pack and where it goes. */
export function packingSlipJob(
  order: Pick<DocumentsRequest, 'orderId' | 'lines' | 'delivery' | 'customer'>,
  printer: string,
  policy: FiscalPolicy,
): PrintJobInput {
  const delivery = order.delivery;
  const to = [delivery.cityName, delivery.warehouseName, delivery.address ? `${delivery.address.street}, ${delivery.address.house}` : null]
    .filter((part): part is string => typeof part === 'string' && part.length > 0)
    .join(', ');
  return {
    jobId: packingSlipIdOf(order.orderId),
    printer,
    slip: {
      shop: { name: 'Пакувальний лист' },
      title: `Замовлення ${order.orderId}`,
      lines: order.lines.map((line) => ({ name: `${line.sku} ${line.name}`, qty: line.qty, price: line.unitPrice })),
      footer: [`Отримувач: ${order.customer.name}`, `Доставка: ${delivery.carrier}`, ...(to ? [to.slice(0, 64)] : [])],
    },
    source: { type: 'order', id: order.orderId },
    retryDelayMs: policy.retryDelayMs,
    maxRetryDelayMs: policy.maxRetryDelayMs,
    alertAfterMs: policy.alertAfterMs,
  };
}
