import type { Logger } from '../../common/logger.ts';
import type { BackOff } from '../serial/back-off.ts';
import { SerialTransport, type TransportState } from '../serial/transport.ts';
import { FiscalInputError, password } from './bytes.ts';
import {
  ADMIN_COMMANDS,
  COMMAND,
  parseChange,
  READ_ONLY_COMMANDS,
  requests,
  type CloseReceiptInput,
  type PrintTape,
  type ReceiptKind,
  type ReceiptLine,
} from './commands.ts';
import { InvalidFiscalInputError, ShtrihDeviceError } from './errors.ts';
import { ShtrihLink, type LinkTimings } from './link.ts';
import { parseFullStatus, parseShortStatus, type FullStatus, type ShortStatus } from './status.ts';

/**
 * A Shtrih-M fiscal register on a serial port, one typed method per command.
 * Every failure is a FiscalRegisterError (`code`, `remedy`, `transient`,
 * `needsPerson`; link failures also say whether the command was
 * `delivered`). A `busy` answer (0x50, still printing) is retried here a
 * few times, since the refused command did nothing.
 */

export interface ShtrihMOptions {
  path: string;
  /** the register's configured speed; 4800 out of the box, 115200 typical */
  baudRate: number;
  /** the device's name in logs and errors */
  name: string;
  /** the cashier's password (default 1) */
  operatorPassword?: number;
  /** the administrator's password, for the reports (default 30) */
  adminPassword?: number;
  logger?: Logger;
  timings?: Partial<LinkTimings>;
  backOff?: BackOff;
  /** how long a command waits for the port to (re)open before `port_unavailable` (default 2 s) */
  openWaitMs?: number;
  /** `busy` answers retried, and the pause between them (default 20 × 250 ms) */
  busyRetries?: { attempts: number; delayMs: number };
}

export class ShtrihM {
  readonly transport: SerialTransport;
  private readonly link: ShtrihLink;
  private readonly operatorPassword: Buffer;
  private readonly adminPassword: Buffer;
  private readonly busyRetries: { attempts: number; delayMs: number };

  constructor(options: ShtrihMOptions) {
    this.operatorPassword = password(options.operatorPassword ?? 1);
    this.adminPassword = password(options.adminPassword ?? 30);
    this.busyRetries = options.busyRetries ?? { attempts: 20, delayMs: 250 };
    this.transport = new SerialTransport({
      path: options.path,
      baudRate: options.baudRate,
      name: options.name,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.backOff ? { backOff: options.backOff } : {}),
      ...(options.openWaitMs !== undefined ? { openWaitMs: options.openWaitMs } : {}),
    });
    this.link = new ShtrihLink(this.transport, options.timings, options.logger);
    this.transport.start();
  }

  /** The port's state: `open`, or `connecting`/`reconnecting` with `transport.lastError`. */
  get portState(): TransportState {
    return this.transport.state;
  }

  /** 0x10: mode, submode, flags (paper, cover). */
  async shortStatus(): Promise<ShortStatus> {
    return parseShortStatus(await this.call(COMMAND.shortStatus, requests.none()));
  }

  /** 0x11: adds the document number, the last closed shift, the clock and the serial number. */
  async fullStatus(): Promise<FullStatus> {
    return parseFullStatus(await this.call(COMMAND.fullStatus, requests.none()));
  }

  /** 0xE0 */
  async openShift(): Promise<void> {
    await this.call(COMMAND.openShift, requests.none());
  }

  /** 0x8D: a sale or a sale-return receipt */
  async openReceipt(kind: ReceiptKind): Promise<void> {
    await this.call(COMMAND.openReceipt, requests.openReceipt(kind));
  }

  /** 0x80 */
  async sale(line: ReceiptLine): Promise<void> {
    await this.call(COMMAND.sale, () => requests.line(line));
  }

  /** 0x82 */
  async saleReturn(line: ReceiptLine): Promise<void> {
    await this.call(COMMAND.saleReturn, () => requests.line(line));
  }

  /** 0x85: closes the open receipt; answers the change in kopecks. */
  async closeReceipt(input: CloseReceiptInput): Promise<{ change: number }> {
    return { change: parseChange(await this.call(COMMAND.closeReceipt, () => requests.closeReceipt(input))) };
  }

  /** 0x88: annuls the open receipt */
  async cancelReceipt(): Promise<void> {
    await this.call(COMMAND.cancelReceipt, requests.none());
  }

  /** 0x17: one line of text (40 bytes of WIN-1251 at most) */
  async printLine(text: string, tape: PrintTape = 'receipt'): Promise<void> {
    await this.call(COMMAND.printLine, () => requests.printLine(text, tape));
  }

  /** 0x25 */
  async cut(kind: 'full' | 'partial' = 'full'): Promise<void> {
    await this.call(COMMAND.cut, requests.cut(kind));
  }

  /** 0x40: daily report without clearing (administrator) */
  async xReport(): Promise<void> {
    await this.call(COMMAND.xReport, requests.none());
  }

  /** 0x41: daily report with clearing, closes the shift (administrator) */
  async zReport(): Promise<void> {
    await this.call(COMMAND.zReport, requests.none());
  }

  /** 0xB0: continue printing after the paper was replaced (answers `awaiting_continue` otherwise) */
  async continuePrinting(): Promise<void> {
    await this.call(COMMAND.continuePrinting, requests.none());
  }

  /** Closes the port; later calls fail with `port_closed`. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  private async call(command: number, params: Buffer | (() => Buffer)): Promise<Buffer> {
    let body: Buffer;
    try {
      body = typeof params === 'function' ? params() : params;
    } catch (error) {
      if (error instanceof FiscalInputError) throw new InvalidFiscalInputError(error);
      throw error;
    }
    const request = {
      command,
      params: Buffer.concat([ADMIN_COMMANDS.has(command) ? this.adminPassword : this.operatorPassword, body]),
      readOnly: READ_ONLY_COMMANDS.has(command),
    };
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.link.exchange(request);
      } catch (error) {
        const busy = error instanceof ShtrihDeviceError && error.code === 'busy';
        if (!busy || attempt >= this.busyRetries.attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, this.busyRetries.delayMs));
      }
    }
  }
}
