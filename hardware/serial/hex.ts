/** A byte range [start, end) whose values must not reach a log (a password). */
export interface MaskedRange {
  start: number;
  end: number;
}

/**
 * Bytes as `02:3c:80:**:**`, masked ranges as `**`. Colons, not spaces: the
 * logger's card-number scrubber reads runs of space-separated digits (a run of
 * NUL padding, `00 00 00 …`, would otherwise come out as `[CARD]`).
 */
export function hexDump(bytes: Uint8Array, masked: readonly MaskedRange[] = []): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 1) {
    const hidden = masked.some((range) => i >= range.start && i < range.end);
    parts.push(hidden ? '**' : (bytes[i] as number).toString(16).padStart(2, '0'));
  }
  return parts.join(':');
}
