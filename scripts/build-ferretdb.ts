import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Builds our embedded FerretDB (persistence/embedded-ferretdb, FerretDB v1.24.2
 * with its SQLite backend) into .tools/ferretdb once, and again only when its
 * sources change. `go install` of FerretDB's own command would panic at start
 * (its version file is not in the module), hence a main of our own.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = path.join(repoRoot, 'persistence/embedded-ferretdb');
const toolsDir = path.join(repoRoot, '.tools/ferretdb');
export const ferretDbBinary = path.join(toolsDir, 'hub-ferretdb');
const stampFile = `${ferretDbBinary}.sha256`;
const lockFile = path.join(toolsDir, 'build.lock');

async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const names = (await readdir(sourceDir)).filter((name) => name.endsWith('.go') || name === 'go.mod' || name === 'go.sum').sort();
  for (const name of names) hash.update(name).update(await readFile(path.join(sourceDir, name)));
  return hash.digest('hex');
}

async function upToDate(expected: string): Promise<boolean> {
  try {
    await stat(ferretDbBinary);
    return (await readFile(stampFile, 'utf8')).trim() === expected;
  } catch {
    return false;
  }
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new Error(`"${command}" was not found: install Go >= 1.24 (it builds the embedded FerretDB), or set MONGODB_URI to use an existing MongoDB`) : error);
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${stderr.slice(-4000)}`))));
  });
}

/** The path of a built, current binary; builds it when needed (concurrent callers wait for one build). */
export async function ensureFerretDbBinary(options: { log?: (message: string) => void } = {}): Promise<string> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const expected = await sourceHash();
  if (await upToDate(expected)) return ferretDbBinary;
  await mkdir(toolsDir, { recursive: true });

  // One builder at a time: an exclusive lock file; others wait for it to go.
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (await stat(lockFile).then((s) => s.mtimeMs).catch(() => Date.now()));
      if (age > 15 * 60_000) await rm(lockFile, { force: true }); // a builder that died
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (await upToDate(expected)) return ferretDbBinary;
    }
  }
  try {
    if (await upToDate(expected)) return ferretDbBinary;
    log('building the embedded FerretDB (first run only; about a minute)…');
    const temporary = `${ferretDbBinary}.${process.pid}.tmp`;
    await run('go', ['build', '-trimpath', '-o', temporary, '.'], sourceDir, { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' });
    await rename(temporary, ferretDbBinary);
    await writeFile(stampFile, `${expected}\n`);
    log(`built ${path.relative(repoRoot, ferretDbBinary)}`);
    return ferretDbBinary;
  } finally {
    await rm(lockFile, { force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureFerretDbBinary().then(
    (binary) => process.stdout.write(`${binary}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
