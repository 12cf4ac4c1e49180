import type { MachineModule } from './machine-module.ts';
import goodfinApplication from './goodfin-application.ts';
import order from './order.ts';
import payment from './payment.ts';
import probe from './probe.ts';
import posSale from './pos-sale.ts';
import printJob from './print-job.ts';
import product from './product.ts';
import receipt from './receipt.ts';
import shipment from './shipment.ts';

/** Every machine the service runs. A new business object is one file here plus its line below. */
export const allMachines: readonly MachineModule[] = [
  probe,
  product,
  order,
  payment,
  shipment,
  goodfinApplication,
  receipt,
  printJob,
  posSale,
];
