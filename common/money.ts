/**
 * Money is integer minor units (kopiykas, tiyin) everywhere inside the hub.
 * Partners that speak major units with decimals (LiqPay's `amount`) get them
 * formatted from the integer and read back by their decimal digits, never by
 * multiplying floats: 19.99 × 100 is 1998.9999999999998 in binary floating point.
 */

const DECIMAL = /^(\d+)(?:\.(\d{1,2}))?$/;

/** 1999 → "19.99", 5 → "0.05", 300 → "3.00". */
export function formatMinorUnits(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`an amount in minor units is a non-negative integer, not ${minor}`);
  const whole = Math.floor(minor / 100);
  const cents = minor % 100;
  return `${whole}.${String(cents).padStart(2, '0')}`;
}

/**
 * The JSON number a partner wants for an amount in major units. The nearest
 * double to "19.99" prints back as 19.99, so the wire carries exactly the digits.
 */
export function minorToMajorNumber(minor: number): number {
  return Number(formatMinorUnits(minor));
}

/** Whether a major-units amount has at most two decimals (read from its shortest decimal form). */
export function hasAtMostTwoDecimals(major: number | string): boolean {
  return DECIMAL.test(typeof major === 'number' ? String(major) : major);
}

/** "19.99" or 19.99 → 1999; null when it is not a plain amount with at most two decimals. */
export function majorToMinorUnits(major: number | string): number | null {
  const match = DECIMAL.exec(typeof major === 'number' ? String(major) : major.trim());
  if (!match) return null;
  const whole = Number(match[1]);
  const cents = Number((match[2] ?? '').padEnd(2, '0'));
  const minor = whole * 100 + cents;
  return Number.isSafeInteger(minor) ? minor : null;
}

/** How an amount is written for people, by currency (the customers read Ukrainian or Russian). */
const CURRENCY_WORDS: Readonly<Record<string, string>> = { UAH: 'грн', UZS: 'сум' };

/** 123450 kopiykas → "1234.50 грн"; 15000000 tiyin → "150000.00 сум"; an unknown currency keeps its code. */
export function formatMoney(minor: number, currency: string): string {
  return `${formatMinorUnits(minor)} ${CURRENCY_WORDS[currency] ?? currency}`;
}
