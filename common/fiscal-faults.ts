/**
 * What can keep a fiscal register from printing, as the receipt machine sees it.
 * The hardware drivers have their own, finer error codes; the receipts' effects
 * map them onto these.
 */

/** Faults that clear by themselves or by a simple fix at the till: the receipt waits and tries again. */
export const WAITABLE_DEVICE_FAULTS = [
  'paper_out',
  'cover_open',
  /** the port is gone (unplugged, powered off) or the device does not answer */
  'device_offline',
  /** still printing the previous command */
  'busy',
  /** the device waits for "continue printing" after a paper change */
  'awaiting_continue',
] as const;
export type WaitableDeviceFault = (typeof WAITABLE_DEVICE_FAULTS)[number];

/** The shift has been open for more than 24 hours: nothing prints until a Z-report closes it. */
export const SHIFT_EXPIRED = 'shift_expired';

export function isWaitableDeviceFault(code: string): code is WaitableDeviceFault {
  return (WAITABLE_DEVICE_FAULTS as readonly string[]).includes(code);
}
