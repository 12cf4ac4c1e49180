import type { MachineModule } from './machine-module.ts';
import probe from './probe.ts';

/** Every machine the service runs. A new business object is one file here plus its line below. */
export const allMachines: readonly MachineModule[] = [probe];
