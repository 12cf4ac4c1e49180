import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ensureFerretDbBinary } from '../scripts/build-ferretdb.ts';

export interface DatabaseServer {
  uri: string;
  kind: 'external' | 'ferretdb';
  stop(): Promise<void>;
}

type Log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;

/**
 * MONGODB_URI set → that server, nothing started. Unset → our embedded
 * FerretDB (SQLite files under DATA_DIR/ferretdb) on a free loopback port,
 * ready when it prints its URI (no sleeping), gone when we stop or die: it
 * exits when its stdin closes, so a killed parent leaves no orphan.
 */
export async function openDatabaseServer(options: { mongodbUri?: string; dataDir: string; log: Log }): Promise<DatabaseServer> {
  if (options.mongodbUri) {
    options.log('info', 'using the MongoDB at MONGODB_URI', { uri: options.mongodbUri.replace(/\/\/[^@/]*@/, '//***@') });
    return { uri: options.mongodbUri, kind: 'external', stop: async () => {} };
  }
  const binary = await ensureFerretDbBinary({ log: (message) => options.log('info', message) });
  const dir = path.join(options.dataDir, 'ferretdb');
  await mkdir(dir, { recursive: true });
  const child = spawn(binary, ['-listen', '127.0.0.1:0', '-dir', dir, '-log-level', 'error'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr = `${stderr}${line}\n`.slice(-8000);
    options.log('warn', `ferretdb: ${line}`);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const uri = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the embedded FerretDB did not become ready within 60 s:\n${stderr}`));
    }, 60_000);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { uri: string }).uri);
      } catch {
        reject(new Error(`unexpected first line from the embedded FerretDB: ${line}`));
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the embedded FerretDB exited (${code}) before it was ready:\n${stderr}`));
    });
  });
  options.log('info', 'embedded FerretDB (SQLite) started', { uri, dir });

  let stopping: Promise<void> | null = null;
  return {
    uri,
    kind: 'ferretdb',
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null) return;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
}
