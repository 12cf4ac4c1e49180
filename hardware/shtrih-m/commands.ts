import { FiscalInputError, money, quantity, readUIntLE, text, writeIntLE } from './bytes.ts';
import { DOCUMENT_TYPE } from './status.ts';

/**
 * The classic command set, one request builder per command: what follows the
 * 4-byte password in the frame. Layouts: the protocol note §6.2/6.2a, from
 * rosix-ru/shtrihm-fr shtrihmfr/kkt.py (x10, x11, x17, x25, x40, x41, x80,
 * x82, x85, x88, x8D, xB0, xE0) — confirmed by a published driver.
 */

export const COMMAND = {
  shortStatus: 0x10,
  fullStatus: 0x11,
  printLine: 0x17,
  cut: 0x25,
  xReport: 0x40,
  zReport: 0x41,
  sale: 0x80,
  saleReturn: 0x82,
  closeReceipt: 0x85,
  cancelReceipt: 0x88,
  openReceipt: 0x8d,
  continuePrinting: 0xb0,
  openShift: 0xe0,
} as const;

export type CommandName = keyof typeof COMMAND;

/** Which password a command takes: the reports need the administrator's. */
export const ADMIN_COMMANDS: ReadonlySet<number> = new Set([COMMAND.xReport, COMMAND.zReport]);

/** Commands that read only: safe to send again when their answer was lost. */
export const READ_ONLY_COMMANDS: ReadonlySet<number> = new Set([COMMAND.shortStatus, COMMAND.fullStatus]);

/** The width of every text field of the classic commands. */
export const TEXT_WIDTH = 40;

export type TaxGroup = 0 | 1 | 2 | 3 | 4;

/** One receipt line (0x80 sale, 0x82 sale return). */
export interface ReceiptLine {
  /** printed on the line; cut to 40 bytes of WIN-1251 */
  name: string;
  /** up to three decimals (sent ×1000) */
  qty: number;
  /** unit price in kopecks */
  price: number;
  /** 0…16; default 1 */
  department?: number;
  /** the tax group of the line, 0 = none (sent as tax 1; taxes 2–4 none) */
  taxGroup?: TaxGroup;
}

/** Payments of 0x85. Types 2–4 are configured in the register's tables; we assume type 2 is the card. */
export interface ReceiptPayments {
  cash?: number;
  card?: number;
  payment3?: number;
  payment4?: number;
}

export interface CloseReceiptInput {
  payments: ReceiptPayments;
  /** printed under the total; cut to 40 bytes */
  text?: string;
  /** a discount on the whole receipt in hundredths of a percent (-9999…9999; negative = surcharge); default 0 */
  discountBasisPoints?: number;
  taxGroup?: TaxGroup;
}

export type ReceiptKind = 'sale' | 'return';

export type PrintTape = 'receipt' | 'journal' | 'both';

function taxBytes(taxGroup: TaxGroup = 0): Buffer {
  return Buffer.from([taxGroup, 0, 0, 0]);
}

function department(value = 1): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 16) throw new FiscalInputError(`a department is 0…16, got ${value}`);
  return Buffer.from([value]);
}

export const requests = {
  /** 0x80 / 0x82: qty(5) price(5) dept(1) tax1..4(4) text(40) */
  line: (line: ReceiptLine): Buffer =>
    Buffer.concat([
      quantity(line.qty),
      money(line.price, 'a price'),
      department(line.department),
      taxBytes(line.taxGroup),
      text(line.name, TEXT_WIDTH),
    ]),
  /** 0x85: cash(5) pay2(5) pay3(5) pay4(5) discount(2, signed) tax1..4(4) text(40) */
  closeReceipt: (input: CloseReceiptInput): Buffer =>
    Buffer.concat([
      money(input.payments.cash ?? 0, 'cash'),
      money(input.payments.card ?? 0, 'card'),
      money(input.payments.payment3 ?? 0, 'payment 3'),
      money(input.payments.payment4 ?? 0, 'payment 4'),
      writeIntLE(input.discountBasisPoints ?? 0, 2),
      taxBytes(input.taxGroup),
      text(input.text ?? '', TEXT_WIDTH),
    ]),
  /** 0x8D: document type(1) */
  openReceipt: (kind: ReceiptKind): Buffer => Buffer.from([kind === 'sale' ? DOCUMENT_TYPE.sale : DOCUMENT_TYPE.saleReturn]),
  /** 0x17: flags(1: bit 0 journal, bit 1 receipt) text(40) */
  printLine: (line: string, tape: PrintTape): Buffer =>
    Buffer.concat([Buffer.from([tape === 'journal' ? 1 : tape === 'receipt' ? 2 : 3]), text(line, TEXT_WIDTH)]),
  /** 0x25: type(1: 0 full, 1 partial) */
  cut: (kind: 'full' | 'partial'): Buffer => Buffer.from([kind === 'full' ? 0 : 1]),
  /** 0x10, 0x11, 0x40, 0x41, 0x88, 0xB0, 0xE0: the password alone */
  none: (): Buffer => Buffer.alloc(0),
} as const;

/** 0x85's answer after ERR: operator(1) change(5). */
export function parseChange(data: Buffer): number {
  return readUIntLE(data, 1, 5);
}
