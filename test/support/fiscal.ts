import type { hubClient } from './hub-process.ts';
import { eventually } from './database.ts';

type Client = ReturnType<typeof hubClient>;

/** A receipt once the hub has recorded it printed. */
export function printedReceipt(client: Client, id: string, timeoutMs = 15_000) {
  return eventually(
    async () => {
      const { body } = await client.get(`/fiscal/receipts/${id}`);
      return body.state === 'printed' ? body : undefined;
    },
    timeoutMs,
    `receipt ${id} printed`,
  );
}

/** Asks for a receipt (POST /fiscal/receipts under `key`) and waits until it is printed. */
export async function printReceipt(client: Client, body: unknown, key: string) {
  const accepted = await client.post('/fiscal/receipts', body, { 'Idempotency-Key': key });
  if (accepted.status !== 202) throw new Error(`the receipt was not accepted (${accepted.status}): ${JSON.stringify(accepted.body)}`);
  return printedReceipt(client, String(accepted.body.id));
}
