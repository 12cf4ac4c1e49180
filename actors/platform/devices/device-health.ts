import { createStore } from '@xstate/store';
import type { PaperState, ShiftState } from '../../../hardware/shtrih-m/status.ts';

/**
 * Live device health, kept in an @xstate/store store: every status a device
 * answers and every failure is an event; `GET /admin/devices` and the console
 * show the snapshot. Nothing here is persisted: a restart learns it again
 * from the devices.
 */

export interface DeviceHealth {
  /** the device answered its last command */
  online: boolean;
  /** the register's mode, as a word ("shift open", "receipt open", …) */
  mode: string | null;
  shift: ShiftState | null;
  paper: PaperState | null;
  coverOpen: boolean | null;
  documentNumber: number | null;
  lastSeenAt: string | null;
  lastError: { code: string; message: string; at: string } | null;
}

export interface SeenStatus {
  mode: string;
  shift: ShiftState;
  paper: PaperState;
  coverOpen: boolean;
  documentNumber?: number;
}

const unknownHealth = (): DeviceHealth => ({
  online: false,
  mode: null,
  shift: null,
  paper: null,
  coverOpen: null,
  documentNumber: null,
  lastSeenAt: null,
  lastError: null,
});

/** A device's health by own property only: a device called `constructor` does not find Object.prototype's. */
function known(devices: Record<string, DeviceHealth>, device: string): DeviceHealth {
  return (Object.hasOwn(devices, device) ? devices[device] : undefined) ?? unknownHealth();
}

export function createDeviceHealthStore() {
  return createStore({
    context: { devices: {} as Record<string, DeviceHealth> },
    on: {
      seen: (context, event: { device: string; status: SeenStatus; at: Date }) => {
        const current = known(context.devices, event.device);
        const next: DeviceHealth = {
          ...current,
          online: true,
          mode: event.status.mode,
          shift: event.status.shift,
          paper: event.status.paper,
          coverOpen: event.status.coverOpen,
          documentNumber: event.status.documentNumber ?? current.documentNumber,
          lastSeenAt: event.at.toISOString(),
        };
        return { devices: { ...context.devices, [event.device]: next } };
      },
      answered: (context, event: { device: string; at: Date }) => {
        const current = known(context.devices, event.device);
        return { devices: { ...context.devices, [event.device]: { ...current, online: true, lastSeenAt: event.at.toISOString() } } };
      },
      failed: (context, event: { device: string; code: string; message: string; offline: boolean; at: Date }) => {
        const current = known(context.devices, event.device);
        const next: DeviceHealth = {
          ...current,
          online: event.offline ? false : current.online,
          lastError: { code: event.code, message: event.message, at: event.at.toISOString() },
        };
        return { devices: { ...context.devices, [event.device]: next } };
      },
      removed: (context, event: { device: string }) => {
        const { [event.device]: _gone, ...rest } = context.devices;
        return { devices: rest };
      },
    },
  });
}

export type DeviceHealthStore = ReturnType<typeof createDeviceHealthStore>;

export function healthOf(store: DeviceHealthStore, device: string): DeviceHealth {
  return known(store.getSnapshot().context.devices, device);
}
