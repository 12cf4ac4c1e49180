import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench:marketplaces -- --quick` as a child process (its own embedded database, hub and four sandboxes):
 * the summary it prints has every figure, every change reached every marketplace, no marketplace was called less
 * than the documented minimum, and no change took longer than a push interval and 15 s.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MARKETPLACES = ['rozetka', 'uzum', 'wildberries', 'ozon'] as const;

interface Summary {
  products: number;
  minutes: number;
  changesPerMinute: number;
  pushIntervalSeconds: number;
  changes: { made: number; sales: number; adminEdits: number; failed: number };
  marketplaces: Record<
    (typeof MARKETPLACES)[number],
    {
      batch: number;
      minimumCallsPerMinute: number;
      callsPerMinute: number;
      calls: number;
      hubCountedCalls: number;
      delaySeconds: { count: number; p50: number; p99: number; max: number };
      notArrived: number;
    }
  >;
}

function runQuick(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/bench-marketplaces.ts'), '--quick'], {
      cwd: repoRoot,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 170_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('the quick marketplace benchmark: every change reaches every marketplace, in no fewer calls than the minimum, within a push interval and 15 s', async (t) => {
  const run = await runQuick();
  assert.equal(run.code, 0, `the benchmark failed:\n${run.stderr.slice(-4000)}`);
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  const summary = JSON.parse(last) as Summary;
  t.diagnostic(run.stdout.trim().split('\n').slice(0, -1).join('\n'));

  assert.equal(summary.minutes, 1);
  assert.equal(summary.pushIntervalSeconds, 5);
  assert.equal(summary.changes.failed, 0);
  assert.equal(summary.changes.made, summary.changesPerMinute * summary.minutes);
  assert.equal(summary.changes.sales + summary.changes.adminEdits, summary.changes.made);
  assert.ok(summary.changes.sales > 0 && summary.changes.adminEdits > 0, 'both sales and admin edits');
  assert.deepEqual(Object.keys(summary.marketplaces).sort(), [...MARKETPLACES].sort());
  for (const name of MARKETPLACES) {
    const m = summary.marketplaces[name];
    assert.equal(m.notArrived, 0, `${name}: every change arrived`);
    assert.equal(m.delaySeconds.count, summary.changes.made, `${name}: a delay for every change`);
    assert.ok(m.batch >= 1);
    assert.equal(m.minimumCallsPerMinute, Math.ceil(summary.changesPerMinute / m.batch));
    assert.ok(
      m.callsPerMinute >= m.minimumCallsPerMinute,
      `${name}: ${m.callsPerMinute} calls a minute, at least ${m.minimumCallsPerMinute}`,
    );
    assert.equal(m.hubCountedCalls, m.calls, `${name}: the hub counted the calls the sandbox received`);
    assert.ok(m.delaySeconds.p50 <= m.delaySeconds.p99 && m.delaySeconds.p99 <= m.delaySeconds.max);
    assert.ok(
      m.delaySeconds.p99 <= summary.pushIntervalSeconds + 15,
      `${name}: p99 ${m.delaySeconds.p99} s, at most the push interval and 15 s`,
    );
  }
});
