import { chmod, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * DATA_DIR holds the embedded database, the generated admin and master keys
 * and the emulated devices' memory: nobody but the hub's own user may read
 * it. Directories are 0700 and files 0600 whatever the umask (a mode given to
 * mkdir or writeFile only applies to what is created, and only minus the
 * umask, so each is also chmod-ed), and what an older version left readable
 * is tightened at start.
 */

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** DATA_DIR when a server of another user lives inside (ensurePrivateDir) */
export const TRAVERSABLE_DIR_MODE = 0o711;

/**
 * Creates `dir` (and its parents) if needed and makes it 0700 — or 0711 when it holds the embedded PostgreSQL of
 * another user (root runs it as `postgres`, persistence/embedded-postgresql.ts), which must pass through `dir`
 * (DATA_DIR) to reach its own 0700 folder, and not only at its start: it opens its files by absolute paths (a
 * checkpoint that cannot reach `global/pg_control` is a PANIC). Others may then traverse `dir`, not list it, and
 * everything in it is 0700 or 0600. Judged by what is there, so every caller and every process of a hub keeps it.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const postgresql = await lstat(path.join(dir, 'postgresql')).catch(() => null);
  const foreignServer = postgresql !== null && postgresql.isDirectory() && postgresql.uid !== process.getuid?.();
  await chmod(dir, foreignServer ? TRAVERSABLE_DIR_MODE : PRIVATE_DIR_MODE);
}

/** Writes `file` (replacing what it held) readable and writable by our user only. */
export async function writePrivateFile(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: PRIVATE_FILE_MODE });
  await chmod(file, PRIVATE_FILE_MODE);
}

/**
 * Takes the group and other bits off everything under `dir` (not following
 * links: a device's PTY link points into /dev). Answers how many entries it
 * changed; stops after `limit` entries, as a DATA_DIR pointed at a big tree
 * by mistake should not stall the start.
 */
export async function tightenTree(dir: string, limit = 100_000): Promise<{ changed: string[]; truncated: boolean }> {
  const changed: string[] = [];
  let seen = 0;
  const visit = async (current: string): Promise<boolean> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      if (++seen > limit) return false;
      const full = path.join(current, entry.name);
      if (entry.isSymbolicLink()) continue;
      const info = await lstat(full).catch(() => null); // gone meanwhile
      if (!info) continue;
      if ((info.mode & 0o077) !== 0) {
        await chmod(full, info.mode & 0o7700);
        changed.push(full);
      }
      if (entry.isDirectory() && !(await visit(full))) return false;
    }
    return true;
  };
  const complete = await visit(dir);
  return { changed, truncated: !complete };
}
