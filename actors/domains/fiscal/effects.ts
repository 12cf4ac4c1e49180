import receiptModule, { type PrintRequest, type ReceiptRecorded } from '../../../machines/receipt.ts';
import { SHIFT_EXPIRED, type WaitableDeviceFault } from '../../../common/fiscal-faults.ts';
import { isAppError } from '../../../common/errors.ts';
import type { ShtrihM } from '../../../hardware/shtrih-m/client.ts';
import type { TaxGroup } from '../../../hardware/shtrih-m/commands.ts';
import { isFiscalRegisterError, ShtrihLinkError, type FiscalRegisterError } from '../../../hardware/shtrih-m/errors.ts';
import { judgeInterruptedReceipt } from '../../../hardware/shtrih-m/recovery.ts';
import type { FullStatus } from '../../../hardware/shtrih-m/status.ts';
import type { FiscalRegisters } from '../../platform/devices/fiscal-registers.ts';
import { RegisterBusyError, type RegisterLocks } from './register-locks.ts';
import { bindEffects, EffectError, type BoundEffects } from '../../runtime/effects.ts';

/**
 * What the receipt machine invokes, on the register the receipt names. The
 * preparation takes the register for the receipt (`register_locks`, held
 * until the receipt is recorded or voided), so no other document can come
 * between the number it reads and the receipt's close. Each effect talks to
 * the device alone (`FiscalRegisters.exclusive`) and starts by reading its
 * status, so a rerun after a crash or a time-out judges what the device
 * already did instead of doing it again.
 *
 * Device failures become the machine's fault codes (common/fiscal-faults.ts):
 * the ones that clear by themselves or at the till make the receipt wait;
 * the rest fail it for a person. Anything else thrown is a bug or a lost
 * database and is retried by the runtime.
 */

/** A waitable fault, `shift_expired`, or a code that fails the receipt for a person. */
function fault(code: WaitableDeviceFault | typeof SHIFT_EXPIRED | (string & {}), message: string): EffectError {
  return new EffectError(code, message, false);
}

/** A register's own error, in the receipt machine's words. */
function faultOf(error: FiscalRegisterError): EffectError {
  if (error instanceof ShtrihLinkError) return fault('device_offline', error.message);
  switch (error.code) {
    case 'paper_out':
    case 'journal_paper_out':
      return fault('paper_out', error.message);
    case 'busy':
    case 'wrong_submode':
    case 'print_head_overheat':
      return fault('busy', error.message);
    case 'awaiting_continue':
      return fault('awaiting_continue', error.message);
    // a shift closed by hand while the receipt waited: the next preparation opens it again, as after an expired one
    case 'shift_expired':
    case 'shift_not_open':
      return fault(SHIFT_EXPIRED, error.message);
    default:
      return fault(error.code, error.message);
  }
}

/** The register must be able to print before anything of a receipt is sent: else the receipt waits. */
async function ensureReady(register: ShtrihM, status: FullStatus): Promise<void> {
  if (status.flags.coverOpen) throw fault('cover_open', 'the register’s cover is open');
  if (status.paper === 'out') throw fault('paper_out', 'the register has no receipt paper');
  if (status.paper === 'printing') throw fault('busy', 'the register is still printing');
  // paper replaced after running out mid-document: the register waits for "continue printing"
  if (status.paper === 'awaiting_continue') await register.continuePrinting();
}

const currentShift = (status: FullStatus) => (status.shift === 'closed' ? status.lastClosedShift : status.lastClosedShift + 1);

export function receiptEffects(deps: {
  registers: FiscalRegisters;
  locks: RegisterLocks;
  /** how long a preparation waits for the receipt before it on the register (then the receipt waits, with back-off) */
  queueWaitMs?: number;
  now?: () => Date;
}): BoundEffects {
  const now = () => deps.now?.() ?? new Date();

  /** Runs work on the register alone; its failures become the machine's faults. */
  async function onRegister<T>(name: string, signal: AbortSignal, work: (register: ShtrihM) => Promise<T>): Promise<T> {
    try {
      return await deps.registers.exclusive(name, signal, work);
    } catch (error) {
      if (isFiscalRegisterError(error)) throw faultOf(error);
      if (isAppError(error) && error.code === 'not_found') throw fault('register_not_configured', error.message);
      throw error;
    }
  }

  /** The receipt is the first document after the number read before it was opened (nothing else prints on its register meanwhile). */
  const recorded = (documentNumberBefore: number, status: FullStatus, change: number | null, recovered: boolean): ReceiptRecorded => ({
    outcome: 'closed',
    documentNumber: (documentNumberBefore + 1) % 0x10000,
    shiftNumber: currentShift(status),
    change,
    recovered,
    at: now().toISOString(),
  });

  async function print(register: ShtrihM, request: PrintRequest): Promise<{ change: number }> {
    await register.openReceipt(request.kind);
    for (const item of request.items) {
      const line = { name: item.name, qty: item.qty, price: item.price, department: item.department, taxGroup: item.taxGroup as TaxGroup };
      if (request.kind === 'sale') await register.sale(line);
      else await register.saleReturn(line);
    }
    return register.closeReceipt({
      payments: { cash: request.payments.cash, card: request.payments.card },
      text: `Касир: ${request.cashier}`,
    });
  }

  return bindEffects(receiptModule, {
    prepareRegister: async (input, context) => {
      try {
        await deps.locks.acquire(input.register, input.receiptId, deps.queueWaitMs ?? 10_000, context.signal);
      } catch (error) {
        if (error instanceof RegisterBusyError) throw fault('busy', error.message);
        throw error;
      }
      return onRegister(input.register, context.signal, async (register) => {
        let status = await deps.registers.readStatus(input.register, register);
        await ensureReady(register, status);
        // another receipt's interrupted attempt: it settles its own when it resumes
        if (status.openDocument !== null) throw fault('busy', 'a receipt is open on the register');
        let zReportTaken = false;
        let shiftOpened = false;
        if (status.shift === 'expired') {
          if (!input.autoZReport) throw fault(SHIFT_EXPIRED, 'the shift has lasted over 24 hours: take a Z-report');
          await register.zReport();
          zReportTaken = true;
          status = await deps.registers.readStatus(input.register, register);
        }
        if (status.shift === 'closed') {
          await register.openShift();
          shiftOpened = true;
          status = await deps.registers.readStatus(input.register, register);
        }
        return { documentNumber: status.documentNumber, shiftNumber: currentShift(status), shiftOpened, zReportTaken };
      });
    },

    printOnDevice: (input, context) =>
      onRegister(input.register, context.signal, async (register) => {
        const before = await deps.registers.readStatus(input.register, register);
        const judgement = judgeInterruptedReceipt(input.documentNumberBefore, before);
        if (judgement.outcome === 'closed') return recorded(input.documentNumberBefore, before, null, true);
        if (judgement.outcome === 'open') return { outcome: 'found_open' as const };
        await ensureReady(register, before);
        const { change } = await print(register, input);
        const after = await deps.registers.readStatus(input.register, register);
        // the receipt is closed and recorded whatever the cutter does
        await register.cut('full').catch((error: unknown) => context.logger.warn('the register did not cut', { error: String(error) }));
        return recorded(input.documentNumberBefore, after, change, false);
      }),

    cancelOpenReceipt: (input, context) =>
      onRegister(input.register, context.signal, async (register) => {
        const status = await deps.registers.readStatus(input.register, register);
        if (status.openDocument === null) return { cancelled: false };
        await ensureReady(register, status);
        await register.cancelReceipt();
        return { cancelled: true };
      }),

    settleOnDevice: (input, context) =>
      onRegister(input.register, context.signal, async (register) => {
        if (input.documentNumberBefore === null) return { outcome: 'clear' as const };
        const status = await deps.registers.readStatus(input.register, register);
        const judgement = judgeInterruptedReceipt(input.documentNumberBefore, status);
        if (judgement.outcome === 'closed') return recorded(input.documentNumberBefore, status, null, true);
        if (judgement.outcome === 'open') {
          await ensureReady(register, status);
          await register.cancelReceipt();
        }
        return { outcome: 'clear' as const };
      }),

    releaseRegister: async (input) => ({ released: await deps.locks.release(input.register, input.receiptId) }),
  });
}
