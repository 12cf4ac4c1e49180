import { encodeText, type CodePage } from './code-pages.ts';

/**
 * ESC/POS command bytes (the protocol note §6.3; Epson's ESC/POS reference,
 * https://reference.epson-biz.com/modules/ref_escpos/). QR code: `GS ( k`
 * with cn = 49 and fn 65 (model), 67 (module size), 69 (error level), 80
 * (store), 81 (print) — as in the Epson TM examples, e.g.
 * https://gist.github.com/tresf/092f397e4f66ec51ce1d38ef38c5a250.
 * Real-time status `DLE EOT n`: Epson's reference (our reading of its bits
 * is in status.ts).
 */

export const ESC = 0x1b;
export const GS = 0x1d;
export const DLE = 0x10;
export const EOT = 0x04;
export const LF = 0x0a;

export type Alignment = 'left' | 'center' | 'right';
export type QrErrorLevel = 'L' | 'M' | 'Q' | 'H';

const ALIGN: Record<Alignment, number> = { left: 0, center: 1, right: 2 };
const QR_LEVEL: Record<QrErrorLevel, number> = { L: 48, M: 49, Q: 50, H: 51 };

export const escpos = {
  /** ESC @: clears the buffer and resets the modes */
  initialize: (): Buffer => Buffer.from([ESC, 0x40]),
  /** ESC t n */
  codePage: (table: CodePage): Buffer => Buffer.from([ESC, 0x74, table]),
  /** ESC a n (only at the start of a line) */
  align: (alignment: Alignment): Buffer => Buffer.from([ESC, 0x61, ALIGN[alignment]]),
  /** ESC E n */
  bold: (on: boolean): Buffer => Buffer.from([ESC, 0x45, on ? 1 : 0]),
  /** GS ! n: width and height multipliers 1…8 */
  size: (width: number, height: number): Buffer => {
    if (![width, height].every((m) => Number.isInteger(m) && m >= 1 && m <= 8)) throw new RangeError('character size multipliers are 1…8');
    return Buffer.from([GS, 0x21, ((width - 1) << 4) | (height - 1)]);
  },
  /** text in the printer's code page (no line feed) */
  text: (text: string, table: CodePage): Buffer => encodeText(text, table),
  /** LF */
  newline: (): Buffer => Buffer.from([LF]),
  /** ESC d n: print and feed n lines */
  feed: (lines: number): Buffer => Buffer.from([ESC, 0x64, Math.max(0, Math.min(255, lines))]),
  /** GS V m n (function B): feed to the cutter plus n units, then cut; 65 full, 66 partial */
  cut: (kind: 'full' | 'partial', feed = 3): Buffer => Buffer.from([GS, 0x56, kind === 'full' ? 65 : 66, feed]),
  /** ESC p m t1 t2: a pulse to the drawer on pin 2 (m 0) or 5 (m 1), on t1×2 ms, off t2×2 ms */
  drawerPulse: (pin: 2 | 5 = 2, onMs = 100, offMs = 500): Buffer =>
    Buffer.from([ESC, 0x70, pin === 2 ? 0 : 1, Math.min(255, Math.round(onMs / 2)), Math.min(255, Math.round(offMs / 2))]),
  /** GS ( k: model 2, module size 1…16, error level, store the data (UTF-8 bytes), print */
  qr: (data: string, options: { size?: number; errorLevel?: QrErrorLevel } = {}): Buffer => {
    const size = options.size ?? 6;
    if (!Number.isInteger(size) || size < 1 || size > 16) throw new RangeError('a QR module size is 1…16');
    const payload = Buffer.from(data, 'utf8');
    const stored = payload.length + 3;
    if (stored > 0xffff) throw new RangeError('QR data too long');
    return Buffer.concat([
      Buffer.from([GS, 0x28, 0x6b, 4, 0, 49, 65, 50, 0]),
      Buffer.from([GS, 0x28, 0x6b, 3, 0, 49, 67, size]),
      Buffer.from([GS, 0x28, 0x6b, 3, 0, 49, 69, QR_LEVEL[options.errorLevel ?? 'M']]),
      Buffer.from([GS, 0x28, 0x6b, stored & 0xff, stored >> 8, 49, 80, 48]),
      payload,
      Buffer.from([GS, 0x28, 0x6b, 3, 0, 49, 81, 48]),
    ]);
  },
  /** DLE EOT n: real-time status request (1 printer, 2 off-line cause, 3 error cause, 4 paper sensor) */
  statusRequest: (n: 1 | 2 | 3 | 4): Buffer => Buffer.from([DLE, EOT, n]),
} as const;
