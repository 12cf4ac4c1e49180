import path from 'node:path';
import { SerialPort } from 'serialport';
import { z } from 'zod';
import type { Logger } from '../../common/logger.ts';
import { ByteQueue } from '../serial/byte-queue.ts';
import { ACK, encodeFrame, ENQ, lrc, NAK, STX } from '../shtrih-m/frame.ts';
import { controlRoute, type ControlRoute } from './control-server.ts';
import { loadFiscalMemory, saveFiscalMemory, type FiscalDocument } from './fiscal-memory.ts';
import { PtyPair } from './pty-pair.ts';
import { ShtrihMDevice, type PaperControl } from './shtrih-m-device.ts';

/**
 * A Shtrih-M register on the device end of a PTY pair: the link protocol of
 * the device side (answers ENQ with NAK when idle, ACK when an answer is
 * pending; ACKs a good frame, NAKs a damaged one; sends an answer again
 * after an ENQ until the host ACKs it), the behaviour of ShtrihMDevice, its
 * fiscal memory saved before every answer, and faults to inject.
 */

export const emulatorFaultSchema = z.discriminatedUnion('kind', [
  /** answer every command `ms` later (ENQs meanwhile get ACK: "preparing") */
  z.object({ kind: z.literal('slow'), ms: z.number().int().min(1).max(120_000), count: z.number().int().min(1).optional() }),
  /** damage one byte of the next `count` answers (their LRC no longer matches) */
  z.object({ kind: z.literal('garble'), count: z.number().int().min(1).default(1) }),
  /** ignore the next `count` ENQs or frames entirely */
  z.object({ kind: z.literal('silence'), count: z.number().int().min(1).default(1) }),
  /** answer NAK to the next `count` command frames, as if they arrived damaged */
  z.object({ kind: z.literal('nak'), count: z.number().int().min(1).default(1) }),
  /** lose the ACK of the next `count` command frames on the line (the command is carried out and answered) */
  z.object({ kind: z.literal('dropAck'), count: z.number().int().min(1).default(1) }),
  /** refuse the next `count` commands with 0x50 (still printing the previous one), doing nothing */
  z.object({ kind: z.literal('busy'), count: z.number().int().min(1).default(1) }),
]);
export type EmulatorFault = z.input<typeof emulatorFaultSchema>;
type Fault = z.output<typeof emulatorFaultSchema>;

export interface ShtrihMEmulatorOptions {
  /** where the PTY links go */
  dir: string;
  /** link names `<name>.host` / `<name>.device`; default `fiscal-main` */
  name?: string;
  /** the fiscal memory file; default `<dir>/<name>.fiscal.json` */
  memoryFile?: string;
  operatorPassword?: number;
  adminPassword?: number;
  /** delay answers by the time their bytes take on a real line at this speed (a PTY has no speed) */
  lineRate?: number;
  /** a byte's time-out inside a frame (default 500 ms: generous, the host decides the pace) */
  byteTimeoutMs?: number;
  logger?: Logger;
}

interface PendingAnswer {
  frame: Buffer;
  ready: boolean;
}

/** A clock the tests and the control API move: real time plus an offset. */
export class EmulatorClock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

export class ShtrihMEmulator {
  readonly device: ShtrihMDevice;
  readonly clock: EmulatorClock;
  readonly pair: PtyPair;
  readonly memoryFile: string;
  private port: SerialPort | null = null;
  private input = new ByteQueue();
  private pending: PendingAnswer | null = null;
  private faults: Fault[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;
  /** commands received (after ACK), for tests and the state view */
  commandsReceived = 0;
  /** the last 100 command frames received intact, STX to LRC, oldest first */
  readonly framesReceived: Buffer[] = [];

  private constructor(
    private readonly options: ShtrihMEmulatorOptions,
    device: ShtrihMDevice,
    clock: EmulatorClock,
    memoryFile: string,
  ) {
    this.device = device;
    this.clock = clock;
    this.memoryFile = memoryFile;
    this.pair = new PtyPair(options.dir, options.name ?? 'fiscal-main');
  }

  /** Loads (or creates) the fiscal memory, starts the PTY pair and listens on its device end. */
  static async start(options: ShtrihMEmulatorOptions): Promise<ShtrihMEmulator> {
    const name = options.name ?? 'fiscal-main';
    const memoryFile = options.memoryFile ?? path.join(options.dir, `${name}.fiscal.json`);
    const clock = new EmulatorClock();
    const device = new ShtrihMDevice(await loadFiscalMemory(memoryFile), {
      operatorPassword: options.operatorPassword ?? 1,
      adminPassword: options.adminPassword ?? 30,
      clock,
    });
    const emulator = new ShtrihMEmulator(options, device, clock, memoryFile);
    await emulator.plug();
    return emulator;
  }

  /** the path a host opens */
  get hostPath(): string {
    return this.pair.paths.host;
  }

  get plugged(): boolean {
    return this.pair.running;
  }

  inject(fault: EmulatorFault): void {
    this.faults.push(emulatorFaultSchema.parse(fault));
  }

  clearFaults(): void {
    this.faults = [];
  }

  setPaper(control: PaperControl): void {
    this.device.setPaper(control);
  }

  setCover(open: boolean): void {
    this.device.coverOpen = open;
  }

  /** Moves the register's clock on (a shift over 24 h is one call away). */
  advanceClock(ms: number): void {
    this.clock.offsetMs += ms;
  }

  documents(): FiscalDocument[] {
    return this.device.memory.documents;
  }

  /** Pulls the cable: the PTY pair stops, its links disappear. */
  async unplug(): Promise<void> {
    await this.closePort();
    await this.pair.stop();
  }

  /** Plugs it back on the same paths. */
  async plug(): Promise<void> {
    if (this.plugged) return;
    this.stopped = false;
    await this.pair.start();
    const port = new SerialPort({ path: this.pair.paths.device, baudRate: this.options.lineRate ?? 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    const input = new ByteQueue();
    port.on('data', (data: Buffer) => input.push(data));
    port.on('error', () => undefined);
    this.port = port;
    this.input = input;
    this.pending = null;
    this.loop = this.serve(port, input).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.unplug();
  }

  state(): Record<string, unknown> {
    const memory = this.device.memory;
    return {
      plugged: this.plugged,
      hostPath: this.hostPath,
      memoryFile: this.memoryFile,
      clock: this.clock.now().toISOString(),
      mode: this.device.mode & 0x0f,
      submode: this.device.submode,
      paper: this.device.receiptPaper,
      coverOpen: this.device.coverOpen,
      documentNumber: memory.documentNumber,
      shift: memory.shift,
      lastClosedShift: memory.lastClosedShift,
      zReports: memory.zReports,
      receipt: memory.receipt,
      totals: memory.totals,
      shiftTotals: memory.shiftTotals,
      faults: this.faults,
      commandsReceived: this.commandsReceived,
      tape: this.device.tape.slice(-40),
    };
  }

  /** The control API's routes (mount them with startControlServer). */
  controlRoutes(): ControlRoute[] {
    const nothing = z.object({}).passthrough();
    return [
      controlRoute('GET', '/state', nothing, () => this.state()),
      controlRoute('GET', '/documents', nothing, () => this.documents()),
      controlRoute('POST', '/faults', emulatorFaultSchema, (fault) => {
        this.inject(fault);
        return { faults: this.faults };
      }),
      controlRoute('DELETE', '/faults', nothing, () => {
        this.clearFaults();
        return { faults: [] };
      }),
      controlRoute('POST', '/paper', z.object({ state: z.enum(['present', 'out', 'runs_out_while_printing']) }), ({ state }) => {
        this.setPaper(state);
        return this.state();
      }),
      controlRoute('POST', '/cover', z.object({ open: z.boolean() }), ({ open }) => {
        this.setCover(open);
        return this.state();
      }),
      controlRoute('POST', '/clock', z.object({ advanceMs: z.number().int().min(0) }), ({ advanceMs }) => {
        this.advanceClock(advanceMs);
        return { clock: this.clock.now().toISOString() };
      }),
      controlRoute('POST', '/unplug', nothing, async () => {
        await this.unplug();
        return this.state();
      }),
      controlRoute('POST', '/plug', nothing, async () => {
        await this.plug();
        return this.state();
      }),
    ];
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    this.port = null;
    this.input.fail(new Error('unplugged'));
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.loop;
  }

  private takeFault<K extends Fault['kind']>(kind: K): Extract<Fault, { kind: K }> | null {
    const index = this.faults.findIndex((fault) => fault.kind === kind);
    if (index < 0) return null;
    const fault = this.faults[index] as Extract<Fault, { kind: K }>;
    if (fault.count !== undefined) {
      if (fault.count <= 1) this.faults.splice(index, 1);
      else this.faults[index] = { ...fault, count: fault.count - 1 };
    }
    return fault;
  }

  private write(port: SerialPort, bytes: Uint8Array | number[]): void {
    if (port.isOpen) port.write(Buffer.from(bytes));
  }

  private async serve(port: SerialPort, input: ByteQueue): Promise<void> {
    const byteTimeout = this.options.byteTimeoutMs ?? 500;
    while (!this.stopped && this.port === port) {
      const byte = await input.read(1_000);
      if (byte === null) continue;
      if (byte === ENQ) {
        if (this.takeFault('silence')) continue;
        const pending = this.pending;
        if (!pending) this.write(port, [NAK]);
        else {
          this.write(port, [ACK]);
          if (pending.ready) this.sendAnswer(port, pending);
        }
      } else if (byte === STX) {
        const body = await this.readFrame(input, byteTimeout);
        if (this.takeFault('silence')) continue;
        if (!body || this.takeFault('nak')) {
          this.write(port, [NAK]);
          continue;
        }
        if (!this.takeFault('dropAck')) this.write(port, [ACK]);
        this.commandsReceived += 1;
        this.framesReceived.push(
          Buffer.concat([Buffer.from([STX, body.length]), body, Buffer.from([lrc(Buffer.concat([Buffer.from([body.length]), body]))])]),
        );
        if (this.framesReceived.length > 100) this.framesReceived.shift();
        await this.answer(port, body);
      } else if (byte === ACK) {
        if (this.pending?.ready) this.pending = null;
      }
      // NAK from the host: the answer stays pending until it asks again with ENQ.
    }
  }

  /** LEN, body, LRC after an STX; null when damaged or cut short. */
  private async readFrame(input: ByteQueue, byteTimeout: number): Promise<Buffer | null> {
    const length = await input.read(byteTimeout);
    if (length === null || length === 0) return null;
    const body = Buffer.alloc(length + 1);
    body[0] = length;
    for (let i = 1; i <= length; i += 1) {
      const byte = await input.read(byteTimeout);
      if (byte === null) return null;
      body[i] = byte;
    }
    const check = await input.read(byteTimeout);
    return check === lrc(body) ? body.subarray(1) : null;
  }

  private async answer(port: SerialPort, body: Buffer): Promise<void> {
    const command = body[0] as number;
    const execution = this.takeFault('busy')
      ? { answer: Buffer.from([command, 0x50]), changed: false }
      : this.device.execute(command, body.subarray(1));
    if (execution.changed) await saveFiscalMemory(this.memoryFile, this.device.memory);
    const frame = encodeFrame(command, execution.answer.subarray(1));
    const pending: PendingAnswer = { frame, ready: false };
    this.pending = pending;
    const slow = this.takeFault('slow');
    const wire = this.options.lineRate ? Math.ceil(((body.length + 3 + frame.length) * 10 * 1000) / this.options.lineRate) : 0;
    const delay = (slow?.ms ?? 0) + wire;
    const release = () => {
      if (this.pending !== pending || this.port !== port) return;
      pending.ready = true;
      this.sendAnswer(port, pending);
    };
    if (delay > 0) setTimeout(release, delay);
    else release();
  }

  private sendAnswer(port: SerialPort, pending: PendingAnswer): void {
    let frame = pending.frame;
    if (this.takeFault('garble')) {
      frame = Buffer.from(frame);
      const at = Math.min(3, frame.length - 2);
      frame[at] = (frame[at] as number) ^ 0x5a;
    }
    this.write(port, frame);
  }
}
