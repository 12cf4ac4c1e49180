import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { constantTimeEqual } from '../../../../common/security.ts';
import { startSandboxServer, type SandboxOptions, type SandboxRequest, type SandboxResponse, type SandboxServer } from '../kit/sandbox.ts';
import { sandboxRateLimit, type SandboxRateLimit } from '../kit/sandbox-rate-limit.ts';
import {
  cardsListRequestSchema,
  createSupplyRequestSchema,
  orderStatusesRequestSchema,
  priceUploadRequestSchema,
  RUB_NUMERIC_CODE,
  stocksReadRequestSchema,
  supplyOrdersRequestSchema,
  WB_BATCH,
  WB_CANCELLED_STATUSES,
  WB_ERROR_CODES,
  WB_FBS_DELIVERY_TYPE,
  WB_MAX_STOCK_AMOUNT,
  WB_PATHS,
  WB_PRICE_ERRORS,
  WB_RATE_LIMITS,
  WB_RETRY_HEADER,
  type WbCard,
  type WbPriceErrorCode,
  type WbRateCategory,
  type WbStatus,
  type WbSupplierStatus,
  type WbWarehouse,
} from './protocol.ts';

/**
 * The Wildberries sandbox: one seller with two FBS warehouses, a few product
 * cards (sizes with chrtIds and barcodes), assembly tasks (one unit each),
 * supplies, stock per warehouse and size, prices per nmID. It serves the
 * marketplace, prices and content paths on one server and is as strict as
 * WB: the raw token in `Authorization`, the documented batch maxima, status
 * rules of orders and supplies, each API's own error shape and rate limits
 * per category (429 with `X-Ratelimit-Retry`, and `Retry-After` for the kit).
 */

export const WILDBERRIES_SANDBOX_CREDENTIALS = { token: 'wb-sandbox-token-5f3c1a7e9b2d4c6e8f0a1b3c5d7e9f1a' };

export interface WbSandboxOrder {
  id: number;
  rid: string;
  orderUid: string;
  createdAt: string;
  warehouseId: number;
  officeId: number;
  nmId: number;
  chrtId: number;
  article: string;
  skus: string[];
  price: number;
  convertedPrice: number;
  salePrice: number;
  currencyCode: number;
  convertedCurrencyCode: number;
  cargoType: number;
  deliveryType: 'fbs';
  comment: string;
  offices: string[];
  isZeroOrder: boolean;
  supplierStatus: WbSupplierStatus;
  wbStatus: WbStatus;
  supplyId: string | null;
}

export interface WbSandboxSupply {
  id: string;
  name: string;
  done: boolean;
  createdAt: string;
  closedAt: string | null;
  scanDt: string | null;
  cargoType: number;
  destinationOfficeId: number | null;
  /** the warehouse of its first order (WB refuses orders of another warehouse) */
  warehouseId: number | null;
  /** the list's paging key */
  seq: number;
}

export interface WbSandboxProductInput {
  nmId?: number;
  vendorCode?: string;
  title?: string;
  /** one size per barcode unless sizes are given */
  barcode?: string;
  sizes?: Array<{ chrtId?: number; techSize?: string; barcodes: string[] }>;
  /** whole roubles */
  price?: number;
  discount?: number;
}

export interface WbSandboxOrderInput {
  /** the product's barcode, how many units and the price of one (kopecks); WB makes one task per unit */
  lines: Array<{ barcode: string; qty: number; price: number }>;
  warehouseId?: number;
  createdAt?: string;
}

export interface WildberriesSandbox extends SandboxServer {
  addProduct(input?: WbSandboxProductInput): WbCard;
  /** one unit of one product: a WB assembly task */
  addOrder(input: WbSandboxOrderInput): WbSandboxOrder;
  /** a cart: one assembly task per unit, sharing `orderUid` */
  addCart(input: WbSandboxOrderInput): WbSandboxOrder[];
  /** the buyer cancels: `declined_by_client` while new, `canceled_by_client` later */
  cancelByBuyer(orderId: number): WbSandboxOrder;
  /** WB's own progress of an order (sorted, sold, …) */
  setWbStatus(orderId: number, status: WbStatus): WbSandboxOrder;
  order(orderId: number): WbSandboxOrder | null;
  orders(): WbSandboxOrder[];
  supplies(): WbSandboxSupply[];
  /** units of a barcode's size at a warehouse (null: never set) */
  stockOf(barcode: string, warehouseId: number): number | null;
  /** the price (whole roubles) and discount of a card */
  priceOf(nmId: number): { price: number; discount: number } | null;
  warehouses(): WbWarehouse[];
  /** the limit of every category at once (tests tighten it); null lifts it */
  setRateLimit(limit: { limit: number; windowMs: number } | null): void;
}

interface SandboxSize {
  chrtID: number;
  techSize: string;
  wbSize: string;
  skus: string[];
}
interface SandboxCard {
  nmID: number;
  imtID: number;
  vendorCode: string;
  title: string;
  subjectName: string;
  brand: string;
  sizes: SandboxSize[];
  createdAt: string;
  updatedAt: string;
}

const SEED_WAREHOUSES: WbWarehouse[] = [
  { id: 507001, name: 'Склад продавца Подольск', officeId: 15, cargoType: 1, deliveryType: WB_FBS_DELIVERY_TYPE },
  { id: 507002, name: 'Склад продавца Казань', officeId: 117986, cargoType: 1, deliveryType: WB_FBS_DELIVERY_TYPE },
];
const OFFICE_NAMES: Record<number, string> = { 15: 'Коледино', 117986: 'Казань' };

const marketplaceError = (status: number, code: string, message: string): SandboxResponse => ({ status, json: { code, message } });
const flagError = (status: number, code: WbPriceErrorCode): SandboxResponse => ({
  status,
  json: { data: null, error: true, errorText: WB_PRICE_ERRORS[code] },
});
const contentError = (status: number, errorText: string): SandboxResponse => ({
  status,
  json: { data: null, error: true, errorText, additionalErrors: null },
});
const gatewayError = (status: number, title: string, detail: string, statusText: string): SandboxResponse => ({
  status,
  json: {
    title,
    detail,
    code: `${randomBytes(4).toString('hex')}-${randomBytes(6).toString('hex')}`,
    requestId: randomBytes(16).toString('hex'),
    origin: 's2s-api-auth-sandbox',
    status,
    statusText,
    timestamp: new Date().toISOString().slice(0, 19) + 'Z',
  },
});

/** Which category a path belongs to (each has its own limit). */
function categoryOf(method: string, path: string): WbRateCategory {
  if (path.startsWith('/api/v2/')) return 'prices';
  if (path.startsWith('/content/')) return 'content';
  if (method === 'PATCH' && /^\/api\/v3\/orders\/[^/]+\/cancel$/.test(path)) return 'cancel';
  return 'marketplace';
}

const positiveInt = (value: string | undefined | null): number | null => {
  if (value === undefined || value === null || !/^\d{1,15}$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
};

export async function startWildberriesSandbox(
  options: SandboxOptions = {},
  credentials = WILDBERRIES_SANDBOX_CREDENTIALS,
): Promise<WildberriesSandbox> {
  let cards: SandboxCard[] = [];
  let prices = new Map<number, { price: number; discount: number }>();
  let stocks = new Map<string, number>();
  let orders: WbSandboxOrder[] = [];
  let supplies: WbSandboxSupply[] = [];
  let uploads = 0;
  let nextNm = 0;
  let nextChrt = 0;
  let nextOrder = 0;
  let nextSupply = 0;
  let clock = 0;
  const limits: Record<WbRateCategory, SandboxRateLimit> = {
    marketplace: sandboxRateLimit({ limit: WB_RATE_LIMITS.marketplace.limit, windowMs: WB_RATE_LIMITS.marketplace.windowMs }),
    cancel: sandboxRateLimit({ limit: WB_RATE_LIMITS.cancel.limit, windowMs: WB_RATE_LIMITS.cancel.windowMs }),
    prices: sandboxRateLimit({ limit: WB_RATE_LIMITS.prices.limit, windowMs: WB_RATE_LIMITS.prices.windowMs }),
    content: sandboxRateLimit({ limit: WB_RATE_LIMITS.content.limit, windowMs: WB_RATE_LIMITS.content.windowMs }),
  };

  /** a strictly later time for each change, so the content cursor has a total order */
  const tick = () => new Date(Date.now() + (clock += 1)).toISOString();
  const stockKey = (warehouseId: number, chrtId: number) => `${warehouseId}:${chrtId}`;
  const sizeOfBarcode = (barcode: string) => {
    for (const card of cards) for (const size of card.sizes) if (size.skus.includes(barcode)) return { card, size };
    return null;
  };
  const cardOfChrt = (chrtId: number) => cards.find((card) => card.sizes.some((size) => size.chrtID === chrtId)) ?? null;

  const publicCard = (card: SandboxCard): WbCard => ({
    ...card,
    sizes: card.sizes.map((size) => ({ ...size, skus: [...size.skus] })),
  });

  const addProduct = (input: WbSandboxProductInput = {}): WbCard => {
    const nmID = input.nmId ?? (nextNm = Math.max(nextNm, ...cards.map((c) => c.nmID)) + 1);
    if (cards.some((card) => card.nmID === nmID)) throw new Error(`nmId ${nmID} exists`);
    const sizes = (input.sizes ?? [{ barcodes: [input.barcode ?? `46000000${String(nmID).slice(-5).padStart(5, '0')}`] }]).map(
      (size, index): SandboxSize => ({
        chrtID: size.chrtId ?? (nextChrt = Math.max(nextChrt, ...cards.flatMap((c) => c.sizes.map((z) => z.chrtID))) + 1),
        techSize: size.techSize ?? (index === 0 && (input.sizes?.length ?? 1) === 1 ? '0' : String(42 + index * 2)),
        wbSize: '',
        skus: [...size.barcodes],
      }),
    );
    for (const size of sizes) for (const barcode of size.skus) if (sizeOfBarcode(barcode)) throw new Error(`barcode ${barcode} exists`);
    const at = tick();
    const card: SandboxCard = {
      nmID,
      imtID: nmID + 100_000_000,
      vendorCode: input.vendorCode ?? `SKU-${nmID}`,
      title: input.title ?? `Товар ${nmID}`,
      subjectName: 'Футболки',
      brand: 'Sandbox',
      sizes,
      createdAt: at,
      updatedAt: at,
    };
    cards.push(card);
    prices.set(nmID, { price: input.price ?? 1000, discount: input.discount ?? 0 });
    return publicCard(card);
  };

  const makeOrder = (barcode: string, price: number, warehouseId: number, orderUid: string, createdAt?: string): WbSandboxOrder => {
    const found = sizeOfBarcode(barcode);
    if (!found) throw new Error(`no product with barcode ${barcode}`);
    if (!SEED_WAREHOUSES.some((w) => w.id === warehouseId)) throw new Error(`no warehouse ${warehouseId}`);
    if (!Number.isInteger(price) || price <= 0) throw new Error('price: positive kopecks');
    const id = (nextOrder += 1);
    const officeId = SEED_WAREHOUSES.find((w) => w.id === warehouseId)?.officeId ?? 15;
    return {
      id,
      rid: randomBytes(16).toString('hex'),
      orderUid,
      createdAt: createdAt ?? new Date(Date.now() + (clock += 1)).toISOString().slice(0, 19) + 'Z',
      warehouseId,
      officeId,
      nmId: found.card.nmID,
      chrtId: found.size.chrtID,
      article: found.card.vendorCode,
      skus: [...found.size.skus],
      price,
      convertedPrice: price,
      salePrice: price,
      currencyCode: RUB_NUMERIC_CODE,
      convertedCurrencyCode: RUB_NUMERIC_CODE,
      cargoType: 1,
      deliveryType: 'fbs',
      comment: '',
      offices: [OFFICE_NAMES[officeId] ?? 'Коледино'],
      isZeroOrder: false,
      supplierStatus: 'new',
      wbStatus: 'waiting',
      supplyId: null,
    };
  };

  const addCart = (input: WbSandboxOrderInput): WbSandboxOrder[] => {
    const orderUid = `${Math.floor(Math.random() * 1e9)}_${randomBytes(16).toString('hex')}`;
    const warehouseId = input.warehouseId ?? SEED_WAREHOUSES[0]?.id ?? 0;
    const made: WbSandboxOrder[] = [];
    for (const line of input.lines) {
      if (!Number.isInteger(line.qty) || line.qty < 1) throw new Error('qty: a positive integer');
      for (let unit = 0; unit < line.qty; unit += 1) made.push(makeOrder(line.barcode, line.price, warehouseId, orderUid, input.createdAt));
    }
    if (made.length === 0) throw new Error('an order needs a line');
    orders.push(...made);
    return made;
  };

  const seed = () => {
    cards = [];
    prices = new Map();
    stocks = new Map();
    orders = [];
    supplies = [];
    uploads = 0;
    nextNm = 246_810_000;
    nextChrt = 389_100_000;
    nextOrder = 3_120_000_000;
    nextSupply = 4_500_000;
    addProduct({
      nmId: 246810101,
      vendorCode: 'TSHIRT-WHITE',
      title: 'Футболка белая',
      price: 1490,
      discount: 10,
      sizes: [
        { chrtId: 389100101, techSize: 'M', barcodes: ['4601234500011'] },
        { chrtId: 389100102, techSize: 'L', barcodes: ['4601234500028'] },
      ],
    });
    addProduct({
      nmId: 246810202,
      vendorCode: 'MUG-350',
      title: 'Кружка 350 мл',
      price: 590,
      sizes: [{ chrtId: 389100201, barcodes: ['4601234500035'] }],
    });
    addProduct({
      nmId: 246810303,
      vendorCode: 'CAP-BLACK',
      title: 'Кепка чёрная',
      price: 990,
      sizes: [{ chrtId: 389100301, barcodes: ['4601234500042'] }],
    });
    addCart({ lines: [{ barcode: '4601234500011', qty: 1, price: 134_100 }] });
    addCart({ lines: [{ barcode: '4601234500035', qty: 1, price: 59_000 }], warehouseId: 507002 });
  };
  seed();

  const findOrder = (id: number | null) => (id === null ? undefined : orders.find((o) => o.id === id));
  const isCancelled = (o: WbSandboxOrder) => o.supplierStatus === 'cancel' || WB_CANCELLED_STATUSES.has(o.wbStatus);

  const authorise = (request: SandboxRequest): SandboxResponse | null => {
    const header = request.header('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : header;
    if (!header) return gatewayError(401, 'unauthorized', 'empty Authorization header', 'Unauthorized');
    if (!constantTimeEqual(token, credentials.token)) {
      return gatewayError(401, 'unauthorized', 'token problem; token is malformed: could not base64 decode signature', 'Unauthorized');
    }
    return null;
  };

  /** Auth first (WB's gateway), then the category's limit; a refusal or null. */
  const gate = (request: SandboxRequest): SandboxResponse | null => {
    const refused = authorise(request);
    if (refused) return refused;
    const wait = limits[categoryOf(request.method, request.path)].take(credentials.token + categoryOf(request.method, request.path));
    if (wait === null) return null;
    return {
      ...gatewayError(429, 'too many requests', `limited by ${randomBytes(8).toString('hex')}`, 'Too Many Requests'),
      headers: { [WB_RETRY_HEADER]: String(wait), 'retry-after': String(wait), 'x-ratelimit-limit': '0', 'x-ratelimit-remaining': '0' },
    };
  };

  /** A JSON body, or a 400 in the category's own shape. */
  const bodyOf = (
    request: SandboxRequest,
    refuse: () => SandboxResponse,
  ): { ok: true; body: unknown } | { ok: false; response: SandboxResponse } => {
    try {
      return { ok: true, body: JSON.parse(request.text()) as unknown };
    } catch {
      return { ok: false, response: refuse() };
    }
  };
  const badBody = () => marketplaceError(400, WB_ERROR_CODES.incorrectRequestBody, 'Некорректное тело запроса');
  const badParameter = () => marketplaceError(400, WB_ERROR_CODES.incorrectParameter, 'Передан некорректный параметр');
  const notFound = () => marketplaceError(404, WB_ERROR_CODES.notFound, 'Не найдено');

  const orderView = (o: WbSandboxOrder) => {
    const { supplierStatus: _s, wbStatus: _w, supplyId: _sup, ...rest } = o;
    return rest;
  };
  const supplyView = (s: WbSandboxSupply) => ({
    id: s.id,
    done: s.done,
    createdAt: s.createdAt,
    closedAt: s.closedAt,
    scanDt: s.scanDt,
    name: s.name,
    cargoType: s.cargoType,
    destinationOfficeId: s.destinationOfficeId,
  });

  const guarded =
    (handler: (request: SandboxRequest, params: Record<string, string>) => SandboxResponse) =>
    (request: SandboxRequest, params: Record<string, string>): SandboxResponse =>
      gate(request) ?? handler(request, params);

  const server = await startSandboxServer(
    {
      name: 'wildberries',
      onReset: () => {
        seed();
        for (const limit of Object.values(limits)) limit.reset();
      },
      describe: () => ({
        cards: cards.length,
        orders: orders.length,
        newOrders: orders.filter((o) => o.supplierStatus === 'new' && !isCancelled(o)).length,
        supplies: supplies.length,
        openSupplies: supplies.filter((s) => !s.done).length,
        priceUploads: uploads,
      }),
      notFound: () =>
        gatewayError(404, 'path not found', 'Please consult the https://dev.wildberries.ru/openapi/api-information', 'Not Found'),
      routes: [
        {
          method: 'GET',
          path: WB_PATHS.warehouses,
          handle: guarded(() => ({ json: SEED_WAREHOUSES })),
        },
        {
          method: 'GET',
          path: WB_PATHS.newOrders,
          handle: guarded(() => ({
            json: { orders: orders.filter((o) => o.supplierStatus === 'new' && !isCancelled(o)).map(orderView) },
          })),
        },
        {
          method: 'POST',
          path: WB_PATHS.orderStatuses,
          handle: guarded((request) => {
            const body = bodyOf(request, badBody);
            if (!body.ok) return body.response;
            const parsed = orderStatusesRequestSchema.safeParse(body.body);
            if (!parsed.success) return badBody();
            // ids WB does not know are left out (ASSUMED)
            const found = parsed.data.orders.flatMap((id) => {
              const o = findOrder(id);
              return o ? [{ id: o.id, supplierStatus: o.supplierStatus, wbStatus: o.wbStatus }] : [];
            });
            return { json: { orders: found } };
          }),
        },
        {
          method: 'PATCH',
          path: '/api/v3/orders/:orderId/cancel',
          handle: guarded((_request, params) => {
            const id = positiveInt(params.orderId);
            if (id === null) return badParameter();
            const o = findOrder(id);
            if (!o) return notFound();
            if (o.supplierStatus === 'complete' || o.wbStatus === 'sold') {
              return marketplaceError(
                409,
                WB_ERROR_CODES.statusChangeNotAllowed,
                'Задание перейдёт в завершенные после сканирования на пунте выдачи заказов (ПВЗ)',
              );
            }
            // already cancelled (by us, the buyer or WB): a status conflict, as for any move from a final status (ASSUMED)
            if (isCancelled(o))
              return marketplaceError(409, WB_ERROR_CODES.statusMismatch, 'Несоответствие статусов, проверьте их правильность');
            o.supplierStatus = 'cancel';
            o.wbStatus = 'canceled';
            o.supplyId = null;
            return { status: 204 };
          }),
        },
        {
          method: 'POST',
          path: WB_PATHS.supplies,
          handle: guarded((request) => {
            const body = bodyOf(request, badBody);
            if (!body.ok) return body.response;
            const parsed = createSupplyRequestSchema.safeParse(body.body);
            if (!parsed.success) return badBody();
            const supply: WbSandboxSupply = {
              id: `WB-GI-${(nextSupply += 1)}`,
              name: parsed.data.name,
              done: false,
              createdAt: new Date().toISOString().slice(0, 19) + 'Z',
              closedAt: null,
              scanDt: null,
              cargoType: 0,
              destinationOfficeId: null,
              warehouseId: null,
              seq: nextSupply,
            };
            supplies.push(supply);
            return { status: 201, json: { id: supply.id } };
          }),
        },
        {
          method: 'GET',
          path: WB_PATHS.supplies,
          handle: guarded((request) => {
            const limit = positiveInt(request.query.get('limit'));
            const nextText = request.query.get('next');
            const next = nextText === '0' ? 0 : positiveInt(nextText);
            if (limit === null || limit > WB_BATCH.supplies || next === null) return badParameter();
            const page = supplies.filter((s) => s.seq > next).slice(0, limit);
            return { json: { next: page.at(-1)?.seq ?? next, supplies: page.map(supplyView) } };
          }),
        },
        {
          method: 'GET',
          path: '/api/v3/supplies/:supplyId',
          handle: guarded((_request, params) => {
            const supply = supplies.find((s) => s.id === params.supplyId);
            return supply ? { json: supplyView(supply) } : notFound();
          }),
        },
        {
          method: 'PATCH',
          path: '/api/marketplace/v3/supplies/:supplyId/orders',
          handle: guarded((request, params) => {
            const body = bodyOf(request, badBody);
            if (!body.ok) return body.response;
            const parsed = supplyOrdersRequestSchema.safeParse(body.body);
            if (!parsed.success) return badBody();
            const supply = supplies.find((s) => s.id === params.supplyId);
            if (!supply) return notFound();
            const refuse = () =>
              marketplaceError(
                409,
                WB_ERROR_CODES.failedToAddSupplyOrder,
                'Не удалось закрепить сборочное задание за поставкой. Убедитесь, что сборочное задание и поставка удовлетворяют всем необходимым требованиям.',
              );
            if (supply.done) return refuse();
            const moving = parsed.data.orders.map((id) => findOrder(id));
            let warehouseId = supply.warehouseId;
            let cargoType = supply.cargoType;
            for (const o of moving) {
              // unknown, cancelled, already handed over, or of another warehouse or cargo type than the supply's
              if (!o || isCancelled(o) || o.supplierStatus === 'complete') return refuse();
              if (o.supplierStatus === 'confirm' && o.supplyId !== supply.id) {
                const current = supplies.find((s) => s.id === o.supplyId);
                if (current?.done) return refuse();
              }
              if (warehouseId !== null && o.warehouseId !== warehouseId) return refuse();
              if (cargoType !== 0 && o.cargoType !== cargoType) return refuse();
              warehouseId = o.warehouseId;
              cargoType = o.cargoType;
            }
            supply.warehouseId = warehouseId;
            supply.cargoType = cargoType;
            for (const o of moving) {
              if (!o) continue;
              o.supplierStatus = 'confirm';
              o.supplyId = supply.id;
            }
            return { status: 204 };
          }),
        },
        {
          method: 'PATCH',
          path: '/api/v3/supplies/:supplyId/deliver',
          handle: guarded((_request, params) => {
            const supply = supplies.find((s) => s.id === params.supplyId);
            if (!supply) return notFound();
            if (supply.done) return marketplaceError(409, WB_ERROR_CODES.supplyNotActive, 'Поставка уже передана в доставку');
            const inside = orders.filter((o) => o.supplyId === supply.id);
            if (inside.length === 0) {
              return marketplaceError(
                409,
                WB_ERROR_CODES.supplyHasZeroOrders,
                'Не удалось обработать поставку. Убедитесь, что за ней закреплён хотя бы одно сборочное задание.',
              );
            }
            supply.done = true;
            supply.closedAt = new Date().toISOString().slice(0, 19) + 'Z';
            for (const o of inside) {
              o.supplierStatus = 'complete';
              o.wbStatus = 'sorted';
            }
            return { status: 204 };
          }),
        },
        {
          method: 'PUT',
          path: '/api/v3/stocks/:warehouseId',
          handle: guarded((request, params) => {
            const warehouseId = positiveInt(params.warehouseId);
            if (warehouseId === null) return badParameter();
            if (!SEED_WAREHOUSES.some((w) => w.id === warehouseId)) return notFound();
            const body = bodyOf(request, badBody);
            if (!body.ok) return body.response;
            // the shape WB checks: an array of 1..1000 items, each with a size id and an integer amount; the
            // barcode key `sku` is switched off (ASSUMED refused here; WB itself answers 204 and ignores it)
            const shape = z
              .object({
                stocks: z
                  .array(z.object({ chrtId: z.number().int().positive(), amount: z.number().int().min(0) }).strict())
                  .min(1)
                  .max(WB_BATCH.stocks),
              })
              .strict()
              .safeParse(body.body);
            if (!shape.success) return badBody();
            const notFoundItems: Array<{ chrtId: number; sku: string; amount: number }> = [];
            const tooMany: Array<{ chrtId: number; sku: string; amount: number }> = [];
            for (const item of shape.data.stocks) {
              const card = cardOfChrt(item.chrtId);
              const sku = card?.sizes.find((s) => s.chrtID === item.chrtId)?.skus[0] ?? '';
              if (!card) notFoundItems.push({ chrtId: item.chrtId, sku, amount: item.amount });
              else if (item.amount > WB_MAX_STOCK_AMOUNT) tooMany.push({ chrtId: item.chrtId, sku, amount: item.amount });
              // the others are taken (ASSUMED: WB applies the valid items of a batch and names the rest)
              else stocks.set(stockKey(warehouseId, item.chrtId), item.amount);
            }
            const errors = [
              ...(notFoundItems.length > 0 ? [{ code: WB_ERROR_CODES.notFound, message: 'Not found', data: notFoundItems }] : []),
              ...(tooMany.length > 0 ? [{ code: WB_ERROR_CODES.uploadDataLimit, message: 'Upload limit exceeded.', data: tooMany }] : []),
            ];
            return errors.length > 0 ? { status: 409, json: errors } : { status: 204 };
          }),
        },
        {
          method: 'POST',
          path: '/api/v3/stocks/:warehouseId',
          handle: guarded((request, params) => {
            const warehouseId = positiveInt(params.warehouseId);
            if (warehouseId === null) return badParameter();
            if (!SEED_WAREHOUSES.some((w) => w.id === warehouseId)) return notFound();
            const body = bodyOf(request, badBody);
            if (!body.ok) return body.response;
            const parsed = stocksReadRequestSchema.safeParse(body.body);
            if (!parsed.success) return badBody();
            const found = parsed.data.chrtIds.flatMap((chrtId) => {
              const amount = stocks.get(stockKey(warehouseId, chrtId));
              return amount === undefined ? [] : [{ chrtId, amount }];
            });
            return { json: { stocks: found } };
          }),
        },
        {
          method: 'POST',
          path: WB_PATHS.priceUpload,
          handle: guarded((request) => {
            const body = bodyOf(request, () => flagError(400, 'InvalidDataFormat'));
            if (!body.ok) return body.response;
            const raw = body.body as { data?: unknown };
            if (!Array.isArray(raw?.data)) return flagError(400, 'InvalidDataFormat');
            if (raw.data.length === 0) return flagError(400, 'EmptyData');
            if (raw.data.length > WB_BATCH.prices) return flagError(400, 'UploadLimitExceeded');
            for (const item of raw.data as Array<Record<string, unknown>>) {
              if (typeof item !== 'object' || item === null) return flagError(400, 'InvalidDataFormat');
              if (!Number.isInteger(item.nmID) || (item.nmID as number) <= 0) return flagError(400, 'InvalidItemNo');
              if (item.price === undefined && item.discount === undefined) return flagError(400, 'PriceAndDiscountNotSpecified');
              if (item.price !== undefined && typeof item.price === 'number' && !Number.isInteger(item.price))
                return flagError(400, 'PriceShouldBeAWholeNumber');
              if (item.price !== undefined && (typeof item.price !== 'number' || item.price <= 0))
                return flagError(400, 'InvalidPriceValue');
              if (
                item.discount !== undefined &&
                (!Number.isInteger(item.discount) || (item.discount as number) < 0 || (item.discount as number) > 99)
              )
                return flagError(400, 'InvalidDiscountValue');
            }
            const parsed = priceUploadRequestSchema.safeParse(raw);
            if (!parsed.success) return flagError(400, 'InvalidDataFormat');
            const ids = parsed.data.data.map((item) => item.nmID);
            if (new Set(ids).size !== ids.length) return flagError(400, 'DuplicateItemNos');
            const changes = parsed.data.data.filter((item) => {
              const current = prices.get(item.nmID);
              return (
                current && ((item.price ?? current.price) !== current.price || (item.discount ?? current.discount) !== current.discount)
              );
            });
            if (changes.length === 0) {
              const allKnown = parsed.data.data.every((item) => prices.has(item.nmID));
              return flagError(
                400,
                allKnown ? 'TheSpecifiedPricesAndDiscountsAreAlreadySet' : 'AllItemNosAreSpecifiedIncorrectlyOrPricesAndDiscounts',
              );
            }
            // unknown nmIDs of a mixed upload are reported only in the upload's details (not modelled)
            for (const item of changes) {
              const current = prices.get(item.nmID);
              if (current) prices.set(item.nmID, { price: item.price ?? current.price, discount: item.discount ?? current.discount });
            }
            uploads += 1;
            return { json: { data: { id: 3_235_236_000 + uploads, alreadyExists: false }, error: false, errorText: '' } };
          }),
        },
        {
          method: 'POST',
          path: WB_PATHS.cardsList,
          handle: guarded((request) => {
            const body = bodyOf(request, () => contentError(400, 'Request body can not be decoded'));
            if (!body.ok) return body.response;
            const parsed = cardsListRequestSchema.safeParse(body.body);
            if (!parsed.success) return contentError(400, 'Некорректные параметры запроса');
            const { cursor, sort } = parsed.data.settings;
            const ascending = sort?.ascending ?? false;
            const ordered = [...cards].sort((a, b) => {
              const byTime = a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : a.nmID - b.nmID;
              return ascending ? byTime : -byTime;
            });
            let start = 0;
            if (cursor.updatedAt !== undefined && cursor.nmID !== undefined) {
              const at = ordered.findIndex((c) => c.updatedAt === cursor.updatedAt && c.nmID === cursor.nmID);
              start = at < 0 ? ordered.length : at + 1;
            }
            const page = ordered.slice(start, start + cursor.limit);
            const last = page.at(-1);
            return {
              json: {
                cards: page.map(publicCard),
                cursor: { updatedAt: last?.updatedAt ?? cursor.updatedAt ?? '', nmID: last?.nmID ?? cursor.nmID ?? 0, total: page.length },
              },
            };
          }),
        },
      ],
      controls: {
        'POST /orders': (request) => {
          const parsed = z
            .object({
              lines: z
                .array(z.object({ barcode: z.string().min(1), qty: z.number().int().min(1).max(100), price: z.number().int().positive() }))
                .min(1),
              warehouseId: z.number().int().positive().optional(),
            })
            .safeParse(request.json());
          if (!parsed.success) return { status: 400, json: { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) } };
          try {
            return { status: 201, json: { orders: addCart(parsed.data) } };
          } catch (error) {
            return { status: 400, json: { error: error instanceof Error ? error.message : String(error) } };
          }
        },
        'GET /stock': () => ({
          json: {
            stock: [...stocks.entries()].map(([key, amount]) => {
              const [warehouseId, chrtId] = key.split(':').map(Number);
              const card = cardOfChrt(chrtId ?? 0);
              return { warehouseId, chrtId, barcode: card?.sizes.find((s) => s.chrtID === chrtId)?.skus[0] ?? null, amount };
            }),
          },
        }),
        'GET /prices': () => ({ json: { prices: [...prices.entries()].map(([nmId, p]) => ({ nmId, ...p })) } }),
      },
    },
    options,
  );

  const mustFind = (orderId: number) => {
    const o = findOrder(orderId);
    if (!o) throw new Error(`no order ${orderId}`);
    return o;
  };

  return Object.assign(server, {
    addProduct,
    addOrder: (input: WbSandboxOrderInput) => {
      const units = input.lines.reduce((sum, line) => sum + line.qty, 0);
      if (units !== 1) throw new Error('a WB assembly task is one unit: use addCart for more');
      const [order] = addCart(input);
      if (!order) throw new Error('no order made');
      return order;
    },
    addCart,
    cancelByBuyer: (orderId: number) => {
      const o = mustFind(orderId);
      o.wbStatus = o.supplierStatus === 'new' ? 'declined_by_client' : 'canceled_by_client';
      return o;
    },
    setWbStatus: (orderId: number, status: WbStatus) => {
      const o = mustFind(orderId);
      o.wbStatus = status;
      return o;
    },
    order: (orderId: number) => findOrder(orderId) ?? null,
    orders: () => [...orders],
    supplies: () => [...supplies],
    stockOf: (barcode: string, warehouseId: number) => {
      const found = sizeOfBarcode(barcode);
      return found ? (stocks.get(stockKey(warehouseId, found.size.chrtID)) ?? null) : null;
    },
    priceOf: (nmId: number) => prices.get(nmId) ?? null,
    warehouses: () => SEED_WAREHOUSES.map((w) => ({ ...w })),
    setRateLimit: (limit: { limit: number; windowMs: number } | null) => {
      for (const category of Object.values(limits)) category.set(limit);
    },
  });
}
