import { z } from 'zod';
import { CODE_PAGES, isCodePage } from '../../../hardware/escpos/code-pages.ts';
import type { DeviceRecord, DeviceWrite } from '../../../persistence/devices.ts';

/**
 * `PUT /admin/devices/:name` bodies. Each kind takes only its own fields (a
 * printer has no passwords, a register no code page): a field that does not
 * apply is refused, not silently kept.
 */

const DEVICE_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Whether `name` may name a device: the pattern, and not a property every object has (`constructor`). */
export function isDeviceName(name: string): boolean {
  return DEVICE_NAME.test(name) && !(name in Object.prototype);
}

/** Serial speeds the Shtrih-M protocol and common ESC/POS printers support. */
export const BAUD_RATES = [2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200] as const;

const serialPath = z
  .string()
  .min(1)
  .max(256)
  .regex(/^\/[^\0]+$/, 'an absolute device path, e.g. /dev/ttyUSB0');
const baudRate = z
  .number()
  .int()
  .refine((rate) => (BAUD_RATES as readonly number[]).includes(rate), `one of ${BAUD_RATES.join(', ')}`);
/** Shtrih-M passwords are 4-byte numbers (operator 1..30, administrator 29/30 by default) */
const password = z.number().int().min(0).max(0xffff_ffff);

export const fiscalRegisterConfigSchema = z
  .object({
    kind: z.literal('fiscal-register'),
    driver: z.literal('shtrih-m'),
    path: serialPath,
    baudRate: baudRate.default(115_200),
    operatorPassword: password.default(1),
    adminPassword: password.default(30),
  })
  .strict();

export const receiptPrinterConfigSchema = z
  .object({
    kind: z.literal('receipt-printer'),
    driver: z.literal('escpos'),
    path: serialPath,
    baudRate: baudRate.default(115_200),
    /** ESC t: 17 = PC866 (Cyrillic), 44 = PC1125 (Ukrainian), 46 = WPC1251; clones vary */
    codePage: z
      .number()
      .int()
      .refine(isCodePage, `one of ${Object.keys(CODE_PAGES).join(', ')}`)
      .default(17),
  })
  .strict();

export const deviceConfigSchema = z.discriminatedUnion('kind', [fiscalRegisterConfigSchema, receiptPrinterConfigSchema]);
export type DeviceConfig = z.infer<typeof deviceConfigSchema>;

export function deviceWriteOf(config: DeviceConfig): DeviceWrite {
  if (config.kind === 'fiscal-register') {
    return {
      kind: config.kind,
      driver: config.driver,
      path: config.path,
      baudRate: config.baudRate,
      codePage: null,
      passwords: { operatorPassword: config.operatorPassword, adminPassword: config.adminPassword },
    };
  }
  return {
    kind: config.kind,
    driver: config.driver,
    path: config.path,
    baudRate: config.baudRate,
    codePage: config.codePage,
    passwords: null,
  };
}

/** A device as the admin API shows it: passwords only as set, never their values. */
export interface DeviceView {
  name: string;
  kind: DeviceRecord['kind'];
  driver: DeviceRecord['driver'];
  path: string;
  baudRate: number;
  codePage: number | null;
  passwords: 'set' | null;
  revision: number;
  source: DeviceRecord['source'];
  updatedAt: string;
  updatedBy: string;
}

export function deviceViewOf(record: DeviceRecord): DeviceView {
  return {
    name: record.name,
    kind: record.kind,
    driver: record.driver,
    path: record.path,
    baudRate: record.baudRate,
    codePage: record.codePage,
    passwords: record.passwords ? 'set' : null,
    revision: record.revision,
    source: record.source,
    updatedAt: record.updatedAt.toISOString(),
    updatedBy: record.updatedBy,
  };
}
