import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
const repoRoot = path.resolve(sourceDir, '../..');
const toolsDir = path.join(repoRoot, '.tools/ferretdb');
export const ferretDbBinary = path.join(toolsDir, 'hub-ferretdb');
const stampFile = `${ferretDbBinary}.sha256`;
const lockFile = path.join(toolsDir, 'build.lock');
/** A lock older than this is taken over even if its owner seems alive (a hung build). */
const staleLockMs = 15 * 60_000;

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

async function upToDate(expected: string): Promise<boolean> {
  try {
    if (!(await stat(ferretDbBinary)).isFile()) return false;
    return (await readFile(stampFile, 'utf8')).trim() === expected;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the lock if its builder died (its pid is gone) or it is older than staleLockMs. */
async function removeStaleLock(): Promise<void> {
  let content: string;
  let mtimeMs: number;
  try {
    content = (await readFile(lockFile, 'utf8')).trim();
    mtimeMs = (await stat(lockFile)).mtimeMs;
  } catch {
    return; // gone already (or not yet written: judge it on the next round)
  }
  const pid = Number(content);
  const dead = Number.isInteger(pid) && pid > 0 && !processAlive(pid);
  if (!dead && Date.now() - mtimeMs < staleLockMs) return;
  // Only remove the lock we judged, not a fresh one someone took meanwhile.
  const now = await readFile(lockFile, 'utf8').catch(() => null);
  if (now !== null && now.trim() === content) await rm(lockFile, { force: true });
}

function goBuild(output: string, log: (message: string) => void): Promise<void> {
  const args = ['build', '-trimpath', '-buildvcs=false', '-mod=readonly', '-o', output, '.'];
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd: sourceDir, env: { ...process.env, CGO_ENABLED: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const collect = (line: string) => {
      stderr = `${stderr}${line}\n`.slice(-8000);
      log(`go build: ${line}`);
    };
    createInterface({ input: child.stdout }).on('line', collect);
    createInterface({ input: child.stderr }).on('line', collect);
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new Error(
              '"go" was not found on PATH: install Go >= 1.24 (https://go.dev/dl/) to build the embedded FerretDB, or set MONGODB_URI to use an existing MongoDB',
            )
          : error,
      );
    });
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `go ${args.join(' ')} failed in ${sourceDir} (${signal ?? `exit ${code}`}); needs Go >= 1.24 and network access to the Go module proxy on the first build:\n${stderr}`,
          ),
        );
    });
  });
}

/**
 * The absolute path of a built, current binary; builds it when it is missing or its sources changed.
 * Concurrent callers (processes) wait for a single builder: an exclusive lock file beside the binary.
 */
export async function ensureFerretDbBinary(options: { log?: (message: string) => void } = {}): Promise<string> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const expected = await sourceHash();
  if (await upToDate(expected)) return ferretDbBinary;
  await mkdir(toolsDir, { recursive: true });

  let waited = false;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      try {
        await handle.writeFile(String(process.pid));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!waited) log('waiting for another process that is building the embedded FerretDB…');
      waited = true;
      await removeStaleLock();
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (await upToDate(expected)) return ferretDbBinary;
    }
  }

  const temporary = `${ferretDbBinary}.${process.pid}.tmp`;
  try {
    if (await upToDate(expected)) return ferretDbBinary; // built by the holder we waited for
    log('building the embedded FerretDB (first run only; about a minute)…');
    const started = Date.now();
    await goBuild(temporary, log);
    await rename(temporary, ferretDbBinary); // atomic: a running server keeps its old inode
    await writeFile(stampFile, `${expected}\n`);
    log(`built ${path.relative(repoRoot, ferretDbBinary)} in ${Math.round((Date.now() - started) / 1000)} s`);
    return ferretDbBinary;
  } finally {
    await rm(temporary, { force: true });
    await rm(lockFile, { force: true });
  }
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
