import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { invoiceCreatedSchema, invoiceStatusSchema, MONOBANK_PATHS, UAH } from '../../actors/platform/connectors/monobank/protocol.ts';
import { NOVAPOSHTA_PATH, npDate } from '../../actors/platform/connectors/novaposhta/protocol.ts';
import { shipmentCodeOf } from '../../common/shipment-code.ts';
import type { OrderInput, OrderLine, PaymentCreated, PaymentReport, Quote, StockAnswer, Waybill } from './shared.ts';
import { commitUpdate, nextInvoiceUpdate, releaseUpdate, reserveUpdate } from './workflows.ts';

/**
 * The order workflow's activities: the same calls at the same sandboxes as the hub's effects (Monobank's
 * invoice/create and status, Nova Poshta's getDocumentPrice, getDocumentDeliveryDate, getDocumentList and
 * save), and the stock and invoice-number steps as Updates of their entity workflows. Every step that
 * changes something can be repeated (Temporal retries an activity whose answer it did not record): updates
 * are keyed by order, and a waybill is looked up by our code before another is saved, as the hub does.
 */

export interface ActivityDeps {
  client: Client;
  monobank: { baseUrl: string; token: string };
  novaposhta: {
    baseUrl: string;
    apiKey: string;
    sender: { cityRef: string; ref: string; addressRef: string; contactRef: string; phone: string };
  };
  /** Nova Poshta's directory, read once at start (the hub's is synced into its database) */
  directory: Directory;
}

export interface Directory {
  cities: Map<string, { name: string; area: string }>;
  warehouses: Map<string, { cityRef: string; number: string; name: string; working: boolean }>;
}

export const productWorkflowId = (sku: string) => `product-${sku}`;
export const INVOICE_NUMBERS_WORKFLOW_ID = 'invoice-numbers';

const npAnswerSchema = z.object({
  success: z.boolean(),
  data: z.array(z.record(z.string(), z.unknown())),
  errors: z.array(z.string()).default([]),
  errorCodes: z.array(z.string()).default([]),
});
const npSavedSchema = z.looseObject({ Ref: z.string().min(1), IntDocNumber: z.string().regex(/^\d{14}$/) });
const npListedSchema = z.looseObject({
  Ref: z.string(),
  IntDocNumber: z.string(),
  InfoRegClientBarcodes: z.string().optional(),
  StateId: z.unknown(),
});
const npPriceSchema = z.looseObject({ Cost: z.coerce.number() });
const npDateSchema = z.looseObject({ DeliveryDate: z.union([z.string(), z.looseObject({ date: z.string() })]) });
const npCitySchema = z.looseObject({ Ref: z.string(), Description: z.string(), AreaDescription: z.string().optional() });
const npWarehouseSchema = z.looseObject({
  Ref: z.string(),
  CityRef: z.string(),
  Number: z.string(),
  Description: z.string(),
  WarehouseStatus: z.string().optional(),
});

/** Nova Poshta's status code of a deleted waybill: not one to reuse */
const DELETED_STATE = '2';

export async function novaPoshtaCall(
  np: ActivityDeps['novaposhta'],
  modelName: string,
  calledMethod: string,
  methodProperties: Record<string, unknown>,
): Promise<Array<Record<string, unknown>>> {
  const response = await fetch(`${np.baseUrl}${NOVAPOSHTA_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiKey: np.apiKey, modelName, calledMethod, methodProperties }),
    signal: AbortSignal.timeout(8000),
  });
  if (!response.ok) throw new Error(`Nova Poshta ${calledMethod} answered HTTP ${response.status}`);
  const answer = npAnswerSchema.parse(await response.json());
  if (!answer.success) {
    const message = `Nova Poshta ${calledMethod}: ${answer.errors.join('; ')} (${answer.errorCodes.join(', ')})`;
    // NP's "service unavailable" is worth another try; a validation error is not
    if (answer.errorCodes.includes('20000100016')) throw new Error(message);
    throw ApplicationFailure.nonRetryable(message);
  }
  return answer.data;
}

/** Nova Poshta's cities and branches, every page (the sandbox has a handful). */
export async function loadDirectory(np: ActivityDeps['novaposhta']): Promise<Directory> {
  const directory: Directory = { cities: new Map(), warehouses: new Map() };
  for (let page = 1; ; page += 1) {
    const rows = z.array(npCitySchema).parse(await novaPoshtaCall(np, 'Address', 'getCities', { Page: page, Limit: 500 }));
    for (const c of rows) directory.cities.set(c.Ref, { name: c.Description, area: c.AreaDescription ?? '' });
    if (rows.length < 500) break;
  }
  for (let page = 1; ; page += 1) {
    const rows = z.array(npWarehouseSchema).parse(await novaPoshtaCall(np, 'Address', 'getWarehouses', { Page: page, Limit: 500 }));
    for (const w of rows)
      directory.warehouses.set(w.Ref, {
        cityRef: w.CityRef,
        number: w.Number,
        name: w.Description,
        working: w.WarehouseStatus !== 'NotWorking',
      });
    if (rows.length < 500) break;
  }
  return directory;
}

export function createActivities(deps: ActivityDeps) {
  const { client, monobank, novaposhta: np, directory } = deps;
  const product = (sku: string) => client.workflow.getHandle(productWorkflowId(sku));

  const monobankCall = async (path: string, init: { method: 'GET' | 'POST'; body?: unknown }) => {
    const response = await fetch(`${monobank.baseUrl}${path}`, {
      method: init.method,
      headers: { 'x-token': monobank.token, 'content-type': 'application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(8000),
    });
    const body: unknown = await response.json();
    if (!response.ok) {
      const message = `Monobank ${path} answered ${response.status}: ${JSON.stringify(body)}`;
      if (response.status >= 500 || response.status === 429) throw new Error(message);
      throw ApplicationFailure.nonRetryable(message);
    }
    return body;
  };

  return {
    async reserveStock(input: { orderId: string; items: OrderLine[] }): Promise<StockAnswer> {
      const done: string[] = [];
      for (const item of input.items) {
        const answer = await product(item.sku).executeUpdate(reserveUpdate, {
          args: [{ orderId: input.orderId, qty: item.qty }],
          updateId: `${input.orderId}:reserve`,
        });
        if (!answer.ok) {
          // all or nothing, as the hub's reservation
          for (const sku of done)
            await product(sku).executeUpdate(releaseUpdate, { args: [{ orderId: input.orderId }], updateId: `${input.orderId}:release` });
          return answer;
        }
        done.push(item.sku);
      }
      return { ok: true };
    },

    async releaseStock(input: { orderId: string; skus: string[] }): Promise<void> {
      for (const sku of input.skus)
        await product(sku).executeUpdate(releaseUpdate, { args: [{ orderId: input.orderId }], updateId: `${input.orderId}:release` });
    },

    async commitStock(input: { orderId: string; skus: string[] }): Promise<void> {
      for (const sku of input.skus)
        await product(sku).executeUpdate(commitUpdate, { args: [{ orderId: input.orderId }], updateId: `${input.orderId}:commit` });
    },

    /** The destination against the directory, as the hub's checkDelivery reads its synced copy. */
    async checkDelivery(delivery: OrderInput['delivery']): Promise<{ ok: true } | { ok: false; reason: string }> {
      const city = directory.cities.get(delivery.cityRef);
      if (!city) return { ok: false, reason: 'invalid_city' };
      const branch = directory.warehouses.get(delivery.warehouseRef);
      if (!branch || branch.cityRef !== delivery.cityRef) return { ok: false, reason: 'invalid_warehouse' };
      return branch.working ? { ok: true } : { ok: false, reason: 'carrier_not_delivering' };
    },

    /** invoice/create with the same fields as the hub's Monobank gateway (reference, basket, webhook, validity). */
    async createPayment(order: OrderInput): Promise<PaymentCreated> {
      const created = invoiceCreatedSchema.parse(
        await monobankCall(MONOBANK_PATHS.create, {
          method: 'POST',
          body: {
            amount: order.total,
            ccy: UAH,
            merchantPaymInfo: {
              reference: order.orderId,
              destination: `Замовлення ${order.orderId}`,
              ...(order.customer.email ? { customerEmails: [order.customer.email] } : {}),
              basketOrder: order.items.map((line) => ({
                name: line.name,
                qty: line.qty,
                sum: line.unitPrice,
                code: line.sku,
                total: line.qty * line.unitPrice,
              })),
            },
            webHookUrl: order.webhookUrl,
            validity: 24 * 3600,
            paymentType: 'debit',
          },
        }),
      );
      return { invoiceId: created.invoiceId, pageUrl: created.pageUrl };
    },

    async paymentStatus(invoiceId: string): Promise<PaymentReport> {
      const status = invoiceStatusSchema.parse(
        await monobankCall(`${MONOBANK_PATHS.status}?invoiceId=${encodeURIComponent(invoiceId)}`, { method: 'GET' }),
      );
      return { invoiceId: status.invoiceId, status: status.status };
    },

    async issueInvoice(orderId: string): Promise<{ number: number; issuedAt: string }> {
      const { number } = await client.workflow
        .getHandle(INVOICE_NUMBERS_WORKFLOW_ID)
        .executeUpdate(nextInvoiceUpdate, { args: [{ orderId }], updateId: `${orderId}:invoice` });
      return { number, issuedAt: new Date().toISOString() };
    },

    /** getDocumentPrice and getDocumentDeliveryDate, as the hub's quote. */
    async quoteShipment(order: OrderInput): Promise<Quote> {
      const common = { CitySender: np.sender.cityRef, CityRecipient: order.delivery.cityRef, ServiceType: 'WarehouseWarehouse' };
      const [price] = z
        .array(npPriceSchema)
        .min(1)
        .parse(
          await novaPoshtaCall(np, 'InternetDocument', 'getDocumentPrice', {
            ...common,
            Weight: 1,
            Cost: Math.max(1, Math.ceil(order.total / 100)),
            CargoType: 'Parcel',
            SeatsAmount: 1,
          }),
        );
      const [date] = z.array(npDateSchema).parse(await novaPoshtaCall(np, 'InternetDocument', 'getDocumentDeliveryDate', common));
      const delivery = date?.DeliveryDate;
      return {
        cost: Math.round((price?.Cost ?? 0) * 100),
        estimatedDelivery: typeof delivery === 'string' ? delivery : (delivery?.date ?? null),
      };
    },

    /** Looked up by our code first: an earlier attempt may have saved it and lost the answer (exactly one waybill). */
    async createWaybill(input: { order: OrderInput; quote: Quote | null }): Promise<Waybill> {
      const { order } = input;
      // the hub's code for the same id: short, and of the characters NP accepts
      const ourCode = shipmentCodeOf(order.orderId);
      const today = new Date();
      const since = new Date(today.getTime() - 24 * 3600 * 1000);
      const listed = z
        .array(npListedSchema)
        .parse(
          await novaPoshtaCall(np, 'InternetDocument', 'getDocumentList', {
            DateTimeFrom: npDate(since),
            DateTimeTo: npDate(today),
            GetFullList: '1',
          }),
        )
        .find((doc) => doc.InfoRegClientBarcodes === ourCode && String(doc.StateId ?? '') !== DELETED_STATE);
      if (listed) return { number: listed.IntDocNumber, ref: listed.Ref, recovered: true };

      const city = directory.cities.get(order.delivery.cityRef);
      const branch = directory.warehouses.get(order.delivery.warehouseRef);
      if (!city || !branch) throw ApplicationFailure.nonRetryable('the destination is not in the directory');
      const [saved] = z
        .array(npSavedSchema)
        .min(1)
        .parse(
          await novaPoshtaCall(np, 'InternetDocument', 'save', {
            PayerType: 'Recipient',
            PaymentMethod: 'Cash',
            DateTime: npDate(today),
            CargoType: 'Parcel',
            Weight: 1,
            ServiceType: 'WarehouseWarehouse',
            SeatsAmount: 1,
            Description: order.items
              .map((line) => line.name)
              .join(', ')
              .slice(0, 100),
            Cost: Math.max(1, Math.ceil(order.total / 100)),
            CitySender: np.sender.cityRef,
            Sender: np.sender.ref,
            SenderAddress: np.sender.addressRef,
            ContactSender: np.sender.contactRef,
            SendersPhone: np.sender.phone,
            CityRecipient: order.delivery.cityRef,
            RecipientAddress: order.delivery.warehouseRef,
            RecipientsPhone: order.customer.phone.replace(/^\+/, ''),
            NewAddress: '1',
            RecipientCityName: city.name,
            RecipientArea: city.area,
            RecipientAreaRegions: '',
            RecipientAddressName: branch.number,
            RecipientHouse: '',
            RecipientFlat: '',
            RecipientName: order.customer.name,
            RecipientType: 'PrivatePerson',
            VolumeGeneral: 0.001,
            InfoRegClientBarcodes: ourCode,
          }),
        );
      if (!saved) throw new Error('Nova Poshta saved no waybill');
      return { number: saved.IntDocNumber, ref: saved.Ref, recovered: false };
    },
  };
}
