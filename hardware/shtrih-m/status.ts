import { readText, readUIntLE } from './bytes.ts';

/**
 * The register's state as its status commands report it.
 *
 * Mode byte: the low nibble is the mode, the high nibble a status for modes
 * 8, 13 and 14 (for 8: the open document's type). Submode: the printing
 * phase (paper present, passive/active paper out, waiting for "continue").
 * Flags: bit 0 journal roll, 1 receipt roll, 10 cover, 11 cash drawer.
 * Source: rosix-ru/shtrihm-fr shtrihmfr/protocol.py (KKT_MODES,
 * KKT_SUBMODES, KKT_FLAGS). Our assumption: a set bit means "present" for
 * the rolls and "open/raised" for the cover and the drawer (the source names
 * the bits, not their polarity). The protocol note lists the document type
 * of mode 8 as the submode; the driver reads it from the mode byte's high
 * nibble, as we do.
 */

export const MODE = {
  printerWorking: 0,
  dataOutput: 1,
  shiftOpen: 2,
  shiftExpired: 3,
  shiftClosed: 4,
  blockedByTaxPassword: 5,
  awaitingDateConfirmation: 6,
  decimalPointChange: 7,
  documentOpen: 8,
} as const;

export const SUBMODE = {
  paperPresent: 0,
  paperOutPassive: 1,
  paperOutActive: 2,
  awaitingContinue: 3,
  printingFullReport: 4,
  printing: 5,
} as const;

/** Document types of `openReceipt` (0x8D) and of mode 8's status nibble. */
export const DOCUMENT_TYPE = { sale: 0, purchase: 1, saleReturn: 2, purchaseReturn: 3 } as const;

export type ShiftState = 'open' | 'expired' | 'closed' | 'unknown';
export type PaperState = 'present' | 'out' | 'awaiting_continue' | 'printing';
export type OpenDocument = 'sale' | 'purchase' | 'sale_return' | 'purchase_return';

export interface DeviceFlags {
  journalPaper: boolean;
  receiptPaper: boolean;
  coverOpen: boolean;
  drawerOpen: boolean;
  /** the raw 16 bits */
  bits: number;
}

/** What every status answer says about the device, decoded. */
export interface DeviceState {
  /** mode number, 0…15 (MODE) */
  mode: number;
  /** mode 8: the open document's type; 0 otherwise */
  modeStatus: number;
  /** printing phase (SUBMODE) */
  submode: number;
  flags: DeviceFlags;
  shift: ShiftState;
  /** the open document, null when none is open */
  openDocument: OpenDocument | null;
  paper: PaperState;
}

export interface ShortStatus extends DeviceState {
  operator: number;
  /** operations in the open receipt */
  receiptOperations: number;
  batteryVoltage: number;
  powerVoltage: number;
  fiscalMemoryError: number;
  eklzError: number;
}

export interface FullStatus extends DeviceState {
  operator: number;
  firmwareVersion: string;
  firmwareBuild: number;
  firmwareDate: string;
  hallNumber: number;
  /** the through number of the last document */
  documentNumber: number;
  port: number;
  fiscalMemoryVersion: string;
  fiscalMemoryBuild: number;
  /** the device's clock, local time without a zone: `2026-12-02T13:05:09` */
  deviceTime: string;
  fiscalMemoryFlags: number;
  serialNumber: number;
  lastClosedShift: number;
  freeFiscalRecords: number;
  registrations: number;
  registrationsLeft: number;
  inn: number;
}

const OPEN_DOCUMENTS: readonly OpenDocument[] = ['sale', 'purchase', 'sale_return', 'purchase_return'];

export function deviceState(modeByte: number, submode: number, flagBits: number): DeviceState {
  const mode = modeByte & 0x0f;
  const modeStatus = modeByte >> 4;
  const flags: DeviceFlags = {
    journalPaper: (flagBits & 0x0001) !== 0,
    receiptPaper: (flagBits & 0x0002) !== 0,
    coverOpen: (flagBits & 0x0400) !== 0,
    drawerOpen: (flagBits & 0x0800) !== 0,
    bits: flagBits,
  };
  const shift: ShiftState =
    mode === MODE.shiftOpen || mode === MODE.documentOpen
      ? 'open'
      : mode === MODE.shiftExpired
        ? 'expired'
        : mode === MODE.shiftClosed
          ? 'closed'
          : 'unknown';
  const paper: PaperState =
    submode === SUBMODE.paperOutPassive || submode === SUBMODE.paperOutActive || !flags.receiptPaper
      ? 'out'
      : submode === SUBMODE.awaitingContinue
        ? 'awaiting_continue'
        : submode === SUBMODE.printing || submode === SUBMODE.printingFullReport
          ? 'printing'
          : 'present';
  return {
    mode,
    modeStatus,
    submode,
    flags,
    shift,
    openDocument: mode === MODE.documentOpen ? (OPEN_DOCUMENTS[modeStatus] ?? 'sale') : null,
    paper,
  };
}

/** 0x10's data after ERR (14 bytes; rosix-ru/shtrihm-fr kkt.py x10). */
export function parseShortStatus(data: Buffer): ShortStatus {
  return {
    ...deviceState(data[3] ?? 0, data[4] ?? 0, readUIntLE(data, 1, 2)),
    operator: data[0] ?? 0,
    receiptOperations: (data[5] ?? 0) + 256 * (data[10] ?? 0),
    batteryVoltage: data[6] ?? 0,
    powerVoltage: data[7] ?? 0,
    fiscalMemoryError: data[8] ?? 0,
    eklzError: data[9] ?? 0,
  };
}

const two = (value: number) => String(value).padStart(2, '0');
const date = (data: Buffer, at: number) => `20${two(data[at + 2] ?? 0)}-${two(data[at + 1] ?? 0)}-${two(data[at] ?? 0)}`;
const version = (data: Buffer, at: number) =>
  readText(data.subarray(at, at + 2))
    .split('')
    .join('.');

/** 0x11's data after ERR (46 bytes; rosix-ru/shtrihm-fr kkt.py x11; the protocol note, §6.2a). */
export function parseFullStatus(data: Buffer): FullStatus {
  return {
    ...deviceState(data[13] ?? 0, data[14] ?? 0, readUIntLE(data, 11, 2)),
    operator: data[0] ?? 0,
    firmwareVersion: version(data, 1),
    firmwareBuild: readUIntLE(data, 3, 2),
    firmwareDate: date(data, 5),
    hallNumber: data[8] ?? 0,
    documentNumber: readUIntLE(data, 9, 2),
    port: data[15] ?? 0,
    fiscalMemoryVersion: version(data, 16),
    fiscalMemoryBuild: readUIntLE(data, 18, 2),
    deviceTime: `${date(data, 23)}T${two(data[26] ?? 0)}:${two(data[27] ?? 0)}:${two(data[28] ?? 0)}`,
    fiscalMemoryFlags: data[29] ?? 0,
    serialNumber: readUIntLE(data, 30, 4),
    lastClosedShift: readUIntLE(data, 34, 2),
    freeFiscalRecords: readUIntLE(data, 36, 2),
    registrations: data[38] ?? 0,
    registrationsLeft: data[39] ?? 0,
    inn: readUIntLE(data, 40, 6),
  };
}
