import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench:temporal` (the root's script): installs this package's own dependencies on first use, and again
 * when its lockfile changes (the hub's install never does: this is not a workspace), then runs the benchmark.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const stampFile = path.join(here, 'node_modules/.bench-lock-sha256');
const lock = createHash('sha256')
  .update(await readFile(path.join(here, 'package-lock.json')))
  .digest('hex');
const installed = await readFile(stampFile, 'utf8').catch(() => '');
if (installed.trim() !== lock) {
  process.stderr.write('installing bench/temporal (its own package: @temporalio/*)…\n');
  const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status ?? 1);
  await writeFile(stampFile, `${lock}\n`);
}
// a process of its own: the packages just installed are resolved fresh
const child = spawn(process.execPath, [...process.execArgv, path.join(here, 'run.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
