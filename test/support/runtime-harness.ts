import { createLogger } from '../../common/logger.ts';
import type { MachineModule } from '../../machines/machine-module.ts';
import type { BoundEffects } from '../../actors/runtime/effects.ts';
import type { MachineRegistry } from '../../actors/runtime/registry.ts';
import type { ActorRuntime, ActorRuntimeOptions } from '../../actors/runtime/runtime.ts';
import type { ActorStore } from '../../actors/runtime/store.ts';
import type { ActorRouter } from '../../actors/runtime/actor-routing.ts';
import type { DurableWorker } from '../../actors/runtime/worker.ts';
import { createDurableRuntime } from '../../actors/system.ts';
import { systemClock, type Clock } from '../../actors/runtime/clock.ts';
import { connectDatabase, type Database } from '../../persistence/database.ts';
import { databaseUri, eventually } from './database.ts';
import type { ActorView } from '../../actors/runtime/runtime.ts';
import { PersonalDataSealer } from '../../actors/runtime/personal-data.ts';
import { loadPersonalDataKey } from '../../persistence/personal-data-key.ts';
import { Keyring } from '../../persistence/secret-box.ts';
import { TEST_MASTER_KEY } from './hub-process.ts';

/** The personal data key of a test database, under the master key test hubs run with (so both read each other's actors). */
export async function testPersonalData(database: Database): Promise<PersonalDataSealer> {
  return new PersonalDataSealer(
    await loadPersonalDataKey(database.collections.hubMeta, new Keyring(Buffer.from(TEST_MASTER_KEY, 'base64'))),
  );
}

/** The service's own (redacting) logger, quiet unless TEST_LOG_LEVEL asks for more. */
export const quietLogger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error', json: false });

export interface Harness {
  database: Database;
  runtime: ActorRuntime;
  store: ActorStore;
  worker: DurableWorker;
  registry: MachineRegistry;
  close(): Promise<void>;
}

/** A runtime in this process on a real database (the one the test run started). */
export async function startRuntime(options: {
  dbName: string;
  machines: MachineModule[];
  effects?: BoundEffects[];
  cacheSize?: number;
  clock?: Clock;
  pollMs?: number;
  maxAttempts?: number;
  effectTimeoutMs?: number;
  /** how long a claim on an effect lasts unless renewed (default 30 s) */
  leaseMs?: number;
  /** names this runtime's claims, as a process id names a hub process's */
  ownerId?: string;
  startWorker?: boolean;
  /** how long an actor stays quiet before this process writes its projection (default 2 s) */
  projectionQuietMs?: number;
  /** how old a projections_due record must be before this process's worker repairs it (default 15 s) */
  projectionRepairAfterMs?: number;
  database?: Database;
  onTransitioned?: ActorRuntimeOptions['onTransitioned'];
  router?: ActorRouter;
}): Promise<Harness> {
  const database = options.database ?? (await connectDatabase(databaseUri(), options.dbName));
  // the service's own wiring (actors/system.ts), with a test's machines, effects and quick polls
  const { registry, store, runtime, worker } = createDurableRuntime({
    collections: database.collections,
    logger: quietLogger,
    clock: options.clock ?? systemClock,
    machines: options.machines,
    effects: options.effects ?? [],
    cacheSize: options.cacheSize ?? 100,
    ...(options.projectionQuietMs === undefined ? {} : { projectionQuietMs: options.projectionQuietMs }),
    personalData: await testPersonalData(database),
    ownerId: options.ownerId ?? `test-${process.pid}`,
    worker: {
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
      pollMs: options.pollMs ?? 200,
      maxAttempts: options.maxAttempts ?? 3,
      effectTimeoutMs: options.effectTimeoutMs,
      backoff: { baseMs: 20, maxMs: 100 },
      ...(options.projectionRepairAfterMs === undefined ? {} : { projectionRepairAfterMs: options.projectionRepairAfterMs }),
    },
    ...(options.onTransitioned ? { onTransitioned: options.onTransitioned } : {}),
    ...(options.router ? { router: options.router } : {}),
  });
  const started = worker;
  if (options.startWorker !== false) await started.start();
  return {
    database,
    runtime,
    store,
    worker: started,
    registry,
    async close() {
      await started.stop(1000);
      await runtime.idle();
      if (!options.database) await database.close();
    },
  };
}

/** Polls an actor through the runtime until it is in `state`. */
export function waitForState(runtime: ActorRuntime, type: string, id: string, state: string, timeoutMs = 10_000): Promise<ActorView> {
  return eventually(
    async () => {
      const view = await runtime.get(type, id);
      return view.state === state ? view : undefined;
    },
    timeoutMs,
    `${type}/${id} to reach ${state}`,
  );
}
