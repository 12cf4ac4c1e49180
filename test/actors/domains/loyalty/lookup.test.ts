import { test } from 'node:test';
import assert from 'node:assert/strict';
import { saleLoyaltyOf } from '../../../../actors/domains/loyalty/lookup.ts';
import { priceSale } from '../../../../machines/pos-sale-rules.ts';
import { eventually } from '../../../support/database.ts';
import { withLoyalty } from './support.ts';

const ALISHER = { phone: '+998 90 123 45 67' };

test('a live answer applies the discount, offers the balance, and refreshes the cache', () =>
  withLoyalty(async ({ lookup, cache }) => {
    const found = await lookup.find(ALISHER);
    assert.equal(found.status, 'applied');
    assert.equal(found.source, 'live');
    assert.equal(found.discountPercent, 5);
    assert.equal(found.bonusAvailable, 1_200_000);
    assert.equal(found.warning, null);
    assert.deepEqual(found.customer, {
      id: 'c-1001',
      name: 'Алишер Каримов',
      level: 'silver',
      discountPercent: 5,
      bonusBalance: 1_200_000,
      phone: '998901234567',
      card: 'JC-0001-0001',
    });
    const cached = await eventually(async () => (await cache.get('c-1001')) ?? undefined, 5_000, 'the cache refreshed');
    assert.equal(cached.source, 'live');
    assert.equal(cached.bonusBalance, 1_200_000);
  }));

test('JOWi hanging: the answer comes within the bound, offline, no discount, the cached customer marked as such', () =>
  withLoyalty(async ({ lookup, cache, jowi }) => {
    await lookup.find(ALISHER);
    await eventually(async () => (await cache.get('c-1001')) ?? undefined, 5_000, 'the cache refreshed');
    jowi.mode('hang');
    for (const timeoutMs of [300, 800]) {
      const started = Date.now();
      const offline = await lookup.find(ALISHER, { timeoutMs });
      const took = Date.now() - started;
      assert.ok(took >= timeoutMs - 20 && took < timeoutMs + 250, `answered after ${took} ms for a bound of ${timeoutMs} ms`);
      assert.equal(offline.status, 'offline');
      assert.equal(offline.reason, 'timeout');
      assert.equal(offline.source, 'cache');
      assert.equal(offline.customer?.id, 'c-1001', 'the cache still names who earns the later accrual');
      assert.equal(offline.discountPercent, 0, 'a cached discount is never applied');
      assert.equal(offline.bonusAvailable, 0, 'bonuses pay only with a live answer');
      assert.match(offline.warning ?? '', /недоступен/);
      assert.ok(offline.cachedAt);
    }
    // nobody cached under this number: offline, no customer
    const unknown = await lookup.find({ phone: '998935550000' }, { timeoutMs: 300 });
    assert.equal(unknown.status, 'offline');
    assert.equal(unknown.customer, null);
  }));

test('the bound comes from the settings (lookupTimeoutMs) when the caller gives none', () =>
  withLoyalty(
    async ({ lookup, jowi }) => {
      jowi.mode('hang');
      const started = Date.now();
      const offline = await lookup.find(ALISHER);
      const took = Date.now() - started;
      assert.equal(offline.status, 'offline');
      assert.ok(took >= 380 && took < 650, `answered after ${took} ms`);
    },
    { settings: { lookupTimeoutMs: 400 }, policy: { timeoutMs: 10_000 } },
  ));

test('JOWi down or erroring: offline at once; slow within the bound: applied', () =>
  withLoyalty(async ({ lookup, jowi }) => {
    jowi.mode('down');
    const down = await lookup.find(ALISHER, { timeoutMs: 1_000 });
    assert.equal(down.status, 'offline');
    assert.equal(down.reason, 'unavailable');
    assert.ok(down.elapsedMs < 1_000);

    jowi.mode('refusing');
    const refusing = await lookup.find(ALISHER, { timeoutMs: 1_000 });
    assert.equal(refusing.status, 'offline');
    assert.equal(refusing.reason, 'unavailable');

    jowi.mode('slow', 150);
    const slow = await lookup.find(ALISHER, { timeoutMs: 1_000 });
    assert.equal(slow.status, 'applied');
    assert.ok(slow.elapsedMs >= 150);
  }));

test('a blocked card is refused (no discount), an unknown customer is not_found, a malformed phone is not looked up', () =>
  withLoyalty(async ({ lookup, jowi }) => {
    const blocked = await lookup.find({ card: 'JC-0003-0003' });
    assert.equal(blocked.status, 'refused');
    assert.equal(blocked.reason, 'card_blocked');
    assert.equal(blocked.discountPercent, 0);
    assert.equal(blocked.customer, null);
    assert.match(blocked.warning ?? '', /заблокирована/);

    const nobody = await lookup.find({ phone: '998909999999' });
    assert.equal(nobody.status, 'not_found');
    assert.equal(nobody.source, 'live');

    const before = jowi.requests().length;
    const malformed = await lookup.find({ phone: '12345' });
    assert.equal(malformed.reason, 'invalid_query');
    assert.equal(jowi.requests().length, before, 'nothing was sent');
  }));

test('a customer blocked since they were cached is not offered from the cache', () =>
  withLoyalty(async ({ lookup, cache, jowi }) => {
    await lookup.find(ALISHER);
    await eventually(async () => (await cache.get('c-1001')) ?? undefined, 5_000, 'the cache refreshed');
    jowi.upsertCustomer({ id: 'c-1001', blocked: true });
    const refused = await lookup.find(ALISHER);
    assert.equal(refused.status, 'refused');
    await eventually(async () => (await cache.get('c-1001'))?.blocked === true, 5_000, 'the cache knows the block');
    jowi.mode('hang');
    const offline = await lookup.find(ALISHER, { timeoutMs: 300 });
    assert.equal(offline.status, 'offline');
    assert.equal(offline.customer, null);
  }));

test('a sale priced from the look-up: bonuses pay only with a live answer, bounded by the balance and the configured share', () =>
  withLoyalty(async ({ lookup, jowi, settings }) => {
    const live = saleLoyaltyOf(await lookup.find(ALISHER));
    const maxSharePercent = settings.maxBonusSharePercent;
    assert.equal(maxSharePercent, 50);
    const spent = (requested: number, total: number, loyalty = live) =>
      priceSale([{ qty: 1, price: total }], loyalty, requested, maxSharePercent).bonusSpent;
    const discounted = (total: number) => total - Math.floor((total * (live.customer?.discountPercent ?? 0)) / 100);
    assert.equal(spent(300_000, 10_000_000), 300_000);
    assert.equal(spent(5_000_000, 10_000_000), 1_200_000, 'the balance');
    assert.equal(spent(5_000_000, 1_000_000), Math.floor(discounted(1_000_000) / 2), 'half the discounted total');
    jowi.mode('hang');
    const offline = saleLoyaltyOf(await lookup.find(ALISHER, { timeoutMs: 200 }));
    assert.equal(offline.status, 'offline');
    assert.equal(spent(300_000, 10_000_000, offline), 0, 'never offline');
    assert.equal(priceSale([{ qty: 1, price: 10_000_000 }], offline, 0, maxSharePercent).discount, 0, 'no discount offline');
  }));

test('the cache keeps names, phones and cards sealed, finds customers by keyed hashes, and seals what an older hub cached in clear', () =>
  withLoyalty(async ({ lookup, cache, collections, jowi }) => {
    await lookup.find(ALISHER);
    const stored = await eventually(async () => (await collections.customers.findOne({ _id: 'c-1001' })) ?? undefined, 5_000, 'cached');
    const text = JSON.stringify(stored);
    for (const clear of ['Алишер', '998901234567', 'JC-0001-0001']) assert.ok(!text.includes(clear), `"${clear}" is not stored in clear`);
    assert.equal(stored.sealed, true);

    // an older hub's entry, in clear and with no hashes: sealed at start, then found by its card while JOWi is away
    await collections.customers.insertOne({
      _id: 'c-legacy',
      name: 'Дилноза Старая',
      phone: '998935551122',
      card: 'JC-0009-0009',
      level: 'gold',
      discountPercent: 10,
      bonusBalance: 0,
      blocked: false,
      sourceAt: new Date(),
      source: 'webhook',
      updatedAt: new Date(),
    });
    assert.equal((await cache.find({ card: 'JC-0009-0009' }))?._id, undefined, 'not found before it is sealed (no hash yet)');
    assert.equal(await cache.sealStoredInClear(), 1);
    assert.equal(await cache.sealStoredInClear(), 0, 'once');
    const legacy = await collections.customers.findOne({ _id: 'c-legacy' });
    assert.ok(legacy && !JSON.stringify(legacy).includes('Дилноза') && !JSON.stringify(legacy).includes('998935551122'));
    jowi.mode('down');
    const offline = await lookup.find({ card: 'JC-0009-0009' }, { timeoutMs: 300 });
    assert.equal(offline.status, 'offline');
    assert.deepEqual(
      [offline.customer?.id, offline.customer?.name, offline.customer?.phone],
      ['c-legacy', 'Дилноза Старая', '998935551122'],
    );
  }));
