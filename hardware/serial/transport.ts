import { realpath } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import type { Logger } from '../../common/logger.ts';
import { backOffDelay, DEFAULT_BACK_OFF, type BackOff } from './back-off.ts';
import { ByteQueue } from './byte-queue.ts';
import { SerialError } from './errors.ts';
import { hexDump, type MaskedRange } from './hex.ts';

/**
 * One serial port kept open: opened at start(), reopened with back-off when it
 * disappears (a USB adapter pulled, a PTY pair stopped) until close(). Commands
 * take the port one at a time (exclusive()): a device protocol never sees two
 * conversations interleaved. Frames are logged at debug as hex, with the
 * ranges the caller marks (passwords) masked.
 */

export type TransportState = 'closed' | 'connecting' | 'open' | 'reconnecting';

export interface SerialTransportOptions {
  /** `/dev/ttyUSB0`, or a PTY link */
  path: string;
  baudRate: number;
  /** the device's name in logs */
  name: string;
  logger?: Logger;
  backOff?: BackOff;
  /** how long exclusive() waits for the port to be open before failing with `port_unavailable` (default 2 s) */
  openWaitMs?: number;
  /** how often an open port's path is checked for having gone (default 250 ms) */
  presenceCheckMs?: number;
}

/** What a command may do with the port while it holds it. */
export interface PortSession {
  /** writes and waits until the bytes left the process; `masked` ranges are hidden in the log */
  write(bytes: Uint8Array, masked?: readonly MaskedRange[]): Promise<void>;
  /** the next byte, or null after `timeoutMs` of silence; rejects with `port_lost` if the port goes away */
  read(timeoutMs: number): Promise<number | null>;
  /** drops bytes received and not yet read (a stale answer, line noise); answers them */
  discardInput(): Buffer;
}

type StateListener = (state: TransportState, error: string | null) => void;

/** how long a write may take beyond its bytes' time on the line before the port is taken for lost */
const WRITE_SLACK_MS = 1_000;

export class SerialTransport {
  readonly path: string;
  readonly name: string;
  private readonly options: SerialTransportOptions;
  private current: TransportState = 'closed';
  private error: string | null = null;
  private port: SerialPort | null = null;
  private input = new ByteQueue();
  private readonly listeners = new Set<StateListener>();
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wakeLoop: (() => void) | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private rxLog: number[] = [];
  private markLost: ((reason: string) => void) | null = null;

  constructor(options: SerialTransportOptions) {
    this.options = options;
    this.path = options.path;
    this.name = options.name;
  }

  get state(): TransportState {
    return this.current;
  }

  /** the last reason the port was not open (open failure, loss), null while it is fine */
  get lastError(): string | null {
    return this.error;
  }

  /** Called on every state change; answers a function that unsubscribes. */
  onStateChange(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Begins keeping the port open (idempotent). */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.keepOpen();
  }

  /** Resolves once the port is open; rejects with `port_unavailable` after `timeoutMs`. */
  async whenOpen(timeoutMs: number = this.options.openWaitMs ?? 2_000): Promise<void> {
    this.start();
    if (this.current === 'open') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(this.unavailable());
      }, timeoutMs);
      const unsubscribe = this.onStateChange((state) => {
        if (state === 'open') {
          clearTimeout(timer);
          unsubscribe();
          resolve();
        } else if (state === 'closed') {
          clearTimeout(timer);
          unsubscribe();
          reject(new SerialError('port_closed', `serial port ${this.name} was closed`, this.path));
        }
      });
    });
  }

  /**
   * Runs `work` with the port to itself, after every command queued before
   * it. Waits up to `openWaitMs` for the port to be open.
   */
  exclusive<T>(work: (session: PortSession) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.stopping) throw new SerialError('port_closed', `serial port ${this.name} is closed`, this.path);
      await this.whenOpen();
      const input = this.input;
      const port = this.port;
      if (!port) throw this.unavailable();
      try {
        return await work(this.session(port, input));
      } finally {
        this.flushRxLog();
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Closes the port and stops reconnecting. Commands queued after this fail with `port_closed`. */
  async close(): Promise<void> {
    this.stopping = true;
    this.wakeLoop?.();
    await this.closePort();
    await this.loop;
    this.loop = null;
    this.setState('closed', null);
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private unavailable(): SerialError {
    return new SerialError(
      'port_unavailable',
      `serial port ${this.name} (${this.path}) is not available: ${this.error ?? 'not open yet'}`,
      this.path,
    );
  }

  private session(port: SerialPort, input: ByteQueue): PortSession {
    return {
      write: async (bytes, masked = []) => {
        this.flushRxLog();
        this.options.logger?.debug('serial tx', { device: this.name, bytes: hexDump(bytes, masked) });
        await new Promise<void>((resolve, reject) => {
          let settled = false;
          const finish = (error: Error | null) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            unsubscribe();
            if (!error) return resolve();
            this.markLost?.(error.message);
            reject(this.lost(error));
          };
          // a PTY (or USB adapter) whose other end is gone may never call back: the port's loss, or a
          // generous time for the bytes at the line's speed, ends the write instead of hanging the command
          const timer = setTimeout(
            () => finish(new Error('the write did not complete')),
            WRITE_SLACK_MS + Math.ceil((bytes.length * 10 * 1000) / this.options.baudRate),
          );
          const unsubscribe = this.onStateChange((state) => {
            if (state !== 'open') finish(new Error(`the port went ${state} during a write`));
          });
          port.write(Buffer.from(bytes), (error) => (error ? finish(error) : undefined));
          port.drain((error) => finish(error ?? null));
        });
      },
      read: async (timeoutMs) => {
        const byte = await input.read(timeoutMs);
        if (byte !== null) this.rxLog.push(byte);
        return byte;
      },
      discardInput: () => {
        const dropped = input.clear();
        if (dropped.length > 0) this.options.logger?.debug('serial rx dropped', { device: this.name, bytes: hexDump(dropped) });
        return dropped;
      },
    };
  }

  private lost(error: Error): SerialError {
    return new SerialError('port_lost', `serial port ${this.name} failed: ${error.message}`, this.path);
  }

  private flushRxLog(): void {
    if (this.rxLog.length === 0) return;
    this.options.logger?.debug('serial rx', { device: this.name, bytes: hexDump(Uint8Array.from(this.rxLog)) });
    this.rxLog = [];
  }

  private setState(state: TransportState, error: string | null): void {
    if (state === this.current && error === this.error) return;
    this.current = state;
    this.error = error;
    for (const listener of this.listeners) listener(state, error);
  }

  private async keepOpen(): Promise<void> {
    const backOff = this.options.backOff ?? DEFAULT_BACK_OFF;
    let attempt = 0;
    let everOpened = false;
    this.setState('connecting', null);
    while (!this.stopping) {
      try {
        const { lost } = await this.openOnce();
        if (this.stopping) {
          await this.closePort();
          break;
        }
        attempt = 0;
        if (everOpened) this.options.logger?.info('serial port reopened', { device: this.name, path: this.path });
        everOpened = true;
        this.setState('open', null);
        const reason = await lost;
        if (this.stopping) break;
        this.options.logger?.warn('serial port lost', { device: this.name, path: this.path, reason });
        this.setState('reconnecting', reason);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.setState(everOpened ? 'reconnecting' : 'connecting', reason);
      }
      if (this.stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backOffDelay(backOff, attempt));
        this.wakeLoop = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeLoop = null;
      attempt += 1;
    }
  }

  /**
   * Opens the port; answers a promise of why it was lost (wrapped: an async
   * function would flatten it). A PTY whose other side went away does not
   * always report it on read, so the port's path is also watched: a path that
   * disappears or points elsewhere (a new PTY, a re-enumerated USB adapter)
   * means the device we opened is gone.
   */
  private async openOnce(): Promise<{ lost: Promise<string> }> {
    const target = await realpath(this.path);
    const port = new SerialPort({
      path: this.path,
      baudRate: this.options.baudRate,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    const input = new ByteQueue();
    this.input = input;
    this.port = port;
    port.on('data', (data: Buffer) => input.push(data));
    const lost = new Promise<string>((resolve) => {
      let done = false;
      const gone = (reason: string) => {
        if (done) return;
        done = true;
        clearInterval(watch);
        this.markLost = null;
        input.fail(new SerialError('port_lost', `serial port ${this.name} was lost: ${reason}`, this.path));
        if (this.port === port) this.port = null;
        if (port.isOpen) port.close(() => resolve(reason));
        else resolve(reason);
      };
      const watch = setInterval(() => {
        realpath(this.path).then(
          (now) => (now === target ? undefined : gone(`${this.path} now points to ${now}`)),
          () => gone(`${this.path} disappeared`),
        );
      }, this.options.presenceCheckMs ?? 250);
      this.markLost = gone;
      port.once('close', (error: Error | null) => gone(error ? error.message : 'closed'));
      port.on('error', (error: Error) => gone(error.message));
    });
    return { lost };
  }
}
