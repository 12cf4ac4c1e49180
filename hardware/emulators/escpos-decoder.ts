import { decodeText, isCodePage, type CodePage } from '../escpos/code-pages.ts';
import { DLE, EOT, ESC, GS, LF } from '../escpos/commands.ts';

/**
 * ESC/POS bytes back to what a person would see: text lines with their
 * alignment, weight and size, QR codes, cuts and drawer pulses. Bytes may
 * arrive split anywhere; an incomplete command waits for the rest. A cut
 * ends a receipt. Unknown ESC/GS commands are counted and skipped (two
 * bytes), so a new command cannot derail the decoder for long.
 */

export interface PrintedLine {
  text: string;
  align: 'left' | 'center' | 'right';
  bold: boolean;
  /** width × height multipliers */
  size: [number, number];
}

export interface PrintedReceipt {
  lines: PrintedLine[];
  qrCodes: string[];
  cut: 'full' | 'partial' | null;
  drawerPulses: number;
  codePage: CodePage;
}

export interface DecoderHooks {
  /** a real-time status request (`DLE EOT n`): the emulator answers it */
  onStatusRequest?: (n: number) => void;
  /** a receipt ended with a cut */
  onReceipt?: (receipt: PrintedReceipt) => void;
}

const ALIGNMENTS = ['left', 'center', 'right'] as const;

export class EscPosDecoder {
  codePage: CodePage;
  unknownCommands = 0;
  private pending: Buffer = Buffer.alloc(0);
  private current: PrintedReceipt;
  private text = '';
  private align: PrintedLine['align'] = 'left';
  private bold = false;
  private size: [number, number] = [1, 1];
  private qrStore = '';

  constructor(
    private readonly defaultCodePage: CodePage,
    private readonly hooks: DecoderHooks = {},
  ) {
    this.codePage = defaultCodePage;
    this.current = this.emptyReceipt();
  }

  /** the receipt being printed (not cut yet) */
  get inProgress(): PrintedReceipt {
    return { ...this.current, lines: [...this.current.lines, ...(this.text ? [this.lineOf(this.text)] : [])] };
  }

  push(chunk: Uint8Array): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    let at = 0;
    for (;;) {
      const used = this.step(this.pending, at);
      if (used === 0) break;
      at += used;
    }
    this.pending = this.pending.subarray(at);
  }

  /** Decodes one item at `at`; answers the bytes it used, 0 when it needs more. */
  private step(bytes: Buffer, at: number): number {
    const available = bytes.length - at;
    if (available <= 0) return 0;
    const byte = bytes[at] as number;
    const arg = (i: number) => bytes[at + i] as number;
    const need = (n: number) => available >= n;

    if (byte === LF) {
      this.endLine();
      return 1;
    }
    if (byte === 0x0d) return 1;
    if (byte === DLE) {
      if (!need(3)) return 0;
      if (arg(1) === EOT) this.hooks.onStatusRequest?.(arg(2));
      else this.unknownCommands += 1;
      return 3;
    }
    if (byte === ESC) {
      if (!need(2)) return 0;
      switch (arg(1)) {
        case 0x40: // ESC @
          this.codePage = this.defaultCodePage;
          this.align = 'left';
          this.bold = false;
          this.size = [1, 1];
          return 2;
        case 0x74: // ESC t n
          if (!need(3)) return 0;
          if (isCodePage(arg(2))) this.codePage = arg(2) as CodePage;
          return 3;
        case 0x61: // ESC a n
          if (!need(3)) return 0;
          this.align = ALIGNMENTS[arg(2) % 48] ?? 'left';
          return 3;
        case 0x45: // ESC E n
          if (!need(3)) return 0;
          this.bold = (arg(2) & 1) === 1;
          return 3;
        case 0x21: // ESC ! n
          if (!need(3)) return 0;
          this.bold = (arg(2) & 0x08) !== 0;
          this.size = [arg(2) & 0x20 ? 2 : 1, arg(2) & 0x10 ? 2 : 1];
          return 3;
        case 0x64: // ESC d n
          if (!need(3)) return 0;
          this.endLine();
          for (let i = 1; i < arg(2); i += 1) this.current.lines.push(this.lineOf(''));
          return 3;
        case 0x4a: // ESC J n
          if (!need(3)) return 0;
          if (this.text) this.endLine();
          return 3;
        case 0x70: // ESC p m t1 t2
          if (!need(5)) return 0;
          this.current.drawerPulses += 1;
          return 5;
        default:
          this.unknownCommands += 1;
          return 2;
      }
    }
    if (byte === GS) {
      if (!need(2)) return 0;
      switch (arg(1)) {
        case 0x21: // GS ! n
          if (!need(3)) return 0;
          this.size = [(arg(2) >> 4) + 1, (arg(2) & 0x0f) + 1];
          return 3;
        case 0x56: {
          // GS V m [n]
          if (!need(3)) return 0;
          const m = arg(2);
          const withFeed = m >= 65;
          if (withFeed && !need(4)) return 0;
          this.cut(m === 0 || m === 48 || m === 65 || m === 97 || m === 103 ? 'full' : 'partial');
          return withFeed ? 4 : 3;
        }
        case 0x28: {
          // GS ( k pL pH cn fn …
          if (!need(5)) return 0;
          const length = arg(3) + 256 * arg(4);
          if (!need(5 + length)) return 0;
          if (arg(2) === 0x6b && arg(5) === 49) {
            const fn = arg(6);
            if (fn === 80) this.qrStore = bytes.subarray(at + 8, at + 5 + length).toString('utf8');
            if (fn === 81) this.current.qrCodes.push(this.qrStore);
          }
          return 5 + length;
        }
        default:
          this.unknownCommands += 1;
          return 2;
      }
    }
    // a run of text up to the next control byte
    let end = at;
    while (end < bytes.length && ![LF, 0x0d, DLE, ESC, GS].includes(bytes[end] as number)) end += 1;
    this.text += decodeText(bytes.subarray(at, end), this.codePage);
    return end - at;
  }

  private lineOf(text: string): PrintedLine {
    return { text, align: this.align, bold: this.bold, size: [...this.size] };
  }

  private endLine(): void {
    this.current.lines.push(this.lineOf(this.text));
    this.text = '';
  }

  private cut(kind: 'full' | 'partial'): void {
    if (this.text) this.endLine();
    const receipt = { ...this.current, cut: kind, codePage: this.codePage };
    this.current = this.emptyReceipt();
    this.hooks.onReceipt?.(receipt);
  }

  private emptyReceipt(): PrintedReceipt {
    return { lines: [], qrCodes: [], cut: null, drawerPulses: 0, codePage: this.codePage };
  }
}
