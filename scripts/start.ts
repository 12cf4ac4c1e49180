import cluster from 'node:cluster';
import { ConfigError, loadConfig } from '../common/config.ts';
import { createLogger } from '../common/logger.ts';
import { channelToPrimary, ClusterRouter } from '../actors/runtime/cluster-router.ts';
import { startHub } from '../http/server.ts';
import { startClusterPrimary, type WorkerListening } from './cluster-primary.ts';

/**
 * `npm start`: the whole service with its embedded defaults — a FerretDB under
 * DATA_DIR when MONGODB_URI is unset, sandboxes for every integration without
 * credentials. SIGTERM/SIGINT stop it gracefully within HUB_SHUTDOWN_TIMEOUT_MS;
 * so does the end of the process that started it (`npm start` killed leaves
 * this process re-parented, and nobody left to stop it). SIGHUP reloads the
 * TLS certificate.
 *
 * `npm start -- --processes N` (HUB_PROCESSES=N, N > 1): this process becomes
 * a cluster primary (scripts/cluster-primary.ts) and N workers, each this
 * script again, are the hub.
 */
const PARENT_CHECK_MS = 1_000;

const processesFlag = process.argv.findIndex((arg) => arg === '--processes' || arg.startsWith('--processes='));
if (processesFlag >= 0) {
  const flag = process.argv[processesFlag] ?? '';
  process.env.HUB_PROCESSES = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : (process.argv[processesFlag + 1] ?? '');
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`Configuration is invalid:\n${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

const logger = createLogger({ level: config.logLevel, json: config.env === 'production' });

// What the service and its children (the embedded database, the emulators' socat) create is for this user only;
// DATA_DIR itself and the files the hub writes there get their modes explicitly (persistence/private-files.ts).
process.umask(0o077);

const primary = cluster.isPrimary && config.processes > 1;

try {
  let stop: () => Promise<void>;
  let reloadTls: () => void;
  if (primary) {
    const hub = await startClusterPrimary(config, logger);
    stop = hub.stop;
    reloadTls = hub.reloadTls;
    process.stdout.write(`Integration hub listening on ${hub.url} (${config.processes} processes)\n`);
  } else {
    const worker = cluster.isWorker ? cluster.worker : undefined;
    // the IPC channel to the primary exists in a worker only
    const channel = channelToPrimary();
    const router =
      worker && channel && config.clusterSlot && config.actorRouting ? new ClusterRouter({ ...config.clusterSlot, channel }) : undefined;
    const hub = await startHub(config, {
      logger,
      echoBaseUrl: process.env.ECHO_BASE_URL || undefined,
      ...(worker ? { processLabel: `${worker.id}; pid=${process.pid}` } : {}),
      ...(router ? { router } : {}),
    });
    stop = () => hub.stop();
    reloadTls = () => void hub.reloadTls();
    // a worker's primary says it once for all of them
    if (worker) process.send?.({ kind: 'listening', url: hub.url } satisfies WorkerListening);
    else process.stdout.write(`Integration hub listening on ${hub.url}\n`);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // a primary waits for its workers' own graceful stops, then stops the embedded servers
    const timeoutMs = primary ? config.shutdownTimeoutMs + 5_000 : config.shutdownTimeoutMs;
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long; exiting', { timeoutMs });
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (config.tls) process.on('SIGHUP', reloadTls);

  // Under npm (npm → sh → node) a SIGTERM to npm ends npm and the shell but not us: we would serve on as
  // an orphan. A parent that changes means the one that started us is gone. Started by init (a container's
  // PID 1, systemd running node directly), there is no such parent to watch. (A cluster's worker also
  // ends at once when its primary's IPC channel closes: Node's cluster does that.)
  const startedBy = process.ppid;
  if (startedBy > 1) {
    setInterval(() => {
      if (process.ppid !== startedBy) shutdown('parent process ended');
    }, PARENT_CHECK_MS).unref();
  }
} catch (error) {
  logger.error('the hub could not start', { error: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
}
