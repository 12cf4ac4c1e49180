import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NATS_SERVER_MODULE, natsServerBinaryPath } from '../../persistence/embedded-nats/build.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const temporaryDirs: string[] = [];

async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hub-nats-'));
  temporaryDirs.push(dir);
  return dir;
}

after(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

// The build, into folders of the tests' own (the Go build cache makes each a few seconds).

interface BuilderRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBuilder(toolsDir: string, env: NodeJS.ProcessEnv = process.env): Promise<BuilderRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(fixtures, 'nats-server-builder.ts'), toolsDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

function versionOf(binary: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('close', () => resolve(out.trim()));
  });
}

const buildingLine = /^building nats-server \(first run only; about a minute\)…$/m;

test('two processes that need nats-server at once build it once; a changed version rebuilds, a current one does not', async () => {
  const toolsDir = path.join(await temporaryDir(), 'tools');
  const binary = natsServerBinaryPath(toolsDir);
  const runs = await Promise.all([runBuilder(toolsDir), runBuilder(toolsDir)]);
  for (const run of runs) assert.deepEqual([run.code, run.stdout.trim()], [0, binary], run.stderr);
  assert.equal(runs.filter((run) => buildingLine.test(run.stderr)).length, 1, runs.map((run) => run.stderr).join('\n---\n'));
  assert.equal(
    runs.filter((run) => /^waiting for another process that is building nats-server…$/m.test(run.stderr)).length,
    1,
    'the other one waited',
  );
  assert.equal(await versionOf(binary), `nats-server: v${NATS_SERVER_MODULE.split('@v')[1]}`);
  assert.equal((await readFile(`${binary}.version`, 'utf8')).trim(), NATS_SERVER_MODULE);
  assert.deepEqual((await readdir(toolsDir)).sort(), ['nats-server', 'nats-server.version'], 'no lock, GOBIN or temporary left');

  const current = await runBuilder(toolsDir);
  assert.equal(current.code, 0);
  assert.equal(current.stderr, '', 'a current binary is used as it is');

  await writeFile(`${binary}.version`, 'github.com/nats-io/nats-server/v2@v2.14.0\n');
  const changed = await runBuilder(toolsDir);
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stderr, buildingLine);
  assert.equal((await readFile(`${binary}.version`, 'utf8')).trim(), NATS_SERVER_MODULE);
});

test('a build lock left by a dead builder, or held far too long, is taken over', async () => {
  const deadPid = await new Promise<number>((resolve) => {
    const child = spawn('true');
    child.once('exit', () => resolve(child.pid as number));
  });
  for (const [lockedBy, ageMs] of [
    [deadPid, 0],
    [process.pid, 20 * 60_000], // alive (this test), but older than any build
  ] as const) {
    const toolsDir = path.join(await temporaryDir(), 'tools');
    await mkdir(toolsDir, { recursive: true });
    const lockFile = path.join(toolsDir, 'build.lock');
    await writeFile(lockFile, String(lockedBy));
    const then = new Date(Date.now() - ageMs);
    await utimes(lockFile, then, then);
    const run = await runBuilder(toolsDir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^waiting for another process that is building nats-server…$/m);
    assert.match(run.stderr, buildingLine);
    await assert.rejects(stat(lockFile), { code: 'ENOENT' });
  }
});

test('without go on PATH the build says what to install or set instead', async () => {
  const emptyBin = await temporaryDir();
  const run = await runBuilder(path.join(await temporaryDir(), 'tools'), { ...process.env, PATH: emptyBin });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /"go" was not found on PATH: install Go >= 1\.26 .* or set NATS_URL to use an existing NATS server/);
});

test('an unreachable module proxy fails the build with go’s own words', async () => {
  // A port nobody listens on (taken, then freed), and an empty module cache so that go must ask it.
  const closedPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const run = await runBuilder(path.join(await temporaryDir(), 'tools'), {
    ...process.env,
    GOPROXY: `http://127.0.0.1:${closedPort}`,
    GOMODCACHE: await temporaryDir(),
    GOFLAGS: '-modcacherw',
  });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /the Go module proxy could not be reached/);
  assert.match(run.stderr, new RegExp(`127\\.0\\.0\\.1:${closedPort}.*connection refused`));
});
