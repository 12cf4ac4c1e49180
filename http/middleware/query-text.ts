import { z } from 'zod';

/**
 * Free text from a query string (a search, a state or type to filter by):
 * trimmed, at most `max` characters, and no control characters — a NUL or an
 * escape sequence is never part of a name anyone searches for, and a NUL
 * reaching the database as part of a pattern fails the request. Searches
 * match it literally: callers escape it before it becomes part of a pattern.
 */
export function queryText(max: number) {
  return z
    .string()
    .trim()
    .max(max)
    .refine((text) => !CONTROL_CHARACTER.test(text), 'control characters (U+0000–U+001F, U+007F–U+009F) are not allowed');
}

const CONTROL_CHARACTER = /\p{Cc}/u;
