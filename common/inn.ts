/**
 * The Russian taxpayer number (ИНН) Goodfin's clients carry: 10 digits for a
 * legal entity, 12 for a person or sole trader, the last one (or two) check
 * digits: each a weighted sum of the digits before it, mod 11, mod 10 (the
 * Federal Tax Service's published algorithm).
 */

const WEIGHTS_10 = [2, 4, 10, 3, 5, 9, 4, 6, 8];
const WEIGHTS_11 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
const WEIGHTS_12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];

/** The check digit of the digits given, by the weights of their length. */
export function innCheckDigit(digits: string, weights: readonly number[]): string {
  const sum = weights.reduce((total, weight, i) => total + weight * Number(digits[i]), 0);
  return String((sum % 11) % 10);
}

/** The 10-digit INN of a legal entity whose first nine digits are given. */
export function legalEntityInnOf(nine: string): string {
  return nine + innCheckDigit(nine, WEIGHTS_10);
}

export type InnProblem = 'not_digits' | 'wrong_length' | 'check_digit';

/** Why an INN is not a valid one, or null when it is. */
export function innProblem(inn: string): InnProblem | null {
  if (!/^\d+$/.test(inn)) return 'not_digits';
  if (inn.length === 10) return inn[9] === innCheckDigit(inn, WEIGHTS_10) ? null : 'check_digit';
  if (inn.length === 12) {
    const eleventh = innCheckDigit(inn, WEIGHTS_11);
    const twelfth = innCheckDigit(inn, WEIGHTS_12);
    return inn[10] === eleventh && inn[11] === twelfth ? null : 'check_digit';
  }
  return 'wrong_length';
}
