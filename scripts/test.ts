import { spawn, type ChildProcess } from 'node:child_process';
import { access, readdir, rm } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabaseServer, type DatabaseServer } from '../persistence/embedded-database.ts';

/**
 * `npm run test:only [files…]`: every test/**\/*.test.ts (or the files given)
 * against one real database: MONGODB_URI when set, else one embedded FerretDB
 * for the whole run (data in test-output/db-<pid>, deleted afterwards). Tests
 * pick their own database names. Node 20's --test does not expand globs,
 * hence the file list. Two files run at once; a `*.alone.test.ts` runs by
 * itself after the others (bounded by TEST_ALONE_TIMEOUT_MS, default 45 min).
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.join(repoRoot, 'test-output', `db-${process.pid}`);

async function testFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await testFiles(full)));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(full);
  }
  return found;
}

let server: DatabaseServer | null = null;
let tests: ChildProcess | null = null;
let interrupted: NodeJS.Signals | null = null;

async function cleanup(): Promise<void> {
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
}

function exitCodeFor(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 1);
}

// Ctrl-C / SIGTERM: pass it on to the tests; the database is stopped once they are gone
// (or right away if they have not started yet). A second signal gives up waiting.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      tests?.kill('SIGKILL');
      void cleanup().finally(() => process.exit(exitCodeFor(signal)));
      return;
    }
    interrupted = signal;
    if (tests) tests.kill(signal);
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = args.length > 0 ? args.map((file) => path.resolve(file)) : (await testFiles(path.join(repoRoot, 'test'))).sort();
  for (const file of files) {
    await access(file).catch(() => {
      throw new Error(`no such test file: ${file}`);
    });
  }
  if (files.length === 0) throw new Error('no test files found under test/');

  let uri = process.env.MONGODB_URI;
  if (!uri) {
    server = await openDatabaseServer({
      dataDir,
      log: (level, message, meta) => {
        // Build progress and problems; not every start-up detail.
        if (level !== 'info' || /^(build|waiting|go build)/.test(message)) {
          process.stderr.write(`${message}${meta ? ` ${JSON.stringify(meta)}` : ''}\n`);
        }
      },
    });
    uri = server.uri;
    process.stderr.write(`tests use the embedded FerretDB at ${uri} (data in ${path.relative(repoRoot, dataDir)})\n`);
  }
  if (interrupted) return exitCodeFor(interrupted);

  // Files that load the whole machine (several hub processes under SIGKILL, thousands of orders) run alone,
  // after the others: beside another file each would slow it past its bounds, and be slowed itself.
  const together = files.filter((file) => !isAlone(file));
  const alone = files.filter(isAlone);
  let failed = 0;
  if (together.length > 0) failed = await runFiles(together, uri, 2, testTimeoutMs());
  for (const file of alone) {
    if (interrupted) return exitCodeFor(interrupted);
    process.stderr.write(`\n${path.relative(repoRoot, file)} runs alone (the whole machine is its)\n`);
    const code = await runFiles([file], uri, 1, aloneTimeoutMs());
    failed ||= code;
  }
  return failed;
}

/** `*.alone.test.ts`: a file that runs by itself, with the longer bound of TEST_ALONE_TIMEOUT_MS. */
function isAlone(file: string): boolean {
  return file.endsWith('.alone.test.ts');
}

/** Node's runner over `files`, `concurrency` files at once, each test bounded by `timeoutMs`; answers its exit code. */
function runFiles(files: string[], uri: string, concurrency: number, timeoutMs: number): Promise<number> {
  const child = spawn(
    process.execPath,
    // TEST_TIMEOUT_MS: a longer bound for a long run of one file (`npm run fuzz`)
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, '--test-reporter=spec', ...files],
    { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', MONGODB_URI: uri } },
  );
  tests = child;
  return new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? exitCodeFor(signal) : 1)));
  });
}

let exitCode: number;
try {
  exitCode = await main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  exitCode = interrupted ? exitCodeFor(interrupted) : 1;
} finally {
  await cleanup();
}
process.exit(exitCode);

/** Each test's bound: 300 s unless TEST_TIMEOUT_MS says otherwise. */
function testTimeoutMs(): number {
  const given = Number(process.env.TEST_TIMEOUT_MS);
  return Number.isSafeInteger(given) && given > 0 ? given : 300_000;
}

/** The bound of a file that runs alone: 45 min unless TEST_ALONE_TIMEOUT_MS says otherwise. */
function aloneTimeoutMs(): number {
  const given = Number(process.env.TEST_ALONE_TIMEOUT_MS);
  return Number.isSafeInteger(given) && given > 0 ? given : 45 * 60_000;
}
