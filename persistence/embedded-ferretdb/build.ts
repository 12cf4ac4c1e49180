import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultBuildLog, ensureToolBuilt, repoRoot, runGo, type BuildLog } from '../tool-build.ts';

/**
 * Builds our embedded FerretDB (persistence/embedded-ferretdb, FerretDB v1.24.2
 * with its SQLite backend) into .tools/ferretdb once, and again only when its
 * sources change. `go install` of FerretDB's own command would panic at start
 * (its version file is not in the module), hence a main of our own.
 *
 * `npm run build:db` builds it ahead of time and prints the binary's path.
 */

/** this folder holds the Go main it builds */
const sourceDir = path.dirname(fileURLToPath(import.meta.url));
export const ferretDbBinary = path.join(repoRoot, '.tools/ferretdb/hub-ferretdb');

/** sha256 over every .go file, go.mod and go.sum of the Go main (names included, sorted). */
async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const names = (await readdir(sourceDir)).filter((name) => name.endsWith('.go') || name === 'go.mod' || name === 'go.sum').sort();
  if (!names.includes('main.go')) throw new Error(`${sourceDir}/main.go is missing`);
  for (const name of names)
    hash
      .update(`${name}\0`)
      .update(await readFile(path.join(sourceDir, name)))
      .update('\0');
  return hash.digest('hex');
}

/**
 * The absolute path of a built, current binary; builds it when it is missing or its sources changed.
 * Concurrent callers (processes) wait for a single builder (persistence/tool-build.ts).
 */
export async function ensureFerretDbBinary(options: { log?: BuildLog } = {}): Promise<string> {
  return ensureToolBuilt(
    {
      title: 'the embedded FerretDB',
      binary: ferretDbBinary,
      stampFile: `${ferretDbBinary}.sha256`,
      stamp: await sourceHash(),
      expectedDuration: 'about a minute',
      build: (output, log) =>
        runGo(
          {
            args: ['build', '-trimpath', '-buildvcs=false', '-mod=readonly', '-o', output, '.'],
            cwd: sourceDir,
            label: 'go build',
            minimumGo: '1.24',
            missingGoAdvice: 'to build the embedded FerretDB, or set MONGODB_URI to use an existing MongoDB',
          },
          log,
        ),
    },
    options.log ?? defaultBuildLog,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  ensureFerretDbBinary().then(
    (binary) => process.stdout.write(`${binary}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
