import { FiscalInputError } from './bytes.ts';

/**
 * Every way a command to the register can fail, as values with codes.
 *
 * The device's ERR byte → a code from DEVICE_ERRORS (numbers and meanings:
 * rosix-ru/shtrihm-fr shtrihmfr/protocol.py `BUGS`; the code names and the
 * remedies are ours). Anything not in the table is `unknown_error` with the
 * byte kept. The remedy says what the host does next:
 * - `retry`: wait a moment and send the same command again (nothing happened);
 * - `host`: the host must first send another command (a Z-report for an
 *   expired shift, "continue printing", cancel the open receipt);
 * - `person`: someone must act on the device (paper, cover, hardware, tax
 *   office) — poll the status and retry when it is ready;
 * - `refused`: the request itself is wrong for the device; do not resend it.
 */

export type Remedy = 'retry' | 'host' | 'person' | 'refused';

interface DeviceErrorInfo {
  code: string;
  message: string;
  remedy: Remedy;
}

export const DEVICE_ERRORS = {
  0x01: { code: 'fiscal_memory_failure', message: 'fiscal memory, its second chip or the clock is faulty', remedy: 'person' },
  0x02: { code: 'fiscal_memory_missing', message: 'fiscal memory 1 is missing', remedy: 'person' },
  0x03: { code: 'fiscal_memory_missing', message: 'fiscal memory 2 is missing', remedy: 'person' },
  0x04: { code: 'bad_parameters', message: 'incorrect parameters in the fiscal memory command', remedy: 'refused' },
  0x09: { code: 'bad_length', message: 'incorrect command length', remedy: 'refused' },
  0x13: { code: 'date_before_last_record', message: 'the current date is before the last fiscal memory record', remedy: 'person' },
  0x14: { code: 'fiscal_memory_full', message: 'the shift totals area of the fiscal memory is full', remedy: 'person' },
  0x15: { code: 'shift_already_open', message: 'the shift is already open', remedy: 'refused' },
  0x16: { code: 'shift_not_open', message: 'the shift is not open (fiscal memory)', remedy: 'host' },
  0x2c: { code: 'already_zeroed', message: 'the register was zeroed already (repeated Z-report)', remedy: 'refused' },
  0x30: { code: 'blocked', message: 'blocked, waiting for the tax inspector password', remedy: 'person' },
  0x32: { code: 'clearing_required', message: 'a general clearing is required', remedy: 'person' },
  0x33: { code: 'bad_parameters', message: 'incorrect parameters in the command', remedy: 'refused' },
  0x34: { code: 'no_data', message: 'no data', remedy: 'refused' },
  0x35: { code: 'bad_parameters', message: 'a parameter is not allowed with the current settings', remedy: 'refused' },
  0x36: { code: 'bad_parameters', message: 'incorrect parameters for this model', remedy: 'refused' },
  0x37: { code: 'not_supported', message: 'the command is not supported by this model', remedy: 'refused' },
  0x3d: { code: 'shift_not_open', message: 'the shift is not open, operation impossible', remedy: 'host' },
  0x45: { code: 'payment_below_total', message: 'the payments add up to less than the receipt total', remedy: 'refused' },
  0x46: { code: 'not_enough_cash', message: 'not enough cash in the drawer', remedy: 'refused' },
  0x48: { code: 'total_overflow', message: 'receipt total overflow', remedy: 'refused' },
  0x49: { code: 'wrong_receipt_type', message: 'operation impossible in an open receipt of this type', remedy: 'refused' },
  0x4a: { code: 'receipt_open', message: 'a receipt is open, operation impossible', remedy: 'host' },
  0x4b: { code: 'receipt_buffer_full', message: 'the receipt buffer is full', remedy: 'refused' },
  0x4d: { code: 'non_cash_above_total', message: 'the non-cash payments exceed the receipt total', remedy: 'refused' },
  0x4e: { code: 'shift_expired', message: 'the shift has lasted over 24 hours: close it with a Z-report', remedy: 'host' },
  0x4f: { code: 'wrong_password', message: 'wrong password', remedy: 'refused' },
  0x50: { code: 'busy', message: 'still printing the previous command', remedy: 'retry' },
  0x55: { code: 'receipt_closed', message: 'the receipt is closed, operation impossible', remedy: 'refused' },
  0x58: { code: 'awaiting_continue', message: 'waiting for the continue-printing command', remedy: 'host' },
  0x59: { code: 'other_operator', message: 'the document was opened by another operator', remedy: 'refused' },
  0x5c: { code: 'low_voltage', message: 'the 24 V supply is low', remedy: 'person' },
  0x5e: { code: 'invalid_operation', message: 'invalid operation', remedy: 'refused' },
  0x5f: { code: 'negative_total', message: 'negative receipt total', remedy: 'refused' },
  0x61: { code: 'price_overflow', message: 'price out of range', remedy: 'refused' },
  0x62: { code: 'quantity_overflow', message: 'quantity out of range', remedy: 'refused' },
  0x63: { code: 'department_overflow', message: 'department out of range', remedy: 'refused' },
  0x6b: { code: 'paper_out', message: 'no receipt paper', remedy: 'person' },
  0x6c: { code: 'journal_paper_out', message: 'no journal paper', remedy: 'person' },
  0x70: { code: 'fiscal_memory_full', message: 'fiscal memory overflow', remedy: 'person' },
  0x71: { code: 'cutter_error', message: 'cutter failure', remedy: 'person' },
  0x72: { code: 'wrong_submode', message: 'the command is not allowed in this submode', remedy: 'retry' },
  0x73: { code: 'wrong_mode', message: 'the command is not allowed in this mode', remedy: 'refused' },
  0x7b: { code: 'hardware_error', message: 'hardware failure', remedy: 'person' },
  0x8f: { code: 'not_fiscalised', message: 'the register is not fiscalised', remedy: 'person' },
  0xa0: { code: 'eklz_error', message: 'no connection with the EKLZ', remedy: 'person' },
  0xa1: { code: 'eklz_error', message: 'the EKLZ is missing', remedy: 'person' },
  0xa7: { code: 'eklz_error', message: 'the EKLZ is full', remedy: 'person' },
  0xc0: { code: 'confirm_date', message: 'date and time control: confirm the date and time', remedy: 'person' },
  0xc9: { code: 'print_head_overheat', message: 'the print head is overheated', remedy: 'retry' },
} as const satisfies Record<number, DeviceErrorInfo>;

export type DeviceErrorCode = (typeof DEVICE_ERRORS)[keyof typeof DEVICE_ERRORS]['code'] | 'unknown_error';

/** Failures of the conversation itself (no ERR byte was received). */
export type LinkErrorCode =
  /** no reply to ENQ: cable, power, wrong port or speed */
  | 'no_link'
  /** the register kept answering NAK to our frame */
  | 'frame_refused'
  /** every copy of the answer arrived damaged */
  | 'bad_answer'
  /** the register took the command and gave no answer in time */
  | 'no_answer'
  /** the serial port: not available, lost mid-command, closed */
  | 'port_unavailable'
  | 'port_lost'
  | 'port_closed';

export type FiscalErrorCode = DeviceErrorCode | LinkErrorCode | 'invalid_input';

export abstract class FiscalRegisterError extends Error {
  abstract readonly code: FiscalErrorCode;
  abstract readonly remedy: Remedy;

  /** wait and send the same command again */
  get transient(): boolean {
    return this.remedy === 'retry';
  }

  /** someone must act on the device first */
  get needsPerson(): boolean {
    return this.remedy === 'person';
  }
}

/** The register answered with ERR ≠ 0: the command was refused and did nothing. */
export class ShtrihDeviceError extends FiscalRegisterError {
  readonly code: DeviceErrorCode;
  readonly remedy: Remedy;

  constructor(
    /** the ERR byte */
    readonly byte: number,
    /** the command it answered */
    readonly command: number,
  ) {
    const info: DeviceErrorInfo | undefined = (DEVICE_ERRORS as Record<number, DeviceErrorInfo>)[byte];
    super(`register refused command 0x${hex(command)}: ${info?.message ?? 'unknown error'} (0x${hex(byte)})`);
    this.name = 'ShtrihDeviceError';
    this.code = (info?.code ?? 'unknown_error') as DeviceErrorCode;
    this.remedy = info?.remedy ?? 'person';
  }
}

/**
 * The conversation failed. `delivered` says whether the register acknowledged
 * the command frame: if it did, the command may have been carried out (a
 * receipt closed) — ask the device (full status) before doing it again.
 */
export class ShtrihLinkError extends FiscalRegisterError {
  readonly remedy: Remedy = 'retry';

  constructor(
    readonly code: LinkErrorCode,
    message: string,
    readonly delivered: boolean,
  ) {
    super(message);
    this.name = 'ShtrihLinkError';
  }
}

/** A value the register cannot carry (a price with fractions of a kopeck, a negative quantity): nothing was sent. */
export class InvalidFiscalInputError extends FiscalRegisterError {
  readonly code = 'invalid_input';
  readonly remedy: Remedy = 'refused';

  constructor(cause: FiscalInputError) {
    super(cause.message);
    this.name = 'InvalidFiscalInputError';
  }
}

export function isFiscalRegisterError(error: unknown): error is FiscalRegisterError {
  return error instanceof FiscalRegisterError;
}

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}
