/**
 * The printer's answers to `DLE EOT 2` (off-line cause) and `DLE EOT 4`
 * (roll paper sensor), one byte each with bits 1 and 4 always set. Our
 * reading of Epson's ESC/POS reference (DLE EOT), an assumption to check
 * against each model's manual: EOT 2 bit 2 = cover open, bit 5 = printing
 * stopped at paper end; EOT 4 bits 2–3 = paper near end, bits 5–6 = paper
 * end.
 */

export const STATUS_FIXED_BITS = 0x12;
export const OFFLINE_COVER_OPEN = 0x04;
export const OFFLINE_PAPER_END = 0x20;
export const PAPER_NEAR_END = 0x0c;
export const PAPER_END = 0x60;

export interface PrinterStatus {
  coverOpen: boolean;
  paper: 'present' | 'near_end' | 'out';
}

export function parsePrinterStatus(offline: number, paperSensor: number): PrinterStatus {
  return {
    coverOpen: (offline & OFFLINE_COVER_OPEN) !== 0,
    paper:
      (paperSensor & PAPER_END) !== 0 || (offline & OFFLINE_PAPER_END) !== 0
        ? 'out'
        : (paperSensor & PAPER_NEAR_END) !== 0
          ? 'near_end'
          : 'present',
  };
}
