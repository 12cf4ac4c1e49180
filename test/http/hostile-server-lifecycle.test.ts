import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, uniqueDatabaseName } from '../support/database.ts';
import { startHubProcess } from '../support/hub-process.ts';

/**
 * The README starts the hub with `npm start`; a service manager or a closing
 * terminal then signals npm. npm runs the hub under a shell, and a SIGTERM to
 * npm ended npm and the shell only: the hub went on serving, re-parented.
 */

/** Whether any process of this group is still alive. */
function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

const answers = async (url: string) => {
  try {
    await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
};

test('a SIGTERM to `npm start` stops the hub it started, gracefully, and nothing of it is left running', async () => {
  const hub = await startHubProcess({ dbName: uniqueDatabaseName('lifecycle'), viaNpm: true, env: { LOG_LEVEL: 'info' } });
  const group = hub.pid;
  try {
    assert.equal(await answers(hub.url), true);
    process.kill(group, 'SIGTERM'); // npm alone, as systemd's KillMode=process or a terminal's hang-up would
    await eventually(async () => !(await answers(hub.url)), 20_000, 'the hub to stop answering');
    await eventually(() => !groupAlive(group), 20_000, 'every process npm started to exit');
    assert.match(hub.output(), /shutting down signal="?parent process ended/);
    assert.match(hub.output(), /integration hub stopped/);
  } finally {
    if (groupAlive(group)) process.kill(-group, 'SIGKILL');
  }
});
