import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { NATS_SERVER_MODULE, natsServerBinaryPath } from '../../persistence/embedded-nats/build.ts';
import { openNatsServer, redactNatsUrl, type NatsServer } from '../../persistence/embedded-nats/server.ts';
import { eventually } from '../support/database.ts';

// Real nats-server processes only: each test starts its own on a data directory of its own.

const silent = () => {};
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

function portAccepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connectTcp({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Live (not zombie) nats-server processes whose store is `<dataDir>/nats`, found in /proc. */
async function natsServersOn(dataDir: string): Promise<number[]> {
  const storeDir = path.join(dataDir, 'nats');
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const [argv, stat] = await Promise.all([
      readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => ''),
      readFile(`/proc/${name}/stat`, 'utf8').catch(() => ''),
    ]);
    const args = argv.split('\0');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (path.basename(args[0] ?? '') === 'nats-server' && args.includes(storeDir) && state !== 'Z' && state !== '')
      found.push(Number(name));
  }
  return found;
}

/**
 * Gone, or a zombie. A zombie thread-group leader may still have threads closing the process's files (its
 * listening socket), so the port is checked on its own.
 */
async function exited(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat === null || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

async function theNatsServerOn(dataDir: string): Promise<number> {
  const pids = await natsServersOn(dataDir);
  assert.equal(pids.length, 1, `one nats-server on ${dataDir}: ${pids.join(', ')}`);
  return pids[0] as number;
}

/** Runs `body` with a client of a fresh embedded server, then closes both. */
async function withServer(dataDir: string, body: (nc: NatsConnection, server: NatsServer) => Promise<void>): Promise<void> {
  const server = await openNatsServer({ dataDir, log: silent });
  const nc = await connect({ servers: server.url, reconnect: false });
  try {
    await body(nc, server);
  } finally {
    await nc.close();
    await server.stop();
  }
}

async function addFileStream(nc: NatsConnection, name: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`], storage: StorageType.File });
}

/** Every entry under `dir` with its permission bits, as `0700 nats/jetstream`. */
async function modesUnder(dir: string): Promise<string[]> {
  const entries: string[] = [];
  const visit = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      entries.push(`${((await stat(full)).mode & 0o777).toString(8).padStart(4, '0')} ${path.relative(dir, full)}`);
      if (entry.isDirectory()) await visit(full);
    }
  };
  await visit(dir);
  return entries;
}

test('without NATS_URL a real nats-server starts from a fresh data dir, JetStream keeps a file stream and tells a repeated msgID apart, and stop() closes the port', async () => {
  const dataDir = path.join(await temporaryDir(), 'fresh');
  const logged: string[] = [];
  const server = await openNatsServer({ dataDir, log: (level, message) => logged.push(`${level} ${message}`) });
  assert.equal(server.kind, 'embedded');
  assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(new URL(server.url).port, '4222', 'a port of the kernel’s choosing, not the default');
  assert.ok(logged.includes('info embedded nats-server (JetStream) started'), logged.join('\n'));
  assert.deepEqual(
    logged.filter((line) => !line.startsWith('info')),
    [],
    'the banner stays out of the log',
  );
  try {
    const nc = await connect({ servers: server.url });
    try {
      await addFileStream(nc, 'ORDERS');
      const js = jetstream(nc);
      const first = await js.publish('orders.created', '{"order":"o-1"}', { msgID: 'order-o-1-created' });
      const repeat = await js.publish('orders.created', '{"order":"o-1"}', { msgID: 'order-o-1-created' });
      assert.deepEqual([first.duplicate, repeat.duplicate], [false, true]);
      assert.equal(repeat.seq, first.seq, 'the repeat is answered with the first one’s sequence');
      const other = await js.publish('orders.created', '{"order":"o-2"}', { msgID: 'order-o-2-created' });
      assert.deepEqual([other.duplicate, other.seq], [false, first.seq + 1]);
      const jsm = await jetstreamManager(nc);
      assert.equal((await jsm.streams.info('ORDERS')).state.messages, 2);
      assert.equal((await jsm.streams.getMessage('ORDERS', { seq: first.seq }))?.string(), '{"order":"o-1"}');
    } finally {
      await nc.close();
    }
    const streams = await readdir(path.join(dataDir, 'nats/jetstream/$G/streams'));
    assert.deepEqual(streams, ['ORDERS'], 'the stream is stored under DATA_DIR/nats');
    const modes = await modesUnder(dataDir);
    assert.ok(
      modes.some((entry) => /^0600 nats\/jetstream\/\$G\/streams\/ORDERS\/msgs\/\S+\.blk$/.test(entry)),
      modes.join('\n'),
    );
    assert.deepEqual(
      modes.filter((entry) => !entry.startsWith('0700 ') && !entry.startsWith('0600 ')),
      [],
      'directories 0700, files 0600',
    );
    assert.equal(((await stat(dataDir)).mode & 0o777).toString(8), '700');
  } finally {
    await server.stop();
  }
  assert.equal(await portAccepts(server.url), false, 'the port refuses connections after stop()');
  assert.deepEqual(await natsServersOn(dataDir), []);
  await server.stop(); // a second stop() is harmless
});

test('an acknowledged message survives kill -9 of nats-server: a restart on the same data dir reads it back', async () => {
  const dataDir = await temporaryDir();
  const logged: string[] = [];
  const first = await openNatsServer({ dataDir, log: (level, message) => logged.push(`${level} ${message}`) });
  const acked: Array<{ seq: number; body: string }> = [];
  try {
    const nc = await connect({ servers: first.url, reconnect: false });
    await addFileStream(nc, 'EVENTS');
    const js = jetstream(nc);
    const server = await theNatsServerOn(dataDir);
    for (let n = 0; n < 50; n++) {
      const body = `event ${n}`;
      const ack = await js.publish(`events.e${n}`, body, { msgID: `event-${n}` });
      acked.push({ seq: ack.seq, body });
    }
    // In the same tick as the last ack: nothing gets a chance to flush in the meantime.
    process.kill(server, 'SIGKILL');
    await eventually(() => logged.includes('error the embedded nats-server exited unexpectedly'), 10_000, 'the launcher to notice');
    await nc.close().catch(() => undefined);
  } finally {
    await first.stop();
  }

  await withServer(dataDir, async (nc) => {
    const jsm = await jetstreamManager(nc);
    assert.equal((await jsm.streams.info('EVENTS')).state.messages, acked.length);
    for (const { seq, body } of acked) assert.equal((await jsm.streams.getMessage('EVENTS', { seq }))?.string(), body, `message ${seq}`);
  });
});

test('each acknowledged publish was fsynced first (sync_interval: always), seen by strace on the real server', async () => {
  const dataDir = await temporaryDir();
  await withServer(dataDir, async (nc) => {
    await addFileStream(nc, 'SYNCED');
    const js = jetstream(nc);
    await js.publish('synced.warmup', 'warm-up'); // the first write opens the block file
    const traceFile = path.join(dataDir, 'strace.txt');
    const tracer = spawn('strace', ['-f', '-e', 'trace=fsync,fdatasync', '-o', traceFile, '-p', String(await theNatsServerOn(dataDir))], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const tracerClosed = new Promise<void>((resolve) => tracer.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let said = '';
      tracer.once('error', (error) => reject(new Error(`strace is needed for this test (.ci/run installs it): ${error.message}`)));
      tracer.stderr.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        if (/attached/.test(said)) resolve();
      });
      void tracerClosed.then(() => reject(new Error(`strace ended before it attached: ${said}`)));
    });
    const publishes = 20;
    for (let n = 0; n < publishes; n++) await js.publish(`synced.e${n}`, `event ${n}`);
    tracer.kill('SIGINT'); // detaches and leaves the server running
    await tracerClosed;
    const syncs = (await readFile(traceFile, 'utf8')).split('\n').filter((line) => /\b(fsync|fdatasync)\(/.test(line));
    assert.ok(syncs.length >= publishes, `${syncs.length} fsync calls for ${publishes} acknowledged publishes`);
  });
});

test('a SIGKILLed parent leaves no nats-server behind, and the next start gets the store', async () => {
  const dataDir = await temporaryDir();
  const parent = spawn(process.execPath, ['--import', 'tsx', path.join(fixtures, 'embedded-nats-owner.ts'), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const parentExited = new Promise<NodeJS.Signals | null>((resolve) => parent.once('exit', (_code, signal) => resolve(signal)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    parent.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    void parentExited.then((signal) => reject(new Error(`the owner process exited (${signal}) before printing a URL`)));
  });
  assert.match(url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(await portAccepts(url), true, 'the nats-server child is up');
  const server = await theNatsServerOn(dataDir);
  parent.kill('SIGKILL');
  assert.equal(await parentExited, 'SIGKILL');
  try {
    await eventually(async () => (await exited(server)) && !(await portAccepts(url)), 15_000, 'the orphaned nats-server to exit');
    assert.deepEqual(await natsServersOn(dataDir), []);
  } finally {
    for (const orphan of await natsServersOn(dataDir)) process.kill(orphan, 'SIGKILL'); // a failed test leaves none
  }
  await withServer(dataDir, async (nc) => {
    assert.equal(nc.isClosed(), false, 'a new server starts on the store the orphan left');
  });
});

test('a second server on the same data dir is refused while the first runs (two hubs on one DATA_DIR)', async () => {
  const dataDir = await temporaryDir();
  const first = await openNatsServer({ dataDir, log: silent });
  try {
    const second = await openNatsServer({ dataDir, log: silent }).then(
      async (started) => {
        await started.stop(); // a failure here must not leave a server running
        return new Error(`a second server started at ${started.url}`);
      },
      (error: unknown) => error,
    );
    assert.match(String(second), /exited \(code 75\) before it was ready[\s\S]*in use by another nats-server/);
    assert.equal(await portAccepts(first.url), true, 'the first one runs on');
    assert.equal((await natsServersOn(dataDir)).length, 1);
  } finally {
    await first.stop();
  }
});

test('if nats-server cannot start, openNatsServer rejects with its log', async () => {
  const dataDir = await temporaryDir();
  await mkdir(path.join(dataDir, 'nats'));
  await writeFile(path.join(dataDir, 'nats', 'jetstream'), 'a file where the JetStream store should be');
  await assert.rejects(
    openNatsServer({ dataDir, log: silent }),
    /exited \(code 1\) before it was ready[\s\S]*storage directory is not a directory/,
  );
});

test('with NATS_URL nothing is started, the URL is used as given, and its credentials are not logged', async () => {
  const dataDir = path.join(await temporaryDir(), 'never-created');
  const logged: unknown[] = [];
  const url = 'nats://hub-user:s3cr3t-pass@bus-1.example:4222,nats://token-abc@bus-2.example:4222';
  const started = Date.now();
  const server = await openNatsServer({ natsUrl: url, dataDir, log: (...entry) => logged.push(entry) });
  assert.deepEqual({ url: server.url, kind: server.kind }, { url, kind: 'external' });
  assert.ok(Date.now() - started < 1000, 'returned at once');
  await assert.rejects(stat(dataDir), { code: 'ENOENT' }, 'no data directory was created: nothing was started');
  const text = JSON.stringify(logged);
  assert.ok(text.includes('bus-1.example:4222') && text.includes('bus-2.example:4222'), text);
  assert.ok(!text.includes('s3cr3t-pass') && !text.includes('hub-user') && !text.includes('token-abc'), text);
  await server.stop();
});

test('redactNatsUrl strips user:pass@ and token@ from each server', () => {
  assert.equal(redactNatsUrl('nats://u:p@h1:4222, tls://t@h2:4443'), 'nats://h1:4222,tls://h2:4443');
  assert.equal(redactNatsUrl('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222');
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
