import type { Logger } from 'winston';
import { isCodePage } from '../../../hardware/escpos/code-pages.ts';
import { EscPosPrinter } from '../../../hardware/escpos/printer.ts';
import type { DeviceStore } from '../../../persistence/devices.ts';
import { DeviceClients } from './device-clients.ts';

/** The receipt printers this process drives: one ESC/POS client per configured printer, one job at a time per printer. */
export class ReceiptPrinters {
  private readonly clients: DeviceClients<EscPosPrinter>;

  constructor(deps: { store: DeviceStore; logger: Logger; openWaitMs?: number }) {
    this.clients = new DeviceClients({
      store: deps.store,
      kind: 'receipt-printer',
      label: 'receipt printer',
      create: (record) => {
        const codePage = record.codePage ?? 17;
        return new EscPosPrinter({
          name: record.name,
          path: record.path,
          baudRate: record.baudRate,
          ...(isCodePage(codePage) ? { codePage } : {}),
          logger: deps.logger,
          openWaitMs: deps.openWaitMs ?? 2_000,
        });
      },
    });
  }

  exclusive<T>(name: string, work: (printer: EscPosPrinter) => Promise<T>): Promise<T> {
    return this.clients.exclusive(name, null, work);
  }

  forget(name: string): Promise<void> {
    return this.clients.forget(name);
  }

  closeAll(): Promise<void> {
    return this.clients.closeAll();
  }
}
