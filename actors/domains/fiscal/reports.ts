import { randomUUID } from 'node:crypto';
import type { Logger } from 'winston';
import { AppError } from '../../../common/errors.ts';
import type { FiscalPolicy } from '../../../common/fiscal-policy.ts';
import { isFiscalRegisterError, ShtrihLinkError } from '../../../hardware/shtrih-m/errors.ts';
import type { AuditLog } from '../../platform/audit/audit-log.ts';
import type { Devices } from '../../platform/devices/devices.ts';
import type { JobDefinition } from '../../platform/jobs/registry.ts';
import { RegisterBusyError, type RegisterLocks } from './register-locks.ts';

/**
 * X-reports (the shift so far) and Z-reports (close the shift) on a
 * register. A report is a document too: it takes the register the way a
 * receipt does, so it never comes between a receipt's document number and
 * its close — a register busy with a receipt refuses it (409) with the
 * receipt's id.
 */

export type ReportKind = 'x' | 'z';

export interface ReportResult {
  register: string;
  report: ReportKind;
  documentNumber: number;
  /** the shift the report was about (a Z-report closed it) */
  shiftNumber: number;
  at: string;
}

export class FiscalReports {
  constructor(
    private readonly deps: {
      devices: Devices;
      locks: RegisterLocks;
      audit: AuditLog;
      logger: Logger;
      now?: () => Date;
      /** how long a report waits for a receipt on the register before it is refused */
      waitMs?: number;
    },
  ) {}

  async take(register: string, report: ReportKind, by: string): Promise<ReportResult> {
    const device = this.deps.devices.view(register);
    if (device.kind !== 'fiscal-register')
      throw new AppError(400, 'invalid_request', `"${register}" is a ${device.kind}, not a fiscal register`);
    const holder = `report:${randomUUID()}`;
    try {
      await this.deps.locks.acquire(register, holder, this.deps.waitMs ?? 5_000, null);
    } catch (error) {
      if (error instanceof RegisterBusyError) {
        throw new AppError(409, 'conflict', `register ${register} is printing ${error.holder}: try again when it is done`, {
          holder: error.holder,
        });
      }
      throw error;
    }
    try {
      const registers = this.deps.devices.registers;
      const result = await registers.exclusive(register, null, async (client) => {
        const before = await registers.readStatus(register, client);
        if (report === 'z') await client.zReport();
        else await client.xReport();
        const after = await registers.readStatus(register, client);
        return {
          register,
          report,
          documentNumber: after.documentNumber,
          shiftNumber: report === 'z' ? after.lastClosedShift : before.lastClosedShift + 1,
          at: (this.deps.now?.() ?? new Date()).toISOString(),
        };
      });
      await this.deps.audit.recordChange({
        kind: 'business',
        operation: `fiscal.${report}_report`,
        principal: by,
        details: { register, documentNumber: result.documentNumber, shiftNumber: result.shiftNumber },
      });
      return result;
    } catch (error) {
      if (isFiscalRegisterError(error)) {
        const offline = error instanceof ShtrihLinkError;
        throw new AppError(offline ? 503 : 409, offline ? 'unavailable' : 'conflict', `register ${register}: ${error.message}`, {
          code: error.code,
        });
      }
      throw error;
    } finally {
      await this.deps.locks.release(register, holder);
    }
  }

  /** Closes the shift of every register whose shift is open (or over 24 hours); a register that cannot be reached is reported, not fatal. */
  async closeOpenShifts(by: string): Promise<{ closed: ReportResult[]; skipped: Array<{ register: string; reason: string }> }> {
    const closed: ReportResult[] = [];
    const skipped: Array<{ register: string; reason: string }> = [];
    for (const device of this.deps.devices.list()) {
      if (device.kind !== 'fiscal-register') continue;
      try {
        const registers = this.deps.devices.registers;
        const status = await registers.exclusive(device.name, null, (client) => registers.readStatus(device.name, client));
        if (status.shift !== 'open' && status.shift !== 'expired') {
          skipped.push({ register: device.name, reason: `shift ${status.shift}` });
          continue;
        }
        closed.push(await this.take(device.name, 'z', by));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.deps.logger.warn('a shift could not be closed', { register: device.name, error: reason });
        skipped.push({ register: device.name, reason });
      }
    }
    return { closed, skipped };
  }
}

export function fiscalZReportJob(deps: { reports: FiscalReports; policy: FiscalPolicy }): JobDefinition | null {
  if (deps.policy.dailyZReport === null) return null;
  return {
    name: 'fiscal-z-report',
    description: `closes every open shift with a Z-report (${deps.policy.dailyZReport}, ${deps.policy.timeZone}); a register busy with a receipt or unreachable is reported and left`,
    every: deps.policy.dailyZReport,
    timeZone: deps.policy.timeZone,
    async run() {
      const { closed, skipped } = await deps.reports.closeOpenShifts('fiscal-z-report');
      return {
        closed: closed.map((c) => ({ register: c.register, shiftNumber: c.shiftNumber, documentNumber: c.documentNumber })),
        skipped,
      };
    },
  };
}
