/**
 * How deeply a JSON text nests, found by scanning the text once, without
 * parsing it and without recursion: every `[` and `{` outside a string opens
 * a level, every `]` and `}` closes one. A body nested thousands of levels
 * deep is cheap to send and would overflow the stack of any recursive walk
 * of its value (a fingerprint, a schema, a serializer), so it is measured
 * before it is parsed.
 */

/** How deep a request body may nest when nothing else is configured: far beyond any real payload, far below any stack. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The deepest nesting of `text` (`1` for `{}` or `[1]`, `0` for a scalar),
 * or the first depth past `stopAfter` once one is reached. Malformed text is
 * measured all the same: JSON.parse says what is wrong with it.
 */
export function jsonDepth(text: string, stopAfter = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i += 1;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAfter) return deepest;
      }
    } else if ((c === CLOSE_BRACKET || c === CLOSE_BRACE) && depth > 0) {
      depth -= 1;
    }
  }
  return deepest;
}

/** Whether `text` nests deeper than `maxDepth` levels (it stops reading at the first level too many). */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  return jsonDepth(text, maxDepth) > maxDepth;
}
