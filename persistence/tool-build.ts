import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * The binaries we build from Go sources into .tools/ (the embedded FerretDB,
 * nats-server): built once, again only when what they are built from
 * changes (a stamp file beside the binary says what that was), and by one
 * process at a time — concurrent callers (a test run, `npm start`, CI's
 * prebuild) wait on an exclusive lock file instead of building twice.
 */

export type BuildLog = (message: string) => void;

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ToolBuild {
  /** what the messages call it: "the embedded FerretDB" */
  title: string;
  /** absolute path of the installed binary */
  binary: string;
  /** the stamp file beside it */
  stampFile: string;
  /** what the binary must have been built from (a source hash, a module version); another value rebuilds */
  stamp: string;
  /** said while the first build runs: "about a minute" */
  expectedDuration: string;
  /** writes a fresh binary to `output`, a path in the binary's own folder so that installing it is a rename */
  build(output: string, log: BuildLog): Promise<void>;
}

/** A lock older than this is taken over even if its owner seems alive (a hung build). */
const staleLockMs = 15 * 60_000;
const lockPollMs = 500;

export function defaultBuildLog(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function upToDate(tool: ToolBuild): Promise<boolean> {
  try {
    if (!(await stat(tool.binary)).isFile()) return false;
    return (await readFile(tool.stampFile, 'utf8')).trim() === tool.stamp;
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
async function removeStaleLock(lockFile: string): Promise<void> {
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

/** Takes the build lock, or answers 'built' if another process finished the build while we waited. */
async function lockOrWait(tool: ToolBuild, lockFile: string, log: BuildLog): Promise<'locked' | 'built'> {
  let waited = false;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      try {
        await handle.writeFile(String(process.pid));
      } finally {
        await handle.close();
      }
      return 'locked';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!waited) log(`waiting for another process that is building ${tool.title}…`);
      waited = true;
      await removeStaleLock(lockFile);
      await new Promise((resolve) => setTimeout(resolve, lockPollMs));
      if (await upToDate(tool)) return 'built';
    }
  }
}

/**
 * The absolute path of a built, current binary; builds it when it is missing or its stamp differs.
 * Concurrent callers (processes) wait for a single builder: an exclusive lock file beside the binary.
 */
export async function ensureToolBuilt(tool: ToolBuild, log: BuildLog = defaultBuildLog): Promise<string> {
  if (await upToDate(tool)) return tool.binary;
  const dir = path.dirname(tool.binary);
  await mkdir(dir, { recursive: true });
  const lockFile = path.join(dir, 'build.lock');
  if ((await lockOrWait(tool, lockFile, log)) === 'built') return tool.binary;

  const temporary = `${tool.binary}.${process.pid}.tmp`;
  try {
    if (await upToDate(tool)) return tool.binary; // built by the holder we waited for
    log(`building ${tool.title} (first run only; ${tool.expectedDuration})…`);
    const started = Date.now();
    await tool.build(temporary, log);
    await rename(temporary, tool.binary); // atomic: a running server keeps its old inode
    await writeFile(tool.stampFile, `${tool.stamp}\n`);
    log(`built ${path.relative(repoRoot, tool.binary)} in ${Math.round((Date.now() - started) / 1000)} s`);
    return tool.binary;
  } finally {
    await rm(temporary, { force: true });
    await rm(lockFile, { force: true });
  }
}

export interface GoCommand {
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** prefixes each line of go's output in the log: "go build" */
  label: string;
  /** completes '"go" was not found on PATH: install Go >= …': "1.24" */
  minimumGo: string;
  /** "to build the embedded FerretDB, or set MONGODB_URI to use an existing MongoDB" */
  missingGoAdvice: string;
}

/** Output that means go could not reach the module proxy (DNS, refused, timeouts, TLS, an HTTP error). */
const unreachableProxy =
  /dial tcp|no such host|i\/o timeout|connection refused|network is unreachable|TLS handshake|proxyconnect|reading https?:\/\/\S+: \d{3}/i;

/** Runs go with CGO off, its output in the log line by line; a failure carries the tail of that output. */
export function runGo(command: GoCommand, log: BuildLog): Promise<void> {
  const { args, cwd, label } = command;
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd, env: { ...(command.env ?? process.env), CGO_ENABLED: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (line: string) => {
      output = `${output}${line}\n`.slice(-8000);
      log(`${label}: ${line}`);
    };
    createInterface({ input: child.stdout }).on('line', collect);
    createInterface({ input: child.stderr }).on('line', collect);
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new Error(`"go" was not found on PATH: install Go >= ${command.minimumGo} (https://go.dev/dl/) ${command.missingGoAdvice}`)
          : error,
      );
    });
    child.once('close', (code, signal) => {
      if (code === 0) {
        resolve();
        return;
      }
      const cause = unreachableProxy.test(output)
        ? 'the Go module proxy could not be reached (see `go env GOPROXY`; the first build downloads modules)'
        : `needs Go >= ${command.minimumGo} and network access to the Go module proxy on the first build`;
      reject(new Error(`go ${args.join(' ')} failed in ${cwd} (${signal ?? `exit ${code}`}); ${cause}:\n${output}`));
    });
  });
}
