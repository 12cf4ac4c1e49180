/**
 * Waiting out a device fault (paper, cover, cable), shared by the machines
 * that print: each fault doubles the pause up to a cap, and the pauses add
 * up to the time waited (a machine has no clock: the pauses are the
 * measure), which decides when a person is alerted.
 */
export interface DeviceWaitSettings {
  /** first pause after a device fault; doubles up to `maxRetryDelayMs` */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** how long to wait for the device before a person is alerted */
  alertAfterMs: number;
}

export interface DeviceWaitState {
  /** faults since the device last worked */
  faults: number;
  /** the pauses taken since the device last worked (ms, summed) */
  waitedMs: number;
  nextDelayMs: number;
}

export const DEVICE_WORKED: DeviceWaitState = { faults: 0, waitedMs: 0, nextDelayMs: 0 };

/** The wait after one more fault. */
export function nextWait(settings: DeviceWaitSettings, state: DeviceWaitState): DeviceWaitState {
  const delay = state.faults === 0 ? settings.retryDelayMs : Math.min(state.nextDelayMs * 2, settings.maxRetryDelayMs);
  return { faults: state.faults + 1, nextDelayMs: delay, waitedMs: state.waitedMs + delay };
}

export const waitedTooLong = (settings: DeviceWaitSettings, state: DeviceWaitState) => state.waitedMs >= settings.alertAfterMs;
