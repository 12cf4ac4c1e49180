import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger, transports } from 'winston';
import order, { type OrderInput } from '../../../machines/order.ts';
import { orderPolicySchema } from '../../../machines/order-rules.ts';
import { bindEffects, type BoundEffects } from '../../../actors/runtime/effects.ts';
import { invokedSources } from '../../../actors/runtime/machine-glue.ts';
import {
  erasePaths,
  mapPersonalPaths,
  maskContext,
  maskEmail,
  maskName,
  maskPhone,
  PersonalDataSealer,
} from '../../../actors/runtime/personal-data.ts';
import { PERSONAL_DATA_BACKFILL_MARKER, PersonalDataBackfill } from '../../../actors/runtime/personal-data-backfill.ts';
import { actorKey } from '../../../actors/runtime/store.ts';
import { connectDatabase, type Database } from '../../../persistence/database.ts';
import { ERASED_TEXT, loadPersonalDataKey, PersonalDataCipher } from '../../../persistence/personal-data-key.ts';
import { Keyring, MasterKeyError, type HubMetaDoc } from '../../../persistence/secret-box.ts';
import { databaseUri, eventually, uniqueDatabaseName } from '../../support/database.ts';
import { quietLogger, startRuntime, type Harness } from '../../support/runtime-harness.ts';

const NAME = 'Іванна Приходько-Тест';
const PHONE = '+380501114567';
const EMAIL = 'ivanna.pryhodko@example.com';

test('a sealed value opens to the same value, never shows its text, and refuses another key or a change', () => {
  const cipher = new PersonalDataCipher(randomBytes(32));
  const sealed = cipher.seal({ street: 'Хрещатик', house: '1' });
  assert.ok(PersonalDataCipher.isSealed(sealed));
  assert.ok(!sealed.includes('Хрещатик') && !Buffer.from(sealed).toString('base64').includes('Хрещатик'));
  assert.deepEqual(cipher.open(sealed), { street: 'Хрещатик', house: '1' });
  assert.notEqual(cipher.seal(PHONE), cipher.seal(PHONE), 'a fresh IV every time');
  assert.throws(() => new PersonalDataCipher(randomBytes(32)).open(sealed), MasterKeyError);
  // one bit of the ciphertext changed (a character of the text may differ only in bits base64 leaves unused)
  const dot = sealed.lastIndexOf('.');
  const bytes = Buffer.from(sealed.slice(dot + 1), 'base64url');
  bytes[bytes.length - 1]! ^= 0x01;
  const flipped = `${sealed.slice(0, dot + 1)}${bytes.toString('base64url')}`;
  assert.notEqual(flipped, sealed);
  assert.throws(() => cipher.open(flipped), /does not authenticate/);
});

test('the blind index finds a phone or e-mail whatever its spelling, and differs between keys', () => {
  const cipher = new PersonalDataCipher(randomBytes(32));
  assert.equal(cipher.blindIndex('phone', '+38 (050) 111-45-67'), cipher.blindIndex('phone', '380501114567'));
  assert.equal(cipher.blindIndex('email', ' Ivanna@Example.com '), cipher.blindIndex('email', 'ivanna@example.com'));
  assert.notEqual(cipher.blindIndex('phone', PHONE), cipher.blindIndex('phone', '+380501114568'));
  assert.notEqual(cipher.blindIndex('phone', PHONE), new PersonalDataCipher(randomBytes(32)).blindIndex('phone', PHONE));
  assert.equal(cipher.blindIndex('phone', '---'), null);
});

test('masks keep what tells customers apart and hide what reaches them', () => {
  assert.equal(maskPhone('+380501234567'), '+38050***4567');
  assert.equal(maskPhone('0501234567'), '05012***4567');
  assert.equal(maskPhone('12345'), '***45');
  assert.equal(maskEmail('ivan@example.com'), 'i***@example.com');
  assert.equal(maskEmail('not-an-email'), '***');
  assert.equal(maskName('Іван Петренко'), 'І*** П***');
  assert.equal(maskName('  Олена  '), 'О***');
});

test('paths reach nested values, every element of a list, and leave what they do not reach', () => {
  const value = { a: { b: 'x', keep: 1 }, list: [{ c: 'y' }, { c: 'z' }, { d: 'w' }], n: null };
  const upper = mapPersonalPaths(value, { 'a.b': 'name', 'list.*.c': 'name', 'n.m': 'name', missing: 'name' }, (v) =>
    String(v).toUpperCase(),
  );
  assert.deepEqual(upper, { a: { b: 'X', keep: 1 }, list: [{ c: 'Y' }, { c: 'Z' }, { d: 'w' }], n: null });
  assert.deepEqual(value.a, { b: 'x', keep: 1 }, 'the original is left as it was');
  assert.deepEqual(erasePaths({ a: { b: 'x' } }, { 'a.b': 'name' }), { a: { b: 'pd1.erased' } });
});

test("an order's context is sealed at its declared paths, opened back, masked for viewers, and plain old snapshots still open", () => {
  const sealer = new PersonalDataSealer(new PersonalDataCipher(randomBytes(32)));
  const context = {
    customer: { name: NAME, phone: PHONE, email: EMAIL },
    delivery: { carrier: 'novaposhta', address: { street: 'Хрещатик', house: '1' } },
    total: 100,
  };
  const sealed = sealer.sealSnapshot(order, { status: 'active', value: 'x', context });
  const text = JSON.stringify(sealed);
  for (const secret of [NAME, PHONE, EMAIL, 'Хрещатик']) assert.ok(!text.includes(secret), `${secret} is sealed`);
  assert.equal((sealed.context as typeof context).total, 100, 'what is not personal stays readable');
  assert.deepEqual(sealer.openSnapshot(order, sealed).context, context);
  assert.deepEqual(sealer.sealSnapshot(order, sealed), sealed, 'sealing twice changes nothing');
  assert.deepEqual(sealer.openSnapshot(order, { status: 'active', value: 'x', context }).context, context, 'plain values read as they are');
  assert.deepEqual(maskContext(order, context), {
    customer: { name: 'І*** П***', phone: '+38050***4567', email: 'i***@example.com' },
    delivery: { carrier: 'novaposhta', address: '***' },
    total: 100,
  });
  const erased = sealer.openSnapshot(order, {
    status: 'done',
    value: 'x',
    context: erasePaths(sealed.context, order.personalData?.context),
  });
  assert.deepEqual((erased.context as typeof context).customer, { name: ERASED_TEXT, phone: ERASED_TEXT, email: ERASED_TEXT });
  assert.equal(maskContext(order, erased.context as typeof context).customer.name, ERASED_TEXT);
  const init = sealer.sealEvent(order, 'xstate.init', { type: 'xstate.init', input: context });
  assert.ok(!JSON.stringify(init).includes(PHONE), "the creation's input is sealed too");
  assert.deepEqual(sealer.openEvent(order, 'xstate.init', init), { type: 'xstate.init', input: context });
});

let database: Database;
let harness: Harness;

before(async () => {
  database = await connectDatabase(databaseUri(), uniqueDatabaseName('personal-data'));
  // the real order machine; its effects are never run here (no worker): the test is about what is stored
  const idle = Object.fromEntries([...invokedSources(order.machine)].map((src) => [src, () => new Promise<never>(() => undefined)]));
  const effects: BoundEffects = bindEffects(order, idle as unknown as Parameters<typeof bindEffects<typeof order>>[1]);
  harness = await startRuntime({ dbName: '', database, machines: [order], effects: [effects], startWorker: false });
});

after(async () => {
  await harness?.close();
  await database?.close();
});

test('the data key is made once, wrapped by the master key, re-wrapped under a new one, and refused under a wrong one', async () => {
  const meta = database.collections.db.collection<HubMetaDoc>('hub_meta_key_test');
  const master = randomBytes(32);
  const first = await loadPersonalDataKey(meta, new Keyring(master));
  const stored = JSON.stringify(await meta.find({}).toArray());
  const sealedPhone = first.seal(PHONE);
  assert.equal((await loadPersonalDataKey(meta, new Keyring(master))).open(sealedPhone), PHONE, 'the same key on the next start');
  const next = randomBytes(32);
  assert.equal((await loadPersonalDataKey(meta, new Keyring(next, [master]))).open(sealedPhone), PHONE, 'rotating the master key');
  assert.notEqual(JSON.stringify(await meta.find({}).toArray()), stored, 're-wrapped under the new master key');
  assert.equal((await loadPersonalDataKey(meta, new Keyring(next))).open(sealedPhone), PHONE, 'the old master key is no longer needed');
  await assert.rejects(loadPersonalDataKey(meta, new Keyring(randomBytes(32))), MasterKeyError);
});

function orderInput(id: string): OrderInput {
  return {
    orderId: id,
    acceptedAt: '2026-11-22T10:00:00.000Z',
    externalId: id,
    source: 'shop',
    customer: { name: NAME, phone: PHONE, email: EMAIL },
    items: [{ sku: 'CUP-1', name: 'Чашка', qty: 2, unitPrice: 25_000 }],
    currency: 'UAH',
    delivery: { carrier: 'novaposhta', cityRef: 'city-1', warehouseRef: 'wh-1', fee: 0, address: { street: 'Хрещатик', house: '22' } },
    payment: { method: 'monobank' },
    total: 50_000,
    policy: orderPolicySchema.parse({}),
  };
}

test("a created order's snapshot, journal, projection and effects in the database hold no name, phone or e-mail, and it loads back whole", async () => {
  const { runtime, store } = harness;
  const created = await runtime.of(order).create('PII-1', orderInput('PII-1'), { origin: { kind: 'create' } });
  assert.equal(created.actor.context.customer.phone, PHONE, 'the caller sees what it sent');
  // a second revision (its own journal entry and a rewritten projection)
  await runtime.of(order).send('PII-1', { type: 'CANCEL', reason: 'test', by: 'tester' }, { origin: { kind: 'event' } });
  await store.drain();

  const key = actorKey('order', 'PII-1');
  const projection = await database.collections.actors.findOne({ _id: key });
  const journal = await database.collections.journal.find({ actor: key }).toArray();
  assert.ok(projection);
  assert.ok(journal.length >= 2, 'creation and cancellation are journalled');
  // no worker runs here: the effects the order asked for wait in the database with their inputs
  const effects = await database.collections.effects.find({ actor: key }).toArray();
  const inputs = effects.map((effect) => JSON.stringify(runtime.personalData.openJson(effect.input)));
  assert.ok(
    inputs.some((input) => input.includes(EMAIL)),
    `an effect's input names the customer (${effects.map((e) => e.src).join(', ')})`,
  );
  const stored = JSON.stringify({ projection, journal, effects });
  for (const secret of [NAME, PHONE, EMAIL, '501114567', 'pryhodko', 'Хрещатик'])
    assert.ok(!stored.includes(secret), `"${secret}" is nowhere in the stored order`);
  assert.match(stored, /pd1\./, 'sealed values are there instead');
  const index = new PersonalDataSealer(runtime.personalData.cipher);
  assert.ok(projection.personalIndex?.includes(index.cipher.blindIndex('phone', PHONE) ?? ''), 'the phone is findable by its blind index');

  runtime.evictAll();
  const loaded = await runtime.of(order).get('PII-1');
  assert.deepEqual(loaded.context.customer, { name: NAME, phone: PHONE, email: EMAIL });
  assert.deepEqual(loaded.context.delivery.address, { street: 'Хрещатик', house: '22' });
});

test('an order stored before its personal data was sealed still loads, and is sealed when it is next written', async () => {
  const { runtime, store } = harness;
  await runtime.of(order).create('PII-OLD', orderInput('PII-OLD'), { origin: { kind: 'create' } });
  await store.drain();
  const key = actorKey('order', 'PII-OLD');
  // as an older hub wrote it: the snapshot in clear
  const projection = await database.collections.actors.findOne({ _id: key });
  assert.ok(projection);
  const plain = JSON.stringify(runtime.personalData.openSnapshot(order, JSON.parse(projection.snapshot) as never));
  await database.collections.actors.updateOne({ _id: key }, { $set: { snapshot: plain } });
  await database.collections.journal.updateOne({ _id: `${key}#0000000001` }, { $set: { snapshot: plain } });
  runtime.evictAll();
  assert.equal((await runtime.of(order).get('PII-OLD')).context.customer.email, EMAIL);

  await runtime.of(order).send('PII-OLD', { type: 'CANCEL', reason: 'test', by: 'tester' }, { origin: { kind: 'event' } });
  await store.drain();
  const rewritten = await database.collections.actors.findOne({ _id: key });
  assert.ok(rewritten && rewritten.revision > 1);
  assert.ok(!rewritten.snapshot.includes(EMAIL), 'the next revision is sealed');
});

test('the backfill seals an order stored in clear whose projection lags its journal, and the projection catches up sealed', async () => {
  const { runtime, store, registry } = harness;
  const { actors, journal, hubMeta } = database.collections;
  await runtime.of(order).create('PII-LAG', orderInput('PII-LAG'), { origin: { kind: 'create' } });
  await runtime.of(order).send('PII-LAG', { type: 'CANCEL', reason: 'test', by: 'tester' }, { origin: { kind: 'event' } });
  await store.drain();
  const key = actorKey('order', 'PII-LAG');
  // as an older hub left it after a crash: every entry in clear and unindexed, the projection still at revision 1
  const entries = await journal.find({ actor: key }).toArray();
  assert.equal(entries.length, 2);
  const clear = (text: string) => JSON.stringify(runtime.personalData.openSnapshot(order, JSON.parse(text) as never));
  for (const entry of entries) {
    const event = runtime.personalData.openEvent(order, entry.eventType, JSON.parse(entry.event) as unknown);
    await journal.updateOne(
      { _id: entry._id },
      { $set: { snapshot: clear(entry.snapshot), event: JSON.stringify(event) }, $unset: { personalIndex: '' } },
    );
  }
  const first = entries.find((entry) => entry.revision === 1);
  assert.ok(first);
  await actors.updateOne(
    { _id: key },
    { $set: { revision: 1, state: first.to, snapshot: clear(first.snapshot), updatedAt: first.at }, $unset: { personalIndex: '' } },
  );
  runtime.evictAll();
  await hubMeta.deleteMany({ _id: { $regex: `^${PERSONAL_DATA_BACKFILL_MARKER}` } });
  // a pass under other declarations (a machine declared personal data since) does not count for these
  await hubMeta.insertOne({ _id: `${PERSONAL_DATA_BACKFILL_MARKER}:000000000000`, updatedAt: new Date() });

  const backfill = new PersonalDataBackfill({
    collections: database.collections,
    store,
    registry,
    sealer: runtime.personalData,
    logger: quietLogger,
  });
  assert.equal(await backfill.isComplete(), false);
  backfill.start();
  assert.equal(await backfill.isComplete(20_000), true, 'the backfill completes');
  await store.drain();

  const phone = runtime.personalData.cipher.blindIndex('phone', PHONE);
  const sealed = await journal.find({ actor: key }).toArray();
  for (const entry of sealed) {
    assert.ok(!entry.snapshot.includes(EMAIL) && !entry.event.includes(EMAIL), `revision ${entry.revision} is sealed`);
    assert.ok(entry.personalIndex?.includes(phone ?? ''), `revision ${entry.revision} is indexed`);
  }
  const projection = await actors.findOne({ _id: key });
  assert.equal(projection?.revision, 2, 'the projection caught up with the journal');
  assert.ok(projection && !projection.snapshot.includes(EMAIL) && projection.personalIndex?.includes(phone ?? ''));
  assert.deepEqual((await runtime.of(order).get('PII-LAG')).context.customer, { name: NAME, phone: PHONE, email: EMAIL });
  assert.ok(await hubMeta.findOne({ _id: { $regex: `^${PERSONAL_DATA_BACKFILL_MARKER}:` } }), 'the marker later starts skip it by');
  await backfill.stop();
});

test('a backfill stopped half-way is taken up by the next, which rewrites nothing the first sealed; it reads the actors in batches and logs its progress in counts', async () => {
  const { runtime, store, registry } = harness;
  const { journal, actors, hubMeta } = database.collections;
  // 120 orders as an older hub stored them (more than the backfill reads in one batch): copies of a real order's
  // creation, opened into clear and without the index
  await runtime.of(order).create('BULK-TEMPLATE', orderInput('BULK-TEMPLATE'), { origin: { kind: 'create' } });
  await store.drain();
  const template = await journal.findOne({ _id: `${actorKey('order', 'BULK-TEMPLATE')}#0000000001` });
  const templateProjection = await actors.findOne({ _id: actorKey('order', 'BULK-TEMPLATE') });
  assert.ok(template && templateProjection);
  const clearSnapshot = JSON.stringify(runtime.personalData.openSnapshot(order, JSON.parse(template.snapshot) as never));
  const clearEvent = JSON.stringify(runtime.personalData.openEvent(order, template.eventType, JSON.parse(template.event) as unknown));
  const ids = Array.from({ length: 120 }, (_, i) => `BULK-${String(i + 1).padStart(3, '0')}`);
  const strip = <T extends { personalIndex?: string[] }>({ personalIndex: _index, ...doc }: T) => doc;
  await journal.insertMany(
    ids.map((id) => {
      const entryId = `${actorKey('order', id)}#0000000001`;
      return {
        ...strip(template),
        _id: entryId,
        actor: actorKey('order', id),
        commitId: randomUUID(),
        idem: entryId,
        snapshot: clearSnapshot,
        event: clearEvent,
      };
    }),
  );
  await actors.insertMany(ids.map((id) => ({ ...strip(templateProjection), _id: actorKey('order', id), id, snapshot: clearSnapshot })));
  await hubMeta.deleteMany({ _id: { $regex: `^${PERSONAL_DATA_BACKFILL_MARKER}` } });
  const bulkFirstEntries = async () =>
    (await journal.find({ actor: { $regex: '^order/BULK-\\d' }, revision: 1 }).toArray()).filter((entry) => entry.personalIndex);

  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    transports: [
      new transports.Stream({
        stream: new Writable({
          write: (chunk: Buffer, _encoding, done) => {
            lines.push(chunk.toString());
            done();
          },
        }),
      }),
    ],
  });
  const options = { collections: database.collections, store, registry, sealer: runtime.personalData, logger, progressEvery: 50 };
  const first = new PersonalDataBackfill(options);
  first.start();
  await eventually(async () => (await bulkFirstEntries()).length >= 10, 30_000, 'the first backfill to seal some');
  await first.stop();
  const sealedByFirst = await bulkFirstEntries();
  assert.ok(sealedByFirst.length < ids.length, `stopped half-way: ${sealedByFirst.length} of ${ids.length}`);
  assert.equal(await hubMeta.findOne({ _id: { $regex: `^${PERSONAL_DATA_BACKFILL_MARKER}:` } }), null, 'not marked done');

  const second = new PersonalDataBackfill(options);
  second.start();
  assert.equal(await second.isComplete(60_000), true, 'the second backfill completes');
  const all = await bulkFirstEntries();
  assert.equal(all.length, ids.length);
  for (const entry of all) assert.ok(!entry.snapshot.includes(EMAIL) && !entry.event.includes(EMAIL), `${entry.actor} is sealed`);
  const before = new Map(sealedByFirst.map((entry) => [entry._id, entry.snapshot]));
  for (const entry of all)
    if (before.has(entry._id)) assert.equal(entry.snapshot, before.get(entry._id), `${entry.actor} was not sealed again`);
  for (const id of ids.slice(0, 5)) {
    const projection = await actors.findOne({ _id: actorKey('order', id) });
    assert.ok(projection && !projection.snapshot.includes(EMAIL) && projection.personalIndex?.length === 2);
  }

  const log = lines.join('');
  assert.match(log, /personal data backfill progress/);
  assert.match(log, /personal data backfill complete/);
  for (const secret of [NAME, PHONE, EMAIL, '501114567']) assert.ok(!log.includes(secret), `the log does not name "${secret}"`);
  await second.stop();
});
