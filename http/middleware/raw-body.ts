import type { Context } from 'koa';
import { AppError } from '../../common/errors.ts';

/** Reads the exact request bytes: 413 past the limit (counted while reading, not trusted from headers). */
export async function readRawBody(ctx: Context, limitBytes: number): Promise<Buffer> {
  const length = Number(ctx.get('Content-Length') || '0');
  if (length > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of ctx.req) {
    received += (chunk as Buffer).length;
    if (received > limitBytes) {
      ctx.req.resume();
      throw tooLarge(limitBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limitBytes: number): AppError {
  return new AppError(413, 'payload_too_large', `the body exceeds the limit of ${limitBytes} bytes`, { limitBytes });
}
