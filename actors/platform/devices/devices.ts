import type { Logger } from 'winston';
import { AppError } from '../../../common/errors.ts';
import { isFiscalRegisterError } from '../../../hardware/shtrih-m/errors.ts';
import type { DeviceRecord, DeviceStore } from '../../../persistence/devices.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { deviceConfigSchema, deviceViewOf, deviceWriteOf, isDeviceName, type DeviceView } from './device-config.ts';
import { createDeviceHealthStore, healthOf, type DeviceHealth } from './device-health.ts';
import { startEmulatedDevices, type EmulatedDevices } from './emulated-devices.ts';
import { FiscalRegisters, modeWord } from './fiscal-registers.ts';
import { ReceiptPrinters } from './receipt-printers.ts';
import { PrinterError } from '../../../hardware/escpos/printer.ts';

/**
 * The devices on this hub's serial ports: their configuration (the
 * `devices` collection, audited like integrations), their live health, and
 * the registers' clients. What a device is used for (receipts, reports)
 * lives in the domains.
 */

export interface DeviceListItem extends DeviceView {
  health: DeviceHealth;
  /** an emulated printer: what it printed last, as text */
  lastPrinted?: string | null;
}

export class Devices {
  readonly health = createDeviceHealthStore();
  readonly registers: FiscalRegisters;
  readonly printers: ReceiptPrinters;

  constructor(
    private readonly deps: {
      store: DeviceStore;
      audit: AuditLog;
      logger: Logger;
      now?: () => Date;
    },
  ) {
    this.registers = new FiscalRegisters({ store: deps.store, health: this.health, logger: deps.logger, now: deps.now });
    this.printers = new ReceiptPrinters({ store: deps.store, logger: deps.logger });
  }

  /** where the emulated devices' control API listens, when they run */
  emulatorControlUrl: string | null = null;
  private emulated: EmulatedDevices | null = null;

  /**
   * Loads the configured devices. With `emulateIn` and no device an admin
   * configured, an emulated register (`main`) and printer (`printer`) are
   * started there and configured (again at every start: their paths live in
   * DATA_DIR).
   */
  async start(options: { emulateIn?: string } = {}): Promise<void> {
    const loaded = await this.deps.store.load();
    const configuredByAdmin = loaded.some((device) => device.source === 'admin');
    if (options.emulateIn && !configuredByAdmin) {
      this.emulated = await startEmulatedDevices(options.emulateIn, this.deps.logger);
      if (this.emulated) {
        this.emulatorControlUrl = this.emulated.controlUrl;
        await this.put(
          'main',
          { kind: 'fiscal-register', driver: 'shtrih-m', path: this.emulated.fiscalPath },
          'environment',
          'environment',
        );
        await this.put(
          'printer',
          { kind: 'receipt-printer', driver: 'escpos', path: this.emulated.printerPath },
          'environment',
          'environment',
        );
      }
    }
    // devices the hub configured itself at an earlier start point at emulators that do not run now
    if (!this.emulated) {
      for (const device of this.deps.store.list()) if (device.source === 'environment') await this.deps.store.delete(device.name);
    }
    for (const device of this.deps.store.list()) {
      this.deps.logger.info('device configured', { device: device.name, kind: device.kind, path: device.path, source: device.source });
    }
  }

  list(): DeviceListItem[] {
    return this.deps.store.list().map((record) => this.itemOf(record));
  }

  view(name: string): DeviceListItem {
    const record = this.deps.store.get(name);
    if (!record) throw new AppError(404, 'not_found', `no device named "${name}"`);
    return this.itemOf(record);
  }

  private itemOf(record: DeviceRecord): DeviceListItem {
    const item: DeviceListItem = { ...deviceViewOf(record), health: healthOf(this.health, record.name) };
    if (record.kind === 'receipt-printer' && record.source === 'environment' && this.emulated)
      item.lastPrinted = this.emulated.lastPrinted();
    return item;
  }

  /** Creates or replaces a device; the port is reopened with the new settings on next use. */
  async put(
    name: string,
    body: unknown,
    by: string,
    source: 'admin' | 'environment' = 'admin',
  ): Promise<{ device: DeviceListItem; created: boolean }> {
    if (!isDeviceName(name))
      throw new AppError(
        400,
        'invalid_request',
        `a device name is lower-case letters, digits and dashes, and not "constructor" (got "${name}")`,
      );
    const parsed = deviceConfigSchema.safeParse(body);
    if (!parsed.success) {
      throw new AppError(
        400,
        'invalid_request',
        'the device configuration is invalid',
        parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      );
    }
    const created = this.deps.store.get(name) === null;
    const record = await this.deps.store.put(name, deviceWriteOf(parsed.data), by, source);
    await this.registers.forget(name);
    await this.printers.forget(name);
    // an admin's change is audited; the emulated devices the hub configures at each start are not
    if (source === 'admin') {
      await this.deps.audit.recordChange({
        operation: created ? 'device.created' : 'device.updated',
        principal: by,
        details: {
          device: name,
          kind: record.kind,
          driver: record.driver,
          path: record.path,
          baudRate: record.baudRate,
          revision: record.revision,
        },
      });
    }
    return { device: this.view(name), created };
  }

  async remove(name: string, by: string): Promise<void> {
    if (!this.deps.store.get(name)) throw new AppError(404, 'not_found', `no device named "${name}"`);
    await this.registers.forget(name);
    await this.printers.forget(name);
    await this.deps.store.delete(name);
    this.health.trigger.removed({ device: name });
    await this.deps.audit.recordChange({ operation: 'device.deleted', principal: by, details: { device: name } });
  }

  /** A status request (a register): answers what the device says, or why it cannot be reached. */
  async test(
    name: string,
    by: string,
  ): Promise<{ ok: boolean; device: string; status?: Record<string, unknown>; error?: { code: string; message: string } }> {
    const record = this.deps.store.get(name);
    if (!record) throw new AppError(404, 'not_found', `no device named "${name}"`);
    const started = Date.now();
    if (record.kind === 'receipt-printer') {
      try {
        const status = await this.printers.exclusive(name, async (printer) => {
          await printer.printTestPage();
          return printer.status();
        });
        this.health.trigger.seen({
          device: name,
          status: { mode: 'ready', shift: 'unknown', paper: status.paper === 'out' ? 'out' : 'present', coverOpen: status.coverOpen },
          at: this.now(),
        });
        this.auditTest(name, by, 'ok', Date.now() - started, null);
        return { ok: true, device: name, status: { ...status, testPage: 'printed' } };
      } catch (error) {
        if (!(error instanceof PrinterError)) throw error;
        const failure = { code: error.code, message: error.message };
        this.health.trigger.failed({
          device: name,
          ...failure,
          offline: error.code.startsWith('port_') || error.code === 'no_answer',
          at: this.now(),
        });
        this.auditTest(name, by, 'failed', Date.now() - started, failure);
        return { ok: false, device: name, error: failure };
      }
    }
    try {
      const status = await this.registers.exclusive(name, null, (register) => this.registers.readStatus(name, register));
      const answer = {
        ok: true,
        device: name,
        status: {
          mode: modeWord(status.mode),
          shift: status.shift,
          paper: status.paper,
          coverOpen: status.flags.coverOpen,
          documentNumber: status.documentNumber,
          lastClosedShift: status.lastClosedShift,
          serialNumber: status.serialNumber,
          firmware: `${status.firmwareVersion} build ${status.firmwareBuild}`,
          deviceTime: status.deviceTime,
        },
      };
      this.auditTest(name, by, 'ok', Date.now() - started, null);
      return answer;
    } catch (error) {
      if (!isFiscalRegisterError(error)) throw error;
      const failure = { code: error.code, message: error.message };
      this.auditTest(name, by, 'failed', Date.now() - started, failure);
      return { ok: false, device: name, error: failure };
    }
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async stop(): Promise<void> {
    await this.printers.closeAll();
    await this.registers.closeAll();
    await this.emulated?.stop();
  }

  private auditTest(name: string, by: string, outcome: string, durationMs: number, error: { code: string; message: string } | null): void {
    this.deps.audit.record({
      kind: 'admin',
      integration: null,
      operation: 'device.tested',
      actor: null,
      principal: by,
      status: null,
      outcome,
      durationMs,
      error,
      request: null,
      response: null,
      details: { device: name },
    });
  }
}
