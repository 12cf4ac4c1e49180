import type { FullStatus } from './status.ts';

/**
 * Exactly once across a crash (the protocol note §6.2a): the register, not
 * the host, knows whether a receipt was closed. The host reads the document
 * number (0x11) before it opens the receipt (or before it closes it) and
 * keeps it durably; after a crash and a reconnect it reads the full status
 * again and judges:
 * - still in mode 8 (a document open) → `open`: cancel it (0x88) and print
 *   the receipt again;
 * - a larger document number outside mode 8 → `closed`: record that number
 *   (`documentsSince` > 1 means other documents were printed in between, e.g.
 *   a Z-report: the receipt is the first of them if nothing else prints on
 *   this register while it is being printed);
 * - the same number outside mode 8 → `never_opened` (or annulled by the
 *   device itself): print it.
 * Document numbers are 2 bytes and wrap after 65535.
 */

export type ReceiptJudgement =
  | { outcome: 'closed'; documentNumber: number; documentsSince: number }
  | { outcome: 'open'; documentNumber: number }
  | { outcome: 'never_opened'; documentNumber: number };

export function judgeInterruptedReceipt(
  documentNumberBefore: number,
  after: Pick<FullStatus, 'documentNumber' | 'openDocument'>,
): ReceiptJudgement {
  if (after.openDocument !== null) return { outcome: 'open', documentNumber: after.documentNumber };
  const since = (after.documentNumber - documentNumberBefore + 0x10000) % 0x10000;
  if (since === 0) return { outcome: 'never_opened', documentNumber: after.documentNumber };
  return { outcome: 'closed', documentNumber: after.documentNumber, documentsSince: since };
}

/** What settleInterruptedReceipt needs of a register. */
export interface RecoverableRegister {
  fullStatus(): Promise<FullStatus>;
  cancelReceipt(): Promise<void>;
}

/**
 * Reads the status, judges, and cancels a receipt left open, so that the
 * caller is left with two cases: `closed` (record the number) or print the
 * receipt (again). Answers the judgement made before any cancellation.
 */
export async function settleInterruptedReceipt(register: RecoverableRegister, documentNumberBefore: number): Promise<ReceiptJudgement> {
  const judgement = judgeInterruptedReceipt(documentNumberBefore, await register.fullStatus());
  if (judgement.outcome === 'open') await register.cancelReceipt();
  return judgement;
}
