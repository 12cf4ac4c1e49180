/**
 * The link layer's bytes (rosix-ru/shtrihm-fr shtrihmfr/kkt.py, BaseKKT
 * docstring and send()/read(); re-star-ru/shtrih-m-driver
 * internal/shtrih/cmdConsts.go): a message is `STX LEN CMD params… LRC`, LEN
 * counts CMD and params, LRC is the XOR of every byte but STX. Confirmed by
 * published drivers; the three constructed frames of the protocol note are
 * the tests' fixtures.
 */
export const STX = 0x02;
export const ENQ = 0x05;
export const ACK = 0x06;
export const NAK = 0x15;

/** The longest CMD+params one LEN byte can announce. */
export const MAX_MESSAGE_LENGTH = 255;

export function lrc(bytes: Uint8Array): number {
  let sum = 0;
  for (const byte of bytes) sum ^= byte;
  return sum;
}

export function encodeFrame(command: number, params: Uint8Array): Buffer {
  const length = 1 + params.length;
  if (length > MAX_MESSAGE_LENGTH) throw new RangeError(`a message of ${length} bytes does not fit one frame`);
  const body = Buffer.concat([Buffer.from([length, command]), params]);
  return Buffer.concat([Buffer.from([STX]), body, Buffer.from([lrc(body)])]);
}

/** Where the password sits in a command frame: right after STX, LEN, CMD. */
export const PASSWORD_RANGE = { start: 3, end: 7 } as const;

/** An answer's fields: `CMD ERR data…` (data is empty when ERR ≠ 0). */
export interface AnswerMessage {
  command: number;
  error: number;
  data: Buffer;
}

/** Splits a checked message body (the LEN bytes after the LEN byte) into its fields. */
export function parseAnswer(body: Buffer): AnswerMessage {
  return { command: body[0] ?? 0, error: body[1] ?? 0, data: body.subarray(2) };
}
