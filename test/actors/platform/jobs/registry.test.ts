import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Db } from 'mongodb';
import { JobRegistry } from '../../../../actors/platform/jobs/registry.ts';
import { databaseUri, uniqueDatabaseName } from '../../../support/database.ts';
import { quietLogger } from '../../../support/runtime-harness.ts';

let client: MongoClient;
let db: Db;

before(async () => {
  client = await MongoClient.connect(databaseUri(), { serverSelectionTimeoutMS: 10_000 });
  db = client.db(uniqueDatabaseName('jobs'));
});

after(async () => {
  await client?.close();
});

/** A job whose runs wait on a gate the test opens, recording each run's trigger and what it "read". */
function gatedJob(name: string) {
  const runs: Array<{ trigger: string; saw: number }> = [];
  let open: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (open = resolve));
  let work = 0;
  return {
    runs,
    addWork: () => (work += 1),
    release: () => {
      open();
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    definition: {
      name,
      description: 'a test job',
      every: '1 hour',
      run: async ({ trigger }: { trigger: 'schedule' | 'manual' }) => {
        const saw = work; // what a real job reads when it starts
        runs.push({ trigger, saw });
        await gate;
        return { saw };
      },
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('a manual run asked for during a scheduled run waits for it and runs again, seeing what came after', async () => {
  const registry = new JobRegistry(db, quietLogger);
  const job = gatedJob('gated-push');
  registry.define(job.definition);
  const scheduled = registry.run('gated-push', 'schedule');
  await settle();
  job.addWork(); // e.g. a listing becomes due after the scheduled run read what was due
  const manual = registry.run('gated-push', 'manual');
  const tick = registry.run('gated-push', 'schedule');
  await settle();
  assert.deepEqual(job.runs, [{ trigger: 'schedule', saw: 0 }], 'no overlap: the manual run waits');
  job.release();
  assert.deepEqual((await scheduled).output, { saw: 0 });
  assert.deepEqual((await tick).output, { saw: 0 }, 'a scheduled tick joins the run in progress');
  await settle();
  job.release();
  assert.deepEqual((await manual).output, { saw: 1 }, 'the manual run read after the request');
  assert.deepEqual(job.runs, [
    { trigger: 'schedule', saw: 0 },
    { trigger: 'manual', saw: 1 },
  ]);
});

test('manual requests while a follow-up waits join it: one more run, not one per click', async () => {
  const registry = new JobRegistry(db, quietLogger);
  const job = gatedJob('gated-import');
  registry.define(job.definition);
  const first = registry.run('gated-import', 'manual');
  await settle();
  const clicks = [registry.run('gated-import', 'manual'), registry.run('gated-import', 'manual'), registry.run('gated-import', 'manual')];
  job.release();
  await first;
  await settle();
  job.release();
  const results = await Promise.all(clicks);
  assert.equal(new Set(results).size, 1, 'the three clicks share one run');
  assert.equal(job.runs.length, 2);
  const listed = (await registry.list()).find((view) => view.name === 'gated-import');
  assert.equal(listed?.runs, 2);
  assert.equal(listed?.lastRun.trigger, 'manual');
  await registry.idle();
});

test('a failed run does not stop the follow-up', async () => {
  const registry = new JobRegistry(db, quietLogger);
  let calls = 0;
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  registry.define({
    name: 'flaky',
    description: 'fails the first time',
    every: '1 hour',
    run: async () => {
      calls += 1;
      if (calls === 1) {
        await gate;
        throw new Error('first run fails');
      }
      return { calls };
    },
  });
  const first = registry.run('flaky', 'schedule');
  await settle();
  const manual = registry.run('flaky', 'manual');
  open();
  assert.equal((await first).result, 'failed');
  const after = await manual;
  assert.equal(after.result, 'ok');
  assert.deepEqual(after.output, { calls: 2 });
});
