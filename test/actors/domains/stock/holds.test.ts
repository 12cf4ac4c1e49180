import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdUnits } from '../../../../actors/domains/stock/holds.ts';
import { effectActors } from '../../../../actors/runtime/effect-actors.ts';
import type { EffectContext } from '../../../../actors/runtime/effects.ts';
import productModule from '../../../../machines/product.ts';
import { uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger, startRuntime } from '../../../support/runtime-harness.ts';

/** An effect's context as the worker builds it: every command keyed under `effectId`. */
function effectContext(harness: Awaited<ReturnType<typeof startRuntime>>, effectId: string): EffectContext {
  return {
    idempotencyKey: effectId,
    attempt: 1,
    actor: { type: 'order', id: 'o-1' },
    signal: new AbortController().signal,
    logger: quietLogger,
    actors: effectActors(harness.runtime.commands, effectId, quietLogger),
  };
}

test('a hold asked again for a holder that holds the units already is a hold, not an unknown product', async () => {
  const harness = await startRuntime({ dbName: uniqueDatabaseName('holds'), machines: [productModule], startWorker: false });
  try {
    await harness.runtime.of(productModule).create('CUP', { sku: 'CUP', name: 'Cup', price: 500, stock: 3 }, { origin: { kind: 'admin' } });
    const line = { sku: 'CUP', qty: 2, price: 500 };
    const first = await holdUnits(effectContext(harness, 'effect-a'), 'o-1', [line]);
    assert.deepEqual(first, { ok: true, lines: [{ ...line, name: 'Cup' }] });
    // the same holder under another key (the product refuses the RESERVE: it holds for o-1 already)
    const again = await holdUnits(effectContext(harness, 'effect-b'), 'o-1', [line]);
    assert.deepEqual(again, { ok: true, lines: [{ ...line, name: 'Cup' }] });
    const product = await harness.runtime.of(productModule).get('CUP');
    assert.deepEqual(product.context.reservations, { 'o-1': 2 });
    // another holder gets what is left, and nothing more
    const other = await holdUnits(effectContext(harness, 'effect-c'), 'o-2', [line]);
    assert.equal(other.ok, false);
    assert.equal(!other.ok && other.refusal.code, 'out_of_stock');
    const missing = await holdUnits(effectContext(harness, 'effect-d'), 'o-3', [{ sku: 'NONE', qty: 1, price: 1 }]);
    assert.equal(!missing.ok && missing.refusal.code, 'unknown_product');
  } finally {
    await harness.close();
  }
});
