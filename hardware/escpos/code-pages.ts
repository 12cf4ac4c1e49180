import iconv from 'iconv-lite';

/**
 * Character code tables selected with `ESC t n` (Epson numbering) and the
 * iconv-lite encodings that fill them. 17 = PC866 (Cyrillic #2) and 46 =
 * WPC1251, 44 = PC1125: docs.rs escpos `page_codes.rs`, pub.dev esc_pos_dart
 * CharCodeTableEscPos (the protocol note §6.3). Clone printers number their
 * tables differently: the table is configurable.
 */
export const CODE_PAGES = {
  0: 'cp437',
  2: 'cp850',
  16: 'cp1252',
  17: 'cp866',
  18: 'cp852',
  /** PC1125, Ukrainian DOS: PC866 lacks і, ґ and the guillemets a Ukrainian receipt needs */
  44: 'cp1125',
  46: 'cp1251',
} as const satisfies Record<number, string>;

export type CodePage = keyof typeof CODE_PAGES;

export const DEFAULT_CODE_PAGE: CodePage = 17;

export function isCodePage(value: number): value is CodePage {
  return Object.hasOwn(CODE_PAGES, value);
}

export function encodeText(text: string, codePage: CodePage): Buffer {
  return iconv.encode(text, CODE_PAGES[codePage]);
}

export function decodeText(bytes: Uint8Array, codePage: CodePage): string {
  return iconv.decode(Buffer.from(bytes), CODE_PAGES[codePage]);
}
