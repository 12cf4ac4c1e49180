import type { Logger } from '../../common/logger.ts';
import type { BackOff } from '../serial/back-off.ts';
import { SerialError } from '../serial/errors.ts';
import { SerialTransport, type TransportState } from '../serial/transport.ts';
import { DEFAULT_CODE_PAGE, type CodePage } from './code-pages.ts';
import { escpos } from './commands.ts';
import { renderReceipt, type LayoutOptions, type ReceiptTemplate } from './receipt-layout.ts';
import { parsePrinterStatus, type PrinterStatus } from './status.ts';

/**
 * An ESC/POS receipt printer on a serial port. printReceipt() asks the
 * printer's real-time status first and refuses to send a receipt into a
 * printer without paper or with its cover open (PrinterError with
 * `needsPerson`), so the caller can wait and print it later instead of
 * losing it in an off-line printer's buffer.
 */

export type PrinterErrorCode = 'paper_out' | 'cover_open' | 'no_answer' | 'port_unavailable' | 'port_lost' | 'port_closed';

export class PrinterError extends Error {
  constructor(
    readonly code: PrinterErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PrinterError';
  }

  /** someone must load paper or close the cover */
  get needsPerson(): boolean {
    return this.code === 'paper_out' || this.code === 'cover_open';
  }

  /** try again later (the port or the printer did not answer) */
  get transient(): boolean {
    return !this.needsPerson;
  }
}

export interface EscPosPrinterOptions {
  path: string;
  baudRate: number;
  name: string;
  /** the printer's character table for Cyrillic: 17 (PC866, default) or 46 (WPC1251) */
  codePage?: CodePage;
  /** characters per line (48 for 80 mm paper, 32 for 58 mm) */
  width?: number;
  logger?: Logger;
  backOff?: BackOff;
  openWaitMs?: number;
  /** how long to wait for a status byte (default 500 ms) */
  statusTimeoutMs?: number;
  /** ask DLE EOT before each receipt (default true); off for printers that do not answer it */
  checkStatusBeforePrinting?: boolean;
}

export class EscPosPrinter {
  readonly transport: SerialTransport;
  readonly codePage: CodePage;
  private readonly options: EscPosPrinterOptions;

  constructor(options: EscPosPrinterOptions) {
    this.options = options;
    this.codePage = options.codePage ?? DEFAULT_CODE_PAGE;
    this.transport = new SerialTransport({
      path: options.path,
      baudRate: options.baudRate,
      name: options.name,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.backOff ? { backOff: options.backOff } : {}),
      ...(options.openWaitMs !== undefined ? { openWaitMs: options.openWaitMs } : {}),
    });
    this.transport.start();
  }

  get portState(): TransportState {
    return this.transport.state;
  }

  /** DLE EOT 2 and 4: cover and paper. */
  async status(): Promise<PrinterStatus> {
    return this.guard(() =>
      this.transport.exclusive(async (io) => {
        io.discardInput();
        const ask = async (n: 2 | 4) => {
          await io.write(escpos.statusRequest(n));
          const byte = await io.read(this.options.statusTimeoutMs ?? 500);
          if (byte === null) throw new PrinterError('no_answer', `printer ${this.transport.name} did not answer a status request`);
          return byte;
        };
        const offline = await ask(2);
        return parsePrinterStatus(offline, await ask(4));
      }),
    );
  }

  /** Sends bytes as they are. */
  async print(bytes: Uint8Array): Promise<void> {
    await this.guard(() => this.transport.exclusive((io) => io.write(bytes)));
  }

  /** Checks the status, then prints the receipt laid out from the template. */
  async printReceipt(template: ReceiptTemplate, options: Omit<LayoutOptions, 'codePage'> = {}): Promise<void> {
    await this.requireReady();
    await this.print(renderReceipt(template, { codePage: this.codePage, width: this.options.width ?? 48, ...options }));
  }

  /** A short page that shows the code page works (the devices admin test button). */
  async printTestPage(): Promise<void> {
    await this.printReceipt(
      {
        shop: { name: 'Тест принтера' },
        title: `${this.transport.name}, ESC t ${this.codePage}`,
        lines: [{ name: 'Перевірка: АБВГДЕЄЇ абвгдеєї', qty: 1, price: 0 }],
      },
      { cut: 'partial' },
    );
  }

  async openDrawer(pin: 2 | 5 = 2): Promise<void> {
    await this.print(escpos.drawerPulse(pin));
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private async requireReady(): Promise<void> {
    if (this.options.checkStatusBeforePrinting === false) return;
    const status = await this.status();
    if (status.coverOpen) throw new PrinterError('cover_open', `printer ${this.transport.name}: the cover is open`);
    if (status.paper === 'out') throw new PrinterError('paper_out', `printer ${this.transport.name}: no paper`);
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof SerialError) throw new PrinterError(error.code, error.message);
      throw error;
    }
  }
}
