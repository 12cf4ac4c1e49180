import path from 'node:path';
import type { Logger } from 'winston';
import { startControlServer, type ControlServer } from '../../../hardware/emulators/control-server.ts';
import { EscPosEmulator, receiptText } from '../../../hardware/emulators/escpos-emulator.ts';
import { SocatMissingError } from '../../../hardware/emulators/pty-pair.ts';
import { ShtrihMEmulator } from '../../../hardware/emulators/shtrih-m-emulator.ts';

/**
 * The devices `npm start` plugs in when nobody configured real ones (as the
 * partner sandboxes stand in for partners): a Shtrih-M register (`main`) and
 * an ESC/POS printer (`printer`), each on a socat PTY pair under
 * DATA_DIR/devices, the register's fiscal memory kept there across restarts,
 * and their control API on loopback.
 */
export interface EmulatedDevices {
  fiscalPath: string;
  printerPath: string;
  controlUrl: string;
  /** what the emulated printer printed last, as text */
  lastPrinted(): string | null;
  stop(): Promise<void>;
}

export async function startEmulatedDevices(dataDir: string, logger: Logger): Promise<EmulatedDevices | null> {
  const dir = path.join(dataDir, 'devices');
  let fiscal: ShtrihMEmulator | null = null;
  let printer: EscPosEmulator | null = null;
  let control: ControlServer;
  try {
    fiscal = await ShtrihMEmulator.start({ dir, name: 'fiscal-main' });
    printer = await EscPosEmulator.start({ dir, name: 'printer-main' });
    control = await startControlServer([
      { prefix: '/fiscal-main', routes: fiscal.controlRoutes() },
      { prefix: '/printer-main', routes: printer.controlRoutes() },
    ]);
  } catch (error) {
    await Promise.allSettled([fiscal?.stop(), printer?.stop()]);
    if (error instanceof SocatMissingError) {
      logger.warn(`no emulated devices: ${error.message} (fiscal receipts need a configured register)`);
      return null;
    }
    throw error;
  }
  const [register, receiptPrinter, server] = [fiscal, printer, control];
  logger.info('devices emulated', { fiscal: register.hostPath, printer: receiptPrinter.hostPath, control: server.url });
  return {
    fiscalPath: register.hostPath,
    printerPath: receiptPrinter.hostPath,
    controlUrl: server.url,
    lastPrinted: () => (receiptPrinter.lastReceipt ? receiptText(receiptPrinter.lastReceipt) : null),
    async stop() {
      await server.close();
      await Promise.allSettled([register.stop(), receiptPrinter.stop()]);
    },
  };
}
