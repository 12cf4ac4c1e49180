import { mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultBuildLog, ensureToolBuilt, repoRoot, runGo, type BuildLog } from '../tool-build.ts';

/**
 * Builds nats-server (the embedded event bus) from the Go module proxy into
 * .tools/nats-server once, and again when NATS_SERVER_MODULE changes. Unlike
 * FerretDB's, nats-server's own command runs as installed, so this is a plain
 * `go install module@version` into a private GOBIN, then a rename into place.
 *
 * `npm run build:nats` builds it ahead of time and prints the binary's path.
 */

export const NATS_SERVER_MODULE = 'github.com/nats-io/nats-server/v2@v2.15.3';
/** the module's go.mod says `go 1.26.0` */
const minimumGo = '1.26';
const defaultToolsDir = path.join(repoRoot, '.tools/nats-server');

export interface NatsServerBuildOptions {
  log?: BuildLog;
  /** where the binary, its stamp and the build lock live; tests build into a folder of their own */
  toolsDir?: string;
}

/** The binary's path under `toolsDir` (built or not). */
export function natsServerBinaryPath(toolsDir = defaultToolsDir): string {
  return path.join(path.resolve(toolsDir), 'nats-server');
}

/**
 * The absolute path of a built nats-server of NATS_SERVER_MODULE's version; builds it when it is missing
 * or was built from another version. Concurrent callers (processes) wait for a single builder.
 */
export async function ensureNatsServerBinary(options: NatsServerBuildOptions = {}): Promise<string> {
  const binary = natsServerBinaryPath(options.toolsDir);
  const toolsDir = path.dirname(binary);
  return ensureToolBuilt(
    {
      title: 'nats-server',
      binary,
      stampFile: `${binary}.version`,
      stamp: NATS_SERVER_MODULE,
      expectedDuration: 'about a minute',
      build: async (output, log) => {
        // GOBIN beside the binary, not in /tmp: the final rename must not cross file systems.
        const gobin = await mkdtemp(path.join(toolsDir, '.gobin-'));
        try {
          await runGo(
            {
              args: ['install', '-trimpath', NATS_SERVER_MODULE],
              cwd: toolsDir, // outside any module, so go.mod files around do not matter
              env: { ...process.env, GOBIN: gobin },
              label: 'go install',
              minimumGo,
              missingGoAdvice: 'to build the embedded nats-server, or set NATS_URL to use an existing NATS server',
            },
            log,
          );
          await rename(path.join(gobin, 'nats-server'), output);
        } finally {
          await rm(gobin, { recursive: true, force: true });
        }
      },
    },
    options.log ?? defaultBuildLog,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  ensureNatsServerBinary().then(
    (binary) => process.stdout.write(`${binary}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
