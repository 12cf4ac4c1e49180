import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { initialTransition } from 'xstate';
import { PersonalDataSealer } from '../actors/runtime/personal-data.ts';
import type { PersistedSnapshotJson } from '../machines/machine-module.ts';
import order, { type OrderInput } from '../machines/order.ts';
import { orderPolicySchema } from '../machines/order-rules.ts';
import { PersonalDataCipher } from '../persistence/personal-data-key.ts';
import { log } from './bench-support.ts';

/**
 * `npm run bench:personal-data`: what sealing personal data costs on the order path.
 *
 * A commit of an order writes its snapshot (sealed), its journal event (the creation's input, sealed) and the
 * keyed hashes of its phone and e-mail; a load opens the snapshot. This times exactly those calls on a real
 * order snapshot (the machine's own initial state for a real input), against the JSON work the same commit does
 * anyway, and sets the difference beside the time a commit takes end to end (`--commit-ms`, from
 * `npm run bench`: 1000 ÷ its events/s).
 */

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '20000' },
    'commit-ms': { type: 'string', default: '1.68' },
  },
});
const iterations = Number(values.iterations);
const commitMs = Number(values['commit-ms']);
if (!Number.isInteger(iterations) || iterations < 100) throw new Error('--iterations must be an integer of at least 100');
if (!(commitMs > 0)) throw new Error('--commit-ms must be a positive number');

const input: OrderInput = {
  orderId: 'BENCH-1',
  acceptedAt: '2026-12-03T10:00:00.000Z',
  externalId: 'BENCH-1',
  source: 'shop',
  customer: { name: 'Олена Петренко', phone: '+380501234567', email: 'olena@example.com' },
  items: [
    { sku: 'CUP-1', name: 'Чашка', qty: 2, unitPrice: 25_000 },
    { sku: 'TEA-1', name: 'Чай', qty: 1, unitPrice: 18_000 },
  ],
  currency: 'UAH',
  delivery: {
    carrier: 'novaposhta',
    cityRef: 'city-1',
    warehouseRef: 'wh-1',
    fee: 0,
    address: { street: 'вул. Хрещатик', house: '1', flat: '5' },
  },
  payment: { method: 'monobank' },
  total: 68_000,
  policy: orderPolicySchema.parse({}),
};

function timeUs(label: string, run: () => unknown): number {
  for (let i = 0; i < Math.min(1000, iterations); i += 1) run();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) run();
  const us = Number(process.hrtime.bigint() - started) / 1000 / iterations;
  log(`  ${label.padEnd(58)} ${us.toFixed(2).padStart(8)} µs`);
  return us;
}

function main() {
  log(`machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}; ${iterations} iterations each`);
  const sealer = new PersonalDataSealer(new PersonalDataCipher(randomBytes(32)));
  const [start] = initialTransition(order.machine, input);
  const snapshot = order.machine.getPersistedSnapshot(start) as unknown as PersistedSnapshotJson;
  const event = { type: 'xstate.init', input };
  const sealedSnapshot = JSON.stringify(sealer.sealSnapshot(order, snapshot));
  const plainSnapshot = JSON.stringify(snapshot);
  log(`an order snapshot: ${plainSnapshot.length} bytes of JSON, ${sealedSnapshot.length} sealed`);

  log('a commit (write):');
  const plainWrite = timeUs('JSON of the snapshot and the event, in clear', () => JSON.stringify(snapshot) + JSON.stringify(event));
  const sealedWrite = timeUs('the same, sealed, with the phone and e-mail hashes', () => {
    const text = JSON.stringify(sealer.sealSnapshot(order, snapshot)) + JSON.stringify(sealer.sealEvent(order, 'xstate.init', event));
    return text + sealer.indexOf(order, snapshot.context).join();
  });
  log('a load (read):');
  const plainRead = timeUs('parse the snapshot, in clear', () => JSON.parse(plainSnapshot) as unknown);
  const sealedRead = timeUs('parse the sealed snapshot and open it', () =>
    sealer.openSnapshot(order, JSON.parse(sealedSnapshot) as PersistedSnapshotJson),
  );

  const perCommitUs = sealedWrite - plainWrite;
  const perLoadUs = sealedRead - plainRead;
  log('');
  log(`sealing adds ${perCommitUs.toFixed(1)} µs to an order's commit and ${perLoadUs.toFixed(1)} µs to a load from the database;`);
  log(
    `beside a commit of ${commitMs} ms end to end (npm run bench), that is ${((perCommitUs / 1000 / commitMs) * 100).toFixed(2)} % of a commit on one core.`,
  );
  process.stdout.write(
    `${JSON.stringify({ iterations, commitMs, perCommitUs, perLoadUs, plainWrite, sealedWrite, plainRead, sealedRead })}\n`,
  );
}

main();
