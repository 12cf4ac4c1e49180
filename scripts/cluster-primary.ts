import cluster, { type Worker } from 'node:cluster';
import { z } from 'zod';
import type { Logger } from 'winston';
import { startEchoSandbox, type EchoSandbox } from '../actors/platform/connectors/echo/sandbox.ts';
import { RouteRelay } from '../actors/runtime/cluster-router.ts';
import { allConnectors } from '../actors/platform/connectors/index.ts';
import { SandboxSupervisor } from '../actors/platform/connectors/kit/sandbox-supervisor.ts';
import type { Config } from '../common/config.ts';
import { developmentAdminKey } from '../http/server.ts';
import { createEveryCollection } from '../persistence/all-collections.ts';
import { openDatabaseServer, type DatabaseServer } from '../persistence/embedded-database.ts';
import { openNatsServer, type NatsServer } from '../persistence/embedded-nats/server.ts';
import { loadKeyring } from '../persistence/master-key.ts';
import { ensurePrivateDir } from '../persistence/private-files.ts';
import { SandboxCredentialsFile } from '../persistence/sandbox-credentials.ts';

/** What a worker tells its primary once it serves (scripts/start.ts). */
export const workerListeningSchema = z.object({ kind: z.literal('listening'), url: z.string() });
export type WorkerListening = z.infer<typeof workerListeningSchema>;

/** A worker that keeps dying is started again after 0.5 s, 1 s, 2 s … at most this. */
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that served this long before it died is restarted at once, as after a first failure. */
const HEALTHY_AFTER_MS = 60_000;

export interface ClusterPrimary {
  url: string;
  /** SIGTERM to every worker, each finishing its work; then the sandboxes and the embedded servers */
  stop(): Promise<void>;
  /** SIGHUP to every worker: each reads its TLS files again */
  reloadTls(): void;
}

interface Slot {
  worker: Worker;
  startedAt: number;
  failures: number;
  /** it serves: calls for the actors it owns are handed to it */
  listening: boolean;
}

/**
 * HUB_PROCESSES > 1: this process does what must happen once, then forks the
 * workers that are the hub (each serves HTTP on the shared port, runs effects,
 * timers and jobs; scripts/start.ts in a worker):
 * - the embedded database and nats-server, handed to the workers as
 *   MONGODB_URI and NATS_URL, so none of them starts its own (on PostgreSQL:
 *   two FerretDB front ends, worker i on front end i mod 2, every collection
 *   created through the first before any worker starts);
 * - the development keys in DATA_DIR (admin key, master key), made before
 *   the workers race to make different ones;
 * - the echo sandbox and every integration's sandbox (HUB_CLUSTER_SANDBOXES):
 *   a sandbox keeps state (an invoice, a Payme transaction, an idempotency
 *   key), so all workers must talk to one. Sandboxes call the public address,
 *   the port every worker shares.
 * The first worker starts alone (indexes, seeds and migrations made once),
 * the others after it. A worker that dies is forked again.
 */
export async function startClusterPrimary(config: Config, logger: Logger): Promise<ClusterPrimary> {
  const log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => logger.log(level, message, meta);
  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  const closeAll = async () => {
    for (const closer of closers.reverse()) {
      await closer.close().catch((error: unknown) => logger.warn(`closing ${closer.name} failed`, { error: String(error) }));
    }
  };
  const workerEnv: Record<string, string> = {};
  const slots: Slot[] = [];
  let stopping = false;
  try {
    await ensurePrivateDir(config.dataDir);
    if (!config.adminApiKey) await developmentAdminKey(config.dataDir, logger);
    // generates DATA_DIR/master-key when there is none (development only; production requires HUB_MASTER_KEY)
    if (!config.masterKey)
      await loadKeyring({ dataDir: config.dataDir, env: config.env, warn: (message, meta) => logger.warn(message, meta) });

    // HUB_EMBEDDED_DB=postgresql: two FerretDB front ends on one PostgreSQL, the workers alternately on each
    const database: DatabaseServer = await openDatabaseServer({
      mongodbUri: config.mongodbUri,
      embeddedDb: config.embeddedDb,
      frontEnds: 2,
      dataDir: config.dataDir,
      log,
    });
    closers.push({ name: 'database server', close: () => database.stop() });
    workerEnv.MONGODB_URI = database.uri;
    if (database.kind === 'ferretdb') workerEnv.HUB_EMBEDDED_DB = ''; // the workers use ours: nothing for them to ignore
    if (database.uris.length > 1) {
      // FerretDB loads collections and indexes once per process: all of them through the first front end before any
      // worker reaches the second. The first worker (on the first) then makes Agenda's alone, before the others start.
      await createEveryCollection(database.uri, config.mongodbDb);
    }
    const frontEndOf = (index: number): string => database.uris[index % database.uris.length] ?? database.uri;

    if (config.events.enabled) {
      const nats: NatsServer = await openNatsServer({ natsUrl: config.events.natsUrl, dataDir: config.dataDir, log });
      closers.push({ name: 'nats-server', close: () => nats.stop() });
      workerEnv.NATS_URL = nats.url;
    }

    if (!process.env.ECHO_BASE_URL) {
      const echo: EchoSandbox = await startEchoSandbox();
      closers.push({ name: 'echo sandbox', close: () => echo.close() });
      workerEnv.ECHO_BASE_URL = echo.url;
      logger.info('integration sandboxed', { integration: 'echo', url: echo.url });
    }

    if (config.sandboxes === 'auto') {
      // every known integration: which ones a worker leaves unconfigured it knows from the database, this process not
      const sandboxes = new SandboxSupervisor(logger, SandboxCredentialsFile.in(config.dataDir));
      closers.push({ name: 'sandboxes', close: () => sandboxes.stop() });
      await sandboxes.start(allConnectors);
      workerEnv.HUB_CLUSTER_SANDBOXES = JSON.stringify(sandboxes.forWorkers());
    }

    if (config.deviceEmulators === 'auto') {
      // each worker would start its own emulators on the same paths in DATA_DIR
      logger.warn('the device emulators run only in a hub of one process (HUB_PROCESSES=1); the workers start none');
      workerEnv.HUB_DEVICE_EMULATORS = 'off';
    }

    const relay = new RouteRelay(slots);
    const fork = (index: number, failures: number): Promise<string> => {
      const worker = cluster.fork({ ...workerEnv, MONGODB_URI: frontEndOf(index), HUB_CLUSTER_SLOT: `${index}/${config.processes}` });
      const slot: Slot = { worker, startedAt: Date.now(), failures, listening: false };
      slots[index] = slot;
      worker.on('message', (message: unknown) => relay.received(index, message));
      worker.on('exit', (code, signal) => {
        slot.listening = false;
        relay.ended(index);
        if (stopping || slots[index] !== slot) return;
        const livedMs = Date.now() - slot.startedAt;
        const nextFailures = livedMs >= HEALTHY_AFTER_MS ? 0 : slot.failures + 1;
        const delayMs = Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** Math.max(0, nextFailures - 1));
        logger.error('a hub process ended; it is started again', {
          pid: worker.process.pid,
          code,
          signal,
          livedMs,
          restartInMs: delayMs,
        });
        setTimeout(() => {
          if (stopping) return;
          fork(index, nextFailures).then(
            () => logger.info('hub process restarted', { pid: slots[index]?.worker.process.pid }),
            (error: unknown) => logger.error('a restarted hub process did not start', { error: String(error) }),
          );
        }, delayMs).unref();
      });
      return new Promise<string>((resolve, reject) => {
        worker.on('message', (message: unknown) => {
          const listening = workerListeningSchema.safeParse(message);
          if (!listening.success) return;
          slot.listening = true;
          resolve(listening.data.url);
        });
        worker.once('exit', (code, signal) =>
          reject(new Error(`hub process ${worker.process.pid} ended (${signal ?? `code ${code}`}) before it listened`)),
        );
      });
    };

    // Workers listen on PORT as configured: the primary holds one socket per address and port asked for, so
    // PORT=0 gives them all the port the first got (a different number would be a second bind of it).
    const url = await fork(0, 0);
    await Promise.all(Array.from({ length: config.processes - 1 }, (_, index) => fork(index + 1, 0)));
    logger.info('integration hub ready', { url, processes: config.processes, pids: slots.map((slot) => slot.worker.process.pid) });

    let stopped: Promise<void> | null = null;
    return {
      url,
      reloadTls: () => slots.forEach((slot) => slot.worker.process.kill('SIGHUP')),
      stop: () => {
        stopped ??= (async () => {
          stopping = true;
          await stopWorkers(slots, config.shutdownTimeoutMs, logger);
          await closeAll();
        })();
        return stopped;
      },
    };
  } catch (error) {
    stopping = true;
    await stopWorkers(slots, config.shutdownTimeoutMs, logger);
    await closeAll();
    throw error;
  }
}

/** SIGTERM to each live worker (its own graceful stop); SIGKILL to one still there after its timeout and a margin. */
async function stopWorkers(slots: Slot[], shutdownTimeoutMs: number, logger: Logger): Promise<void> {
  await Promise.all(
    slots.map(async ({ worker }) => {
      if (worker.isDead()) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.process.kill('SIGTERM');
      const killer = setTimeout(() => {
        logger.error('a hub process did not stop in time; killed', { pid: worker.process.pid });
        worker.process.kill('SIGKILL');
      }, shutdownTimeoutMs + 2_000);
      await exited;
      clearTimeout(killer);
    }),
  );
}
