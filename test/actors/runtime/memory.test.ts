import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseUri, uniqueDatabaseName } from '../../support/database.ts';

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/memory-probe.ts');

test(
  'memory does not grow with the number of stored actors: 100 000 actors touched within 100 MB of the first 1 000',
  { timeout: 900_000 },
  async (t) => {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fixture], {
        env: { ...process.env, MONGODB_URI: databaseUri(), DB_NAME: uniqueDatabaseName('memory'), ACTORS: '100000', CACHE: '1000' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`memory probe exited with ${code}`))));
    });
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as {
      total: number;
      cached: number;
      afterFirstThousand: number;
      afterAll: number;
      lastRevision: number;
    };
    t.diagnostic(
      `RSS after 1 000 actors: ${Math.round(result.afterFirstThousand)} MB; after 100 000: ${Math.round(result.afterAll)} MB; in memory: ${result.cached}`,
    );
    assert.equal(result.total, 100_000);
    assert.equal(result.lastRevision, 2, 'the last actor was really loaded and changed');
    assert.ok(result.cached <= 1000, `at most 1 000 actors in memory (${result.cached})`);
    assert.ok(
      result.afterAll - result.afterFirstThousand < 100,
      `RSS grew ${Math.round(result.afterAll - result.afterFirstThousand)} MB (from ${Math.round(result.afterFirstThousand)} to ${Math.round(result.afterAll)} MB)`,
    );
  },
);
