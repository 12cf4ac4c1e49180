import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allConnectors } from '../../actors/platform/connectors/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sandbox(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/sandbox.ts'), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => output };
}

test('npm run sandbox without a known name lists the sandboxes and exits 2', async () => {
  const run = sandbox(['no-such-service']);
  assert.equal(await run.exited, 2);
  assert.match(run.output(), /sandboxes: .*echo/);
  for (const connector of allConnectors) assert.match(run.output(), new RegExp(connector.name));
});

test('npm run sandbox -- <name> serves that protocol until stopped', async () => {
  const names = ['echo', ...allConnectors.map((c) => c.name)];
  for (const name of names) {
    const run = sandbox([name, '--port', '0']);
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL from the ${name} sandbox:\n${run.output()}`)), 20_000);
      run.child.stdout.on('data', () => {
        const match = /listening on (http:\/\/\S+)/.exec(run.output());
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    const probe = await fetch(name === 'echo' ? `${url}/health` : `${url}/__sandbox/state`);
    assert.equal(probe.status, 200, `${name} answers`);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
  }
});
