/**
 * The hardware layer's public face, for the actors above it: the fiscal
 * register client and its errors, the crash-recovery judgement, the receipt
 * printer, and the emulators (for sandboxes and tests).
 */
export { ShtrihM, type ShtrihMOptions } from './shtrih-m/client.ts';
export type { CloseReceiptInput, PrintTape, ReceiptKind, ReceiptLine, ReceiptPayments, TaxGroup } from './shtrih-m/commands.ts';
export {
  DEVICE_ERRORS,
  FiscalRegisterError,
  InvalidFiscalInputError,
  isFiscalRegisterError,
  ShtrihDeviceError,
  ShtrihLinkError,
  type DeviceErrorCode,
  type FiscalErrorCode,
  type LinkErrorCode,
  type Remedy,
} from './shtrih-m/errors.ts';
export type { LinkTimings } from './shtrih-m/link.ts';
export { judgeInterruptedReceipt, settleInterruptedReceipt, type ReceiptJudgement, type RecoverableRegister } from './shtrih-m/recovery.ts';
export type { DeviceFlags, FullStatus, OpenDocument, PaperState, ShiftState, ShortStatus } from './shtrih-m/status.ts';
export { EscPosPrinter, PrinterError, type EscPosPrinterOptions, type PrinterErrorCode } from './escpos/printer.ts';
export { renderReceipt, formatMoney, type LayoutOptions, type ReceiptTemplate, type ReceiptTemplateLine } from './escpos/receipt-layout.ts';
export { CODE_PAGES, DEFAULT_CODE_PAGE, isCodePage, type CodePage } from './escpos/code-pages.ts';
export type { PrinterStatus } from './escpos/status.ts';
export { SerialError, type SerialErrorCode } from './serial/errors.ts';
export type { TransportState } from './serial/transport.ts';
export { ShtrihMEmulator, type EmulatorFault, type ShtrihMEmulatorOptions } from './emulators/shtrih-m-emulator.ts';
export { EscPosEmulator, receiptText, type EscPosEmulatorOptions } from './emulators/escpos-emulator.ts';
export type { PrintedLine, PrintedReceipt } from './emulators/escpos-decoder.ts';
export { startControlServer, type ControlServer, type MountedRoutes } from './emulators/control-server.ts';
export { PtyPair, requireSocat, SocatMissingError } from './emulators/pty-pair.ts';
export type { FiscalDocument, FiscalMemory } from './emulators/fiscal-memory.ts';
