import { z } from 'zod';

/**
 * The stages a parcel goes through, and Nova Poshta's status codes mapped to
 * them by default: shared by the shipment machine (which moves by stage) and
 * the Nova Poshta connector (whose settings may override the map).
 */
export const SHIPMENT_STAGES = [
  'awaitingPickup',
  'inTransit',
  'atWarehouse',
  'delivered',
  'refused',
  'returning',
  'returned',
  'cancelled',
  'ignore',
] as const;
export type ShipmentStage = (typeof SHIPMENT_STAGES)[number];

/** NP StatusCode → stage. Unknown codes are recorded and change nothing. */
export const DEFAULT_STATUS_MAP: Record<string, ShipmentStage> = {
  '1': 'awaitingPickup',
  '12': 'awaitingPickup',
  '2': 'cancelled',
  '3': 'ignore',
  '4': 'inTransit',
  '41': 'inTransit',
  '5': 'inTransit',
  '6': 'inTransit',
  '101': 'inTransit',
  '104': 'inTransit',
  '111': 'inTransit',
  '112': 'inTransit',
  '7': 'atWarehouse',
  '8': 'atWarehouse',
  // handed to the recipient for inspection, and storage fee accruing: the parcel is still at the branch
  // (older NP status lists, kept by NP's PHP SDKs; shared/protocols/novaposhta.md)
  '14': 'atWarehouse',
  '107': 'atWarehouse',
  '9': 'delivered',
  '10': 'delivered',
  '11': 'delivered',
  '106': 'delivered',
  '103': 'refused',
  '108': 'refused',
  '102': 'returning',
  '105': 'returning',
};

export const statusMapSchema = z.record(z.string().regex(/^\d{1,4}$/), z.enum(SHIPMENT_STAGES));
