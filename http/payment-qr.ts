import QRCode from 'qrcode';
import { z } from 'zod';

/**
 * A payment link as a QR code, for a customer who pays with a phone at the counter (Payme and Click
 * scan it; any link works). Error correction M: a printed or on-screen code stays readable with a
 * scratch, and a checkout link (~100 characters) still fits a small version.
 */

export const qrFormatSchema = z.object({ format: z.enum(['svg', 'png']).default('svg') });
export type QrFormat = z.infer<typeof qrFormatSchema>['format'];

export async function paymentQr(link: string, format: QrFormat): Promise<{ type: string; body: string | Buffer }> {
  const options = { errorCorrectionLevel: 'M' as const, margin: 2 };
  if (format === 'png') return { type: 'image/png', body: await QRCode.toBuffer(link, { ...options, type: 'png', scale: 6 }) };
  return { type: 'image/svg+xml', body: await QRCode.toString(link, { ...options, type: 'svg' }) };
}
