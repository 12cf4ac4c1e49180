import { SerialPort } from 'serialport';
import { z } from 'zod';
import { DEFAULT_CODE_PAGE, type CodePage } from '../escpos/code-pages.ts';
import { DLE, EOT } from '../escpos/commands.ts';
import { OFFLINE_COVER_OPEN, OFFLINE_PAPER_END, PAPER_END, STATUS_FIXED_BITS } from '../escpos/status.ts';
import { controlRoute, type ControlRoute } from './control-server.ts';
import { EscPosDecoder, type PrintedReceipt } from './escpos-decoder.ts';
import { PtyPair } from './pty-pair.ts';

/**
 * An ESC/POS receipt printer on the device end of a PTY pair: decodes what
 * it receives into text lines (in its code page), keeps the receipts it
 * printed (the last 50), answers `DLE EOT 2/4` with its cover and paper, and
 * prints nothing while it has no paper or its cover is open (what it
 * received meanwhile is counted as lost, as an off-line printer's buffer
 * would be at the next reset).
 */

export interface EscPosEmulatorOptions {
  dir: string;
  /** link names `<name>.host` / `<name>.device`; default `printer-main` */
  name?: string;
  /** the table selected at power-on and after ESC @ */
  codePage?: CodePage;
  /** print received receipts to the console as text */
  echo?: (receipt: PrintedReceipt) => void;
}

export class EscPosEmulator {
  readonly pair: PtyPair;
  paper = true;
  coverOpen = false;
  bytesLost = 0;
  readonly receipts: PrintedReceipt[] = [];
  private port: SerialPort | null = null;
  private decoder: EscPosDecoder;

  private constructor(private readonly options: EscPosEmulatorOptions) {
    this.pair = new PtyPair(options.dir, options.name ?? 'printer-main');
    this.decoder = this.newDecoder();
  }

  static async start(options: EscPosEmulatorOptions): Promise<EscPosEmulator> {
    const emulator = new EscPosEmulator(options);
    await emulator.plug();
    return emulator;
  }

  get hostPath(): string {
    return this.pair.paths.host;
  }

  get plugged(): boolean {
    return this.pair.running;
  }

  get lastReceipt(): PrintedReceipt | null {
    return this.receipts.at(-1) ?? null;
  }

  /** the receipt being printed, not cut yet */
  get inProgress(): PrintedReceipt {
    return this.decoder.inProgress;
  }

  async plug(): Promise<void> {
    if (this.plugged) return;
    await this.pair.start();
    const port = new SerialPort({ path: this.pair.paths.device, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    port.on('data', (data: Buffer) => this.receive(port, data));
    port.on('error', () => undefined);
    this.port = port;
  }

  async unplug(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.pair.stop();
    this.decoder = this.newDecoder();
  }

  async stop(): Promise<void> {
    await this.unplug();
  }

  reset(): void {
    this.receipts.length = 0;
    this.bytesLost = 0;
    this.paper = true;
    this.coverOpen = false;
    this.decoder = this.newDecoder();
  }

  state(): Record<string, unknown> {
    return {
      plugged: this.plugged,
      hostPath: this.hostPath,
      paper: this.paper,
      coverOpen: this.coverOpen,
      codePage: this.decoder.codePage,
      receiptsPrinted: this.receipts.length,
      bytesLost: this.bytesLost,
      unknownCommands: this.decoder.unknownCommands,
    };
  }

  controlRoutes(): ControlRoute[] {
    const nothing = z.object({}).passthrough();
    return [
      controlRoute('GET', '/state', nothing, () => this.state()),
      controlRoute('GET', '/receipts/last', nothing, () => ({
        receipt: this.lastReceipt,
        text: this.lastReceipt ? receiptText(this.lastReceipt) : null,
      })),
      controlRoute('GET', '/receipts', nothing, () => this.receipts),
      controlRoute('POST', '/paper', z.object({ state: z.enum(['present', 'out']) }), ({ state }) => {
        this.paper = state === 'present';
        return this.state();
      }),
      controlRoute('POST', '/cover', z.object({ open: z.boolean() }), ({ open }) => {
        this.coverOpen = open;
        return this.state();
      }),
      controlRoute('POST', '/unplug', nothing, async () => {
        await this.unplug();
        return this.state();
      }),
      controlRoute('POST', '/plug', nothing, async () => {
        await this.plug();
        return this.state();
      }),
      controlRoute('POST', '/reset', nothing, () => {
        this.reset();
        return this.state();
      }),
    ];
  }

  private newDecoder(): EscPosDecoder {
    return new EscPosDecoder(this.options.codePage ?? DEFAULT_CODE_PAGE, {
      onStatusRequest: (n) => this.answerStatus(n),
      onReceipt: (receipt) => {
        this.receipts.push(receipt);
        if (this.receipts.length > 50) this.receipts.shift();
        this.options.echo?.(receipt);
      },
    });
  }

  private receive(port: SerialPort, data: Buffer): void {
    if (port !== this.port) return;
    if (this.paper && !this.coverOpen) {
      this.decoder.push(data);
      return;
    }
    // Off line: only real-time status requests are answered.
    for (let i = 0; i < data.length; i += 1) {
      if (data[i] === DLE && data[i + 1] === EOT && i + 2 < data.length) {
        this.answerStatus(data[i + 2] as number);
        i += 2;
      } else this.bytesLost += 1;
    }
  }

  private answerStatus(n: number): void {
    let byte = STATUS_FIXED_BITS;
    if (n === 2) byte |= (this.coverOpen ? OFFLINE_COVER_OPEN : 0) | (this.paper ? 0 : OFFLINE_PAPER_END);
    if (n === 4) byte |= this.paper ? 0 : PAPER_END;
    if (this.port?.isOpen) this.port.write(Buffer.from([byte]));
  }
}

/** A receipt as plain text, centred lines padded to `width`. */
export function receiptText(receipt: PrintedReceipt, width = 48): string {
  const rows = receipt.lines.map((line) => {
    if (line.align === 'left') return line.text;
    const pad = Math.max(0, width - line.text.length);
    return line.align === 'center' ? `${' '.repeat(Math.floor(pad / 2))}${line.text}` : `${' '.repeat(pad)}${line.text}`;
  });
  for (const qr of receipt.qrCodes) rows.push(`[QR ${qr}]`);
  if (receipt.cut) rows.push(`--- ${receipt.cut} cut ---`);
  return rows.join('\n');
}
