import { readText, readUIntLE, writeUIntLE } from '../shtrih-m/bytes.ts';
import { COMMAND } from '../shtrih-m/commands.ts';
import { DOCUMENT_TYPE, MODE, SUBMODE } from '../shtrih-m/status.ts';
import type { FiscalDocument, FiscalLine, FiscalMemory } from './fiscal-memory.ts';

/**
 * The emulated register's behaviour, without the serial line: a command's
 * bytes in, `CMD ERR data` out, fiscal memory changed in between. The
 * serial side (shtrih-m-emulator.ts) saves the memory before it answers.
 *
 * Which error a refused command gets follows the error table (rosix-ru/
 * shtrihm-fr protocol.py BUGS); which command is refused in which mode is our
 * assumption of the classic firmware's rules: a sale or a close with no
 * receipt open → 0x55, opening a receipt or a shift, or a report, while a
 * receipt is open → 0x4A, a receipt while the shift is over 24 h → 0x4E, with
 * the shift closed → 0x3D, a repeated Z-report → 0x2C, anything printed with
 * no paper or the cover open → 0x6B, after an active paper-out until
 * "continue printing" → 0x58.
 */

export const ERR = {
  ok: 0x00,
  shiftAlreadyOpen: 0x15,
  alreadyZeroed: 0x2c,
  badParameters: 0x33,
  notSupported: 0x37,
  shiftNotOpen: 0x3d,
  paymentBelowTotal: 0x45,
  wrongReceiptType: 0x49,
  receiptOpen: 0x4a,
  nonCashAboveTotal: 0x4d,
  shiftExpired: 0x4e,
  wrongPassword: 0x4f,
  receiptClosed: 0x55,
  awaitingContinue: 0x58,
  paperOut: 0x6b,
} as const;

export type PaperControl = 'present' | 'out' | 'runs_out_while_printing';

export interface DeviceClock {
  now(): Date;
}

export interface DeviceOptions {
  operatorPassword: number;
  adminPassword: number;
  clock: DeviceClock;
}

/** What one command did: the answer, and whether fiscal memory changed (and must be saved before answering). */
export interface Execution {
  answer: Buffer;
  changed: boolean;
}

const SHIFT_LIMIT_MS = 24 * 60 * 60 * 1000;

/** Parameter lengths after the password, per command. */
const PARAM_LENGTH: Record<number, number> = {
  [COMMAND.shortStatus]: 0,
  [COMMAND.fullStatus]: 0,
  [COMMAND.printLine]: 41,
  [COMMAND.cut]: 1,
  [COMMAND.xReport]: 0,
  [COMMAND.zReport]: 0,
  [COMMAND.sale]: 55,
  [COMMAND.saleReturn]: 55,
  [COMMAND.closeReceipt]: 66,
  [COMMAND.cancelReceipt]: 0,
  [COMMAND.openReceipt]: 1,
  [COMMAND.continuePrinting]: 0,
  [COMMAND.openShift]: 0,
};

class Refusal extends Error {
  constructor(readonly byte: number) {
    super(`refused 0x${byte.toString(16)}`);
  }
}

export class ShtrihMDevice {
  submode: number = SUBMODE.paperPresent;
  receiptPaper = true;
  coverOpen = false;
  /** the next printing command empties the roll after it has done its work */
  paperRunsOut = false;
  /** lines printed by 0x17 and cuts, newest last (at most 200) */
  readonly tape: string[] = [];

  constructor(
    public memory: FiscalMemory,
    private readonly options: DeviceOptions,
  ) {}

  get mode(): number {
    const memory = this.memory;
    if (memory.receipt) return MODE.documentOpen | ((memory.receipt.kind === 'sale' ? DOCUMENT_TYPE.sale : DOCUMENT_TYPE.saleReturn) << 4);
    if (!memory.shift) return MODE.shiftClosed;
    return this.shiftExpired() ? MODE.shiftExpired : MODE.shiftOpen;
  }

  get flags(): number {
    return 0x0001 | (this.receiptPaper ? 0x0002 : 0) | (this.coverOpen ? 0x0400 : 0);
  }

  setPaper(control: PaperControl): void {
    if (control === 'runs_out_while_printing') {
      this.paperRunsOut = true;
      return;
    }
    if (control === 'out') {
      this.receiptPaper = false;
      if (this.submode !== SUBMODE.paperOutActive) this.submode = SUBMODE.paperOutPassive;
      return;
    }
    this.receiptPaper = true;
    this.paperRunsOut = false;
    this.submode =
      this.submode === SUBMODE.paperOutActive
        ? SUBMODE.awaitingContinue
        : this.submode === SUBMODE.paperOutPassive
          ? SUBMODE.paperPresent
          : this.submode;
  }

  execute(command: number, params: Buffer): Execution {
    const before = JSON.stringify(this.memory);
    let answer: Buffer;
    try {
      answer = Buffer.concat([Buffer.from([command, ERR.ok]), this.run(command, params)]);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      answer = Buffer.from([command, error.byte]);
    }
    return { answer, changed: JSON.stringify(this.memory) !== before };
  }

  private run(command: number, params: Buffer): Buffer {
    const expected = PARAM_LENGTH[command];
    if (expected === undefined) throw new Refusal(ERR.notSupported);
    if (params.length !== 4 + expected) throw new Refusal(ERR.badParameters);
    const password = readUIntLE(params, 0, 4);
    const admin = command === COMMAND.xReport || command === COMMAND.zReport;
    const allowed = admin ? [this.options.adminPassword] : [this.options.operatorPassword, this.options.adminPassword];
    if (!allowed.includes(password)) throw new Refusal(ERR.wrongPassword);
    const body = params.subarray(4);
    const operator = Buffer.from([password === this.options.adminPassword ? 30 : 1]);
    const memory = this.memory;

    switch (command) {
      case COMMAND.shortStatus:
        return Buffer.concat([
          operator,
          writeUIntLE(this.flags, 2),
          Buffer.from([this.mode, this.submode, memory.receipt?.lines.length ?? 0, 0x9c, 0xa0, 0, 0, 0, 0, 0, 0]),
        ]);
      case COMMAND.fullStatus:
        return this.fullStatus(operator);
      case COMMAND.openShift:
        if (memory.receipt) throw new Refusal(ERR.receiptOpen);
        if (memory.shift) throw new Refusal(this.shiftExpired() ? ERR.shiftExpired : ERR.shiftAlreadyOpen);
        this.print(() => {
          memory.shift = { number: memory.lastClosedShift + 1, openedAt: this.now() };
          this.document('shift_open', {});
        });
        return operator;
      case COMMAND.openReceipt: {
        const type = body[0];
        if (type !== DOCUMENT_TYPE.sale && type !== DOCUMENT_TYPE.saleReturn) throw new Refusal(ERR.notSupported);
        if (memory.receipt) throw new Refusal(ERR.receiptOpen);
        this.requireShift();
        this.print(() => {
          memory.receipt = { kind: type === DOCUMENT_TYPE.sale ? 'sale' : 'return', openedAt: this.now(), lines: [], total: 0 };
        });
        return operator;
      }
      case COMMAND.sale:
      case COMMAND.saleReturn: {
        const receipt = memory.receipt;
        if (!receipt) throw new Refusal(ERR.receiptClosed);
        if ((command === COMMAND.sale) !== (receipt.kind === 'sale')) throw new Refusal(ERR.wrongReceiptType);
        const line = parseLine(body);
        if (line.qty === 0 || line.department > 16 || line.taxGroup > 4) throw new Refusal(ERR.badParameters);
        this.print(() => {
          receipt.lines.push(line);
          receipt.total += line.amount;
        });
        return operator;
      }
      case COMMAND.closeReceipt: {
        const receipt = memory.receipt;
        if (!receipt) throw new Refusal(ERR.receiptClosed);
        const payments = {
          cash: readUIntLE(body, 0, 5),
          card: readUIntLE(body, 5, 5),
          payment3: readUIntLE(body, 10, 5),
          payment4: readUIntLE(body, 15, 5),
        };
        const rawDiscount = readUIntLE(body, 20, 2);
        const discount = rawDiscount >= 0x8000 ? rawDiscount - 0x10000 : rawDiscount;
        if (discount < -9999 || discount > 9999) throw new Refusal(ERR.badParameters);
        const total = receipt.total - Math.round((receipt.total * discount) / 10_000);
        const nonCash = payments.card + payments.payment3 + payments.payment4;
        if (nonCash > total) throw new Refusal(ERR.nonCashAboveTotal);
        if (payments.cash + nonCash < total) throw new Refusal(ERR.paymentBelowTotal);
        const change = payments.cash + nonCash - total;
        this.print(() => {
          const counted = receipt.kind === 'sale' ? 'sales' : 'returns';
          memory.totals[counted] += total;
          memory.totals.receipts += 1;
          memory.shiftTotals[counted] += total;
          memory.shiftTotals.receipts += 1;
          this.document(receipt.kind, { total, payments, change, lines: receipt.lines, text: readText(body.subarray(26, 66)) });
          memory.receipt = null;
        });
        return Buffer.concat([operator, writeUIntLE(change, 5)]);
      }
      case COMMAND.cancelReceipt: {
        const receipt = memory.receipt;
        if (!receipt) throw new Refusal(ERR.receiptClosed);
        this.print(() => {
          this.document('cancelled', { total: receipt.total, lines: receipt.lines });
          memory.receipt = null;
        });
        return operator;
      }
      case COMMAND.printLine: {
        const text = readText(body.subarray(1, 41));
        this.print(() => this.onTape(text));
        return operator;
      }
      case COMMAND.cut:
        this.print(() => this.onTape(body[0] === 0 ? '--- full cut ---' : '--- partial cut ---'));
        return operator;
      case COMMAND.xReport:
        if (memory.receipt) throw new Refusal(ERR.receiptOpen);
        this.print(() => this.document('x_report', { total: memory.shiftTotals.sales - memory.shiftTotals.returns }));
        return operator;
      case COMMAND.zReport: {
        if (memory.receipt) throw new Refusal(ERR.receiptOpen);
        const shift = memory.shift;
        if (!shift) throw new Refusal(ERR.alreadyZeroed);
        this.print(() => {
          this.document('z_report', { total: memory.shiftTotals.sales - memory.shiftTotals.returns });
          memory.zReports += 1;
          memory.lastClosedShift = shift.number;
          memory.shift = null;
          memory.shiftTotals = { sales: 0, returns: 0, receipts: 0 };
        });
        return operator;
      }
      case COMMAND.continuePrinting:
        if (this.submode === SUBMODE.awaitingContinue) this.submode = SUBMODE.paperPresent;
        return operator;
      default:
        throw new Refusal(ERR.notSupported);
    }
  }

  private fullStatus(operator: Buffer): Buffer {
    const now = this.clock();
    const shift = this.memory.shift;
    const fiscalFlags = 0x01 | 0x04 | 0x20 | (shift ? 0x40 : 0) | (this.shiftExpired() ? 0x80 : 0);
    const date = [now.getDate(), now.getMonth() + 1, now.getFullYear() % 100];
    return Buffer.concat([
      operator,
      Buffer.from('A2', 'latin1'),
      writeUIntLE(1234, 2),
      Buffer.from([15, 3, 24]),
      Buffer.from([1]),
      writeUIntLE(this.memory.documentNumber % 0x10000, 2),
      writeUIntLE(this.flags, 2),
      Buffer.from([this.mode, this.submode, 0]),
      Buffer.from('A1', 'latin1'),
      writeUIntLE(321, 2),
      Buffer.from([1, 2, 24]),
      Buffer.from(date),
      Buffer.from([now.getHours(), now.getMinutes(), now.getSeconds()]),
      Buffer.from([fiscalFlags]),
      writeUIntLE(this.memory.serialNumber, 4),
      writeUIntLE(this.memory.lastClosedShift, 2),
      writeUIntLE(2000 - this.memory.zReports, 2),
      Buffer.from([1, 15]),
      writeUIntLE(this.memory.inn, 6),
    ]);
  }

  private requireShift(): void {
    if (!this.memory.shift) throw new Refusal(ERR.shiftNotOpen);
    if (this.shiftExpired()) throw new Refusal(ERR.shiftExpired);
  }

  /** A command that prints: refused without paper, done, then maybe the roll ends (active paper-out). */
  private print(work: () => void): void {
    if (this.coverOpen || !this.receiptPaper || this.submode === SUBMODE.paperOutPassive || this.submode === SUBMODE.paperOutActive) {
      throw new Refusal(ERR.paperOut);
    }
    if (this.submode === SUBMODE.awaitingContinue) throw new Refusal(ERR.awaitingContinue);
    work();
    if (this.paperRunsOut) {
      this.paperRunsOut = false;
      this.receiptPaper = false;
      this.submode = SUBMODE.paperOutActive;
    }
  }

  private document(kind: FiscalDocument['kind'], details: Omit<FiscalDocument, 'number' | 'kind' | 'at' | 'shift'>): void {
    const memory = this.memory;
    memory.documentNumber += 1;
    memory.documents.push({
      number: memory.documentNumber % 0x10000,
      kind,
      at: this.now(),
      shift: memory.shift?.number ?? memory.lastClosedShift,
      ...details,
    });
  }

  private onTape(line: string): void {
    this.tape.push(line);
    if (this.tape.length > 200) this.tape.shift();
  }

  private shiftExpired(): boolean {
    const shift = this.memory.shift;
    return shift !== null && this.clock().getTime() - Date.parse(shift.openedAt) >= SHIFT_LIMIT_MS;
  }

  private clock(): Date {
    return this.options.clock.now();
  }

  private now(): string {
    return this.clock().toISOString();
  }
}

function parseLine(body: Buffer): FiscalLine {
  const qty = readUIntLE(body, 0, 5);
  const price = readUIntLE(body, 5, 5);
  return {
    qty,
    price,
    department: body[10] ?? 0,
    taxGroup: body[11] ?? 0,
    name: readText(body.subarray(15, 55)),
    amount: Math.round((qty * price) / 1000),
  };
}
