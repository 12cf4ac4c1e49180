import { spawn } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabaseServer, type DatabaseServer } from '../persistence/embedded-database.ts';

/**
 * `npm run test:only [files…]`: every test under test/ against one real
 * database: MONGODB_URI when set, else one embedded FerretDB for the run.
 * (Node 20's --test does not expand globs, hence the file list.)
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function testFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await testFiles(full)));
    else if (entry.name.endsWith('.test.ts')) found.push(full);
  }
  return found.sort();
}

const args = process.argv.slice(2);
const files = args.length > 0 ? args.map((file) => path.resolve(file)) : await testFiles(path.join(repoRoot, 'test'));
let server: DatabaseServer | null = null;
const dataDir = path.join(repoRoot, 'test-output', `db-${process.pid}`);

async function cleanup() {
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
}

let exitCode = 1;
try {
  if (!process.env.MONGODB_URI) {
    await mkdir(dataDir, { recursive: true });
    server = await openDatabaseServer({
      dataDir,
      log: (level, message) => {
        if (level !== 'info' || message.startsWith('built') || message.startsWith('building')) process.stderr.write(`${message}\n`);
      },
    });
    process.stderr.write(`tests use the embedded FerretDB at ${server.uri}\n`);
  }
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', '--test-reporter=spec', ...files],
    {
      cwd: repoRoot,
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'test', MONGODB_URI: process.env.MONGODB_URI ?? server?.uri },
    },
  );
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  exitCode = await new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  await cleanup();
}
process.exit(exitCode);
