import type { Logger } from 'winston';
import { isCodePage } from '../../../hardware/escpos/code-pages.ts';
import { EscPosPrinter } from '../../../hardware/escpos/printer.ts';
import { AppError } from '../../../common/errors.ts';
import type { DeviceStore } from '../../../persistence/devices.ts';

/**
 * The receipt printers this process drives, one ESC/POS client per
 * configured printer (opened on first use, reopened when its configuration
 * changes), one job at a time per printer.
 */
interface OpenPrinter {
  revision: number;
  client: EscPosPrinter;
  tail: Promise<unknown>;
}

export class ReceiptPrinters {
  private readonly open = new Map<string, OpenPrinter>();

  constructor(private readonly deps: { store: DeviceStore; logger: Logger; openWaitMs?: number }) {}

  exclusive<T>(name: string, work: (printer: EscPosPrinter) => Promise<T>): Promise<T> {
    const entry = this.entryOf(name);
    const run = entry.tail.catch(() => undefined).then(() => work(entry.client));
    entry.tail = run;
    return run;
  }

  async forget(name: string): Promise<void> {
    const entry = this.open.get(name);
    if (!entry) return;
    this.open.delete(name);
    await entry.tail.catch(() => undefined);
    await entry.client.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((name) => this.forget(name)));
  }

  private entryOf(name: string): OpenPrinter {
    const record = this.deps.store.get(name);
    if (!record || record.kind !== 'receipt-printer') throw new AppError(404, 'not_found', `no receipt printer named "${name}"`);
    const current = this.open.get(name);
    if (current && current.revision === record.revision) return current;
    if (current) void this.forget(name);
    const codePage = record.codePage ?? 17;
    const client = new EscPosPrinter({
      name: record.name,
      path: record.path,
      baudRate: record.baudRate,
      ...(isCodePage(codePage) ? { codePage } : {}),
      logger: this.deps.logger,
      openWaitMs: this.deps.openWaitMs ?? 2_000,
    });
    const entry: OpenPrinter = { revision: record.revision, client, tail: Promise.resolve() };
    this.open.set(name, entry);
    return entry;
  }
}
