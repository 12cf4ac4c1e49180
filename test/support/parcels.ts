import assert from 'node:assert/strict';
import { eventually } from './database.ts';
import type { hubClient } from './hub-process.ts';

/** A running hub's shipments and its in-process Nova Poshta sandbox, as the parcel tests drive them. */

type Client = ReturnType<typeof hubClient>;

export interface ShipmentView {
  state: string;
  context: {
    ourCode: string;
    waybill: { number: string; recovered: boolean } | null;
    returnNumber: string | null;
    error: { code: string; message: string; attempts: number } | null;
    history: Array<{ statusCode: string }>;
  };
}

export async function shipmentOf(client: Client, id: string): Promise<ShipmentView> {
  return (await client.get(`/actors/shipment/${id}`)).body as unknown as ShipmentView;
}

export function waitForShipment(client: Client, id: string, state: string): Promise<ShipmentView> {
  return eventually(
    async () => {
      const shipment = await shipmentOf(client, id);
      return shipment.state === state ? shipment : undefined;
    },
    20_000,
    `shipment ${id} to be ${state}`,
  );
}

/** The hub's own Nova Poshta sandbox: what it was sent, and its control routes. */
export async function npSandbox(client: Client) {
  const base = String((await client.get('/admin/integrations/novaposhta')).body.baseUrl);
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return JSON.parse(text) as { number?: string };
  };
  return {
    /** the methodProperties of every call of one NP method, oldest first */
    async sent(calledMethod: string): Promise<Array<Record<string, unknown>>> {
      const { requests } = (await (await fetch(`${base}/__sandbox/requests`)).json()) as { requests: Array<{ body: string }> };
      return requests
        .map((r) => JSON.parse(r.body) as { calledMethod?: string; methodProperties?: Record<string, unknown> })
        .filter((r) => r.calledMethod === calledMethod)
        .map((r) => r.methodProperties ?? {});
    },
    advance: (number: string, steps = 1) => post('/sandbox/tracking/advance', { number, steps }),
    scenario: (number: string, scenario: string) => post('/sandbox/tracking/scenario', { number, scenario }),
    basis: async (number: string, kind: 'return' | 'redirect') => (await post('/sandbox/tracking/basis', { number, kind })).number ?? '',
  };
}

/** Runs the tracking job now; answers what the cycle did. */
export async function track(client: Client) {
  const run = await client.post('/admin/jobs/novaposhta-tracking/run', {});
  assert.equal(run.status, 200, JSON.stringify(run.body));
  return run.body.output as { shipments: number; calls: number; changed: number };
}
