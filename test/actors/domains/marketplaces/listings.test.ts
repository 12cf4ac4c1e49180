import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { ListingRefused, MarketplaceListings } from '../../../../actors/domains/marketplaces/listings.ts';
import { ensureMarketplaceIndexes, marketplaceCollections, type MarketplaceCollections } from '../../../../persistence/marketplaces.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';

const anyUnits = () => false;
const uzum = (skuId: number) => ({ uzum: { skuId, barcode: `478${String(skuId).padStart(10, '0')}` } });

/** The listings on a real database of their own. */
const withListings =
  (run: (listings: MarketplaceListings, collections: MarketplaceCollections, clock: { now: number }) => Promise<void>) => async () => {
    const client = await new MongoClient(databaseUri()).connect();
    const db = client.db(uniqueDatabaseName('listings'));
    try {
      await ensureMarketplaceIndexes(db);
      const collections = marketplaceCollections(db);
      const clock = { now: Date.now() };
      await run(new MarketplaceListings(collections, () => clock.now), collections, clock);
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  };

test(
  'two products listing one marketplace item at once: one gets it, the other is refused with 409; an unlisted item is free again',
  withListings(async (listings, collections) => {
    // as two processes would: each with its own one-at-a-time queue
    const other = new MarketplaceListings(collections);
    const results = await Promise.allSettled([
      listings.set('CUP', uzum(7001), { available: 5, revision: 1 }, anyUnits),
      other.set('MUG', uzum(7001), { available: 5, revision: 1 }, anyUnits),
    ]);
    const refused = results.filter((result) => result.status === 'rejected');
    assert.equal(refused.length, 1, 'exactly one of the two is refused');
    const reason = (refused[0] as PromiseRejectedResult).reason as ListingRefused;
    assert.ok(reason instanceof ListingRefused);
    assert.equal(reason.status, 409);
    const winner = (await listings.skusOf('uzum', ['7001'])).get('7001');
    assert.ok(winner === 'CUP' || winner === 'MUG');
    const loser = winner === 'CUP' ? 'MUG' : 'CUP';
    assert.deepEqual(await listings.of(loser), []);

    await listings.set(winner, { uzum: null }, { available: 5, revision: 1 }, anyUnits);
    assert.equal((await listings.skusOf('uzum', ['7001'])).size, 0);
    await listings.set(loser, uzum(7001), { available: 5, revision: 1 }, anyUnits);
    assert.equal((await listings.skusOf('uzum', ['7001'])).get('7001'), loser);
  }),
);

test(
  'a listing moved to another item frees the old one; a claim without its listing holds the item for a minute, then is taken over',
  withListings(async (listings, collections, clock) => {
    await listings.set('CUP', uzum(7001), { available: 5, revision: 1 }, anyUnits);
    await listings.set('CUP', uzum(7002), { available: 5, revision: 1 }, anyUnits);
    assert.deepEqual([...(await listings.skusOf('uzum', ['7001', '7002']))], [['7002', 'CUP']]);
    // a claim without its listing: another process listing GHOST right now, so taken …
    await collections.items.insertOne({ _id: 'uzum:7003', marketplace: 'uzum', sku: 'GHOST', claimedAt: new Date(clock.now) });
    await assert.rejects(
      listings.validate('MUG', uzum(7003), anyUnits),
      (error: unknown) => error instanceof ListingRefused && error.status === 409,
    );
    // … and a minute later the leftover of a crash between the two writes: free
    clock.now += 61_000;
    await listings.validate('MUG', uzum(7003), anyUnits);
    await listings.set('MUG', uzum(7003), { available: 2, revision: 4 }, anyUnits);
    assert.equal((await listings.skusOf('uzum', ['7003'])).get('7003'), 'MUG');
  }),
);

test(
  'stock is due once per listing with its newest revision; a push clears what it sent, not a newer change heard meanwhile',
  withListings(async (listings) => {
    await listings.set('CUP', { ...uzum(7001), rozetka: { itemId: 501 } }, { available: 5, revision: 1 }, anyUnits);
    await listings.noteStock([{ sku: 'CUP', available: 4, revision: 2 }]);
    await listings.noteStock([{ sku: 'CUP', available: 9, revision: 1 }]); // older: ignored
    await listings.noteStock([{ sku: 'NOT-LISTED', available: 1, revision: 7 }]);
    const due = await listings.due('uzum');
    assert.deepEqual(
      due.stock.map((doc) => [doc.sku, doc.stock?.available, doc.mark.revision]),
      [['CUP', 4, 2]],
    );
    assert.equal((await listings.due('rozetka')).stock.length, 1);
    // a change lands while the push is on its way
    await listings.noteStock([{ sku: 'CUP', available: 3, revision: 3 }]);
    await listings.pushed('stock', due.stock, []);
    const after = await listings.due('uzum');
    assert.deepEqual(
      after.stock.map((doc) => [doc.stock?.available, doc.mark.revision]),
      [[3, 3]],
    );
    await listings.pushed('stock', after.stock, []);
    assert.equal((await listings.due('uzum')).stock.length, 0);
    const [view] = (await listings.of('CUP')).filter((listing) => listing.marketplace === 'uzum');
    assert.deepEqual([view?.pushed.stock?.available, view?.pending.stock], [3, false]);
  }),
);

test(
  'a refusal that will pass stays due; one that will not is kept on the listing and not pushed again until the stock changes',
  withListings(async (listings) => {
    await listings.set('CUP', uzum(7001), { available: 5, revision: 1 }, anyUnits);
    let due = await listings.due('uzum');
    await listings.pushed('stock', due.stock, [{ sku: 'CUP', code: 'rate_limited', message: 'later', retryable: true }]);
    due = await listings.due('uzum');
    assert.equal(due.stock.length, 1);
    await listings.pushed('stock', due.stock, [{ sku: 'CUP', code: 'sku_blocked', message: 'blocked at Uzum' }]);
    assert.equal((await listings.due('uzum')).stock.length, 0);
    assert.equal((await listings.of('CUP'))[0]?.refusal?.code, 'sku_blocked');
    await listings.repair();
    assert.equal((await listings.due('uzum')).stock.length, 0, 'the reconciliation does not retry a refused value');
    await listings.noteStock([{ sku: 'CUP', available: 4, revision: 2 }]);
    assert.equal((await listings.due('uzum')).stock.length, 1);
  }),
);

test(
  'the reconciliation marks a listing whose newest stock or price was never marked due (a crash between the writes), and recounts',
  withListings(async (listings, collections) => {
    await listings.set('CUP', { uzum: { ...uzum(7001).uzum, price: 1_200_000 } }, { available: 5, revision: 1 }, anyUnits);
    const due = await listings.due('uzum');
    await listings.pushed('stock', due.stock, []);
    await listings.pushed('price', due.prices, []);
    // the stock heard and written to the listing, the mark lost; a price written, its mark lost
    await collections.listings.updateOne(
      { _id: 'uzum:CUP' },
      { $set: { stock: { available: 2, revision: 5, changedAt: new Date() }, price: 1_300_000 } },
    );
    await collections.sync.updateOne({ _id: 'uzum' }, { $set: { listings: 17 } });
    assert.deepEqual(await listings.repair(), { remarked: 2 });
    const again = await listings.due('uzum');
    assert.deepEqual([again.stock.map((doc) => doc.stock?.available), again.prices.map((doc) => doc.price)], [[2], [1_300_000]]);
    assert.equal((await collections.sync.findOne({ _id: 'uzum' }))?.listings, 1);
    assert.deepEqual(await listings.repair(), { remarked: 0 });
  }),
);

test(
  'listings written before items and marks were kept apart are adopted at start',
  withListings(async (listings, collections) => {
    await collections.listings.insertOne({
      _id: 'uzum:OLD',
      marketplace: 'uzum',
      sku: 'OLD',
      listing: { skuId: 7009, barcode: '4780000007009' },
      itemKey: '7009',
      price: null,
      stock: { available: 3, revision: 2, changedAt: new Date() },
      pushed: { stock: null, price: null },
      refusal: null,
      updatedAt: new Date(),
    });
    assert.equal(await listings.adoptOlderListings(), 1);
    assert.equal((await listings.skusOf('uzum', ['7009'])).get('7009'), 'OLD');
    assert.deepEqual(
      (await listings.due('uzum')).stock.map((doc) => doc.sku),
      ['OLD'],
    );
    assert.equal(await listings.adoptOlderListings(), 0, 'once');
  }),
);
