import iconv from 'iconv-lite';

/**
 * The register's number and text encodings: binary little-endian integers
 * (least significant byte first), money in kopecks in 5 bytes, quantities
 * ×1000 in 5 bytes, text in WIN-1251 padded with NUL to its field's width.
 * Source: rosix-ru/shtrihm-fr shtrihmfr/protocol.py (header comment) and
 * shtrihmfr/kkt.py (x80, x85) — confirmed by a published driver.
 */

/** The largest value of a 5-byte money or quantity field the protocol allows (ten decimal digits; rosix-ru/shtrihm-fr kkt.py x85). */
export const MAX_FIVE_BYTE_VALUE = 9_999_999_999;

/** A value the caller passed that the register cannot carry. Not sent: nothing reached the device. */
export class FiscalInputError extends Error {
  readonly code = 'invalid_input';
  constructor(message: string) {
    super(message);
    this.name = 'FiscalInputError';
  }
}

export function writeUIntLE(value: number, width: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** (8 * width)) {
    throw new FiscalInputError(`${value} does not fit an unsigned ${width}-byte field`);
  }
  const bytes = Buffer.alloc(width);
  let rest = value;
  for (let i = 0; i < width; i += 1) {
    bytes[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return bytes;
}

export function writeIntLE(value: number, width: number): Buffer {
  const limit = 2 ** (8 * width - 1);
  if (!Number.isSafeInteger(value) || value < -limit || value >= limit) {
    throw new FiscalInputError(`${value} does not fit a signed ${width}-byte field`);
  }
  return writeUIntLE(value < 0 ? value + 2 * limit : value, width);
}

export function readUIntLE(bytes: Uint8Array, offset: number, width: number): number {
  let value = 0;
  for (let i = width - 1; i >= 0; i -= 1) value = value * 256 + (bytes[offset + i] ?? 0);
  return value;
}

/** Money in kopecks, 5 bytes. */
export function money(kopecks: number, what: string): Buffer {
  if (!Number.isSafeInteger(kopecks) || kopecks < 0 || kopecks > MAX_FIVE_BYTE_VALUE) {
    throw new FiscalInputError(`${what} must be a whole number of kopecks from 0 to ${MAX_FIVE_BYTE_VALUE}, got ${kopecks}`);
  }
  return writeUIntLE(kopecks, 5);
}

/** A quantity with up to three decimals, sent ×1000 in 5 bytes (1.5 → 1500). */
export function quantity(qty: number): Buffer {
  const thousandths = Math.round(qty * 1000);
  if (!Number.isFinite(qty) || Math.abs(thousandths - qty * 1000) > 1e-6 || thousandths <= 0 || thousandths > MAX_FIVE_BYTE_VALUE) {
    throw new FiscalInputError(`a quantity must be positive with at most three decimals, got ${qty}`);
  }
  return writeUIntLE(thousandths, 5);
}

/** Text in WIN-1251, cut to `width` bytes and padded with NUL. Characters WIN-1251 lacks print as `?`. */
export function text(value: string, width: number): Buffer {
  const field = Buffer.alloc(width);
  iconv.encode(value, 'win1251').copy(field, 0, 0, width);
  return field;
}

/** A NUL-padded WIN-1251 field back to a string. */
export function readText(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return iconv.decode(Buffer.from(end >= 0 ? bytes.subarray(0, end) : bytes), 'win1251');
}

/** A password: 4 bytes LE (rosix-ru/shtrihm-fr shtrihmfr/conf.py: cashier 1, administrator 30). */
export function password(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0 || value > 99_999_999) {
    throw new FiscalInputError('a register password must be a whole number from 0 to 99999999');
  }
  return writeUIntLE(value, 4);
}
