import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';

/**
 * The emulated register's fiscal memory: what survives a power cut (here, a
 * process exit). Kept in one JSON file, replaced atomically (write a
 * temporary file, then rename over the old one), so a crash leaves either
 * the state before a command or the state after it — never half of one.
 */

const lineSchema = z.object({
  name: z.string(),
  /** ×1000 */
  qty: z.number().int(),
  price: z.number().int(),
  department: z.number().int(),
  taxGroup: z.number().int(),
  amount: z.number().int(),
});
export type FiscalLine = z.infer<typeof lineSchema>;

const paymentsSchema = z.object({ cash: z.number().int(), card: z.number().int(), payment3: z.number().int(), payment4: z.number().int() });

export const fiscalDocumentSchema = z.object({
  number: z.number().int(),
  kind: z.enum(['shift_open', 'sale', 'return', 'cancelled', 'x_report', 'z_report']),
  /** the emulator's clock when it was printed */
  at: z.string(),
  shift: z.number().int(),
  total: z.number().int().optional(),
  payments: paymentsSchema.optional(),
  change: z.number().int().optional(),
  lines: z.array(lineSchema).optional(),
  text: z.string().optional(),
});
export type FiscalDocument = z.infer<typeof fiscalDocumentSchema>;

export const fiscalMemorySchema = z.object({
  serialNumber: z.number().int(),
  inn: z.number().int(),
  /** the through number of the last document */
  documentNumber: z.number().int(),
  lastClosedShift: z.number().int(),
  zReports: z.number().int(),
  shift: z.object({ number: z.number().int(), openedAt: z.string() }).nullable(),
  receipt: z
    .object({
      kind: z.enum(['sale', 'return']),
      openedAt: z.string(),
      lines: z.array(lineSchema),
      total: z.number().int(),
    })
    .nullable(),
  /** running totals since the memory was made (grand totals) */
  totals: z.object({ sales: z.number().int(), returns: z.number().int(), receipts: z.number().int() }),
  /** totals of the open shift, cleared by the Z-report */
  shiftTotals: z.object({ sales: z.number().int(), returns: z.number().int(), receipts: z.number().int() }),
  documents: z.array(fiscalDocumentSchema),
});
export type FiscalMemory = z.infer<typeof fiscalMemorySchema>;

export function freshFiscalMemory(serialNumber = 12_345_678): FiscalMemory {
  return {
    serialNumber,
    inn: 1_234_567_890,
    documentNumber: 0,
    lastClosedShift: 0,
    zReports: 0,
    shift: null,
    receipt: null,
    totals: { sales: 0, returns: 0, receipts: 0 },
    shiftTotals: { sales: 0, returns: 0, receipts: 0 },
    documents: [],
  };
}

/** The memory in `file`, or a fresh one if the file does not exist yet. */
export async function loadFiscalMemory(file: string): Promise<FiscalMemory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return freshFiscalMemory();
    throw error;
  }
  return fiscalMemorySchema.parse(JSON.parse(text));
}

export async function saveFiscalMemory(file: string, memory: FiscalMemory): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(memory, null, 1));
  await rename(temporary, file);
}
