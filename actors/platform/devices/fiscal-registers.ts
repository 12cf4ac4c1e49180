import type { Logger } from 'winston';
import { ShtrihM } from '../../../hardware/shtrih-m/client.ts';
import { isFiscalRegisterError, ShtrihLinkError } from '../../../hardware/shtrih-m/errors.ts';
import { MODE, type FullStatus } from '../../../hardware/shtrih-m/status.ts';
import type { DeviceRecord, DeviceStore } from '../../../persistence/devices.ts';
import { DeviceClients } from './device-clients.ts';
import type { DeviceHealthStore } from './device-health.ts';

/**
 * The fiscal registers this process drives, one Shtrih-M client per
 * configured device (opened on first use, reopened when its configuration
 * changes). Everything that talks to a register — receipts, reports, the
 * admin test — runs through `exclusive`: one piece of work at a time per
 * register, in the order asked, so no document can come between a receipt's
 * document number and its close.
 */

const MODE_WORDS: Record<number, string> = {
  [MODE.printerWorking]: 'printer working',
  [MODE.dataOutput]: 'data output',
  [MODE.shiftOpen]: 'shift open',
  [MODE.shiftExpired]: 'shift over 24 hours',
  [MODE.shiftClosed]: 'shift closed',
  [MODE.blockedByTaxPassword]: 'blocked (tax inspector password)',
  [MODE.awaitingDateConfirmation]: 'waiting for date confirmation',
  [MODE.decimalPointChange]: 'decimal point change',
  [MODE.documentOpen]: 'receipt open',
};

export function modeWord(mode: number): string {
  return MODE_WORDS[mode] ?? `mode ${mode}`;
}

export class FiscalRegisters {
  private readonly clients: DeviceClients<ShtrihM>;

  constructor(
    private readonly deps: {
      store: DeviceStore;
      health: DeviceHealthStore;
      logger: Logger;
      now?: () => Date;
      /** how long a command waits for a missing port before it fails (default 2 s) */
      openWaitMs?: number;
    },
  ) {
    this.clients = new DeviceClients({
      store: deps.store,
      kind: 'fiscal-register',
      label: 'fiscal register',
      create: (record) => this.clientFor(record),
    });
  }

  /**
   * Runs `work` with the register alone. Waits its turn behind earlier work
   * on the same register; an abort before the turn comes gives it up. The
   * device's health follows the answer.
   */
  async exclusive<T>(name: string, signal: AbortSignal | null, work: (register: ShtrihM) => Promise<T>): Promise<T> {
    try {
      const result = await this.clients.exclusive(name, signal, work);
      this.deps.health.trigger.answered({ device: name, at: this.now() });
      return result;
    } catch (error) {
      if (isFiscalRegisterError(error)) {
        this.deps.health.trigger.failed({
          device: name,
          code: error.code,
          message: error.message,
          offline: error instanceof ShtrihLinkError,
          at: this.now(),
        });
      }
      throw error;
    }
  }

  /** 0x11, with the device's health updated from it. */
  async readStatus(name: string, register: ShtrihM): Promise<FullStatus> {
    const status = await register.fullStatus();
    this.deps.health.trigger.seen({
      device: name,
      status: {
        mode: modeWord(status.mode),
        shift: status.shift,
        paper: status.paper,
        coverOpen: status.flags.coverOpen,
        documentNumber: status.documentNumber,
      },
      at: this.now(),
    });
    return status;
  }

  /** Closes a register's port (its configuration changed or it was removed); the next use opens it anew. */
  forget(name: string): Promise<void> {
    return this.clients.forget(name);
  }

  closeAll(): Promise<void> {
    return this.clients.closeAll();
  }

  private clientFor(record: DeviceRecord): ShtrihM {
    return new ShtrihM({
      name: record.name,
      path: record.path,
      baudRate: record.baudRate,
      operatorPassword: record.passwords?.operatorPassword ?? 1,
      adminPassword: record.passwords?.adminPassword ?? 30,
      logger: this.deps.logger,
      openWaitMs: this.deps.openWaitMs ?? 2_000,
    });
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}
