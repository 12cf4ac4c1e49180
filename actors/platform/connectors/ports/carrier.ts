/**
 * What the shipment machine needs from a carrier: one implementation per
 * carrier, in its connector folder (`novaposhta/carrier.ts`), listed in
 * `carriers.ts`. The shipment's effects and the tracking job never ask
 * which carrier it is.
 */

export interface ParcelRequest {
  /** ours: the shipment's short code (derived from its id, kept with it), written on the waybill so that a waybill whose answer was lost can be found */
  ourCode: string;
  recipient: { name: string; phone: string };
  cityRef: string;
  /** a branch or parcel locker; null when delivered to an address */
  warehouseRef: string | null;
  address: { street: string; house: string; flat?: string | null } | null;
  /** minor units */
  declaredValue: number;
  description: string;
  /** cash on delivery, minor units */
  collectOnDelivery: number | null;
}

export interface CarrierCall {
  actor: { type: string; id: string };
  signal?: AbortSignal;
}

export interface Waybill {
  number: string;
  /** the carrier's own id of the waybill (to delete it) */
  ref: string;
}

/** One parcel's status as the carrier reports it, in its own codes (a shipment's status table maps them). */
export interface TrackingReport {
  number: string;
  statusCode: string;
  status: string;
  /** the waybill of the parcel's way back, once the carrier made one */
  returnNumber: string | null;
}

export interface Carrier {
  readonly name: string;
  /** what the carrier asks for a parcel (minor units) and when it would arrive (ISO date) */
  quote(parcel: ParcelRequest, call: CarrierCall): Promise<{ cost: number; estimatedDelivery: string | null }>;
  /** a live waybill made for `ourCode` since `since`: how a save whose answer a crash lost is found, not repeated */
  findByOurCode(ourCode: string, since: Date, call: CarrierCall): Promise<Waybill | null>;
  createWaybill(parcel: ParcelRequest, call: CarrierCall): Promise<Waybill & { cost: number | null }>;
  /** The compensation of `createWaybill`. False when the carrier no longer has it (deleted before). */
  deleteWaybill(ref: string, call: CarrierCall): Promise<boolean>;
  /** at most `trackBatchSize` parcels a call */
  track(parcels: Array<{ number: string; phone: string }>): Promise<TrackingReport[]>;
  readonly trackBatchSize: number;
}
