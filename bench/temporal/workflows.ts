import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from './activities.ts';
import type { OrderInput, OrderView, PaymentReport, StockAnswer, TrackingReport } from './shared.ts';

/**
 * The hub's order flow as Temporal workflows. An order is one workflow; stock and invoice numbers, which the
 * hub keeps in actors of their own (a product actor per SKU, a gapless counter), are entity workflows here, so
 * that everything either system needs to survive a crash lives in its one database. External steps are
 * Workflow Updates: their answer comes once the step is in the history, as the hub answers once it committed.
 */

type Activities = ReturnType<typeof createActivities>;

const { reserveStock, releaseStock, commitStock, checkDelivery, createPayment, paymentStatus, issueInvoice, quoteShipment, createWaybill } =
  proxyActivities<Activities>({
    // the sandboxes answer in milliseconds; a call that hangs is retried (Temporal's default policy, unbounded)
    startToCloseTimeout: '10 seconds',
  });

export const viewQuery = defineQuery<OrderView>('view');
export const paymentUpdate = defineUpdate<{ state: OrderView['state'] }, [PaymentReport]>('payment');
export const trackedUpdate = defineUpdate<{ state: OrderView['state'] }, [TrackingReport]>('tracked');

export async function orderWorkflow(input: OrderInput): Promise<OrderView> {
  const view: OrderView = {
    id: input.orderId,
    state: 'reservingStock',
    paymentUrl: null,
    invoiceId: null,
    invoice: null,
    waybill: null,
    errors: [],
  };
  let paid: 'no' | 'succeeded' | 'failed' = 'no';
  let delivered = false;
  setHandler(viewQuery, () => view);

  setHandler(
    paymentUpdate,
    (report) => {
      if (report.status === 'success') paid = 'succeeded';
      else if (report.status === 'failure' || report.status === 'expired') paid = 'failed';
      return { state: view.state };
    },
    {
      // a webhook of another invoice, or one that arrives before ours is known, is refused (not written to the history)
      validator: (report) => {
        if (report.invoiceId !== view.invoiceId) throw new Error(`invoice ${report.invoiceId} is not this order's`);
      },
    },
  );
  setHandler(
    trackedUpdate,
    (report) => {
      if (report.stage === 'delivered') {
        delivered = true;
        view.state = 'delivered';
      }
      return { state: view.state };
    },
    {
      validator: (report) => {
        if (view.waybill === null || report.number !== view.waybill.number)
          throw new Error(`waybill ${report.number} is not this order's (${view.waybill?.number ?? 'none yet'})`);
      },
    },
  );

  const stock = await reserveStock({ orderId: input.orderId, items: input.items });
  if (!stock.ok) {
    view.state = 'rejected';
    view.errors.push(stock.reason);
    return view;
  }

  view.state = 'checkingDelivery';
  const coverage = await checkDelivery(input.delivery);
  if (!coverage.ok) {
    await releaseStock({ orderId: input.orderId, skus: input.items.map((item) => item.sku) });
    view.state = 'rejected';
    view.errors.push(coverage.reason);
    return view;
  }

  view.state = 'paying';
  const payment = await createPayment(input);
  view.invoiceId = payment.invoiceId;
  view.paymentUrl = payment.pageUrl;
  // the webhook, or (when it was lost: the engine was down while Monobank tried) the status asked at Monobank
  while (paid === 'no') {
    if (await condition(() => paid !== 'no', `${input.paymentPollSeconds} seconds`)) break;
    const status = await paymentStatus(payment.invoiceId);
    if (status.status === 'success') paid = 'succeeded';
    else if (status.status === 'failure' || status.status === 'expired') paid = 'failed';
  }
  view.paymentUrl = null;
  if (paid === 'failed') {
    await releaseStock({ orderId: input.orderId, skus: input.items.map((item) => item.sku) });
    view.state = 'blocked';
    return view;
  }

  view.state = 'issuingDocuments';
  view.invoice = await issueInvoice(input.orderId);

  view.state = 'creatingWaybill';
  // a price we could not learn does not stop the parcel (as in the hub's shipment)
  const quote = await quoteShipment(input).catch(() => null);
  view.waybill = await createWaybill({ order: input, quote });
  view.state = 'awaitingPickup';

  await condition(() => delivered);
  await commitStock({ orderId: input.orderId, skus: input.items.map((item) => item.sku) });
  // every update answered before the run ends (an update left unanswered would be failed by the server)
  await condition(allHandlersFinished);
  return view;
}

/* ---------- stock: one workflow per SKU, as the hub has one product actor per SKU ---------- */

export interface ProductState {
  sku: string;
  stock: number;
  sold: number;
  /** units held, by order: a repeated reservation of an order finds its own and changes nothing */
  reserved: Record<string, number>;
}

export const reserveUpdate = defineUpdate<StockAnswer, [{ orderId: string; qty: number }]>('reserve');
export const commitUpdate = defineUpdate<{ committed: number }, [{ orderId: string }]>('commit');
export const releaseUpdate = defineUpdate<{ released: number }, [{ orderId: string }]>('release');

/** Histories stay short: the product carries its state into a new run past this many events. */
const ENTITY_HISTORY_LIMIT = 4000;

export async function productWorkflow(state: ProductState): Promise<void> {
  const held = () => Object.values(state.reserved).reduce((sum, qty) => sum + qty, 0);
  setHandler(reserveUpdate, ({ orderId, qty }) => {
    if (state.reserved[orderId] !== undefined) return { ok: true };
    if (state.stock - state.sold - held() < qty) return { ok: false, reason: `out_of_stock: ${state.sku}` };
    state.reserved[orderId] = qty;
    return { ok: true };
  });
  setHandler(commitUpdate, ({ orderId }) => {
    const qty = state.reserved[orderId] ?? 0;
    delete state.reserved[orderId];
    state.sold += qty;
    return { committed: qty };
  });
  setHandler(releaseUpdate, ({ orderId }) => {
    const qty = state.reserved[orderId] ?? 0;
    delete state.reserved[orderId];
    return { released: qty };
  });
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > ENTITY_HISTORY_LIMIT);
  await condition(allHandlersFinished);
  await continueAsNew<typeof productWorkflow>(state);
}

/* ---------- invoice numbers: gapless, one counter, as the hub's invoice_numbers ---------- */

export interface InvoiceNumbersState {
  next: number;
  /** numbers given, by order: asking again for an order answers its number (kept for the bench's few thousand orders) */
  issued: Record<string, number>;
}

export const nextInvoiceUpdate = defineUpdate<{ number: number }, [{ orderId: string }]>('nextInvoice');

export async function invoiceNumbersWorkflow(state: InvoiceNumbersState): Promise<void> {
  setHandler(nextInvoiceUpdate, ({ orderId }) => {
    const known = state.issued[orderId];
    if (known !== undefined) return { number: known };
    const number = state.next;
    state.next += 1;
    state.issued[orderId] = number;
    return { number };
  });
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > ENTITY_HISTORY_LIMIT);
  await condition(allHandlersFinished);
  await continueAsNew<typeof invoiceNumbersWorkflow>(state);
}
