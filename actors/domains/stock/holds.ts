import productModule from '../../../machines/product.ts';
import type { EffectContext } from '../../runtime/effects.ts';

/**
 * Stock held by orders and by sales at the till, through the product actors:
 * each product applies one event at a time across every process, so "enough
 * left, then hold" cannot be raced. A hold is keyed by its holder (the order
 * or sale id); every send carries the effect's idempotency key, so running a
 * step again after a crash holds, releases or commits once.
 */

export interface HoldRequestLine {
  sku: string;
  qty: number;
  /** per unit, minor units: what the holder was told it costs */
  price: number;
}

export interface HoldRefusal {
  code: 'unknown_product' | 'out_of_stock' | 'price_mismatch';
  message: string;
  /** the line's index in the request */
  index: number;
  field: 'sku' | 'qty' | 'price';
}

export type HoldAnswer = { ok: true; lines: Array<HoldRequestLine & { name: string }> } | { ok: false; refusal: HoldRefusal };

/** Sends to a product; a product gone or no longer holding for the holder is nothing to undo. */
const toProduct = async (context: EffectContext, sku: string, event: { type: 'RELEASE' | 'COMMIT'; orderId: string }) =>
  (await context.actors.send(productModule, sku, event, { key: `${event.type.toLowerCase()}:${sku}`, ifGone: 'skip' })) !== null;

/** Holds every line for the holder, or none: a refusal releases what was held before it. */
export async function holdUnits(
  context: EffectContext,
  holderId: string,
  items: readonly HoldRequestLine[],
  options: { checkPrice: boolean } = { checkPrice: true },
): Promise<HoldAnswer> {
  const lines: Array<HoldRequestLine & { name: string }> = [];
  const held: string[] = [];
  let refusal: HoldRefusal | null = null;
  for (const [index, item] of items.entries()) {
    const reserve = { type: 'RESERVE', orderId: holderId, qty: item.qty } as const;
    // refused: this holder holds units of it already (the product says so); absent: not in the catalogue
    const answered =
      (await context.actors.send(productModule, item.sku, reserve, { key: `reserve:${item.sku}`, ifGone: 'skip' })) ??
      (await context.actors.get(productModule, item.sku));
    if (!answered) {
      refusal = { code: 'unknown_product', message: `${item.sku} is not in the catalogue`, index, field: 'sku' };
      break;
    }
    const product = answered.context;
    if (product.reservations[holderId] === undefined) {
      const available = product.lastRefusal?.orderId === holderId ? product.lastRefusal.available : 0;
      refusal = { code: 'out_of_stock', message: `${item.sku}: ${item.qty} asked, ${available} available`, index, field: 'qty' };
      break;
    }
    held.push(item.sku);
    if (options.checkPrice && product.price !== item.price) {
      refusal = { code: 'price_mismatch', message: `${item.sku} costs ${product.price}, ${item.price} was asked`, index, field: 'price' };
      break;
    }
    lines.push({ ...item, name: product.name });
  }
  if (refusal) {
    await releaseUnits(context, holderId, held);
    return { ok: false, refusal };
  }
  return { ok: true, lines };
}

/** Gives back what the holder holds; answers how many products held something. */
export async function releaseUnits(context: EffectContext, holderId: string, skus: readonly string[]): Promise<number> {
  let released = 0;
  for (const sku of skus) if (await toProduct(context, sku, { type: 'RELEASE', orderId: holderId })) released += 1;
  return released;
}

/** The held units are sold: they leave the stock. */
export async function commitUnits(context: EffectContext, holderId: string, skus: readonly string[]): Promise<number> {
  let committed = 0;
  for (const sku of skus) if (await toProduct(context, sku, { type: 'COMMIT', orderId: holderId })) committed += 1;
  return committed;
}
