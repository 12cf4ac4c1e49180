import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * A virtual serial cable: `socat` joins two pseudo-terminals and links them
 * at `<dir>/<name>.host` (the hub, or a POS application, opens this one) and
 * `<dir>/<name>.device` (the emulator's end). Stopping the pair is pulling
 * the cable out; starting it again on the same paths is plugging it back.
 */

export class SocatMissingError extends Error {
  constructor() {
    super('socat is not installed: apt-get install socat');
    this.name = 'SocatMissingError';
  }
}

/** Throws SocatMissingError when socat is not on the PATH. */
export function requireSocat(): void {
  const probe = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new SocatMissingError();
}

export interface PtyPairPaths {
  host: string;
  device: string;
}

export function ptyPairPaths(dir: string, name: string): PtyPairPaths {
  return { host: path.join(dir, `${name}.host`), device: path.join(dir, `${name}.device`) };
}

const exists = (file: string) =>
  lstat(file).then(
    () => true,
    () => false,
  );

export class PtyPair {
  readonly paths: PtyPairPaths;
  private child: ChildProcess | null = null;
  private exited: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    this.paths = ptyPairPaths(dir, name);
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts socat and resolves once both links exist. */
  async start(timeoutMs = 5_000): Promise<void> {
    if (this.child) return;
    requireSocat();
    await mkdir(this.dir, { recursive: true });
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.paths.host}`, `pty,raw,echo=0,link=${this.paths.device}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2_000);
    });
    this.child = child;
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => {
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + timeoutMs;
    while (!((await exists(this.paths.host)) && (await exists(this.paths.device)))) {
      if (this.child !== child) throw new Error(`socat exited before linking ${this.paths.host}: ${stderr.trim()}`);
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`socat did not link ${this.paths.host} within ${timeoutMs} ms: ${stderr.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Stops socat (the links disappear with it) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    await this.exited;
    this.child = null;
  }
}
