import { isAppError } from '../../../common/errors.ts';
import { PrinterError } from '../../../hardware/escpos/printer.ts';
import printJobModule from '../../../machines/print-job.ts';
import type { ReceiptPrinters } from '../../platform/devices/receipt-printers.ts';
import { bindEffects, EffectError, type BoundEffects } from '../../runtime/effects.ts';

/**
 * What a print job invokes: its slip on its printer, one job at a time per
 * printer. A printer out of paper, with its cover open or gone becomes a
 * fault the job waits out; a printer that is not configured fails it.
 */
export function printJobEffects(deps: { printers: ReceiptPrinters; now?: () => Date }): BoundEffects {
  return bindEffects(printJobModule, {
    printSlip: async (input) => {
      try {
        await deps.printers.exclusive(input.printer, (printer) => printer.printReceipt(input.slip, { cut: 'partial' }));
      } catch (error) {
        if (error instanceof PrinterError) {
          const code = error.code === 'paper_out' || error.code === 'cover_open' ? error.code : 'device_offline';
          throw new EffectError(code, error.message, false);
        }
        if (isAppError(error) && error.code === 'not_found') throw new EffectError('printer_not_configured', error.message, false);
        throw error;
      }
      return { printedAt: (deps.now?.() ?? new Date()).toISOString() };
    },
  });
}
