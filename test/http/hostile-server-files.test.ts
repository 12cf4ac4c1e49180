import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { uniqueDatabaseName } from '../support/database.ts';
import { startHubProcess } from '../support/hub-process.ts';

/**
 * What an unfriendly user on the same machine can do: read the hub's
 * database, keys and devices' memory under DATA_DIR.
 */

test('DATA_DIR and what the hub writes into it are for its own user only, also when an older start left them readable', async () => {
  const parent = await mkdtemp(path.join(tmpdir(), 'hub-modes-'));
  const dataDir = path.join(parent, 'data');
  const dbName = uniqueDatabaseName('hostile-modes');
  // no ADMIN_API_KEY and no HUB_MASTER_KEY: both are generated into DATA_DIR; the emulators keep their memory there
  const env = { ADMIN_API_KEY: '', HUB_MASTER_KEY: '', HUB_DEVICE_EMULATORS: 'auto' };
  const previous = process.umask(0o022); // the usual umask, inherited by the hub
  try {
    const hub = await startHubProcess({ dbName, dataDir, env });
    try {
      await assertPrivate(dataDir, ['admin-api-key', 'master-key']);
    } finally {
      await hub.terminate();
    }

    // as an older version left them: everything readable by everyone
    await chmod(dataDir, 0o755);
    for (const entry of await everyEntry(dataDir)) {
      const info = await stat(entry).catch(() => null);
      if (info?.isDirectory()) await chmod(entry, 0o755);
      else if (info?.isFile()) await chmod(entry, 0o644);
    }
    const again = await startHubProcess({ dbName, dataDir, env });
    try {
      await assertPrivate(dataDir, ['admin-api-key', 'master-key']);
    } finally {
      await again.terminate();
    }
  } finally {
    process.umask(previous);
  }
});

async function assertPrivate(dataDir: string, expected: string[]): Promise<void> {
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
  const entries = await everyEntry(dataDir);
  for (const name of expected)
    assert.ok(
      entries.some((entry) => path.basename(entry) === name),
      `${name} is in DATA_DIR`,
    );
  for (const entry of entries) {
    const info = await stat(entry).catch(() => null); // an emulator's PTY link is gone with its socat
    if (!info || info.isCharacterDevice()) continue;
    assert.equal(info.mode & 0o077, 0, `${path.relative(dataDir, entry)} is ${(info.mode & 0o777).toString(8)}`);
  }
}

async function everyEntry(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    found.push(full);
    if (entry.isDirectory()) found.push(...(await everyEntry(full)));
  }
  return found;
}
