import { link, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ensurePrivateDir, writePrivateFile } from './private-files.ts';

/** Under DATA_DIR: the credentials of the sandboxes the hub runs itself, generated once per installation. */
export const SANDBOX_CREDENTIALS_FILE = 'sandbox-credentials.json';

/** Credentials by integration name, each a record of string fields. */
export type StoredSandboxCredentials = Record<string, Record<string, string>>;

const fileSchema = z.object({
  version: z.literal(1),
  integrations: z.record(z.string(), z.record(z.string(), z.string())),
});

export class SandboxCredentialsFileError extends Error {}

/**
 * The file the sandboxes' generated credentials are kept in (0600 in a 0700
 * directory): read at every start so payment links and callbacks signed
 * before a restart keep working after it. Writes go through a temporary
 * file, so a reader never sees half a file.
 */
export class SandboxCredentialsFile {
  constructor(readonly file: string) {}

  static in(dataDir: string): SandboxCredentialsFile {
    return new SandboxCredentialsFile(path.join(dataDir, SANDBOX_CREDENTIALS_FILE));
  }

  /** What the file holds; null when there is no file. Throws when it cannot be read as one. */
  async read(): Promise<StoredSandboxCredentials | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SandboxCredentialsFileError(`${this.file} is not JSON; move it away to have new sandbox credentials generated`);
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success)
      throw new SandboxCredentialsFileError(`${this.file} is not a sandbox credentials file; move it away to have new ones generated`);
    return parsed.data.integrations;
  }

  /**
   * Writes the file only if there is none yet: false when another process
   * created it first (its credentials are then the ones to use).
   */
  async create(credentials: StoredSandboxCredentials): Promise<boolean> {
    const temporary = await this.writeTemporary(credentials);
    try {
      await link(temporary, this.file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await rm(temporary, { force: true });
    }
  }

  /** Replaces what the file holds. */
  async replace(credentials: StoredSandboxCredentials): Promise<void> {
    const temporary = await this.writeTemporary(credentials);
    try {
      await rename(temporary, this.file);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  private async writeTemporary(credentials: StoredSandboxCredentials): Promise<string> {
    await ensurePrivateDir(path.dirname(this.file));
    const temporary = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    await writePrivateFile(temporary, `${JSON.stringify({ version: 1, integrations: credentials }, null, 2)}\n`);
    return temporary;
  }
}
