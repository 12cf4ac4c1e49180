import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultBuildLog, ensureToolBuilt, repoRoot, runGo, type BuildLog } from '../../persistence/tool-build.ts';

/**
 * Builds the Temporal CLI (its `server start-dev` is the server we measure against) from the Go module proxy into
 * .tools/temporal once, and again when TEMPORAL_CLI_MODULE changes: a plain `go install` into a private GOBIN, then a
 * rename into place, as persistence/embedded-nats/build.ts does for nats-server.
 *
 * v1.5.1 is the newest version `go install` accepts: later go.mod files carry a `replace` directive, which
 * `go install module@version` refuses.
 */

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
const toolsDir = path.join(repoRoot, '.tools/temporal');
export const temporalBinary = path.join(toolsDir, 'temporal');

export async function ensureTemporalBinary(log: BuildLog = defaultBuildLog): Promise<string> {
  await mkdir(toolsDir, { recursive: true });
  return ensureToolBuilt(
    {
      title: 'the Temporal CLI (dev server)',
      binary: temporalBinary,
      stampFile: `${temporalBinary}.version`,
      stamp: TEMPORAL_CLI_MODULE,
      expectedDuration: 'a few minutes with a warm Go cache, about six without',
      build: async (output, buildLog) => {
        // GOBIN beside the binary, not in /tmp: the final rename must not cross file systems
        const gobin = await mkdtemp(path.join(toolsDir, '.gobin-'));
        try {
          await runGo(
            {
              args: ['install', '-trimpath', TEMPORAL_CLI_MODULE],
              cwd: toolsDir, // outside any module, so go.mod files around do not matter
              env: { ...process.env, GOBIN: gobin },
              label: 'go install',
              minimumGo: '1.24',
              missingGoAdvice: 'to build the Temporal dev server for `npm run bench:temporal`',
            },
            buildLog,
          );
          await rename(path.join(gobin, 'temporal'), output);
        } finally {
          await rm(gobin, { recursive: true, force: true });
        }
      },
    },
    log,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  ensureTemporalBinary().then(
    (binary) => process.stdout.write(`${binary}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
